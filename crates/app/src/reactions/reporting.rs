//! The reporting write side's reaction: it mirrors the case status that
//! operations decides, because the reporter's own commands depend on it
//! (a report can be edited only while RECEIVED, withdrawn only while open).
//!
//! The state is the report's mirrored status, or `None` when the write side
//! has no such report.

use super::{Decision, missing_report};
use lapor_domain::Timestamp;
use lapor_domain::events::{DomainEvent, EventEnvelope};
use lapor_domain::lifecycle::Status;

/// Only status changes matter here; most batches have none, and the writer
/// is better left to citizens' commands, so the others are not even
/// recorded as applied.
pub fn reacts_to(event_type: &str) -> bool {
    event_type == "report.status.updated"
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportingWrite {
    /// Set the report's (the event's report's) status.
    SetStatus(Status),
}

pub fn react(
    event: &EventEnvelope,
    status: Option<Status>,
    now: Timestamp,
) -> Decision<ReportingWrite> {
    let Ok(DomainEvent::StatusUpdated(s)) = event.decode() else {
        return Decision::none();
    };
    match status {
        None => missing_report(event, now),
        // Already mirrored (a replay after a restore): nothing to write.
        Some(current) if current == s.new_status => Decision::none(),
        Some(_) => Decision::Write(vec![ReportingWrite::SetStatus(s.new_status)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactions::RETRY_WINDOW;
    use lapor_domain::catalog::AgencyCode;
    use lapor_domain::events::{ReportWithdrawn, StatusUpdated};
    use lapor_domain::ids::{ReportId, UserId};
    use time::macros::datetime;

    const T: Timestamp = datetime!(2026-03-01 10:00 UTC);

    fn moved(to: Status) -> EventEnvelope {
        DomainEvent::StatusUpdated(StatusUpdated {
            report_id: ReportId::new_v7(),
            old_status: Status::Received,
            new_status: to,
            owner_agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
            reason: None,
            actor_user_id: UserId::new_v7(),
            changed_at: T,
        })
        .into_envelope(T)
    }

    #[test]
    fn given_a_report_when_its_case_moves_then_its_status_follows() {
        assert_eq!(
            react(&moved(Status::InProgress), Some(Status::Received), T),
            Decision::Write(vec![ReportingWrite::SetStatus(Status::InProgress)])
        );
        assert_eq!(
            react(&moved(Status::Resolved), Some(Status::InProgress), T),
            Decision::Write(vec![ReportingWrite::SetStatus(Status::Resolved)])
        );
    }

    #[test]
    fn given_the_status_already_mirrored_then_nothing_is_written() {
        assert_eq!(
            react(&moved(Status::InProgress), Some(Status::InProgress), T),
            Decision::none()
        );
    }

    #[test]
    fn given_no_report_then_the_change_is_retried_then_skipped() {
        let e = moved(Status::InProgress);
        assert_eq!(react(&e, None, T), Decision::RetryLater);
        assert_eq!(
            react(&e, None, T + RETRY_WINDOW + time::Duration::seconds(1)),
            Decision::Skip
        );
    }

    #[test]
    fn other_events_change_nothing_and_are_not_taken_in() {
        let e = DomainEvent::ReportWithdrawn(ReportWithdrawn {
            report_id: ReportId::new_v7(),
            agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
            withdrawn_at: T,
        })
        .into_envelope(T);
        assert!(!reacts_to(&e.event_type));
        assert!(reacts_to(&moved(Status::Resolved).event_type));
        assert_eq!(react(&e, Some(Status::Received), T), Decision::none());
        assert_eq!(react(&e, None, T), Decision::none());
    }
}
