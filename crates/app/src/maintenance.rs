//! Operator tasks that work on any engine.

use crate::clock::Clock;
use crate::ports::{EventConsumer, Outbox};

/// Rebuilds a consumer's store from the outboxes, which keep every event.
///
/// The outboxes are replayed one after another in causal order of the
/// contexts (reporting creates reports; operations and workflow only act on
/// reports that exist), and the projections are written to tolerate that
/// order (counters and levels use max/withdrawn guards, timelines sort by
/// time). Events applied here are recorded as applied, so when the bus
/// delivers them later they are skipped.
pub async fn rebuild(
    consumer: &dyn EventConsumer,
    outboxes: &[&dyn Outbox],
    clock: &dyn Clock,
    batch: i64,
) -> anyhow::Result<usize> {
    consumer.reset().await?;
    let mut total = 0;
    for o in outboxes {
        let mut after = 0;
        loop {
            let rows = o.replay(after, batch).await?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                break;
            };
            let events: Vec<_> = rows.into_iter().map(|r| r.event).collect();
            consumer.apply(&events, clock.now()).await?;
            total += events.len();
            after = last;
        }
    }
    Ok(total)
}
