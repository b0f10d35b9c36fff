//! The outbox relay: reads a context's unrelayed outbox rows, publishes them
//! to the bus, then marks them relayed. A crash between the two republishes
//! the same events, which the bus and consumers deduplicate by `event_id`,
//! so nothing is lost and nothing is applied twice.

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
    linger: Duration,
    cancel: CancellationToken,
) {
    let mut attempt = 0;
    loop {
        let pause = match relay_once(outbox.as_ref(), bus.as_ref(), batch).await {
            // A full batch: more is waiting.
            Ok(n) if n as i64 == batch => {
                attempt = 0;
                continue;
            }
            // Busy: let the next few rows gather, then look again (see
            // `AppConfig::batch_linger`).
            Ok(n) if n > 0 && !linger.is_zero() => {
                attempt = 0;
                Pause::Linger
            }
            // Idle: wait for a signal (or the safety-net poll).
            Ok(_) => {
                attempt = 0;
                Pause::Idle
            }
            Err(e) => {
                tracing::warn!(source = outbox.source(), error = %e, "relay failed; retrying");
                attempt += 1;
                Pause::Backoff
            }
        };
        let wait = async {
            match pause {
                Pause::Linger => tokio::time::sleep(linger).await,
                Pause::Backoff => tokio::time::sleep(backoff(attempt)).await,
                Pause::Idle => {
                    tokio::select! {
                        _ = signals.outbox().notified() => {}
                        _ = tokio::time::sleep(poll) => {}
                    }
                }
            }
        };
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                // Publish what was committed before shutdown began.
                let _ = relay_once(outbox.as_ref(), bus.as_ref(), batch).await;
                return;
            }
            _ = wait => {}
        }
    }
}

/// What a relay waits for before its next pass.
enum Pause {
    Linger,
    Idle,
    Backoff,
}

/// Relays one batch; returns how many events were published.
pub async fn relay_once(
    outbox: &dyn Outbox,
    bus: &dyn EventBus,
    batch: i64,
) -> anyhow::Result<usize> {
    let rows = outbox.unrelayed(batch).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let events: Vec<_> = rows.into_iter().map(|r| r.event).collect();
    bus.publish(&events).await?;
    outbox.mark_relayed(&seqs).await?;
    Ok(events.len())
}
