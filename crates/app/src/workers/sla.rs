//! The SLA escalator: sleeps until the next job is due (or a tick, or a
//! change), then escalates what is due. Several may run at once.

use super::backoff;
use crate::state::App;
use tokio_util::sync::CancellationToken;

pub async fn run(app: App, cancel: CancellationToken) {
    let tick = app.config().sla_tick;
    let mut attempt = 0;
    loop {
        let now = app.now();
        match app.run_escalations(now).await {
            Ok(n) => {
                attempt = 0;
                if n > 0 {
                    tracing::info!(escalated = n, "SLA escalations");
                }
            }
            Err(e) => {
                attempt += 1;
                tracing::warn!(error = %e, "SLA escalation failed; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff(attempt)) => continue,
                }
            }
        }
        // Sleep until the next due time, but at most one tick (jobs created
        // by other instances, or a moved clock in tests, are found then).
        let wait = match app.stores().workflow.next_due().await {
            Ok(Some(at)) => {
                let ms = (at - app.now())
                    .whole_milliseconds()
                    .clamp(0, tick.as_millis() as i128);
                std::time::Duration::from_millis(ms as u64)
            }
            _ => tick,
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = app.signals().sla().notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
