//! Login, citizen registration and the current user.

use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthUser};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use lapor_app::App;
use lapor_app::services::identity::NewUser;
use lapor_domain::access::{Principal, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

pub fn router() -> Router<App> {
    Router::new()
        .route("/auth/login", post(post_login))
        .route("/auth/register", post(post_register))
        .route("/auth/me", get(get_me))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

fn user_json(p: &Principal) -> Value {
    json!({
        "id": p.user_id,
        "username": p.username,
        "role": p.role,
        "agency": p.agency,
    })
}

/// Seed 1's login: `{success, token, user:{id, role, agency}}`.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = Credentials, responses(
    (status = 200, description = "Logged in; use the token as `Authorization: Bearer <token>`"),
    (status = 401, description = "Bad credentials")))]
pub async fn post_login(
    State(app): State<App>,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<impl IntoResponse> {
    let session = app.login(&body.username, &body.password).await?;
    Ok(Json(json!({
        "success": true,
        "token": session.token,
        "token_type": "Bearer",
        "expires_in": app.tokens().lifetime_secs,
        "user": user_json(&session.principal),
    })))
}

/// Citizens register themselves; staff accounts are made by the city head.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = Credentials, responses(
    (status = 201, description = "Registered and logged in"),
    (status = 400, description = "Invalid username or password"),
    (status = 409, description = "Username taken")))]
pub async fn post_register(
    State(app): State<App>,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<impl IntoResponse> {
    app.create_user(NewUser {
        username: body.username.clone(),
        password: body.password.clone(),
        role: Role::Citizen,
        agency: None,
    })
    .await?;
    let session = app.login(&body.username, &body.password).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": "Account created",
            "token": session.token,
            "user": user_json(&session.principal),
        })),
    ))
}

#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, description = "The caller"), (status = 401, description = "No or bad token")))]
pub async fn get_me(AuthUser(p): AuthUser) -> impl IntoResponse {
    Json(json!({ "success": true, "user": user_json(&p) }))
}
