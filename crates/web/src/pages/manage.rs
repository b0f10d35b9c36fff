//! Staff: escalated cases (officers and supervisors their agency's, the
//! city head all, as `GET /sla/escalations` decides). Supervisors and the
//! city head: SLA configuration; the city head (admin) also manages
//! agencies, categories and staff accounts.

use crate::error::{WebError, message_of, status_of};
use crate::session::Ctx;
use crate::shell::Shell;
use crate::state::Web;
use crate::view::{fmt_duration, fmt_time, render};
use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lapor_app::AppError;
use lapor_app::services::identity::{NewUser, require_admin};
use lapor_domain::access::Role;
use serde::Deserialize;

fn require_manager(ctx: &Ctx) -> Result<&lapor_domain::access::Principal, WebError> {
    let user = ctx.user()?;
    if user.is_manager() {
        Ok(user)
    } else {
        Err(WebError::new(StatusCode::FORBIDDEN, ctx.lang.s("error.managers_only")).lang(ctx.lang))
    }
}

// ------------------------------------------------------------- escalations

pub struct Escalated {
    pub id: String,
    pub title: String,
    pub agency: String,
    pub level: i64,
    pub status_label: &'static str,
    pub due: String,
    pub escalated: String,
}

#[derive(Template)]
#[template(path = "escalations.html")]
pub struct EscalationsPage {
    pub shell: Shell,
    pub items: Vec<Escalated>,
}

pub async fn escalations(State(web): State<Web>, ctx: Ctx) -> Result<Response, WebError> {
    let t = ctx.lang;
    // Who sees which escalations is the application's rule (the API's too):
    // citizens are refused there, staff get their agency's.
    let user = ctx.user()?;
    let list = web
        .app
        .escalations(user, 200)
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let catalog = web.app.catalog();
    // Titles come from the cases, in one query (only those this manager
    // may work; an unknown one shows its id).
    let ids: Vec<_> = list.iter().map(|e| e.report_id).collect();
    let mut titles = web
        .app
        .case_titles(user, &ids)
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let mut items = Vec::with_capacity(list.len());
    for e in list {
        let title = titles
            .remove(&e.report_id)
            .unwrap_or_else(|| e.report_id.to_string());
        items.push(Escalated {
            id: e.report_id.to_string(),
            title,
            agency: catalog
                .agency(&e.owner_agency)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| e.owner_agency.to_string()),
            level: e.escalation_level,
            status_label: t.s(&format!("status.{}", e.current_status.as_str())),
            due: fmt_time(e.due_at),
            escalated: fmt_time(e.escalated_at),
        });
    }
    let page = EscalationsPage {
        shell: Shell::new(&web, &ctx, "escalations.title", "escalations").await,
        items,
    };
    render(&page)
}

// ------------------------------------------------------------- SLA

pub struct SlaRow {
    pub slug: String,
    pub name: String,
    pub agency: String,
    pub seconds: i64,
    pub human: String,
    pub editable: bool,
}

#[derive(Template)]
#[template(path = "sla.html")]
pub struct SlaPage {
    pub shell: Shell,
    pub default_seconds: i64,
    pub default_human: String,
    pub rows: Vec<SlaRow>,
    pub is_admin: bool,
    pub min_seconds: i64,
    pub error: Option<String>,
}

async fn sla_page_with(web: &Web, ctx: &Ctx, error: Option<String>) -> Result<SlaPage, WebError> {
    let t = ctx.lang;
    let user = require_manager(ctx)?;
    let config = web
        .app
        .sla_config()
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let catalog = web.app.catalog();
    let mut rows: Vec<SlaRow> = catalog
        .categories()
        .map(|c| {
            let seconds = config.seconds_for(&c.slug);
            SlaRow {
                slug: c.slug.to_string(),
                name: c.name.clone(),
                agency: catalog
                    .agency(&c.agency)
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| c.agency.to_string()),
                seconds,
                human: fmt_duration(seconds),
                editable: user.role == Role::Admin || user.is_staff_of(&c.agency),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SlaPage {
        shell: Shell::new(web, ctx, "sla.title", "sla").await,
        default_seconds: config.default_seconds,
        default_human: fmt_duration(config.default_seconds),
        rows,
        is_admin: user.role == Role::Admin,
        min_seconds: web.app.config().min_sla_seconds,
        error,
    })
}

pub async fn sla_page(State(web): State<Web>, ctx: Ctx) -> Result<Response, WebError> {
    render(&sla_page_with(&web, &ctx, None).await?)
}

#[derive(Deserialize)]
pub struct SlaForm {
    csrf: String,
    category: Option<String>,
    /// Hours (decimals allowed), as people think of SLAs.
    hours: String,
}

pub async fn set_sla(
    State(web): State<Web>,
    ctx: Ctx,
    Form(f): Form<SlaForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let user = require_manager(&ctx)?;
    let seconds = match f.hours.trim().replace(',', ".").parse::<f64>() {
        Ok(h) if h.is_finite() && h > 0.0 && h < 24.0 * 366.0 => (h * 3600.0).round() as i64,
        _ => {
            let page = sla_page_with(&web, &ctx, Some(ctx.lang.s("sla.bad_hours").into())).await?;
            return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
        }
    };
    match web.app.set_sla(user, f.category.as_deref(), seconds).await {
        Ok(_) => Ok(Redirect::to("/app/sla").into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Forbidden(_))) => {
            let status = status_of(&e);
            let page = sla_page_with(&web, &ctx, Some(message_of(&e, ctx.lang))).await?;
            Ok((status, render(&page)?).into_response())
        }
        Err(e) => Err(WebError::from(e).lang(ctx.lang)),
    }
}

