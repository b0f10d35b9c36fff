//! A citizen's side: filing a report (with photos and a location), their
//! reports with timelines, a report's page, upvotes, photos, notifications.

use crate::error::{WebError, message_of, status_of};
use crate::links::safe_back;
use crate::session::Ctx;
use crate::shell::Shell;
use crate::state::Web;
use crate::view::{Card, category_options, fmt_time, render};
use askama::Template;
use axum::Json;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use lapor_app::AppError;
use lapor_app::ports::{FeedSort, Paging};
use lapor_domain::access::Visibility;
use lapor_domain::ids::{NotificationId, PhotoId, ReportId};
use lapor_domain::report::{Location, ReportDraft};
use serde::Deserialize;

fn report_id(s: &str, ctx: &Ctx) -> Result<ReportId, WebError> {
    s.parse().map_err(|_| WebError::not_found(ctx.lang))
}

// ------------------------------------------------------------- new report

#[derive(Template)]
#[template(path = "report_new.html")]
pub struct NewPage {
    pub shell: Shell,
    pub categories: Vec<(String, String, String)>,
    pub form: NewForm,
    pub errors: Vec<String>,
    pub map: String,
    pub max_photos: usize,
    /// The largest photo accepted, for people ("8 MB", "512 KB").
    pub max_photo_size: String,
}

#[derive(Default, Clone)]
pub struct NewForm {
    pub title: String,
    pub content: String,
    pub category: String,
    pub visibility: String,
    pub lat: String,
    pub lon: String,
    pub address: String,
    pub use_photo_location: bool,
}

pub const MAX_PHOTOS: usize = 5;

