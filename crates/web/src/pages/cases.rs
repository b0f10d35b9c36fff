//! An officer's side: the agency's inbox (live), a case page with the
//! report, photos, location and history, status changes and answers. The
//! application services enforce the agency scope; ANONYMOUS cases carry no
//! reporter identity to begin with.

use crate::error::{WebError, message_of};
use crate::session::Ctx;
use crate::shell::Shell;
use crate::state::Web;
use crate::view::{Card, category_options, fmt_duration, fmt_time, render};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lapor_app::AppError;
use lapor_app::ports::Paging;
use lapor_app::services::operations::InboxPage as InboxResult;
use lapor_app::views::CaseView;
use lapor_domain::lifecycle::{Status, transition};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct InboxQuery {
    status: Option<String>,
    category: Option<String>,
    overdue: Option<String>,
    sort: Option<String>,
    page: Option<i64>,
    /// `1`: only the rows (the live refresh swaps them in).
    fragment: Option<String>,
}

pub struct Row {
    pub id: String,
    pub title: String,
    pub category: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub visibility_label: &'static str,
    pub votes: i64,
    pub escalation_level: i64,
    pub age: String,
    pub created: String,
    /// "2 h 10 min left" / "overdue by 5 min"; None without an SLA.
    pub sla: Option<String>,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
pub struct InboxPage {
    pub shell: Shell,
    pub rows: Vec<Row>,
    pub agency: String,
    pub status: String,
    pub category: String,
    pub overdue: bool,
    pub sort: String,
    pub categories: Vec<(String, String, String)>,
    pub statuses: Vec<(String, String)>,
    pub sorts: Vec<(String, String)>,
    pub next: Option<String>,
    pub prev: Option<String>,
}

#[derive(Template)]
#[template(path = "inbox_rows.html")]
pub struct InboxRows {
    pub shell: Shell,
    pub rows: Vec<Row>,
}

pub const PAGE: i64 = 50;

fn row(c: &CaseView, web: &Web, ctx: &Ctx) -> Row {
    let t = ctx.lang;
    let catalog = web.app.catalog();
    let now = web.app.now();
    let (sla, overdue) = sla_badge(c, now, t);
    Row {
        id: c.report_id.to_string(),
        title: c.title.clone(),
        category: catalog
            .category(&c.category)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| c.category.to_string()),
        status: c.status.as_str(),
        status_label: t.s(&format!("status.{}", c.status.as_str())),
        visibility_label: t.s(&format!("vis.{}", c.visibility.as_str())),
        votes: c.vote_count,
        escalation_level: c.escalation_level,
        age: fmt_duration((now - c.created_at).whole_seconds()),
        created: fmt_time(c.created_at),
        sla,
        overdue,
    }
}

fn sla_badge(
    c: &CaseView,
    now: lapor_domain::Timestamp,
    t: crate::i18n::Lang,
) -> (Option<String>, bool) {
    if c.status.is_final() {
        return (None, false);
    }
    match c.due_at {
        Some(due) => {
            let left = (due - now).whole_seconds();
            if left >= 0 {
                (
                    Some(format!("{} {}", fmt_duration(left), t.s("sla.left"))),
                    false,
                )
            } else {
                (
                    Some(format!("{} {}", t.s("sla.overdue_by"), fmt_duration(left))),
                    true,
                )
            }
        }
        None => (None, false),
    }
}

pub async fn inbox(
    State(web): State<Web>,
    ctx: Ctx,
    Query(q): Query<InboxQuery>,
) -> Result<Response, WebError> {
    let t = ctx.lang;
    let user = ctx.user()?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<Status>()
                .map_err(|e| WebError::from(AppError::from(e)).lang(t))?,
        ),
        None => None,
    };
    let sort = q
        .sort
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "newest".into());
    let overdue = q.overdue.as_deref() == Some("1") || q.overdue.as_deref() == Some("on");
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let query = lapor_app::services::operations::InboxQuery {
        agency: None,
        status,
        category: q.category.clone(),
        overdue_only: overdue,
        sort: sort.parse().map_err(|e: String| {
            WebError::from(
                AppError::invalid(lapor_app::ErrorCode::SortInvalid, e).with("sort", &sort),
            )
            .lang(t)
        })?,
        paging: Paging::Offset {
            page,
            per_page: PAGE,
        },
    };
    let InboxResult {
        agency,
        cases: listing,
    } = web
        .app
        .inbox(user, &query)
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let rows: Vec<Row> = listing.items.iter().map(|c| row(c, &web, &ctx)).collect();
    if q.fragment.as_deref() == Some("1") {
        let frag = InboxRows {
            shell: Shell::new(&web, &ctx, "inbox.title", "inbox").await,
            rows,
        };
        return render(&frag);
    }
    let base = format!(
        "/app/inbox?status={}&category={}&sort={}{}",
        crate::links::urlencode(q.status.as_deref().unwrap_or("")),
        crate::links::urlencode(q.category.as_deref().unwrap_or("")),
        crate::links::urlencode(&sort),
        if overdue { "&overdue=1" } else { "" }
    );
    let more = listing.total.is_some_and(|total| page * PAGE < total);
    let catalog = web.app.catalog();
    let page_view = InboxPage {
        shell: Shell::new(&web, &ctx, "inbox.title", "inbox").await,
        rows,
        agency: agency
            .as_ref()
            .map(|a| {
                catalog
                    .agency(a)
                    .map(|x| x.name.clone())
                    .unwrap_or_else(|| a.to_string())
            })
            .unwrap_or_else(|| t.s("inbox.all_agencies").into()),
        status: q.status.clone().unwrap_or_default(),
        category: q.category.clone().unwrap_or_default(),
        overdue,
        sort,
        categories: category_options(&catalog),
        statuses: crate::view::status_options(t),
        sorts: ["newest", "oldest", "upvotes", "sla_due"]
            .iter()
            .map(|s| (s.to_string(), t.s(&format!("sort.{s}")).to_owned()))
            .collect(),
        next: more.then(|| format!("{base}&page={}", page + 1)),
        prev: (page > 1).then(|| format!("{base}&page={}", page - 1)),
    };
    render(&page_view)
}

