//! The city head's configuration (staff accounts, agencies, categories) and
//! the audit trail of staff actions.

use super::analytics::parse_time;
use crate::body::SortedData;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, AuthUser};
use crate::wire::accounts::{Done, User};
use crate::wire::audit::{Audit, AuditListing, AuditMeta};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lapor_app::ports::AuditFilter;
use lapor_app::services::audit::MAX_LIMIT;
use lapor_app::services::identity::{NewUser, require_admin};
use lapor_app::{App, AppError, ErrorCode};
use lapor_domain::access::Role;
use lapor_domain::audit::AuditAction;
use lapor_domain::ids::UserId;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/users", get(list_users).post(post_user))
        .route("/admin/agencies", post(post_agency))
        .route("/admin/categories", post(post_category))
        .route("/admin/audit", get(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// A staff user id.
    pub actor: Option<String>,
    /// status_changed, answered, sla_changed, agency_changed,
    /// category_changed, user_added or staff_login.
    pub action: Option<String>,
    /// Start (inclusive): RFC 3339, or `YYYY-MM-DD` for that day's 00:00 UTC.
    pub from: Option<String>,
    /// End (exclusive): RFC 3339, or `YYYY-MM-DD` for the end of that day.
    pub to: Option<String>,
    /// Entries per page: default 100, at most 500.
    pub limit: Option<i64>,
    /// Only entries older than this sequence number (the previous page's
    /// `meta.next_before_seq`).
    pub before_seq: Option<i64>,
}

/// The audit trail of staff actions, newest first, for the city head.
#[utoipa::path(get, path = "/admin/audit", tag = "admin", params(AuditParams), security(("bearer" = [])), responses(
    (status = 200, description = "Entries, newest first", body = AuditListing),
    (status = 400, description = "Bad actor, action, date or limit"),
    (status = 401, description = "Not logged in"), (status = 403, description = "Not the city head")))]
pub async fn list_audit(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Response> {
    require_admin(&p)?;
    let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let actor = match given(&q.actor) {
        Some(s) => Some(s.trim().parse::<UserId>().map_err(|_| {
            ApiError::invalid(ErrorCode::InvalidId, "invalid actor: expected a user id")
        })?),
        None => None,
    };
    let action = match given(&q.action) {
        Some(s) => Some(
            s.trim()
                .parse::<AuditAction>()
                .map_err(|e| ApiError::invalid(ErrorCode::AuditActionInvalid, e.to_string()))?,
        ),
        None => None,
    };
    let from = given(&q.from)
        .map(|s| parse_time("from", &s, false))
        .transpose()?;
    let to = given(&q.to)
        .map(|s| parse_time("to", &s, true))
        .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            ErrorCode::PageSizeInvalid,
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let entries = app
        .audit_log(
            &p,
            AuditFilter {
                actor,
                action,
                from,
                to,
                before_seq: q.before_seq,
                limit,
            },
        )
        .await?;
    let next_before_seq = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditListing {
        data: entries.iter().map(Audit::from).collect(),
        meta: AuditMeta { next_before_seq },
        success: true,
    })
    .into_response())
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