/// A size limit for people: "8 MB", "1.5 MB", "64 KB".
pub fn size_label(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MB", bytes as f64 / MIB as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

async fn new_page_with(
    web: &Web,
    ctx: &Ctx,
    form: NewForm,
    errors: Vec<String>,
) -> Result<NewPage, WebError> {
    let map = serde_json::json!({ "config": crate::view::map_config(web), "pick": true });
    Ok(NewPage {
        shell: Shell::new(web, ctx, "new.title", "new").await,
        categories: category_options(&web.app.catalog()),
        form,
        errors,
        map: map.to_string(),
        max_photos: MAX_PHOTOS,
        max_photo_size: size_label(web.app.config().max_photo_bytes),
    })
}

pub async fn new_page(State(web): State<Web>, ctx: Ctx) -> Result<Response, WebError> {
    ctx.user()?;
    let form = NewForm {
        visibility: "PUBLIC".into(),
        ..Default::default()
    };
    render(&new_page_with(&web, &ctx, form, vec![]).await?)
}

/// The multipart form: fields and photos. Everything is read and checked
/// before anything is stored.
pub async fn create(
    State(web): State<Web>,
    ctx: Ctx,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let t = ctx.lang;
    let user = ctx.user()?.clone();
    let mut form = NewForm::default();
    let mut csrf = String::new();
    let mut uploads: Vec<Bytes> = Vec::new();
    let mut too_big = false;
    let max = web.app.config().max_photo_bytes;
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        WebError::new(
            e.status(),
            format!("{}: {}", t.s("new.bad_form"), e.body_text()),
        )
        .lang(t)
    };
    while let Some(field) = multipart.next_field().await.map_err(bad_form)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "photos" {
            let has_file = field.file_name().is_some_and(|f| !f.is_empty());
            let data = field.bytes().await.map_err(bad_form)?;
            if !has_file && data.is_empty() {
                continue; // the empty file input of a form without photos
            }
            if data.len() > max {
                // Said on the form again, which keeps what was typed.
                too_big = true;
                continue;
            }
            uploads.push(data);
            continue;
        }
        let value = field.text().await.map_err(bad_form)?;
        match name.as_str() {
            "csrf" => csrf = value,
            "title" => form.title = value,
            "content" => form.content = value,
            "category" => form.category = value,
            "visibility" => form.visibility = value,
            "lat" => form.lat = value,
            "lon" => form.lon = value,
            "address" => form.address = value,
            "use_photo_location" => form.use_photo_location = value == "on",
            _ => {}
        }
    }
    ctx.check_csrf(&csrf)?;
    let mut errors = Vec::new();
    if too_big {
        errors.push(format!("{} {}.", t.s("new.photo_too_big"), size_label(max)));
    }
    if uploads.len() > MAX_PHOTOS {
        errors.push(format!("{} {MAX_PHOTOS}", t.s("new.too_many_photos")));
    }
    let visibility = match form.visibility.as_str() {
        "PUBLIC" => Visibility::Public,
        "PRIVATE" => Visibility::Private,
        "ANONYMOUS" => Visibility::Anonymous,
        _ => {
            errors.push(t.s("new.pick_visibility").into());
            Visibility::Public
        }
    };
    let coords = match (form.lat.trim(), form.lon.trim()) {
        ("", "") => None,
        (lat, lon) => match (lat.parse::<f64>(), lon.parse::<f64>()) {
            (Ok(a), Ok(b)) => Some((a, b)),
            _ => {
                errors.push(t.s("new.bad_location").into());
                None
            }
        },
    };
    let mut prepared = Vec::new();
    if errors.is_empty() && !uploads.is_empty() {
        match web.app.prepare_photos(uploads).await {
            Ok(p) => prepared = p,
            Err(e) => {
                let status = status_of(&e);
                if status.is_server_error() {
                    return Err(WebError::new(status, message_of(&e, t)).lang(t));
                }
                // A bad photo: say so plainly, with the status it deserves.
                let page = new_page_with(
                    &web,
                    &ctx,
                    form,
                    vec![format!(
                        "{}: {}",
                        t.s("new.photo_refused"),
                        message_of(&e, t)
                    )],
                )
                .await?;
                return Ok((status, render(&page)?).into_response());
            }
        }
    }
    // The photo's own location is used only if the reporter asked for it,
    // and never for ANONYMOUS reports.
    let coords = coords.or_else(|| {
        (form.use_photo_location && visibility != Visibility::Anonymous)
            .then(|| prepared.iter().find_map(|p| p.gps()))
            .flatten()
    });
    let location = match coords {
        Some((lat, lon)) => match Location::parse(lat, lon, Some(form.address.as_str())) {
            Ok(l) => Some(l),
            Err(e) => {
                errors.push(message_of(&AppError::from(e), t));
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        let page = new_page_with(&web, &ctx, form, errors).await?;
        let status = if too_big {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        };
        return Ok((status, render(&page)?).into_response());
    }
    let draft = ReportDraft {
        title: Some(form.title.clone()).filter(|t| !t.trim().is_empty()),
        content: with_address(&form.content, location.is_none(), &form.address),
        category: form.category.clone(),
        visibility,
        location,
    };
    let report = match web.app.create_report(&user, draft).await {
        Ok(r) => r,
        Err(e @ (AppError::Invalid(_) | AppError::Forbidden(_))) => {
            let page = new_page_with(&web, &ctx, form, vec![message_of(&e, t)]).await?;
            return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
        }
        Err(e) => return Err(WebError::from(e).lang(t)),
    };
    let photos = prepared.len();
    if !prepared.is_empty() {
        web.app
            .attach_photos(&user, report.id, prepared)
            .await
            .map_err(|e| WebError::from(e).lang(t))?;
    }
    // The report page waits (briefly) for the photos too, which reach the
    // read side just after the report.
    let photos = if photos > 0 {
        format!("&photos={photos}")
    } else {
        String::new()
    };
    Ok(Redirect::to(&format!("/app/reports/{}?created=1{photos}", report.id)).into_response())
}

/// An address typed without a map point is kept with the report's text,
/// where the agency reads it (a point needs coordinates).
fn with_address(content: &str, no_point: bool, address: &str) -> String {
    let address = address.trim();
    if no_point && !address.is_empty() {
        format!("{}\n\n{address}", content.trim_end())
    } else {
        content.to_owned()
    }
}

// ------------------------------------------------------------- my reports

#[derive(Template)]
#[template(path = "reports_mine.html")]
pub struct MinePage {
    pub shell: Shell,
    /// Each report with its timeline.
    pub items: Vec<(Card, Vec<Step>)>,
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub struct MineQuery {
    cursor: Option<String>,
}

pub async fn mine(
    State(web): State<Web>,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<MineQuery>,
) -> Result<Response, WebError> {
    let t = ctx.lang;
    let user = ctx.user()?;
    let listing = web
        .app
        .list_reports(
            Some(user),
            None,
            None,
            FeedSort::Newest,
            Paging::Keyset {
                after: q
                    .cursor
                    .as_deref()
                    .and_then(lapor_app::ports::Cursor::decode),
                limit: 20,
            },
            true,
        )
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let catalog = web.app.catalog();
    // Listings carry no timelines: those of the whole page in one read.
    let mut timelines = web
        .app
        .timelines(user, &listing.items)
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let items = listing
        .items
        .iter()
        .map(|r| {
            let steps = match timelines.remove(&r.id) {
                Some(timeline) => steps(&timeline, t),
                None => Vec::new(),
            };
            (Card::new(r, &catalog, t, Some(user)), steps)
        })
        .collect();
    let page = MinePage {
        shell: Shell::new(&web, &ctx, "mine.title", "mine").await,
        items,
        next: listing
            .next_cursor
            .map(|c| format!("/app/reports/mine?cursor={c}")),
    };
    render(&page)
}

// ------------------------------------------------------------- report page

/// A report's timeline (status changes, answers, escalations) as shown.
fn steps(timeline: &[lapor_app::views::TimelineEntry], t: crate::i18n::Lang) -> Vec<Step> {
    timeline
        .iter()
        .map(|s| Step {
            kind: s.kind.clone(),
            label: match (s.kind.as_str(), s.status.as_deref(), s.escalation_level) {
                ("status", Some(st), _) => format!(
                    "{}: {}",
                    t.s("timeline.status"),
                    t.s(&format!("status.{st}"))
                ),
                ("escalation", _, Some(l)) => format!("{} {l}", t.s("timeline.escalation")),
                (k, _, _) => t.s(&format!("timeline.{k}")).to_owned(),
            },
            message: s.message.clone(),
            at: fmt_time(s.at),
        })
        .collect()
}

pub struct Step {
    pub kind: String,
    pub label: String,
    pub message: Option<String>,
    pub at: String,
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub shell: Shell,
    pub c: Card,
    pub timeline: Vec<Step>,
    pub involved: bool,
    pub created: bool,
    pub map: String,
    pub logged_in: bool,
}

#[derive(Deserialize)]
pub struct DetailQuery {
    created: Option<String>,
    /// Right after filing: how many photos were attached.
    photos: Option<usize>,
}

pub async fn detail(
    State(web): State<Web>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<DetailQuery>,
) -> Result<Response, WebError> {
    let t = ctx.lang;
    let id = report_id(&id, &ctx)?;
    // Right after filing, the read side may be a few milliseconds behind.
    let mut tries = 0;
    let r = loop {
        match web.app.get_report(ctx.user.as_ref(), id).await {
            Ok(r)
                if q.created.is_some() && r.photos.len() < q.photos.unwrap_or(0) && tries < 20 =>
            {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Ok(r) => break r,
            Err(AppError::NotFound(_)) if q.created.is_some() && tries < 20 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => return Err(WebError::from(e).lang(t)),
        }
    };
    let timeline = steps(r.timeline.as_deref().unwrap_or_default(), t);
    let involved = r.timeline.is_some();
    let c = Card::new(&r, &web.app.catalog(), t, ctx.user.as_ref());
    let map = match c.location {
        Some((lat, lon)) => serde_json::json!({
            "config": crate::view::map_config(&web),
            "markers": [{"id": c.id, "title": c.title, "status": c.status_label, "lat": lat, "lon": lon}],
            "zoom": 16,
        })
        .to_string(),
        None => String::new(),
    };
    let page = ReportPage {
        shell: Shell::new(&web, &ctx, "report.title", "report").await,
        c,
        timeline,
        involved,
        created: q.created.is_some(),
        map,
        logged_in: ctx.user.is_some(),
    };
    render(&page)
}

// ------------------------------------------------------------- upvotes

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// In place (JSON, from the page's script with the token in a header) or
/// as a plain form post that comes back to the feed.
pub async fn upvote(
    State(web): State<Web>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or(f.csrf);
    let result = async {
        ctx.check_csrf(&token)?;
        let user = ctx.user()?;
        let id = report_id(&id, &ctx)?;
        web.app.upvote(user, id).await.map_err(|e| match e {
            AppError::Conflict(_) => {
                WebError::new(StatusCode::CONFLICT, ctx.lang.s("feed.already_upvoted"))
                    .lang(ctx.lang)
            }
            e => WebError::from(e).lang(ctx.lang),
        })
    }
    .await;
    match (result, wants_json) {
        (Ok(n), true) => Json(serde_json::json!({ "vote_count": n })).into_response(),
        (Ok(_), false) => Redirect::to(&safe_back(
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.find("/app").map(|i| &r[i..])),
        ))
        .into_response(),
        (Err(e), true) => {
            let status = if e.redirect.is_some() {
                StatusCode::UNAUTHORIZED
            } else {
                e.status
            };
            (status, Json(serde_json::json!({ "error": e.message }))).into_response()
        }
        (Err(e), false) => e.into_response(),
    }
}

// ------------------------------------------------------------- photos

async fn photo_file(
    web: &Web,
    ctx: &Ctx,
    id: &str,
    photo: &str,
    thumb: bool,
) -> Result<Response, WebError> {
    let t = ctx.lang;
    let id = report_id(id, ctx)?;
    let photo: PhotoId = photo.parse().map_err(|_| WebError::not_found(t))?;
    let bytes = web
        .app
        .photo_file(ctx.user.as_ref(), id, photo, thumb)
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        bytes,
    )
        .into_response())
}

