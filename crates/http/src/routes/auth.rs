//! Login, citizen registration and the current user.

use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthUser};
use crate::wire::accounts::{LoggedIn, Me, Registered, User};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lapor_app::App;
use lapor_app::services::identity::NewUser;
use lapor_domain::access::Role;
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::ToSchema;

pub fn router() -> Router<App> {
    Router::new()
        .route("/auth/login", post(post_login))
        .route("/auth/register", post(post_register))
        .route("/auth/me", get(get_me))
        // Tokens and account data must not be kept by a browser's or a
        // proxy's cache; errors included (one layer covers every answer).
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Seed 1's login: `{success, token, user:{id, role, agency}}`.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = Credentials, responses(
    (status = 200, description = "Logged in; use the token as `Authorization: Bearer <token>`", body = LoggedIn),
    (status = 400, description = "Malformed body"), (status = 401, description = "Bad credentials")))]
pub async fn post_login(
    State(app): State<App>,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Response> {
    let session = app.login(&body.username, &body.password).await?;
    let body = LoggedIn {
        expires_in: app.tokens().lifetime_secs,
        success: true,
        token: &session.token,
        token_type: "Bearer",
        user: User::from(&session.principal),
    };
    Ok(Json(body).into_response())
}

/// Citizens register themselves; staff accounts are made by the city head.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = Credentials, responses(
    (status = 201, description = "Registered and logged in", body = Registered),
    (status = 400, description = "Invalid username or password"),
    (status = 409, description = "Username taken")))]
pub async fn post_register(
    State(app): State<App>,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Response> {
    app.create_user(NewUser {
        username: body.username.clone(),
        password: body.password.clone(),
        role: Role::Citizen,
        agency: None,
    })
    .await?;
    let session = app.login(&body.username, &body.password).await?;
    let body = Registered {
        message: "Account created",
        success: true,
        token: &session.token,
        user: User::from(&session.principal),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, description = "The caller", body = Me), (status = 401, description = "No or bad token")))]
pub async fn get_me(AuthUser(p): AuthUser) -> Response {
    let body = Me {
        success: true,
        user: User::from(&p),
    };
    Json(body).into_response()
}
