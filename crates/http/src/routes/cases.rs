//! Officers' cases: the agency inbox, case detail, status changes, answers.

use super::{ListParams, limit};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, AuthUser, ReportIdPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use lapor_app::App;
use lapor_domain::lifecycle::{BadStatus, Status};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<App> {
    Router::new()
        .route("/cases/inbox", get(get_inbox))
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/status", patch(patch_status))
        .route("/cases/{id}/answers", post(post_answer))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    pub status: Option<String>,
    pub category: Option<String>,
    /// City head only: one agency's cases.
    pub agency: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The caller's agency's cases, newest first; never another agency's.
#[utoipa::path(get, path = "/cases/inbox", tag = "cases", params(InboxParams), security(("bearer" = [])), responses(
    (status = 200, description = "`{success, agency, data, meta:{next_cursor}}`"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not staff")))]
pub async fn get_inbox(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<InboxParams>,
) -> ApiResult<impl IntoResponse> {
    let params = ListParams {
        status: q.status,
        cursor: q.cursor,
        ..Default::default()
    };
    let (agency, l) = app
        .inbox(
            &p,
            q.agency.as_deref(),
            params.status()?,
            q.category.as_deref(),
            params.cursor()?,
            limit(q.limit)?,
        )
        .await?;
    Ok(Json(json!({
        "success": true,
        "agency": agency,
        "data": l.items,
        "meta": { "next_cursor": l.next_cursor },
    })))
}

/// A case with its history and answers.
#[utoipa::path(get, path = "/cases/{id}", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path, description = "Report UUID")), responses(
    (status = 200, description = "`{success, data}`"), (status = 403, description = "Another agency's case"), (status = 404, description = "Unknown")))]
pub async fn get_case(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
) -> ApiResult<impl IntoResponse> {
    let detail = app.case_detail(&p, id).await?;
    Ok(Json(json!({ "success": true, "data": detail })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusBody {
    /// IN_PROGRESS, RESOLVED or REJECTED (seed 2's lower-case names too).
    pub status: String,
    /// Required for REJECTED.
    pub reason: Option<String>,
}

/// Moves a case along its lifecycle: RECEIVED -> IN_PROGRESS -> RESOLVED,
/// or to REJECTED with a reason.
#[utoipa::path(patch, path = "/cases/{id}/status", tag = "cases", request_body = StatusBody, security(("bearer" = [])),
    params(("id" = String, Path, description = "Report UUID")), responses(
    (status = 200, description = "`{success, message, report_id, old_status, new_status}`"),
    (status = 400, description = "Invalid status or missing reason"), (status = 403, description = "Another agency's case"),
    (status = 404, description = "Unknown"), (status = 409, description = "Transition not allowed")))]
pub async fn patch_status(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
    ApiJson(b): ApiJson<StatusBody>,
) -> ApiResult<impl IntoResponse> {
    let to: Status = b
        .status
        .parse()
        .map_err(|e: BadStatus| ApiError::bad_request(e.to_string()))?;
    let c = app.change_status(&p, id, to, b.reason.as_deref()).await?;
    Ok(Json(json!({
        "success": true,
        "message": format!("Status updated to {}", c.new_status),
        "report_id": c.report_id,
        "old_status": c.old_status,
        "new_status": c.new_status,
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerBody {
    pub message: String,
}

/// An answer the reporter sees (and is notified of).
#[utoipa::path(post, path = "/cases/{id}/answers", tag = "cases", request_body = AnswerBody, security(("bearer" = [])),
    params(("id" = String, Path, description = "Report UUID")), responses(
    (status = 201, description = "`{success, data}`"), (status = 400, description = "Empty or too long"),
    (status = 403, description = "Another agency's case"), (status = 404, description = "Unknown")))]
pub async fn post_answer(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
    ApiJson(b): ApiJson<AnswerBody>,
) -> ApiResult<impl IntoResponse> {
    let a = app.answer_case(&p, id, &b.message).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": "Answer sent",
            "data": { "id": a.answer_id, "report_id": a.report_id, "message": a.message, "officer_user_id": a.officer_user_id,
                      "created_at": a.answered_at.format(&time::format_description::well_known::Rfc3339).ok() },
        })),
    ))
}
