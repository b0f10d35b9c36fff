//! The public feed (newest or most upvoted, filters, text search) and the
//! map of public reports. Only PUBLIC reports appear here, whoever asks.

use crate::error::WebError;
use crate::session::Ctx;
use crate::shell::Shell;
use crate::state::Web;
use crate::view::{Card, category_options, map_config, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use lapor_app::ports::{Cursor, FeedSort, Paging};
use lapor_domain::lifecycle::Status;
use serde::Deserialize;

pub const PAGE: i64 = 20;

#[derive(Deserialize, Default)]
pub struct FeedQuery {
    sort: Option<String>,
    category: Option<String>,
    status: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "feed.html")]
pub struct FeedPage {
    pub shell: Shell,
    pub cards: Vec<Card>,
    pub top: bool,
    pub category: String,
    pub status: String,
    pub q: String,
    pub categories: Vec<(String, String, String)>,
    pub statuses: Vec<(String, String)>,
    pub next: Option<String>,
    pub logged_in: bool,
}

fn filter_query(top: bool, category: &str, status: &str, q: &str) -> String {
    use crate::links::urlencode as e;
    format!(
        "sort={}&category={}&status={}&q={}",
        if top { "top" } else { "new" },
        e(category),
        e(status),
        e(q)
    )
}

pub async fn feed(
    State(web): State<Web>,
    ctx: Ctx,
    Query(q): Query<FeedQuery>,
) -> Result<Response, WebError> {
    let t = ctx.lang;
    let top = q.sort.as_deref() == Some("top");
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<Status>()
                .map_err(|e| WebError::from(lapor_app::AppError::from(e)).lang(t))?,
        ),
        None => None,
    };
    let search = q.q.clone().unwrap_or_default();
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let paging = if top {
        Paging::Offset {
            page,
            per_page: PAGE,
        }
    } else {
        Paging::Keyset {
            after: q.cursor.as_deref().and_then(Cursor::decode),
            limit: PAGE,
        }
    };
    let listing = web
        .app
        .search_reports(
            None,
            q.category.as_deref(),
            status,
            Some(search.as_str()),
            if top {
                FeedSort::MostUpvoted
            } else {
                FeedSort::Newest
            },
            paging,
        )
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let catalog = web.app.catalog();
    let category = q.category.clone().unwrap_or_default();
    let status_s = q.status.clone().unwrap_or_default();
    let base = filter_query(top, &category, &status_s, &search);
    let next = if top {
        let more = listing.total.is_some_and(|total| page * PAGE < total)
            || (listing.total.is_none() && listing.items.len() as i64 == PAGE);
        more.then(|| format!("/app/feed?{base}&page={}", page + 1))
    } else {
        listing
            .next_cursor
            .as_ref()
            .map(|c| format!("/app/feed?{base}&cursor={c}"))
    };
    let page = FeedPage {
        shell: Shell::new(&web, &ctx, "feed.title", "feed").await,
        cards: listing
            .items
            .iter()
            .map(|r| Card::new(r, &catalog, t, ctx.user.as_ref()))
            .collect(),
        top,
        category,
        status: status_s,
        q: search,
        categories: category_options(&catalog),
        statuses: crate::view::status_options(t),
        next,
        logged_in: ctx.user.is_some(),
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "map.html")]
pub struct MapPage {
    pub shell: Shell,
    /// JSON for the map script (in a non-executed script element).
    pub data: String,
    pub count: usize,
}

#[derive(serde::Serialize)]
struct Marker<'a> {
    id: String,
    title: &'a str,
    status: &'a str,
    lat: f64,
    lon: f64,
}

/// The newest public reports that have a location, as map markers.
pub async fn map(State(web): State<Web>, ctx: Ctx) -> Result<Response, WebError> {
    let t = ctx.lang;
    let listing = web
        .app
        .search_reports(
            None,
            None,
            None,
            None,
            FeedSort::Newest,
            Paging::Keyset {
                after: None,
                limit: 500,
            },
        )
        .await
        .map_err(|e| WebError::from(e).lang(t))?;
    let cards: Vec<Card> = listing
        .items
        .iter()
        .map(|r| Card::new(r, &web.app.catalog(), t, ctx.user.as_ref()))
        .collect();
    let markers: Vec<Marker> = cards
        .iter()
        .filter_map(|c| {
            c.location.map(|(lat, lon)| Marker {
                id: c.id.clone(),
                title: &c.title,
                status: c.status_label,
                lat,
                lon,
            })
        })
        .collect();
    let data = serde_json::json!({
        "config": map_config(&web),
        "markers": markers,
    });
    let page = MapPage {
        shell: Shell::new(&web, &ctx, "map.title", "map").await,
        data: json_for_html(&data),
        count: markers.len(),
    };
    render(&page)
}

/// JSON for a `data-` attribute: askama escapes it as an attribute value and
/// the browser hands the script the original text (`dataset`).
pub fn json_for_html(v: &serde_json::Value) -> String {
    v.to_string()
}
