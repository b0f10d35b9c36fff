//! The outbox relay: reads a context's outbox after its stored position and
//! publishes to the bus, then advances the position. A crash between the two
//! republishes the same events, which the bus and consumers deduplicate by
//! `event_id`, so nothing is lost and nothing is applied twice.

use super::backoff;
use crate::ports::{EventBus, Outbox};
use crate::signals::Signals;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn run(
    outbox: Arc<dyn Outbox>,
    bus: Arc<dyn EventBus>,
    signals: Signals,
    poll: Duration,
    batch: i64,
    cancel: CancellationToken,
) {
    let mut attempt = 0;
    loop {
        match relay_once(outbox.as_ref(), bus.as_ref(), batch).await {
            Ok(n) => {
                attempt = 0;
                if n as i64 == batch {
                    continue; // more waiting
                }
            }
            Err(e) => {
                tracing::warn!(source = outbox.source(), error = %e, "relay failed; retrying");
                attempt += 1;
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff(attempt)) => continue,
                }
            }
        }
        if cancel.is_cancelled() {
            return;
        }
        tokio::select! {
            _ = cancel.cancelled() => {
                // Publish what was committed before shutdown began.
                let _ = relay_once(outbox.as_ref(), bus.as_ref(), batch).await;
                return;
            }
            _ = signals.outbox().notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// Relays one batch; returns how many events were published.
pub async fn relay_once(
    outbox: &dyn Outbox,
    bus: &dyn EventBus,
    batch: i64,
) -> anyhow::Result<usize> {
    let pos = outbox.relay_position().await?;
    let rows = outbox.outbox_after(pos, batch).await?;
    let Some(last) = rows.last().map(|r| r.seq) else {
        return Ok(0);
    };
    let events: Vec<_> = rows.into_iter().map(|r| r.event).collect();
    bus.publish(&events).await?;
    outbox.set_relay_position(last).await?;
    Ok(events.len())
}
