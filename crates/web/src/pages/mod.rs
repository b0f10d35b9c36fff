//! Page handlers, one module per audience. Handlers are thin: they parse the
//! form or query, call the application service (which checks role, agency
//! scope and visibility), and render a template.

pub mod auth;
pub mod cases;
pub mod feed;
pub mod manage;
pub mod performance;
pub mod reports;
pub mod view;

use crate::Web;
use crate::error::WebError;
use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/app", get(auth::home))
        .route("/app/login", get(auth::login_page).post(auth::login))
        .route(
            "/app/register",
            get(auth::register_page).post(auth::register),
        )
        .route("/app/logout", post(auth::logout))
        .route("/app/lang", post(auth::set_lang))
        .route("/app/feed", get(feed::feed))
        .route("/app/map", get(feed::map))
        .route("/app/reports/new", get(reports::new_page))
        .route("/app/reports", post(reports::create))
        .route("/app/reports/mine", get(reports::mine))
        .route("/app/reports/{id}", get(reports::detail))
        .route("/app/reports/{id}/upvote", post(reports::upvote))
        .route("/app/reports/{id}/photos/{photo}", get(reports::photo))
        .route(
            "/app/reports/{id}/photos/{photo}/thumb",
            get(reports::thumb),
        )
        .route("/app/notifications", get(reports::notifications))
        .route("/app/notifications/read", post(reports::mark_read))
        .route("/app/inbox", get(cases::inbox))
        .route("/app/cases/{id}", get(cases::case_page))
        .route("/app/cases/{id}/status", post(cases::change_status))
        .route("/app/cases/{id}/answer", post(cases::answer))
        .route("/app/escalations", get(manage::escalations))
        .route("/app/performance", get(performance::page))
        .route("/app/sla", get(manage::sla_page).post(manage::set_sla))
        .route("/app/admin", get(manage::admin_page))
        .route("/app/admin/users", post(manage::add_user))
        .route("/app/admin/agencies", post(manage::add_agency))
        .route("/app/admin/categories", post(manage::add_category))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
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

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Only same-site relative paths are followed after a login or a language
/// change (no open redirects).
pub fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b) if b.starts_with("/app") && !b.starts_with("//") && !b.contains('\\') => {
            b.to_owned()
        }
        _ => "/app".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_links_stay_on_site() {
        assert_eq!(safe_back(Some("/app/feed?x=1")), "/app/feed?x=1");
        assert_eq!(safe_back(Some("https://evil.example")), "/app");
        assert_eq!(safe_back(Some("//evil.example")), "/app");
        assert_eq!(safe_back(Some("/app\\@evil")), "/app");
        assert_eq!(safe_back(None), "/app");
    }
}
