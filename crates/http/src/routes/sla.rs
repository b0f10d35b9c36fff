//! SLA status, configuration and escalations.

use crate::body::{Page, PageMeta, SortedData};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, AuthUser, MaybeUser};
use crate::wire::workflow::{Escalation, Sla, SlaConfigJson};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lapor_app::{App, ErrorCode};
use lapor_domain::ids::ReportId;
use lapor_domain::sla::{BadSlaStatus, SlaStatus};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<App> {
    Router::new()
        .route("/sla/status", get(list_sla_status))
        .route("/sla/config", get(get_sla_config).post(post_sla_config))
        .route("/sla/escalations", get(list_escalations))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlaParams {
    pub report_id: Option<String>,
    /// PENDING, ESCALATED, COMPLETED or CANCELLED.
    pub sla_status: Option<String>,
    /// Only open jobs past their due time.
    pub overdue: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// SLA jobs, newest first. Without a token only PUBLIC reports' jobs.
#[utoipa::path(get, path = "/sla/status", tag = "sla", params(SlaParams), responses(
    (status = 200, description = "`meta:{total, page, per_page}`", body = Page<Sla>), (status = 400, description = "Bad filter"),
    (status = 401, description = "Bad token")))]
pub async fn list_sla_status(
    State(app): State<App>,
    MaybeUser(p): MaybeUser,
    ApiQuery(q): ApiQuery<SlaParams>,
) -> ApiResult<Response> {
    let report_id = match q.report_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<ReportId>().map_err(|_| {
            ApiError::invalid(ErrorCode::InvalidId, "invalid report_id: expected a UUID")
        })?),
        None => None,
    };
    let sla_status = match q.sla_status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<SlaStatus>().map_err(|e: BadSlaStatus| {
            ApiError::invalid(ErrorCode::SlaStatusInvalid, e.to_string())
        })?),
        None => None,
    };
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    if page < 1 || per_page < 1 {
        let code = if page < 1 {
            ErrorCode::PageOutOfRange
        } else {
            ErrorCode::PageSizeInvalid
        };
        return Err(ApiError::invalid(
            code,
            "page and per_page must be 1 or more",
        ));
    }
    // As for /reports: a huge page would overflow the offset (a 500).
    if page > 1_000_000 {
        return Err(ApiError::invalid(
            ErrorCode::PageOutOfRange,
            "page is too large",
        ));
    }
    let per_page = per_page.min(super::MAX_PER_PAGE);
    let l = app
        .sla_status(
            p.as_ref(),
            report_id,
            sla_status,
            q.overdue.unwrap_or(false),
            page,
            per_page,
        )
        .await?;
    let body = Page {
        success: true,
        data: l.items.iter().map(Sla::from).collect(),
        meta: PageMeta::Offset {
            total: l.total,
            page,
            per_page,
        },
    };
    Ok(Json(body).into_response())
}

/// The default SLA (seed 1's fields) and per-category overrides.
#[utoipa::path(get, path = "/sla/config", tag = "sla", responses((status = 200, description = "The SLA configuration", body = SlaConfigJson)))]
pub async fn get_sla_config(State(app): State<App>) -> ApiResult<impl IntoResponse> {
    Ok(Json(SlaConfigJson::from(&app.sla_config().await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SlaBody {
    pub duration_seconds: i64,
    /// Set one category's duration instead of the default.
    pub category: Option<String>,
}

/// Changes the SLA. Supervisors (their agency's categories) and the city
/// head only; the seed let anyone do this.
#[utoipa::path(post, path = "/sla/config", tag = "sla", request_body = SlaBody, security(("bearer" = [])), responses(
    (status = 200, description = "The new configuration", body = SlaConfigJson), (status = 400, description = "Below the minimum (10 s)"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not a supervisor or the city head")))]
pub async fn post_sla_config(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiJson(b): ApiJson<SlaBody>,
) -> ApiResult<impl IntoResponse> {
    let c = app
        .set_sla(&p, b.category.as_deref(), b.duration_seconds)
        .await?;
    Ok(Json(SlaConfigJson::from(&c)))
}

/// Escalated cases: the agency's for supervisors and officers, all for the
/// city head.
#[utoipa::path(get, path = "/sla/escalations", tag = "sla", security(("bearer" = [])), responses(
    (status = 200, description = "Escalated cases", body = SortedData<Vec<Escalation>>), (status = 401, description = "Not logged in"),
    (status = 403, description = "Citizens")))]
pub async fn list_escalations(
    State(app): State<App>,
    AuthUser(p): AuthUser,
) -> ApiResult<Response> {
    let data = app.escalations(&p, 200).await?;
    let body = SortedData::ok(data.iter().map(Escalation::from).collect::<Vec<_>>());
    Ok(Json(body).into_response())
}
