//! The caller's notifications.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, AuthUser};
use crate::wire::notifications::Notification;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use lapor_app::{App, ErrorCode};
use lapor_domain::ids::NotificationId;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

pub fn router() -> Router<App> {
    Router::new()
        .route("/notifications/me", get(list_notifications))
        .route("/notifications/read-all", post(post_read_all))
        .route("/notifications/{id}/read", post(post_read))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Only unread ones.
    pub unread: Option<bool>,
    pub limit: Option<i64>,
}

/// Newest first, with the unread count in `meta`.
#[utoipa::path(get, path = "/notifications/me", tag = "notifications", params(NotificationParams), security(("bearer" = [])), responses(
    (status = 200, description = "Newest first", body = crate::wire::notifications::NotificationList),
    (status = 400, description = "Bad limit"), (status = 401, description = "Not logged in")))]
pub async fn list_notifications(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<NotificationParams>,
) -> ApiResult<impl IntoResponse> {
    let (items, unread) = app
        .my_notifications(&p, q.unread.unwrap_or(false), super::limit(q.limit)?)
        .await?;
    let items: Vec<Notification> = items.into_iter().map(Into::into).collect();
    Ok(Json(
        json!({ "success": true, "data": items, "meta": { "unread_count": unread } }),
    ))
}

#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Notification UUID")), responses(
    (status = 200, description = "Marked read", body = crate::wire::notifications::MarkedRead), (status = 400, description = "Malformed id"),
    (status = 401, description = "Not logged in"), (status = 404, description = "Not yours or unknown")))]
pub async fn post_read(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id: NotificationId = id
        .parse()
        .map_err(|_| ApiError::invalid(ErrorCode::InvalidId, "invalid id: expected a UUID"))?;
    let n = app.mark_notifications_read(&p, Some(id)).await?;
    Ok(Json(json!({ "success": true, "updated": n })))
}

#[utoipa::path(post, path = "/notifications/read-all", tag = "notifications", security(("bearer" = [])), responses(
    (status = 200, description = "Marked read", body = crate::wire::notifications::MarkedRead),
    (status = 401, description = "Not logged in")))]
pub async fn post_read_all(
    State(app): State<App>,
    AuthUser(p): AuthUser,
) -> ApiResult<impl IntoResponse> {
    let n = app.mark_notifications_read(&p, None).await?;
    Ok(Json(json!({ "success": true, "updated": n })))
}
