//! View models: what templates display, already formatted and translated,
//! so templates stay free of logic; the map settings pages hand to scripts;
//! and [`render`], which turns a template into a response. Shared by every
//! page module, so it must not depend on any of them.

use crate::error::WebError;
use crate::i18n::Lang;
use crate::state::Web;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use lapor_app::views::ReportView;
use lapor_domain::Timestamp;
use lapor_domain::access::Principal;
use lapor_domain::catalog::Catalog;

/// Times are shown in Western Indonesia Time (UTC+7), the city's zone.
pub const CITY_OFFSET_HOURS: i8 = 7;

pub fn fmt_time(t: Timestamp) -> String {
    let offset = time::UtcOffset::from_hms(CITY_OFFSET_HOURS, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let t = t.to_offset(offset);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} WIB",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

pub fn iso(t: Timestamp) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// "3 h 20 min", "2 d 4 h", "45 s": a duration for badges and tables.
pub fn fmt_duration(secs: i64) -> String {
    let s = secs.abs();
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} d {} h", s / 86_400, (s % 86_400) / 3600)
    }
}

pub struct PhotoLink {
    pub url: String,
    pub thumb_url: String,
}

/// A report as a list entry or a detail page shows it.
pub struct Card {
    pub id: String,
    pub title: String,
    pub content: String,
    pub excerpt: String,
    pub category: String,
    pub agency: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub visibility: &'static str,
    pub visibility_label: &'static str,
    pub votes: i64,
    pub escalation_level: i64,
    pub created: String,
    pub created_iso: String,
    pub location: Option<(f64, f64)>,
    pub address: Option<String>,
    pub photos: Vec<PhotoLink>,
    /// The viewer filed this report. Pages offer no upvote for it: the API
    /// refuses a vote on one's own report (`self_upvote`).
    pub own: bool,
}

impl Card {
    /// `viewer` is the logged-in user the page is for, if any; it decides
    /// only [`Card::own`].
    pub fn new(r: &ReportView, catalog: &Catalog, t: Lang, viewer: Option<&Principal>) -> Self {
        let excerpt: String = r.content.chars().take(160).collect();
        let excerpt = if r.content.chars().count() > 160 {
            format!("{excerpt}…")
        } else {
            excerpt
        };
        Self {
            id: r.id.to_string(),
            title: r.title.clone(),
            content: r.content.clone(),
            excerpt,
            category: catalog
                .category(&r.category)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| r.category.to_string()),
            agency: catalog
                .agency(&r.owner_agency)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| r.owner_agency.to_string()),
            status: r.status.as_str(),
            status_label: t.s(&format!("status.{}", r.status.as_str())),
            visibility: r.visibility.as_str(),
            visibility_label: t.s(&format!("vis.{}", r.visibility.as_str())),
            votes: r.vote_count,
            escalation_level: r.escalation_level,
            created: fmt_time(r.created_at),
            created_iso: iso(r.created_at),
            location: r.location.as_ref().map(|l| (l.lat, l.lon)),
            address: r.location.as_ref().and_then(|l| l.address.clone()),
            photos: r
                .photos
                .iter()
                .map(|p| {
                    let url = format!("/app/reports/{}/photos/{}", p.report, p.id);
                    PhotoLink {
                        thumb_url: format!("{url}/thumb"),
                        url,
                    }
                })
                .collect(),
            own: match (viewer, &r.owner) {
                (Some(p), Some(owner)) => p.owns(owner),
                _ => false,
            },
        }
    }
    pub fn thumb(&self) -> Option<&str> {
        self.photos.first().map(|p| p.thumb_url.as_str())
    }
}

/// Category choices for forms and filters: (slug, "Name → Agency").
pub fn category_options(catalog: &Catalog) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = catalog
        .categories()
        .map(|c| {
            let agency = catalog
                .agency(&c.agency)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| c.agency.to_string());
            (c.slug.to_string(), c.name.clone(), agency)
        })
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

pub const STATUSES: [&str; 4] = ["RECEIVED", "IN_PROGRESS", "RESOLVED", "REJECTED"];

/// Status choices for filters: (code, label).
pub fn status_options(t: Lang) -> Vec<(String, String)> {
    STATUSES
        .iter()
        .map(|s| (s.to_string(), t.s(&format!("status.{s}")).to_owned()))
        .collect()
}

/// Renders a template into a response.
pub fn render<T: Template>(t: &T) -> Result<Response, WebError> {
    match t.render() {
        Ok(body) => Ok(Html(body).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            Err(WebError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "page could not be rendered",
            ))
        }
    }
}

#[derive(serde::Serialize)]
pub struct MapConfig<'a> {
    pub tiles: &'a str,
    pub attribution: &'a str,
    pub center: [f64; 2],
}

/// Map settings for a page's `data-` attribute (the feed's map, the
/// report form, a report or case with a location).
pub fn map_config(web: &Web) -> MapConfig<'_> {
    MapConfig {
        tiles: &web.config.tile_url,
        attribution: &web.config.tile_attribution,
        center: [web.config.map_center.0, web.config.map_center.1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(fmt_duration(42), "42 s");
        assert_eq!(fmt_duration(-125), "2 min");
        assert_eq!(fmt_duration(3 * 3600 + 20 * 60), "3 h 20 min");
        assert_eq!(fmt_duration(2 * 86_400 + 4 * 3600), "2 d 4 h");
    }

    #[test]
    fn times_are_shown_in_the_city_zone() {
        let t = time::macros::datetime!(2026-11-21 20:45 UTC);
        assert_eq!(fmt_time(t), "2026-11-22 03:45 WIB");
    }
}
