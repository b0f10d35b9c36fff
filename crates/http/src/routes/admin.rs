//! The city head's configuration: staff accounts, agencies, categories.

use crate::body::SortedData;
use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthUser};
use crate::wire::accounts::{Done, User};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lapor_app::services::identity::{NewUser, require_admin};
use lapor_app::{App, AppError};
use lapor_domain::access::Role;
use serde::Deserialize;
use utoipa::ToSchema;

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/users", get(list_users).post(post_user))
        .route("/admin/agencies", post(post_agency))
        .route("/admin/categories", post(post_category))
}

#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, description = "Accounts (the agency's for a supervisor)", body = SortedData<Vec<User>>),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not a manager")))]
pub async fn list_users(State(app): State<App>, AuthUser(p): AuthUser) -> ApiResult<Response> {
    let users = app.list_users(&p).await?;
    let body = SortedData::ok(users.iter().map(User::from).collect::<Vec<_>>());
    Ok(Json(body).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserBody {
    pub username: String,
    pub password: String,
    /// citizen, officer, supervisor or admin.
    pub role: String,
    /// Required for officers and supervisors.
    pub agency: Option<String>,
}

#[utoipa::path(post, path = "/admin/users", tag = "admin", request_body = NewUserBody, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = SortedData<User>), (status = 400, description = "Invalid"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not the city head"),
    (status = 409, description = "Username taken")))]
pub async fn post_user(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiJson(b): ApiJson<NewUserBody>,
) -> ApiResult<Response> {
    require_admin(&p)?;
    let role: Role = b.role.parse().map_err(AppError::from)?;
    let user = app
        .add_user(
            &p,
            NewUser {
                username: b.username,
                password: b.password,
                role,
                agency: b.agency,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(SortedData::ok(User::from(&user)))).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AgencyBody {
    pub code: String,
    pub name: String,
}

#[utoipa::path(post, path = "/admin/agencies", tag = "admin", request_body = AgencyBody, security(("bearer" = [])), responses(
    (status = 200, description = "Saved", body = Done), (status = 400, description = "Invalid"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not the city head")))]
pub async fn post_agency(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiJson(b): ApiJson<AgencyBody>,
) -> ApiResult<impl IntoResponse> {
    app.add_agency(&p, &b.code, &b.name).await?;
    Ok(Json(Done {
        message: "Agency saved",
        success: true,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CategoryBody {
    pub slug: String,
    pub name: String,
    /// The agency this category routes to.
    pub agency: String,
}

#[utoipa::path(post, path = "/admin/categories", tag = "admin", request_body = CategoryBody, security(("bearer" = [])), responses(
    (status = 200, description = "Saved", body = Done), (status = 400, description = "Invalid or unknown agency"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not the city head")))]
pub async fn post_category(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiJson(b): ApiJson<CategoryBody>,
) -> ApiResult<impl IntoResponse> {
    app.add_category(&p, &b.slug, &b.name, &b.agency).await?;
    Ok(Json(Done {
        message: "Category saved",
        success: true,
    }))
}
