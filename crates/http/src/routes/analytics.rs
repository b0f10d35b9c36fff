//! Performance analytics for supervisors and the city head (served by the
//! operations role, which owns the cases the figures come from).

use crate::body::SortedData;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, AuthUser};
use crate::wire::analytics::Performance;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use lapor_app::{App, ErrorCode};
use lapor_domain::Timestamp;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, Time};
use utoipa::IntoParams;

pub fn router() -> Router<App> {
    Router::new().route("/analytics/performance", get(get_performance))
}

/// The period when none is given.
pub const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceParams {
    /// Start (inclusive): RFC 3339, or `YYYY-MM-DD` for that day's 00:00 UTC.
    /// Default: 30 days before `to`.
    pub from: Option<String>,
    /// End (exclusive): RFC 3339, or `YYYY-MM-DD` for the end of that day
    /// (UTC), so the day is included. Default: now.
    pub to: Option<String>,
    /// An agency code. The city head: any, or none for every agency;
    /// supervisors: only their own (the default).
    pub agency: Option<String>,
}

/// Parses an RFC 3339 time, or a date: its start, or with `end` its end (the
/// next day's start).
pub(crate) fn parse_time(name: &str, s: &str, end: bool) -> Result<Timestamp, ApiError> {
    let s = s.trim();
    if let Ok(t) = Timestamp::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let d = Date::parse(s, format_description!("[year]-[month]-[day]")).map_err(|_| {
        ApiError::invalid(
            ErrorCode::DateInvalid,
            format!("invalid {name}: use RFC 3339 or YYYY-MM-DD"),
        )
    })?;
    let t = d.with_time(Time::MIDNIGHT).assume_utc();
    Ok(if end { t + Duration::days(1) } else { t })
}

/// Per agency and per officer: open backlog, median and p90 time to first
/// response and to resolution, SLA breach rate, and cases filed and
/// resolved per day, for the cases filed in `[from, to)` (at most 366
/// days). Definitions in docs/api.md.
#[utoipa::path(get, path = "/analytics/performance", tag = "analytics", params(PerformanceParams), security(("bearer" = [])), responses(
    (status = 200, description = "The figures", body = SortedData<Performance>),
    (status = 400, description = "Bad date, agency or period"), (status = 401, description = "Not logged in"),
    (status = 403, description = "Not a supervisor or the city head, or another agency")))]
pub async fn get_performance(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<PerformanceParams>,
) -> ApiResult<impl IntoResponse> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    let to = match given(&q.to) {
        Some(s) => parse_time("to", &s, true)?,
        None => app.now(),
    };
    let from = match given(&q.from) {
        Some(s) => parse_time("from", &s, false)?,
        None => to - Duration::days(DEFAULT_DAYS),
    };
    let data = app.performance(&p, q.agency.as_deref(), from, to).await?;
    Ok(Json(SortedData::ok(Performance::from(data))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_cover_whole_days_and_times_are_exact() {
        assert_eq!(
            parse_time("from", "2026-03-01", false).unwrap(),
            datetime!(2026-03-01 00:00 UTC)
        );
        assert_eq!(
            parse_time("to", "2026-03-31", true).unwrap(),
            datetime!(2026-04-01 00:00 UTC)
        );
        assert_eq!(
            parse_time("to", "2026-03-31T10:00:00+07:00", true).unwrap(),
            datetime!(2026-03-31 03:00 UTC)
        );
        assert!(parse_time("from", "yesterday", false).is_err());
        assert!(parse_time("from", "2026-02-30", false).is_err());
    }
}
