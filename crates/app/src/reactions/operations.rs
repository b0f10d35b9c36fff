//! Operations' reactions: the officers' cases follow the reports (filed,
//! edited, withdrawn), their vote counts and escalation levels, and the SLA
//! due time that workflow announces.
//!
//! The state is what the case row holds of those counters, or `None` when
//! operations has no case for the report yet. Every write is about the
//! event's report (`EventEnvelope::report_id`).

use super::{Decision, missing_report};
use lapor_domain::Timestamp;
use lapor_domain::access::Visibility;
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::{DomainEvent, EventEnvelope};
use lapor_domain::ids::{ReportId, UserId};
use lapor_domain::report::Location;

/// The event types operations reacts to; others are not even recorded as
/// applied (a batch of only those costs no write).
const HANDLED: &[&str] = &[
    "report.created",
    "report.updated",
    "report.withdrawn",
    "report.upvoted",
    "report.escalated",
    "sla.started",
];

pub fn reacts_to(event_type: &str) -> bool {
    HANDLED.contains(&event_type)
}

/// What a case row holds that reactions compare events with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub vote_count: i64,
    pub escalation_level: i64,
}

/// A case as it is filed (status RECEIVED, no votes, no escalation yet).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub report_id: ReportId,
    pub agency: AgencyCode,
    pub title: String,
    pub content: String,
    pub category: CategorySlug,
    /// `None` for ANONYMOUS reports: officers never learn who filed them.
    pub reporter_user_id: Option<UserId>,
    pub visibility: Visibility,
    pub location: Option<Location>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OperationsWrite {
    Insert(NewCase),
    /// The reporter edited the report; a new category may route the case to
    /// another agency.
    Edit {
        title: String,
        content: String,
        category: CategorySlug,
        agency: AgencyCode,
        location: Option<Location>,
        at: Timestamp,
    },
    /// The case leaves the inbox.
    Withdraw {
        at: Timestamp,
    },
    SetVoteCount(i64),
    SetEscalationLevel(i64),
    SetDueAt(Timestamp),
}

