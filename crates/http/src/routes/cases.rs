//! Officers' cases: the agency inbox, case detail, status changes, answers.

use super::{ListParams, limit};
use crate::body::Data;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, AuthUser, ReportIdPath};
use crate::wire::cases::{AnswerData, AnswerSent, Case, Detail, Inbox, InboxMeta, StatusChanged};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use lapor_app::ports::{InboxSort, Paging};
use lapor_app::services::operations::{InboxPage, InboxQuery};
use lapor_app::{App, AppError, ErrorCode};
use lapor_domain::lifecycle::Status;
use serde::Deserialize;
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
    /// `newest` (default), `oldest`, `upvotes` or `sla_due` (earliest due
    /// first, cases without a due time last).
    pub sort: Option<String>,
    /// `true`: only open cases past their SLA due time.
    pub overdue: Option<bool>,
    /// Keyset paging (newest first only): `meta.next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size: default 50, at most 100.
    pub limit: Option<i64>,
    /// Offset paging (any sort; the only paging of the other sorts): 1-based page.
    pub page: Option<i64>,
    /// Page size for offset paging (same as `limit`).
    pub per_page: Option<i64>,
}

/// The caller's agency's cases (newest first unless sorted otherwise), with
/// each case's SLA due time; never another agency's.
#[utoipa::path(get, path = "/cases/inbox", tag = "cases", params(InboxParams), security(("bearer" = [])), responses(
    (status = 200, description = "`meta:{next_cursor}`; with offset paging `meta:{total, page, per_page, next_cursor:null}`", body = Inbox),
    (status = 400, description = "Bad filter, sort or paging"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not staff")))]
pub async fn get_inbox(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<InboxParams>,
) -> ApiResult<Response> {
    let params = ListParams {
        status: q.status,
        cursor: q.cursor,
        ..Default::default()
    };
    let sort: InboxSort = q
        .sort
        .as_deref()
        .unwrap_or("")
        .parse()
        .map_err(|e| ApiError::invalid(ErrorCode::SortInvalid, e))?;
    let offset = sort != InboxSort::Newest || q.page.is_some() || q.per_page.is_some();
    if offset && params.cursor.as_deref().is_some_and(|c| !c.is_empty()) {
        // One sentence for both mistakes (the seeds' clients know it), a
        // code for each.
        let code = if sort != InboxSort::Newest {
            ErrorCode::CursorWithSort
        } else {
            ErrorCode::CursorWithPage
        };
        return Err(ApiError::invalid(
            code,
            "cursor pages only sort=newest without page/per_page",
        ));
    }
    let paging = if offset {
        let page = q.page.unwrap_or(1);
        if page < 1 {
            return Err(ApiError::invalid(
                ErrorCode::PageOutOfRange,
                "page must be 1 or more",
            ));
        }
        Paging::Offset {
            page,
            per_page: limit(q.per_page.or(q.limit))?,
        }
    } else {
        Paging::Keyset {
            after: params.cursor()?,
            limit: limit(q.limit)?,
        }
    };
    let query = InboxQuery {
        agency: q.agency,
        status: params.status()?,
        category: q.category,
        overdue_only: q.overdue.unwrap_or(false),
        sort,
        paging,
    };
    let InboxPage { agency, cases } = app.inbox(&p, &query).await?;
    let meta = match paging {
        Paging::Offset { page, per_page } => InboxMeta::Offset {
            total: cases.total,
            page,
            per_page,
            next_cursor: None,
        },
        Paging::Keyset { .. } => InboxMeta::Keyset {
            next_cursor: cases.next_cursor,
        },
    };
    let body = Inbox {
        success: true,
        agency: agency.as_ref(),
        data: cases.items.iter().map(Case::from).collect(),
        meta,
    };
    Ok(Json(body).into_response())
}

/// A case with its history and answers.
#[utoipa::path(get, path = "/cases/{id}", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path, description = "Report UUID")), responses(
    (status = 200, description = "The case", body = Data<Detail>), (status = 400, description = "Malformed id"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Another agency's case"), (status = 404, description = "Unknown")))]
pub async fn get_case(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
) -> ApiResult<Response> {
    let detail = app.case_detail(&p, id).await?;
    Ok(Json(Data::ok(Detail::from(&detail))).into_response())
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
    (status = 200, description = "Changed", body = StatusChanged),
    (status = 400, description = "Invalid status or missing reason"), (status = 401, description = "Not logged in"),
    (status = 403, description = "Another agency's case"),
    (status = 404, description = "Unknown"), (status = 409, description = "Transition not allowed")))]
pub async fn patch_status(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
    ApiJson(b): ApiJson<StatusBody>,
) -> ApiResult<impl IntoResponse> {
    let to: Status = b.status.parse().map_err(AppError::from)?;
    let c = app.change_status(&p, id, to, b.reason.as_deref()).await?;
    Ok(Json(StatusChanged {
        message: format!("Status updated to {}", c.new_status),
        new_status: c.new_status,
        old_status: c.old_status,
        report_id: c.report_id,
        success: true,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerBody {
    pub message: String,
}

/// An answer the reporter sees (and is notified of).
#[utoipa::path(post, path = "/cases/{id}/answers", tag = "cases", request_body = AnswerBody, security(("bearer" = [])),
    params(("id" = String, Path, description = "Report UUID")), responses(
    (status = 201, description = "Sent", body = AnswerSent), (status = 400, description = "Empty or too long"),
    (status = 401, description = "Not logged in"),
    (status = 403, description = "Another agency's case"), (status = 404, description = "Unknown")))]
pub async fn post_answer(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
    ApiJson(b): ApiJson<AnswerBody>,
) -> ApiResult<Response> {
    let a = app.answer_case(&p, id, &b.message).await?;
    let body = AnswerSent {
        data: AnswerData::from(&a),
        message: "Answer sent",
        success: true,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