// ------------------------------------------------------------- admin

pub struct StaffRow {
    pub username: String,
    pub role: &'static str,
    pub agency: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub shell: Shell,
    pub staff: Vec<StaffRow>,
    pub agencies: Vec<(String, String)>,
    pub categories: Vec<(String, String, String)>,
    pub error: Option<String>,
    pub done: Option<String>,
}

async fn admin_page_with(
    web: &Web,
    ctx: &Ctx,
    error: Option<String>,
    done: Option<String>,
) -> Result<AdminPage, WebError> {
    let t = ctx.lang;
    let user = ctx.user()?;
    require_admin(user).map_err(|e| WebError::from(e).lang(t))?;
    let users = web
        .app
        .list_users(user)
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let catalog = web.app.catalog();
    let mut agencies: Vec<(String, String)> = catalog
        .agencies()
        .map(|a| (a.code.to_string(), a.name.clone()))
        .collect();
    agencies.sort();
    Ok(AdminPage {
        shell: Shell::new(web, ctx, "admin.title", "admin").await,
        staff: users
            .into_iter()
            .filter(|u| u.role != "citizen")
            .map(|u| StaffRow {
                role: t.s(&format!("role.{}", u.role)),
                username: u.username,
                agency: u
                    .agency
                    .as_deref()
                    .and_then(|a| lapor_domain::catalog::AgencyCode::parse(a).ok())
                    .and_then(|a| catalog.agency(&a).map(|x| x.name.clone()))
                    .or(u.agency)
                    .unwrap_or_default(),
            })
            .collect(),
        agencies,
        categories: crate::view::category_options(&catalog),
        error,
        done,
    })
}

pub async fn admin_page(State(web): State<Web>, ctx: Ctx) -> Result<Response, WebError> {
    render(&admin_page_with(&web, &ctx, None, None).await?)
}

/// Shows the admin page again with the outcome of a form.
async fn admin_outcome(
    web: &Web,
    ctx: &Ctx,
    r: Result<String, AppError>,
) -> Result<Response, WebError> {
    match r {
        Ok(done) => render(&admin_page_with(web, ctx, None, Some(done)).await?),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = status_of(&e);
            let page = admin_page_with(web, ctx, Some(message_of(&e, ctx.lang)), None).await?;
            Ok((status, render(&page)?).into_response())
        }
        Err(e) => Err(WebError::from(e).lang(ctx.lang)),
    }
}

#[derive(Deserialize)]
pub struct UserForm {
    csrf: String,
    username: String,
    password: String,
    role: String,
    agency: Option<String>,
}

pub async fn add_user(
    State(web): State<Web>,
    ctx: Ctx,
    Form(f): Form<UserForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let user = ctx.user()?;
    require_admin(user).map_err(|e| WebError::from(e).lang(ctx.lang))?;
    let r = async {
        let role: Role = f.role.parse().map_err(AppError::from)?;
        let created = web
            .app
            .add_user(
                user,
                NewUser {
                    username: f.username.clone(),
                    password: f.password.clone(),
                    role,
                    agency: f
                        .agency
                        .clone()
                        .filter(|a| !a.trim().is_empty() && role.needs_agency()),
                },
            )
            .await?;
        Ok(format!(
            "{} {}",
            ctx.lang.s("admin.user_added"),
            created.username
        ))
    }
    .await;
    admin_outcome(&web, &ctx, r).await
}

#[derive(Deserialize)]
pub struct AgencyForm {
    csrf: String,
    code: String,
    name: String,
}

pub async fn add_agency(
    State(web): State<Web>,
    ctx: Ctx,
    Form(f): Form<AgencyForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let user = ctx.user()?;
    let r = web
        .app
        .add_agency(user, &f.code, &f.name)
        .await
        .map(|_| format!("{} {}", ctx.lang.s("admin.saved"), f.code));
    if let Err(e @ AppError::Forbidden(_)) = r {
        return Err(WebError::from(e).lang(ctx.lang));
    }
    admin_outcome(&web, &ctx, r).await
}

#[derive(Deserialize)]
pub struct CategoryForm {
    csrf: String,
    slug: String,
    name: String,
    agency: String,
}

pub async fn add_category(
    State(web): State<Web>,
    ctx: Ctx,
    Form(f): Form<CategoryForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let user = ctx.user()?;
    let r = web
        .app
        .add_category(user, &f.slug, &f.name, &f.agency)
        .await
        .map(|_| format!("{} {}", ctx.lang.s("admin.saved"), f.slug));
    if let Err(e @ AppError::Forbidden(_)) = r {
        return Err(WebError::from(e).lang(ctx.lang));
    }
    admin_outcome(&web, &ctx, r).await
}
