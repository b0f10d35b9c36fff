//! Performance of agencies and officers over a chosen period, for
//! supervisors (their agency) and the city head (any or all): KPIs, charts
//! drawn on the server, and the same figures as tables.

use crate::chart;
use crate::error::WebError;
use crate::session::Ctx;
use crate::shell::Shell;
use crate::state::Web;
use crate::view::{fmt_duration, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lapor_app::views::{CaseStatsView, DurationStatsView};
use lapor_domain::access::Role;
use serde::Deserialize;
use time::{Date, Duration, Time};

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    agency: Option<String>,
}

pub struct Figures {
    pub name: String,
    pub cases: i64,
    pub open: String,
    pub resolved: i64,
    pub first_median: String,
    pub first_p90: String,
    pub res_median: String,
    pub res_p90: String,
    pub breach: String,
}

#[derive(Template)]
#[template(path = "performance.html")]
pub struct PerformancePage {
    pub shell: Shell,
    pub from: String,
    pub to: String,
    pub agency: String,
    pub agencies: Vec<(String, String)>,
    pub can_pick_agency: bool,
    pub overall: Figures,
    pub agency_rows: Vec<Figures>,
    pub officer_rows: Vec<Figures>,
    pub daily_chart: String,
    pub response_chart: String,
    pub breach_chart: String,
}

fn dur(d: &DurationStatsView, median: bool) -> String {
    match if median {
        d.median_seconds
    } else {
        d.p90_seconds
    } {
        Some(s) => fmt_duration(s),
        None => "—".into(),
    }
}

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn figures(name: String, s: &CaseStatsView, open: String) -> Figures {
    Figures {
        name,
        cases: s.cases,
        open,
        resolved: s.resolved,
        first_median: dur(&s.first_response, true),
        first_p90: dur(&s.first_response, false),
        res_median: dur(&s.resolution, true),
        res_p90: dur(&s.resolution, false),
        breach: pct(s.breach_rate),
    }
}

fn parse_day(s: Option<&str>) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    s.filter(|s| !s.is_empty())
        .and_then(|s| Date::parse(s, &fmt).ok())
}

pub async fn page(
    State(web): State<Web>,
    ctx: Ctx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let t = ctx.lang;
    let user = ctx.user()?;
    if !user.is_manager() {
        return Err(WebError::new(StatusCode::FORBIDDEN, t.s("error.managers_only")).lang(t));
    }
    let offset = time::UtcOffset::from_hms(crate::view::CITY_OFFSET_HOURS, 0, 0)
        .unwrap_or(time::UtcOffset::UTC);
    let today = web.app.now().to_offset(offset).date();
    let bad = |key: &'static str| WebError::keyed(StatusCode::BAD_REQUEST, key).lang(t);
    let to_day = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_day(Some(s)).ok_or_else(|| bad("performance.bad_date"))?,
        None => today,
    };
    let from_day = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_day(Some(s)).ok_or_else(|| bad("performance.bad_date"))?,
        None => to_day - Duration::days(29),
    };
    // The period covers whole days of the city's time zone, `to` included.
    let from = from_day.with_time(Time::MIDNIGHT).assume_offset(offset);
    let to = (to_day + Duration::days(1))
        .with_time(Time::MIDNIGHT)
        .assume_offset(offset);
    let agency = q.agency.clone().filter(|a| !a.is_empty());
    let perf = web
        .app
        .performance(user, agency.as_deref(), from, to)
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let catalog = web.app.catalog();
    let agency_name = |code: &lapor_domain::catalog::AgencyCode| {
        catalog
            .agency(code)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let agency_rows: Vec<Figures> = perf
        .agencies
        .iter()
        .map(|a| figures(agency_name(&a.agency), &a.stats, a.backlog.open.to_string()))
        .collect();
    let officer_rows: Vec<Figures> = perf
        .officers
        .iter()
        .map(|o| {
            let who = o.username.clone().unwrap_or_else(|| o.user_id.to_string());
            figures(
                format!("{who} ({})", agency_name(&o.agency)),
                &o.stats,
                o.open_in_progress.to_string(),
            )
        })
        .collect();
    let daily: Vec<(String, i64, i64)> = perf
        .daily
        .iter()
        .map(|d| (d.date.clone(), d.created, d.resolved))
        .collect();
    // Per agency for the city head's overview, per officer within one agency.
    let response_data: Vec<(String, f64)> = if perf.agencies.len() > 1 {
        perf.agencies
            .iter()
            .filter_map(|a| {
                a.stats
                    .first_response
                    .median_seconds
                    .map(|s| (agency_name(&a.agency), s as f64))
            })
            .collect()
    } else {
        perf.officers
            .iter()
            .filter_map(|o| {
                o.stats
                    .first_response
                    .median_seconds
                    .map(|s| (o.username.clone().unwrap_or_default(), s as f64))
            })
            .collect()
    };
    let breach_data: Vec<(String, f64)> = perf
        .agencies
        .iter()
        .filter_map(|a| {
            a.stats
                .breach_rate
                .map(|r| (agency_name(&a.agency), r * 100.0))
        })
        .collect();
    let mut agencies: Vec<(String, String)> = catalog
        .agencies()
        .map(|a| (a.code.to_string(), a.name.clone()))
        .collect();
    agencies.sort_by(|a, b| a.1.cmp(&b.1));
    let page = PerformancePage {
        shell: Shell::new(&web, &ctx, "performance.title", "performance").await,
        from: from_day.to_string(),
        to: to_day.to_string(),
        agency: agency.unwrap_or_default(),
        agencies,
        can_pick_agency: user.role == Role::Admin,
        overall: figures(
            t.s("performance.overall").into(),
            &perf.overall,
            perf.backlog.open.to_string(),
        ),
        agency_rows,
        officer_rows,
        daily_chart: chart::daily(
            t.s("performance.daily"),
            &daily,
            (t.s("performance.created"), t.s("performance.closed")),
        ),
        response_chart: chart::bars(t.s("performance.response_chart"), &response_data, |v| {
            fmt_duration(v as i64)
        }),
        breach_chart: chart::bars(t.s("performance.breach_chart"), &breach_data, |v| {
            format!("{v:.0}%")
        }),
    };
    render(&page)
}