pub async fn photo(
    State(web): State<Web>,
    ctx: Ctx,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, WebError> {
    photo_file(&web, &ctx, &id, &photo, false).await
}

pub async fn thumb(
    State(web): State<Web>,
    ctx: Ctx,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, WebError> {
    photo_file(&web, &ctx, &id, &photo, true).await
}

// ------------------------------------------------------------- notifications

pub struct Notice {
    pub id: String,
    pub report_id: String,
    pub message: String,
    pub is_read: bool,
    pub at: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub shell: Shell,
    pub items: Vec<Notice>,
}

pub async fn notifications(State(web): State<Web>, ctx: Ctx) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let (items, _) = web
        .app
        .my_notifications(user, false, 100)
        .await
        .map_err(|e| WebError::from(e).lang(ctx.lang))?;
    let mut ids: Vec<ReportId> = items.iter().map(|n| n.report_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let titles = report_titles(&web, user, &ids).await;
    let catalog = web.app.catalog();
    let page = NotificationsPage {
        shell: Shell::new(&web, &ctx, "notifications.title", "notifications").await,
        items: items
            .into_iter()
            .map(|n| {
                let about = crate::notices::About {
                    report_id: n.report_id,
                    title: titles.get(&n.report_id).map(String::as_str),
                };
                Notice {
                    id: n.id.to_string(),
                    report_id: n.report_id.to_string(),
                    message: crate::notices::render(&n.notice, about, &catalog, ctx.lang),
                    is_read: n.is_read,
                    at: fmt_time(n.created_at),
                }
            })
            .collect(),
    };
    render(&page)
}

/// The titles of these reports that `user` may see: staff's cases in one
/// read, anything else (a citizen's own reports) one report at a time, all
/// at once. A report that cannot be read is left out (named by its id).
async fn report_titles(
    web: &Web,
    user: &lapor_domain::access::Principal,
    ids: &[ReportId],
) -> std::collections::HashMap<ReportId, String> {
    let mut titles = if user.role.is_staff() {
        web.app.case_titles(user, ids).await.unwrap_or_default()
    } else {
        Default::default()
    };
    let rest: Vec<ReportId> = ids
        .iter()
        .filter(|id| !titles.contains_key(*id))
        .copied()
        .collect();
    let found =
        futures_util::future::join_all(rest.iter().map(|id| web.app.get_report(Some(user), *id)))
            .await;
    for r in found.into_iter().flatten() {
        titles.insert(r.id, r.title);
    }
    titles
}

#[derive(Deserialize)]
pub struct ReadForm {
    csrf: String,
    id: Option<String>,
}

pub async fn mark_read(
    State(web): State<Web>,
    ctx: Ctx,
    Form(f): Form<ReadForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let user = ctx.user()?;
    let id = match f.id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<NotificationId>()
                .map_err(|_| WebError::not_found(ctx.lang))?,
        ),
        None => None,
    };
    web.app
        .mark_notifications_read(user, id)
        .await
        .map_err(|e| WebError::from(e).lang(ctx.lang))?;
    Ok(Redirect::to("/app/notifications").into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn size_limits_read_well() {
        assert_eq!(super::size_label(8 * 1024 * 1024), "8 MB");
        assert_eq!(super::size_label(3 * 512 * 1024), "1.5 MB");
        assert_eq!(super::size_label(64 * 1024), "64 KB");
        assert_eq!(super::size_label(1000), "1 KB");
    }
}
