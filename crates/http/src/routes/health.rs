//! Liveness and readiness.

use crate::wire::accounts::{Health, Ready, ReadyChecks};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lapor_app::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/health", get(get_health))
        .route("/ready", get(get_ready))
}

/// Seed shape plus Lapor's fields; `instance` names the process that
/// answered (behind a load balancer).
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "The process is up", body = Health)))]
pub async fn get_health(State(app): State<App>) -> Response {
    let c = app.config();
    let body = Health {
        cqrs: "enabled",
        instance: &c.instance_id,
        role: &c.roles,
        service: "lapor",
        status: "healthy",
        version: env!("CARGO_PKG_VERSION"),
    };
    Json(body).into_response()
}

/// Ready when the stores and the event bus answer.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, description = "Stores and bus reachable", body = Ready),
    (status = 503, description = "A dependency is down", body = Ready)))]
pub async fn get_ready(State(app): State<App>) -> Response {
    let store = app
        .stores()
        .workflow
        .sla_config()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    let bus = app.bus().lag().await.map(|_| ()).map_err(|e| e.to_string());
    let ok = store.is_ok() && bus.is_ok();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Ready {
        checks: ReadyChecks {
            bus: bus.err().unwrap_or_else(|| "ok".into()),
            stores: store.err().unwrap_or_else(|| "ok".into()),
        },
        instance: &app.config().instance_id,
        ready: ok,
    };
    (status, Json(body)).into_response()
}
