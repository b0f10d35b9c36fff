//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use lapor_app::App;
use serde_json::json;

pub fn router() -> Router<App> {
    Router::new()
        .route("/health", get(get_health))
        .route("/ready", get(get_ready))
}

/// Seed shape plus Lapor's fields; `instance` names the process that
/// answered (behind a load balancer).
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "The process is up")))]
pub async fn get_health(State(app): State<App>) -> impl IntoResponse {
    Json(json!({
        "status": "healthy",
        "service": "lapor",
        "instance": app.config().instance_id,
        "role": app.config().roles,
        "cqrs": "enabled",
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// Ready when the stores and the event bus answer.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, description = "Stores and bus reachable"),
    (status = 503, description = "A dependency is down")))]
pub async fn get_ready(State(app): State<App>) -> impl IntoResponse {
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
    (
        status,
        Json(json!({
            "ready": ok,
            "instance": app.config().instance_id,
            "checks": {
                "stores": store.err().unwrap_or_else(|| "ok".into()),
                "bus": bus.err().unwrap_or_else(|| "ok".into()),
            }
        })),
    )
}