pub fn react(
    event: &EventEnvelope,
    case: Option<&Case>,
    now: Timestamp,
) -> Decision<OperationsWrite> {
    // An event this version cannot read is left alone (a newer producer).
    let Ok(ev) = event.decode() else {
        return Decision::none();
    };
    let ev = match ev {
        DomainEvent::ReportCreated(c) => {
            return match case {
                // Already filed (a replay): the case has moved on since.
                Some(_) => Decision::none(),
                None => Decision::Write(vec![OperationsWrite::Insert(NewCase {
                    report_id: c.report_id,
                    agency: c.agency,
                    title: c.title,
                    content: c.content,
                    category: c.category,
                    reporter_user_id: c.reporter_user_id,
                    visibility: c.visibility,
                    location: c.location,
                    created_at: c.created_at,
                })]),
            };
        }
        // Operations made these itself, or has no use for them.
        DomainEvent::StatusUpdated(_)
        | DomainEvent::CaseAnswered(_)
        | DomainEvent::PhotosAdded(_) => {
            return Decision::none();
        }
        ev => ev,
    };
    let Some(case) = case else {
        return missing_report(event, now);
    };
    let write = match ev {
        DomainEvent::ReportUpdated(u) => OperationsWrite::Edit {
            title: u.title,
            content: u.content,
            category: u.category,
            agency: u.agency,
            location: u.location,
            at: u.updated_at,
        },
        DomainEvent::ReportWithdrawn(w) => OperationsWrite::Withdraw { at: w.withdrawn_at },
        // Counts only grow: a vote event delivered late carries an older count.
        DomainEvent::ReportUpvoted(v) if v.vote_count > case.vote_count => {
            OperationsWrite::SetVoteCount(v.vote_count)
        }
        DomainEvent::ReportEscalated(x) if x.escalation_level > case.escalation_level => {
            OperationsWrite::SetEscalationLevel(x.escalation_level)
        }
        // Escalations do not move the due time, so this is its only source.
        DomainEvent::SlaStarted(s) => OperationsWrite::SetDueAt(s.due_at),
        _ => return Decision::none(),
    };
    Decision::Write(vec![write])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactions::RETRY_WINDOW;
    use lapor_domain::access::{Owner, Visibility};
    use lapor_domain::events::*;
    use lapor_domain::ids::{AnswerId, PhotoId};
    use lapor_domain::lifecycle::Status;
    use time::macros::datetime;

    const T: Timestamp = datetime!(2026-03-01 10:00 UTC);
    const LATER: Timestamp = datetime!(2026-03-01 10:05 UTC);

    fn agency(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }
    fn category(s: &str) -> CategorySlug {
        CategorySlug::parse(s).unwrap()
    }
    fn env(e: DomainEvent) -> EventEnvelope {
        e.into_envelope(T)
    }
    const CASE: Case = Case {
        vote_count: 3,
        escalation_level: 1,
    };

    fn created(id: ReportId, reporter: Option<UserId>) -> ReportCreated {
        ReportCreated {
            report_id: id,
            reporter_user_id: reporter,
            owner: Owner::User(UserId::new_v7()),
            visibility: Visibility::Public,
            title: "Lampu mati".into(),
            content: "Lampu jalan mati".into(),
            category: category("infrastruktur"),
            agency: agency("AGENCY_INFRA"),
            location: Some(Location {
                lat: -6.2,
                lon: 106.8,
                address: Some("Jl. Merdeka".into()),
            }),
            created_at: T,
        }
    }

    /// Every event type that operations reacts to, about report `id`.
    fn handled(id: ReportId) -> Vec<DomainEvent> {
        vec![
            DomainEvent::ReportUpdated(ReportUpdated {
                report_id: id,
                title: "t".into(),
                content: "c".into(),
                category: category("kesehatan"),
                agency: agency("AGENCY_HEALTH"),
                location: None,
                updated_at: T,
            }),
            DomainEvent::ReportWithdrawn(ReportWithdrawn {
                report_id: id,
                agency: agency("AGENCY_INFRA"),
                withdrawn_at: T,
            }),
            upvoted(id, 4),
            escalated(id, 2),
            DomainEvent::SlaStarted(SlaStarted {
                report_id: id,
                owner_agency: agency("AGENCY_INFRA"),
                due_at: LATER,
            }),
        ]
    }

    fn upvoted(id: ReportId, n: i64) -> DomainEvent {
        DomainEvent::ReportUpvoted(ReportUpvoted {
            report_id: id,
            voter_user_id: UserId::new_v7(),
            vote_count: n,
            created_at: T,
        })
    }

    fn escalated(id: ReportId, level: i64) -> DomainEvent {
        DomainEvent::ReportEscalated(ReportEscalated {
            report_id: id,
            reason: "SLA_BREACH".into(),
            escalation_level: level,
            owner_agency: agency("AGENCY_INFRA"),
            escalated_at: T,
        })
    }

    fn ignored(id: ReportId) -> Vec<DomainEvent> {
        vec![
            DomainEvent::StatusUpdated(StatusUpdated {
                report_id: id,
                old_status: Status::Received,
                new_status: Status::InProgress,
                owner_agency: agency("AGENCY_INFRA"),
                reason: None,
                actor_user_id: UserId::new_v7(),
                changed_at: T,
            }),
            DomainEvent::CaseAnswered(CaseAnswered {
                report_id: id,
                answer_id: AnswerId::new_v7(),
                owner_agency: agency("AGENCY_INFRA"),
                officer_user_id: UserId::new_v7(),
                message: "ok".into(),
                answered_at: T,
            }),
            DomainEvent::PhotosAdded(PhotosAdded {
                report_id: id,
                photo_ids: vec![PhotoId::new_v7()],
                agency: agency("AGENCY_INFRA"),
                added_at: T,
            }),
        ]
    }

    #[test]
    fn given_no_case_when_a_report_is_filed_then_its_case_is_inserted() {
        let id = ReportId::new_v7();
        let reporter = UserId::new_v7();
        let c = created(id, Some(reporter));
        assert_eq!(
            react(&env(DomainEvent::ReportCreated(c.clone())), None, T),
            Decision::Write(vec![OperationsWrite::Insert(NewCase {
                report_id: id,
                agency: agency("AGENCY_INFRA"),
                title: "Lampu mati".into(),
                content: "Lampu jalan mati".into(),
                category: category("infrastruktur"),
                reporter_user_id: Some(reporter),
                visibility: Visibility::Public,
                location: c.location,
                created_at: T,
            })])
        );
    }

    #[test]
    fn given_a_case_when_its_creation_is_replayed_then_nothing_is_written() {
        let e = env(DomainEvent::ReportCreated(created(
            ReportId::new_v7(),
            None,
        )));
        assert_eq!(react(&e, Some(&CASE), T), Decision::none());
    }

    #[test]
    fn given_a_case_when_the_report_is_edited_then_the_case_follows_its_routing() {
        let id = ReportId::new_v7();
        let e = env(handled(id).remove(0));
        assert_eq!(
            react(&e, Some(&CASE), T),
            Decision::Write(vec![OperationsWrite::Edit {
                title: "t".into(),
                content: "c".into(),
                category: category("kesehatan"),
                agency: agency("AGENCY_HEALTH"),
                location: None,
                at: T,
            }])
        );
    }

    #[test]
    fn given_a_case_when_the_report_is_withdrawn_then_the_case_is() {
        let e = env(handled(ReportId::new_v7()).remove(1));
        assert_eq!(
            react(&e, Some(&CASE), T),
            Decision::Write(vec![OperationsWrite::Withdraw { at: T }])
        );
    }

    #[test]
    fn vote_counts_only_grow() {
        let id = ReportId::new_v7();
        assert_eq!(
            react(&env(upvoted(id, 4)), Some(&CASE), T),
            Decision::Write(vec![OperationsWrite::SetVoteCount(4)])
        );
        assert_eq!(
            react(&env(upvoted(id, 3)), Some(&CASE), T),
            Decision::none()
        );
        assert_eq!(
            react(&env(upvoted(id, 2)), Some(&CASE), T),
            Decision::none()
        );
    }

    #[test]
    fn escalation_levels_only_grow() {
        let id = ReportId::new_v7();
        assert_eq!(
            react(&env(escalated(id, 2)), Some(&CASE), T),
            Decision::Write(vec![OperationsWrite::SetEscalationLevel(2)])
        );
        assert_eq!(
            react(&env(escalated(id, 1)), Some(&CASE), T),
            Decision::none()
        );
        assert_eq!(
            react(&env(escalated(id, 0)), Some(&CASE), T),
            Decision::none()
        );
    }

    #[test]
    fn given_a_case_when_its_sla_starts_then_it_gets_the_due_time() {
        let e = env(handled(ReportId::new_v7()).remove(4));
        assert_eq!(
            react(&e, Some(&CASE), T),
            Decision::Write(vec![OperationsWrite::SetDueAt(LATER)])
        );
    }

    #[test]
    fn given_no_case_when_a_later_event_arrives_then_it_is_retried_then_skipped() {
        for ev in handled(ReportId::new_v7()) {
            let e = env(ev);
            assert_eq!(react(&e, None, T), Decision::RetryLater, "{e:?}");
            assert_eq!(
                react(&e, None, T + RETRY_WINDOW + time::Duration::seconds(1)),
                Decision::Skip,
                "{e:?}"
            );
        }
    }

    #[test]
    fn status_changes_answers_and_photos_change_nothing_here() {
        for ev in ignored(ReportId::new_v7()) {
            let e = env(ev);
            assert_eq!(react(&e, Some(&CASE), T), Decision::none(), "{e:?}");
            assert_eq!(react(&e, None, T), Decision::none(), "{e:?}");
            assert!(!reacts_to(&e.event_type), "{e:?}");
        }
    }

    #[test]
    fn only_the_handled_types_are_taken_in() {
        let id = ReportId::new_v7();
        let mut all = handled(id);
        all.push(DomainEvent::ReportCreated(created(id, None)));
        for ev in all {
            assert!(reacts_to(ev.event_type()), "{}", ev.event_type());
        }
        assert!(!reacts_to("report.teleported"));
    }

    #[test]
    fn an_unreadable_event_changes_nothing() {
        let mut e = env(upvoted(ReportId::new_v7(), 4));
        e.payload = serde_json::json!({"nonsense": true});
        assert_eq!(react(&e, Some(&CASE), T), Decision::none());
        assert_eq!(react(&e, None, T), Decision::none());
    }
}
