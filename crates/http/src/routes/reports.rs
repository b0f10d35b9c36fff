//! Reports: both seeds' create/list/read endpoints, the owner's edit and
//! withdrawal, upvotes and statistics.

use super::ListParams;
use crate::body::{Data, Page};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, AuthUser, MaybeUser, ReportIdPath};
use crate::wire::reports::{
    Categories, CategoryJson, CategoryStats, Report, ReportCreated, ReportData, ReportUpdated,
    StatusData, Upvoted, Withdrawn,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use lapor_app::ports::FeedSort;
use lapor_app::{App, AppError, ErrorCode};
use lapor_domain::access::Visibility;
use lapor_domain::lifecycle::Status;
use lapor_domain::report::{Location, ReportChanges, ReportDraft};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Citizens' commands (seed 2's command service).
pub fn command_router() -> Router<App> {
    Router::new()
        .route("/reports", post(post_report))
        .route("/reports/{id}", put(put_report).delete(delete_report))
        .route("/reports/{id}/upvote", post(post_upvote))
}

/// Reads (seed 2's query service).
pub fn query_router() -> Router<App> {
    Router::new()
        .route("/reports", get(list_reports))
        .route("/reports/me", get(list_my_reports))
        .route("/reports/public", get(list_public_reports))
        .route("/reports/{id}", get(get_report))
        .route("/statistics", get(get_statistics))
        .route("/categories", get(list_categories))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LocationBody {
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
}

/// Either seed's shape: `{content, visibility, category}` (seed 1) or
/// `{title, description, category}` (seed 2); location optional, nested or
/// flat.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateReport {
    pub content: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    /// PUBLIC (default), PRIVATE or ANONYMOUS.
    pub visibility: Option<String>,
    pub location: Option<LocationBody>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
}

fn location(
    nested: Option<LocationBody>,
    lat: Option<f64>,
    lon: Option<f64>,
    address: Option<String>,
) -> Result<Option<Location>, ApiError> {
    let (lat, lon, address) = match (nested, lat, lon) {
        (Some(l), _, _) => (Some(l.lat), Some(l.lon), l.address.or(address)),
        (None, lat, lon) => (lat, lon, address),
    };
    match (lat, lon) {
        (Some(lat), Some(lon)) => Location::parse(lat, lon, address.as_deref())
            .map(Some)
            // Out of range, or an address that is too long or has a NUL:
            // the domain's own causes.
            .map_err(|e| AppError::from(e).into()),
        (None, None) if address.as_deref().is_some_and(|a| !a.trim().is_empty()) => {
            Err(ApiError::invalid(
                ErrorCode::LocationIncomplete,
                "an address needs lat and lon too",
            ))
        }
        (None, None) => Ok(None),
        _ => Err(ApiError::invalid(
            ErrorCode::LocationIncomplete,
            "give both lat and lon",
        )),
    }
}

/// Files a report (201). The reporter must be logged in, also for
/// ANONYMOUS reports: anonymity hides the identity, it does not skip it.
#[utoipa::path(post, path = "/reports", tag = "reports", request_body = CreateReport, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = ReportCreated),
    (status = 400, description = "Missing field, unknown category, bad location"),
    (status = 401, description = "Not logged in")))]
pub async fn post_report(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiJson(b): ApiJson<CreateReport>,
) -> ApiResult<Response> {
    let content = b.content.or(b.description).ok_or_else(|| {
        ApiError::invalid(
            ErrorCode::FieldMissing,
            "content (or description) is required",
        )
    })?;
    let category = b
        .category
        .ok_or_else(|| ApiError::invalid(ErrorCode::FieldMissing, "category is required"))?;
    let visibility = match b
        .visibility
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(v) => v
            .parse::<Visibility>()
            .map_err(|e| ApiError::invalid(ErrorCode::VisibilityInvalid, e.to_string()))?,
        None => Visibility::Public,
    };
    let location = location(b.location, b.lat, b.lon, b.address)?;
    let draft = ReportDraft {
        title: b.title,
        content,
        category,
        visibility,
        location,
    };
    let report = app.create_report(&p, draft).await?;
    let body = ReportCreated {
        data: ReportData::from(&report),
        instance: &app.config().instance_id,
        message: "Report created",
        report_id: report.id,
        success: true,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Seed 2's listing, visibility-aware: without a token only PUBLIC reports;
/// a citizen also sees their own; staff also their agency's.
#[utoipa::path(get, path = "/reports", tag = "reports", params(ListParams), responses(
    (status = 200, description = "`meta:{total, page, per_page}` or, with `cursor`/`limit`, `meta:{limit, next_cursor}`", body = Page<Report>),
    (status = 400, description = "Bad filter or paging"), (status = 401, description = "Bad token")))]
