//! The city head's audit trail page (`/app/admin/audit`): staff actions,
//! newest first, filtered by actor, action and day, as `GET /admin/audit`
//! lists them.

use crate::error::WebError;
use crate::session::Ctx;
use crate::shell::Shell;
use crate::state::Web;
use crate::view::{CITY_OFFSET_HOURS, fmt_time, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use lapor_app::ports::AuditFilter;
use lapor_app::{AppError, ErrorCode};
use lapor_domain::Timestamp;
use lapor_domain::audit::{AuditAction, canonical_json};
use lapor_domain::ids::UserId;
use serde::Deserialize;
use std::collections::HashMap;
use time::macros::format_description;
use time::{Date, Duration, Time, UtcOffset};

/// Entries shown per page.
const PAGE: i64 = 100;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    /// `YYYY-MM-DD`, a day in the city's time zone.
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
}

pub struct AuditRow {
    pub seq: i64,
    pub when: String,
    pub actor: String,
    pub action: &'static str,
    pub target: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub shell: Shell,
    pub rows: Vec<AuditRow>,
    /// (user id, username) of every staff member, for the actor filter.
    pub staff: Vec<(String, String)>,
    /// (action, label).
    pub actions: Vec<(&'static str, &'static str)>,
    pub actor: String,
    pub action: String,
    pub from: String,
    pub to: String,
    /// The query string of the next (older) page, if there is one.
    pub next: Option<String>,
}

/// The start of a city day, or with `end` the start of the next one.
fn day(s: &str, end: bool) -> Result<Timestamp, AppError> {
    let d = Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| AppError::invalid(ErrorCode::DateInvalid, "invalid date: use YYYY-MM-DD"))?;
    let offset = UtcOffset::from_hms(CITY_OFFSET_HOURS, 0, 0).unwrap_or(UtcOffset::UTC);
    let t = d.with_time(Time::MIDNIGHT).assume_offset(offset);
    Ok(if end { t + Duration::days(1) } else { t })
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub async fn page(
    State(web): State<Web>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let t = ctx.lang;
    let user = ctx.user()?;
    let err = |e: AppError| WebError::from(e).lang(t);
    let filter = AuditFilter {
        actor: given(&q.actor)
            .map(|s| {
                s.parse::<UserId>()
                    .map_err(|_| AppError::invalid(ErrorCode::InvalidId, "invalid actor"))
            })
            .transpose()
            .map_err(err)?,
        action: given(&q.action)
            .map(|s| {
                s.parse::<AuditAction>()
                    .map_err(|e| AppError::invalid(ErrorCode::AuditActionInvalid, e.to_string()))
            })
            .transpose()
            .map_err(err)?,
        from: given(&q.from)
            .map(|s| day(s, false))
            .transpose()
            .map_err(err)?,
        to: given(&q.to)
            .map(|s| day(s, true))
            .transpose()
            .map_err(err)?,
        before_seq: q.before,
        limit: PAGE,
    };
    // audit_log refuses anyone but the city head.
    let entries = web.app.audit_log(user, filter).await.map_err(err)?;
    let users = web.app.list_users(user).await.map_err(err)?;
    let names: HashMap<UserId, String> = users.iter().map(|u| (u.id, u.username.clone())).collect();
    let next = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|e| e.seq))
        .flatten()
        .map(|seq| {
            // Every value given was parsed above (a UUID, an action name, a
            // YYYY-MM-DD date), so none needs escaping.
            let mut qs = String::new();
            for (k, v) in [
                ("actor", &q.actor),
                ("action", &q.action),
                ("from", &q.from),
                ("to", &q.to),
            ] {
                if let Some(v) = given(v) {
                    qs.push_str(&format!("{k}={v}&"));
                }
            }
            format!("{qs}before={seq}")
        });
    let rows = entries
        .iter()
        .map(|e| AuditRow {
            seq: e.seq,
            when: fmt_time(e.at),
            actor: names
                .get(&e.actor)
                .cloned()
                .unwrap_or_else(|| e.actor.to_string()),
            action: t.s(&format!("audit.action.{}", e.action.as_str())),
            target: e.target.clone().unwrap_or_default(),
            details: canonical_json(&e.details),
        })
        .collect();
    let mut staff: Vec<(String, String)> = users
        .into_iter()
        .filter(|u| u.role != "citizen")
        .map(|u| (u.id.to_string(), u.username))
        .collect();
    staff.sort_by(|a, b| a.1.cmp(&b.1));
    render(&AuditPage {
        shell: Shell::new(&web, &ctx, "audit.title", "admin").await,
        rows,
        staff,
        actions: AuditAction::ALL
            .iter()
            .map(|a| (a.as_str(), t.s(&format!("audit.action.{}", a.as_str()))))
            .collect(),
        actor: given(&q.actor).unwrap_or_default().to_owned(),
        action: given(&q.action).unwrap_or_default().to_owned(),
        from: given(&q.from).unwrap_or_default().to_owned(),
        to: given(&q.to).unwrap_or_default().to_owned(),
        next,
    })
}
