//! A consumer loop: fetch what the group has not acknowledged, apply it
//! idempotently, then acknowledge. Acknowledging only after the apply has
//! committed means a crash causes redelivery, never loss.

use super::backoff;
use crate::clock::Clock;
use crate::ports::{EventBus, EventConsumer};
use crate::signals::Signals;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[allow(clippy::too_many_arguments)]
pub async fn run(
    consumer: Arc<dyn EventConsumer>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    poll: Duration,
    batch: usize,
    linger: Duration,
    signals: Signals,
    cancel: CancellationToken,
) {
    let group = consumer.group();
    let mut attempt = 0;
    loop {
        if cancel.is_cancelled() {
            return;
        }
        match consume_and_signal(
            consumer.as_ref(),
            bus.as_ref(),
            clock.as_ref(),
            &group,
            batch,
            &signals,
        )
        .await
        {
            Ok(n) if n > 0 => {
                attempt = 0;
                // A full batch means more is waiting: take it at once.
                // Otherwise let the next few events gather (see
                // `AppConfig::batch_linger`).
                if n < batch && !linger.is_zero() {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(linger) => {}
                    }
                }
                continue;
            }
            Ok(_) => {
                attempt = 0;
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = bus.wait(&group, poll) => {}
                }
            }
            Err(e) => {
                attempt += 1;
                tracing::warn!(%group, error = %e, attempt, "consumer failed; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff(attempt)) => {}
                }
            }
        }
    }
}

/// Applies one batch; returns how many deliveries were handled.
pub async fn consume_once(
    consumer: &dyn EventConsumer,
    bus: &dyn EventBus,
    clock: &dyn Clock,
    group: &str,
    batch: usize,
) -> anyhow::Result<usize> {
    consume_and_signal(consumer, bus, clock, group, batch, &Signals::default()).await
}

/// Applies one batch and tells this process's live views about it.
async fn consume_and_signal(
    consumer: &dyn EventConsumer,
    bus: &dyn EventBus,
    clock: &dyn Clock,
    group: &str,
    batch: usize,
    signals: &Signals,
) -> anyhow::Result<usize> {
    let deliveries = bus.fetch(group, batch).await?;
    if deliveries.is_empty() {
        return Ok(0);
    }
    let events: Vec<_> = deliveries.iter().map(|d| d.event.clone()).collect();
    consumer.apply(&events, clock.now()).await?;
    bus.ack(group, &deliveries).await?;
    signals.applied(group, &events);
    Ok(deliveries.len())
}

/// Drains a group until nothing is left (used by rebuilds and tests).
pub async fn drain(
    consumer: &dyn EventConsumer,
    bus: &dyn EventBus,
    clock: &dyn Clock,
    batch: usize,
) -> anyhow::Result<usize> {
    let group = consumer.group();
    let mut total = 0;
    loop {
        let n = consume_once(consumer, bus, clock, &group, batch).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}
