//! Lapor's web app, served by the `lapor` binary itself: pages rendered on
//! the server from askama templates compiled into the binary, static assets
//! embedded, and a little JavaScript for live updates (server-sent events),
//! the map and in-place upvotes. Pages work without JavaScript; scripts only
//! make them live.
//!
//! Layout: [`state`] (the [`Web`] every handler shares, [`WebConfig`]),
//! [`session`] (cookies, CSRF, language), [`i18n`] (Indonesian and English
//! strings), [`shell`] (what every page's frame needs), [`view`] (view
//! models, map settings, template rendering), [`links`] (query encoding,
//! safe back links), [`pages`] (one module per audience, and their router),
//! [`live`] (server-sent events), [`assets`] (embedded files), [`chart`] (SVG
//! charts drawn on the server), [`notices`] (notifications written in the
//! reader's language), [`error`] (error pages; messages translated from
//! error codes).
//!
//! Dependencies point one way, from the top of this list to the bottom; no
//! module reaches back up (`tests/module_graph.rs` fails on a cycle):
//!
//! 1. this file: the app's router, the CSP; the only user of [`pages`],
//!    [`live`] and [`assets`]' router;
//! 2. [`pages`] (`mod.rs`): the pages' routes; the only user of the page
//!    modules;
//! 3. the page modules (`pages/*.rs`): never each other; what two pages
//!    share lives in the modules below;
//! 4. shared by pages: [`live`], [`shell`], [`view`], [`chart`], [`session`],
//!    [`assets`], [`notices`], [`error`];
//! 5. leaves: [`state`], [`links`], [`i18n`].

pub mod assets;
pub mod chart;
pub mod error;
pub mod i18n;
pub mod links;
pub mod live;
pub mod notices;
pub mod pages;
pub mod session;
pub mod shell;
pub mod state;
pub mod view;

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

pub use state::{Web, WebConfig};

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