// ------------------------------------------------------------- case page

pub struct History {
    pub label: String,
    pub reason: Option<String>,
    pub at: String,
}

pub struct Answer {
    pub message: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub shell: Shell,
    pub c: Card,
    pub row: Row,
    pub history: Vec<History>,
    pub answers: Vec<Answer>,
    pub next_statuses: Vec<(&'static str, &'static str)>,
    pub map: String,
    pub error: Option<String>,
}

async fn case_page_with(
    web: &Web,
    ctx: &Ctx,
    id: &str,
    error: Option<String>,
) -> Result<CasePage, WebError> {
    let t = ctx.lang;
    let user = ctx.user()?;
    let id = id.parse().map_err(|_| WebError::not_found(t))?;
    let detail = web
        .app
        .case_detail(user, id)
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    // Photos and the location come from the report's read side; the
    // operations context is the authority on status, history and answers.
    let report = web
        .app
        .get_report(Some(user), id)
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let c = Card::new(&report, &web.app.catalog(), t, Some(user));
    let map = match c.location {
        Some((lat, lon)) => serde_json::json!({
            "config": crate::view::map_config(web),
            "markers": [{"id": c.id, "title": c.title, "status": c.status_label, "lat": lat, "lon": lon}],
            "zoom": 16,
        })
        .to_string(),
        None => String::new(),
    };
    let from = detail.case.status;
    Ok(CasePage {
        shell: Shell::new(web, ctx, "case.title", "inbox").await,
        row: row(&detail.case, web, ctx),
        c,
        history: detail
            .history
            .iter()
            .map(|h| History {
                label: format!(
                    "{} → {}",
                    t.s(&format!("status.{}", h.old_status.as_str())),
                    t.s(&format!("status.{}", h.new_status.as_str()))
                ),
                reason: h.reason.clone(),
                at: fmt_time(h.changed_at),
            })
            .collect(),
        answers: detail
            .answers
            .iter()
            .map(|a| Answer {
                message: a.message.clone(),
                at: fmt_time(a.created_at),
            })
            .collect(),
        next_statuses: Status::ALL
            .iter()
            .filter(|to| transition(from, **to, Some("-")).is_ok())
            .map(|s| (s.as_str(), t.s(&format!("status.{}", s.as_str()))))
            .collect(),
        map,
        error,
    })
}

pub async fn case_page(
    State(web): State<Web>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    render(&case_page_with(&web, &ctx, &id, None).await?)
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
    reason: Option<String>,
}

pub async fn change_status(
    State(web): State<Web>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let t = ctx.lang;
    let user = ctx.user()?;
    let rid = id.parse().map_err(|_| WebError::not_found(t))?;
    let to = match f.status.parse::<Status>() {
        Ok(s) => s,
        Err(e) => return refused(&web, &ctx, &id, AppError::from(e)).await,
    };
    match web
        .app
        .change_status(user, rid, to, f.reason.as_deref())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/app/cases/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            refused(&web, &ctx, &id, e).await
        }
        Err(e) => Err(WebError::from(e).lang(t)),
    }
}

#[derive(Deserialize)]
pub struct AnswerForm {
    csrf: String,
    message: String,
}

pub async fn answer(
    State(web): State<Web>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let t = ctx.lang;
    let user = ctx.user()?;
    let rid = id.parse().map_err(|_| WebError::not_found(t))?;
    match web.app.answer_case(user, rid, &f.message).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/cases/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            refused(&web, &ctx, &id, e).await
        }
        Err(e) => Err(WebError::from(e).lang(t)),
    }
}

/// The case page again, with the reason the action was refused.
async fn refused(web: &Web, ctx: &Ctx, id: &str, e: AppError) -> Result<Response, WebError> {
    let status = crate::error::status_of(&e);
    let page = case_page_with(web, ctx, id, Some(message_of(&e, ctx.lang))).await?;
    Ok((
        if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        },
        render(&page)?,
    )
        .into_response())
}