pub async fn list_reports(
    State(app): State<App>,
    MaybeUser(p): MaybeUser,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<impl IntoResponse> {
    let paging = q.paging(true)?;
    let l = app
        .search_reports(
            p.as_ref(),
            q.category.as_deref(),
            q.status()?,
            q.q.as_deref(),
            q.sort()?,
            paging,
        )
        .await?;
    Ok(Json(Page::new(l, paging).map(Report)))
}

/// The caller's own reports (ANONYMOUS ones included), newest first.
#[utoipa::path(get, path = "/reports/me", tag = "reports", params(ListParams), security(("bearer" = [])), responses(
    (status = 200, description = "The caller's reports", body = Page<Report>), (status = 400, description = "Bad filter or paging"),
    (status = 401, description = "Not logged in")))]
pub async fn list_my_reports(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<impl IntoResponse> {
    let paging = q.paging(false)?;
    let l = app
        .list_reports(
            Some(&p),
            q.category.as_deref(),
            q.status()?,
            FeedSort::Newest,
            paging,
            true,
        )
        .await?;
    Ok(Json(Page::new(l, paging).map(Report)))
}

/// PUBLIC reports only, newest first (or `sort=top`).
#[utoipa::path(get, path = "/reports/public", tag = "reports", params(ListParams), responses(
    (status = 200, description = "PUBLIC reports", body = Page<Report>), (status = 400, description = "Bad filter or paging")))]
pub async fn list_public_reports(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<impl IntoResponse> {
    let paging = q.paging(false)?;
    let l = app
        .public_reports(q.category.as_deref(), q.status()?, q.sort()?, paging)
        .await?;
    Ok(Json(Page::new(l, paging).map(Report)))
}

/// One report, if the caller may see it (404 otherwise). The reporter and
/// the responsible staff also get its timeline.
#[utoipa::path(get, path = "/reports/{id}", tag = "reports", params(("id" = String, Path, description = "Report UUID")), responses(
    (status = 200, description = "The report", body = Data<Report>), (status = 400, description = "Malformed id"),
    (status = 401, description = "Bad token"), (status = 404, description = "Unknown or not visible")))]
