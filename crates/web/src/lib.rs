//! Lapor's web app, served by the `lapor` binary itself: pages rendered on
//! the server from askama templates compiled into the binary, static assets
//! embedded, and a little JavaScript for live updates (server-sent events),
//! the map and in-place upvotes. Pages work without JavaScript; scripts only
//! make them live.
//!
//! Layout: [`session`] (cookies, CSRF, language), [`i18n`] (Indonesian and
//! English strings), [`shell`] (what every page's frame needs), [`pages`]
//! (one module per audience), [`live`] (server-sent events), [`assets`]
//! (embedded files), [`chart`] (SVG charts drawn on the server),
//! [`notices`] (notifications written in the reader's language), [`error`]
//! (error pages; messages translated from error codes).

pub mod assets;
pub mod chart;
pub mod error;
pub mod i18n;
pub mod live;
pub mod notices;
pub mod pages;
pub mod session;
pub mod shell;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Redirect;
use axum::routing::get;
use lapor_app::App;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Settings of the web app (from `lapor serve` options).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Tile URL template for map backgrounds (`{z}/{x}/{y}`); empty: maps
    /// show markers on a plain background and nothing leaves the browser.
    pub tile_url: String,
    pub tile_attribution: String,
    /// Where maps start: the city's centre.
    pub map_center: (f64, f64),
    /// Mark cookies `Secure` (browsers still accept them on
    /// http://localhost). Turn off only for plain-HTTP deployments on other
    /// hosts, which should not exist.
    pub secure_cookies: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            tile_url: String::new(),
            tile_attribution: String::new(),
            map_center: (-6.2, 106.816_666),
            secure_cookies: true,
        }
    }
}

/// Shared by every page handler.
#[derive(Clone)]
pub struct Web {
    pub app: App,
    pub config: Arc<WebConfig>,
    /// Cancelled when the server shuts down: live streams end so the
    /// graceful shutdown does not wait for them.
    pub stop: CancellationToken,
}

/// Multipart report forms carry photos: this bounds the whole request.
pub fn form_body_limit(app: &App) -> usize {
    app.config().max_photo_bytes * 6 + 256 * 1024
}

/// The web app's routes: `/app/...` pages, `/static/...` assets and `/`
/// redirecting to the app.
pub fn router(app: App, config: WebConfig, stop: CancellationToken) -> Router {
    let limit = form_body_limit(&app);
    let web = Web {
        app,
        config: Arc::new(config),
        stop,
    };
    let csp = content_security_policy(&web.config.tile_url);
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .merge(pages::router())
        .route("/app/live", get(live::stream))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(axum::middleware::from_fn_with_state(
            web.clone(),
            session::layer,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .merge(assets::router())
        // gzip for pages and assets (Leaflet: 147 KB -> 42 KB); never for
        // the event stream or images (tower-http's default predicate).
        .layer(CompressionLayer::new())
        .with_state(web)
}

/// Scripts, styles and connections only from Lapor itself; images also from
/// the configured tile server. No inline script anywhere.
pub fn content_security_policy(tile_url: &str) -> HeaderValue {
    let tiles = tile_origin(tile_url)
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{tiles}; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    );
    HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

/// `https://{s}.tile.example.org/{z}/{x}/{y}.png` → `https://*.tile.example.org`.
fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split('/').next()?.replace("{s}", "*");
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*'));
    ok.then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tile_server_is_the_only_other_origin() {
        assert_eq!(
            tile_origin("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://*.tile.openstreetmap.org")
        );
        assert_eq!(tile_origin(""), None);
        assert_eq!(tile_origin("javascript:alert(1)"), None);
        assert_eq!(tile_origin("https://evil.example; script-src *"), None);
        let csp = content_security_policy("");
        assert!(csp.to_str().unwrap().contains("script-src 'self';"));
    }
}
