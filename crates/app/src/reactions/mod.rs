//! Reactions: what each consuming context does with an event, as pure
//! functions.
//!
//! A consumer's store adapter does three things only: it loads the state a
//! reaction asks for (by the event's report id), calls the reaction, and
//! executes the writes it returns in the transaction that records the event
//! as applied. Every rule (which row to insert, which counter to move, whom
//! to notify, which event to emit) lives here once, whatever the engine, and
//! is tested without a database.
//!
//! One module per consuming context; each defines its state, its writes and
//! `react(event, state, now) -> Decision<Write>`.

pub mod operations;
pub mod read_model;
pub mod reporting;
pub mod workflow;

use lapor_domain::Timestamp;
use lapor_domain::events::EventEnvelope;

use crate::ports::{StoreError, StoreResult};

/// How long an event whose report is missing is retried before it is
/// skipped: long enough for any reordering between consumers of one group
/// or a replay, short enough that an event of a report that will never
/// appear (a partial restore) does not block its consumer for good.
pub const RETRY_WINDOW: time::Duration = time::Duration::minutes(10);

/// What a reaction decided for one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<W> {
    /// Make these writes (possibly none) with the event recorded as applied.
    Write(Vec<W>),
    /// The report this event is about is not there yet (an event overtook
    /// the one that creates its report): fail the batch, retry it later.
    RetryLater,
    /// The report never appeared within [`RETRY_WINDOW`]: record the event
    /// as applied and write nothing.
    Skip,
}

impl<W> Decision<W> {
    pub fn none() -> Self {
        Decision::Write(Vec::new())
    }

    /// The writes to execute, or the error that makes the consumer retry the
    /// batch. Skips are logged here, once for every engine.
    pub fn into_writes(self, event: &EventEnvelope) -> StoreResult<Vec<W>> {
        match self {
            Decision::Write(w) => Ok(w),
            Decision::RetryLater => Err(StoreError::Unavailable(format!(
                "report {} not projected yet; retrying",
                event.report_id
            ))),
            Decision::Skip => {
                tracing::error!(event_id = %event.event_id, event_type = %event.event_type,
                    "skipping an event whose report does not exist");
                Ok(Vec::new())
            }
        }
    }
}

/// The decision for an event about a report the consumer does not have:
/// retry while the event is recent, skip it once it is older than
/// [`RETRY_WINDOW`] by the application clock.
pub fn missing_report<W>(event: &EventEnvelope, now: Timestamp) -> Decision<W> {
    if now - event.timestamp > RETRY_WINDOW {
        Decision::Skip
    } else {
        Decision::RetryLater
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::events::{DomainEvent, ReportWithdrawn};
    use lapor_domain::ids::ReportId;

    fn event_at(at: Timestamp) -> EventEnvelope {
        DomainEvent::ReportWithdrawn(ReportWithdrawn {
            report_id: ReportId::new_v7(),
            agency: "AGENCY_INFRA".parse().unwrap(),
            withdrawn_at: at,
        })
        .into_envelope(at)
    }

    #[test]
    fn a_missing_report_is_retried_within_the_window_and_skipped_after() {
        let t = time::macros::datetime!(2026-03-01 10:00 UTC);
        let e = event_at(t);
        assert_eq!(missing_report::<()>(&e, t), Decision::RetryLater);
        assert_eq!(
            missing_report::<()>(&e, t + RETRY_WINDOW),
            Decision::RetryLater
        );
        assert_eq!(
            missing_report::<()>(&e, t + RETRY_WINDOW + time::Duration::milliseconds(1)),
            Decision::Skip
        );
    }

    #[test]
    fn retry_later_fails_the_batch_and_skip_writes_nothing() {
        let e = event_at(time::macros::datetime!(2026-03-01 10:00 UTC));
        assert!(matches!(
            Decision::<()>::RetryLater.into_writes(&e),
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(Decision::<()>::Skip.into_writes(&e).unwrap(), vec![]);
        assert_eq!(
            Decision::Write(vec![1, 2]).into_writes(&e).unwrap(),
            vec![1, 2]
        );
    }
}
