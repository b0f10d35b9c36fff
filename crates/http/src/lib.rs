//! Lapor's HTTP API.
//!
//! Each resource module exports a `router()`; [`router`] merges them and
//! applies the cross-cutting layers once (tracing, request ids, body limit,
//! security headers, CORS, panic guard). Handlers are named `verb_noun`.
//! Authentication is an extractor ([`extract::AuthUser`] requires a user,
//! [`extract::MaybeUser`] allows none but rejects a bad token); every error
//! becomes the seed's JSON envelope through [`error::ApiError`]. Response
//! bodies and their OpenAPI schemas are defined in [`wire`].

pub mod body;
pub mod error;
pub mod extract;
pub mod notices;
pub mod openapi;
pub mod routes;
pub mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use lapor_app::App;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// JSON bodies larger than this are refused with 413.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Which route groups a process serves (each scaled-out role serves its own;
/// the embedded default serves them all). Health, readiness, login and the
/// API documentation are served by every HTTP role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpRoles {
    /// Report commands, accounts, administration.
    pub command: bool,
    /// Report listings and reads, statistics, categories.
    pub query: bool,
    /// Cases and performance analytics.
    pub operations: bool,
    /// SLA and notifications.
    pub workflow: bool,
}

impl HttpRoles {
    pub const ALL: Self = Self {
        command: true,
        query: true,
        operations: true,
        workflow: true,
    };

    pub fn any(&self) -> bool {
        self.command || self.query || self.operations || self.workflow
    }
}

/// The routes of `roles`, with their layers, bound to `app`.
pub fn router(app: App, roles: HttpRoles) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let mut r = Router::new()
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(openapi::router());
    if roles.command {
        r = r
            .merge(routes::reports::command_router())
            .merge(routes::photos::command_router(app.config().max_photo_bytes))
            .merge(routes::admin::router());
    }
    if roles.query {
        r = r
            .merge(routes::reports::query_router())
            .merge(routes::photos::query_router());
    }
    if roles.operations {
        r = r
            .merge(routes::cases::router())
            .merge(routes::analytics::router());
    }
    if roles.workflow {
        r = r
            .merge(routes::notifications::router())
            .merge(routes::sla::router());
    }
    r
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(CorsLayer::permissive())
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // Method and path only: query strings and headers may carry
            // tokens or personal data.
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        // Outermost: a client's own id is kept only if it is a plain token,
        // so nothing a client sends is echoed or logged unchecked; any other
        // value is dropped and replaced by a fresh UUID above.
        .layer(axum::middleware::map_request(drop_unsafe_request_id))
        .with_state(app)
}

/// Whether a client-supplied request id may be kept: 1-64 characters of
/// letters, digits, `-`, `_`, `.` and `:` (UUIDs, trace ids, nginx's
/// `$request_id`).
fn plain_request_id(v: &[u8]) -> bool {
    (1..=64).contains(&v.len())
        && v.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

async fn drop_unsafe_request_id<B>(mut req: axum::http::Request<B>) -> axum::http::Request<B> {
    let unsafe_id = req
        .headers()
        .get_all("x-request-id")
        .iter()
        .enumerate()
        .any(|(i, v)| i > 0 || !plain_request_id(v.as_bytes()));
    if unsafe_id {
        req.headers_mut().remove("x-request-id");
    }
    req
}

async fn not_found() -> impl IntoResponse {
    error::ApiError::coded(
        StatusCode::NOT_FOUND,
        lapor_app::ErrorCode::EndpointNotFound,
        "no such endpoint",
    )
}

async fn method_not_allowed() -> impl IntoResponse {
    // The status is the cause: the path exists, the method does not.
    error::ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this endpoint",
    )
}

#[cfg(test)]
mod request_id_tests {
    use super::plain_request_id;

    #[test]
    fn only_plain_request_ids_are_kept() {
        assert!(plain_request_id(b"0192f0c2-7a3e-7c41-9d2b-5f1e2d3c4b5a"));
        assert!(plain_request_id(b"abc_DEF.1:2"));
        assert!(plain_request_id(&[b'a'; 64]));
        assert!(!plain_request_id(&[b'a'; 65]));
        assert!(!plain_request_id(b""));
        assert!(!plain_request_id(b"<script>"));
        assert!(!plain_request_id(b"a b"));
        assert!(!plain_request_id(b"a\x1bb"));
    }
}