pub async fn get_report(
    State(app): State<App>,
    MaybeUser(p): MaybeUser,
    ReportIdPath(id): ReportIdPath,
) -> ApiResult<impl IntoResponse> {
    let r = app.get_report(p.as_ref(), id).await?;
    Ok(Json(Data::ok(Report(r))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateReport {
    pub title: Option<String>,
    pub description: Option<String>,
    pub content: Option<String>,
    pub category: Option<String>,
    /// Only for the responsible agency's staff (seed 2 let anyone do this).
    pub status: Option<String>,
    /// Required with status REJECTED.
    pub reason: Option<String>,
    pub location: Option<LocationBody>,
}

/// Seed 2's update. The owner edits text, category and location while the
/// report is RECEIVED; a status change is for the responsible agency's staff.
#[utoipa::path(put, path = "/reports/{id}", tag = "reports", request_body = UpdateReport, security(("bearer" = [])),
    params(("id" = String, Path, description = "Report UUID")), responses(
    (status = 200, description = "`data` is the report after an edit, `{id, status}` after a status change", body = ReportUpdated),
    (status = 400, description = "Malformed id or body"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not the owner / not the agency"),
    (status = 404, description = "Unknown"), (status = 409, description = "No longer editable")))]
pub async fn put_report(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
    ApiJson(b): ApiJson<UpdateReport>,
) -> ApiResult<Response> {
    let content = b.content.or(b.description);
    let edits =
        b.title.is_some() || content.is_some() || b.category.is_some() || b.location.is_some();
    if let Some(status) = b.status.as_deref() {
        if edits {
            return Err(ApiError::invalid(
                ErrorCode::StatusWithEdits,
                "change the status or the content, not both in one request",
            ));
        }
        let to: Status = status.parse().map_err(AppError::from)?;
        if !p.role.is_staff() {
            return Err(ApiError::coded(
                StatusCode::FORBIDDEN,
                ErrorCode::StaffOnly,
                "status changes are made by the responsible agency",
            ));
        }
        let change = app.change_status(&p, id, to, b.reason.as_deref()).await?;
        let body: ReportUpdated<'_> = ReportUpdated::Status {
            data: StatusData {
                id,
                status: change.new_status,
            },
            message: "Status updated",
            new_status: change.new_status,
            old_status: change.old_status,
            report_id: id,
            success: true,
        };
        return Ok(Json(body).into_response());
    }
    let location = match b.location {
        Some(l) => location(Some(l), None, None, None)?,
        None => None,
    };
    let changes = ReportChanges {
        title: b.title,
        content,
        category: b.category,
        location,
    };
    let report = app.edit_report(&p, id, changes).await?;
    let body = ReportUpdated::Edited {
        data: ReportData::from(&report),
        message: "Report updated",
        success: true,
    };
    Ok(Json(body).into_response())
}

/// The owner withdraws a report that is not yet closed.
#[utoipa::path(delete, path = "/reports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path, description = "Report UUID")), responses(
    (status = 200, description = "Withdrawn", body = Withdrawn), (status = 400, description = "Malformed id"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not the owner"),
    (status = 404, description = "Unknown"), (status = 409, description = "Already closed or withdrawn")))]
pub async fn delete_report(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
) -> ApiResult<impl IntoResponse> {
    app.withdraw_report(&p, id).await?;
    Ok(Json(Withdrawn {
        message: "Report withdrawn",
        report_id: id,
        success: true,
    }))
}

/// One upvote per user, PUBLIC reports only.
#[utoipa::path(post, path = "/reports/{id}/upvote", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path, description = "Report UUID")), responses(
    (status = 200, description = "Upvoted", body = Upvoted), (status = 400, description = "Not PUBLIC or malformed id"),
    (status = 401, description = "Not logged in"),
    (status = 404, description = "Unknown"), (status = 409, description = "Already upvoted")))]
pub async fn post_upvote(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
) -> ApiResult<impl IntoResponse> {
    let count = app.upvote(&p, id).await?;
    Ok(Json(Upvoted {
        message: "Upvoted",
        report_id: id,
        success: true,
        vote_count: count,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Category slug, case-insensitive.
    pub category: Option<String>,
}

/// Report counts per category and status (seed 2).
#[utoipa::path(get, path = "/statistics", tag = "reports", params(StatsParams), responses(
    (status = 200, description = "Counts per category", body = Data<Vec<CategoryStats>>), (status = 400, description = "Unknown category")))]
pub async fn get_statistics(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<StatsParams>,
) -> ApiResult<impl IntoResponse> {
    let data = app.statistics(q.category.as_deref()).await?;
    Ok(Json(Data::ok(
        data.into_iter()
            .map(CategoryStats::from)
            .collect::<Vec<_>>(),
    )))
}

/// Categories and the agency each is routed to.
#[utoipa::path(get, path = "/categories", tag = "reports", responses((status = 200, description = "Every category", body = Categories)))]
pub async fn list_categories(State(app): State<App>) -> impl IntoResponse {
    let catalog = app.catalog();
    let data = catalog
        .categories()
        .map(|c| CategoryJson {
            agency: c.agency.clone(),
            agency_name: catalog.agency(&c.agency).map(|a| a.name.clone()),
            name: c.name.clone(),
            slug: c.slug.clone(),
        })
        .collect();
    Json(Categories {
        data,
        success: true,
    })
}
