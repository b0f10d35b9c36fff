//! Background workers. Each runs until the shared cancellation token fires,
//! finishing the batch in hand first, and survives store or bus outages by
//! retrying with backoff.
//!
//! * [`relay`]: moves each context's outbox onto the event bus.
//! * [`consumer`]: feeds a consumer group's events to an [`EventConsumer`].
//! * [`sla`]: escalates overdue cases.
//!
//! [`EventConsumer`]: crate::ports::EventConsumer

pub mod consumer;
pub mod relay;
pub mod sla;

use std::time::Duration;

/// Exponential backoff for retrying after errors, capped at 2 s (an outage
/// should end in a quick recovery, and a retry is one cheap query).
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((50u64 << attempt.min(6)).min(2_000))
}
