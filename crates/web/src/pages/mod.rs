//! Page handlers, one module per audience, and the router that mounts them.
//! Handlers are thin: they parse the form or query, call the application
//! service (which checks role, agency scope and visibility), and render a
//! template.
//!
//! Only this file depends on the page modules; the pages never use each
//! other or this file. What two pages share lives outside `pages/`
//! ([`crate::view`], [`crate::links`], [`crate::shell`]).

pub mod audit;
pub mod auth;
pub mod cases;
pub mod feed;
pub mod manage;
pub mod performance;
pub mod reports;

use crate::state::Web;
use axum::Router;
use axum::http::{HeaderValue, header};
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
        .route("/app/admin/audit", get(audit::page))
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
