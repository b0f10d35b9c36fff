//! Workflow's reactions: a report's SLA job (started when it is filed,
//! re-routed with it, cancelled when it is withdrawn, closed when it is
//! resolved or rejected) and the notifications that tell its reporter about
//! status changes and answers.
//!
//! Escalations are not reactions: the escalation worker decides them
//! (`services::workflow`) and records them with their notifications.
//! Every write is about the event's report (`EventEnvelope::report_id`).

use super::{Decision, missing_report};
use crate::ports::{NewNotification, SlaConfig};
use lapor_domain::Timestamp;
use lapor_domain::access::{Owner, Visibility};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::{DomainEvent, EventEnvelope, SlaStarted};
use lapor_domain::ids::NotificationId;
use lapor_domain::notices::Notice;
use lapor_domain::sla::{self, SlaJob, SlaStatus};

/// The event types workflow reacts to; others are not even recorded as
/// applied (a batch of only those costs no write).
const HANDLED: &[&str] = &[
    "report.created",
    "report.updated",
    "report.withdrawn",
    "report.status.updated",
    "case.answered",
];

pub fn reacts_to(event_type: &str) -> bool {
    HANDLED.contains(&event_type)
}

/// A report's SLA job as stored, with whom to notify about the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The reporter's notification address (`u:` user or `a:` pseudonym).
    pub owner: Owner,
    pub job: SlaJob,
}

/// What workflow reacts with: the report's job (`None` if it has none yet)
/// and the SLA configuration (a new job's duration comes from it).
#[derive(Debug, Clone, Copy)]
pub struct WorkflowState<'a> {
    pub job: Option<&'a Job>,
    pub config: &'a SlaConfig,
}

/// A job to insert for a report just filed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub owner: Owner,
    pub visibility: Visibility,
    pub category: CategorySlug,
    pub job: SlaJob,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WorkflowWrite {
    StartJob(NewJob),
    /// Append this event to workflow's outbox.
    Emit(EventEnvelope),
    /// The report was routed to `agency` (possibly the same one): the job
    /// and the report's escalations follow it, so the new agency's
    /// supervisor sees them and the old one no longer does.
    ReRoute {
        agency: AgencyCode,
        category: CategorySlug,
        at: Timestamp,
    },
    /// Store the job's new state (status, level, next escalation, case
    /// status) as of `at`.
    SaveJob {
        job: SlaJob,
        at: Timestamp,
    },
    Notify(NewNotification),
}

/// A notification id derived from the event, so a rebuilt or redelivered
/// event cannot notify twice even without the applied-events check.
fn note_id(e: &EventEnvelope) -> NotificationId {
    NotificationId(e.event_id.0)
}

pub fn react(
    event: &EventEnvelope,
    state: WorkflowState<'_>,
    now: Timestamp,
) -> Decision<WorkflowWrite> {
    // An event this version cannot read is left alone (a newer producer).
    let Ok(ev) = event.decode() else {
        return Decision::none();
    };
    let ev = match ev {
        DomainEvent::ReportCreated(c) => {
            // A job that exists was started before (a replay): starting it
            // again would announce a second `sla.started`.
            if state.job.is_some() {
                return Decision::none();
            }
            let job = SlaJob::start(
                c.agency.clone(),
                c.created_at,
                state.config.seconds_for(&c.category),
            );
            // Announced so operations can show the due time without
            // reading workflow's tables.
            let started = DomainEvent::SlaStarted(SlaStarted {
                report_id: c.report_id,
                owner_agency: job.agency.clone(),
                due_at: job.due_at,
            })
            .into_envelope(event.timestamp);
            return Decision::Write(vec![
                WorkflowWrite::StartJob(NewJob {
                    owner: c.owner,
                    visibility: c.visibility,
                    category: c.category,
                    job,
                    created_at: c.created_at,
                }),
                WorkflowWrite::Emit(started),
            ]);
        }
        // Escalations are recorded (with their notifications) when decided.
        DomainEvent::ReportEscalated(_)
        | DomainEvent::ReportUpvoted(_)
        | DomainEvent::PhotosAdded(_)
        | DomainEvent::SlaStarted(_) => return Decision::none(),
        ev => ev,
    };
    let Some(Job { owner, job }) = state.job else {
        return missing_report(event, now);
    };
    let notify = |notice: Notice, at: Timestamp| {
        WorkflowWrite::Notify(NewNotification {
            id: note_id(event),
            recipient: owner.clone(),
            report_id: event.report_id,
            notice,
            created_at: at,
        })
    };
    Decision::Write(match ev {
        DomainEvent::ReportUpdated(u) => vec![WorkflowWrite::ReRoute {
            agency: u.agency,
            category: u.category,
            at: u.updated_at,
        }],
        DomainEvent::ReportWithdrawn(w) if job.status.is_open() => {
            let mut job = job.clone();
            job.status = SlaStatus::Cancelled;
            job.next_escalation_at = None;
            vec![WorkflowWrite::SaveJob {
                job,
                at: w.withdrawn_at,
            }]
        }
        DomainEvent::StatusUpdated(s) => {
            let mut job = job.clone();
            sla::on_status_change(&mut job, s.new_status);
            vec![
                WorkflowWrite::SaveJob {
                    job,
                    at: s.changed_at,
                },
                notify(Notice::status_changed(&s), s.changed_at),
            ]
        }
        DomainEvent::CaseAnswered(a) => vec![notify(Notice::answered(&a), a.answered_at)],
        // A withdrawal of a job already closed (completed or cancelled).
        _ => vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactions::RETRY_WINDOW;
    use lapor_domain::access::OwnerTag;
    use lapor_domain::events::*;
    use lapor_domain::ids::{AnswerId, PhotoId, ReportId, UserId};
    use lapor_domain::lifecycle::Status;
    use time::Duration;
    use time::macros::datetime;

    const T0: Timestamp = datetime!(2026-03-01 10:00 UTC);
    const T1: Timestamp = datetime!(2026-03-01 11:00 UTC);

    fn agency(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }
    fn category(s: &str) -> CategorySlug {
        CategorySlug::parse(s).unwrap()
    }
    fn config() -> SlaConfig {
        SlaConfig {
            default_seconds: 86_400,
            per_category: vec![(category("kesehatan"), 600)],
        }
    }
    fn owner() -> Owner {
        Owner::Anonymous(OwnerTag::parse(&"ab".repeat(32)).unwrap())
    }
    fn stored(job: SlaJob) -> Job {
        Job {
            owner: owner(),
            job,
        }
    }
    fn open_job() -> Job {
        stored(SlaJob::start(agency("AGENCY_INFRA"), T0, 3600))
    }
    fn given(job: Option<&Job>, e: &EventEnvelope, now: Timestamp) -> Decision<WorkflowWrite> {
        let config = config();
        react(
            e,
            WorkflowState {
                job,
                config: &config,
            },
            now,
        )
    }

    fn created(id: ReportId, cat: &str, ag: &str) -> EventEnvelope {
        DomainEvent::ReportCreated(ReportCreated {
            report_id: id,
            reporter_user_id: None,
            owner: owner(),
            visibility: Visibility::Anonymous,
            title: "t".into(),
            content: "c".into(),
            category: category(cat),
            agency: agency(ag),
            location: None,
            created_at: T0,
        })
        .into_envelope(T0 + Duration::milliseconds(5))
    }

    fn status(id: ReportId, old: Status, new: Status, reason: Option<&str>) -> StatusUpdated {
        StatusUpdated {
            report_id: id,
            old_status: old,
            new_status: new,
            owner_agency: agency("AGENCY_INFRA"),
            reason: reason.map(str::to_owned),
            actor_user_id: UserId::new_v7(),
            changed_at: T1,
        }
    }

    fn withdrawn(id: ReportId) -> EventEnvelope {
        DomainEvent::ReportWithdrawn(ReportWithdrawn {
            report_id: id,
            agency: agency("AGENCY_INFRA"),
            withdrawn_at: T1,
        })
        .into_envelope(T1)
    }

    fn answered(id: ReportId) -> CaseAnswered {
        CaseAnswered {
            report_id: id,
            answer_id: AnswerId::new_v7(),
            owner_agency: agency("AGENCY_INFRA"),
            officer_user_id: UserId::new_v7(),
            message: "Tim menuju lokasi".into(),
            answered_at: T1,
        }
    }

    fn updated(id: ReportId) -> EventEnvelope {
        DomainEvent::ReportUpdated(ReportUpdated {
            report_id: id,
            title: "t".into(),
            content: "c".into(),
            category: category("kesehatan"),
            agency: agency("AGENCY_HEALTH"),
            location: None,
            updated_at: T1,
        })
        .into_envelope(T1)
    }

    #[test]
    fn given_no_job_when_a_report_is_filed_then_its_job_starts_and_is_announced() {
        let id = ReportId::new_v7();
        let e = created(id, "kesehatan", "AGENCY_HEALTH");
        let Decision::Write(writes) = given(None, &e, T0) else {
            panic!("expected writes");
        };
        let job = SlaJob::start(agency("AGENCY_HEALTH"), T0, 600);
        assert_eq!(job.due_at, T0 + Duration::seconds(600));
        assert_eq!(writes.len(), 2, "{writes:?}");
        assert_eq!(
            writes[0],
            WorkflowWrite::StartJob(NewJob {
                owner: owner(),
                visibility: Visibility::Anonymous,
                category: category("kesehatan"),
                job,
                created_at: T0,
            })
        );
        let WorkflowWrite::Emit(started) = &writes[1] else {
            panic!("expected sla.started: {writes:?}");
        };
        assert_eq!(
            started.decode().unwrap(),
            DomainEvent::SlaStarted(SlaStarted {
                report_id: id,
                owner_agency: agency("AGENCY_HEALTH"),
                due_at: T0 + Duration::seconds(600),
            })
        );
        // Timed as the event that caused it, not as when it was applied.
        assert_eq!(started.timestamp, e.timestamp);
        assert_ne!(started.event_id, e.event_id);
    }

    #[test]
    fn a_category_without_its_own_duration_gets_the_default() {
        let e = created(ReportId::new_v7(), "infrastruktur", "AGENCY_INFRA");
        let Decision::Write(writes) = given(None, &e, T0) else {
            panic!("expected writes");
        };
        let WorkflowWrite::StartJob(j) = &writes[0] else {
            panic!("{writes:?}");
        };
        assert_eq!(j.job.due_at, T0 + Duration::seconds(86_400));
    }

    #[test]
    fn given_a_job_when_its_creation_is_replayed_then_nothing_is_started_or_announced() {
        let e = created(ReportId::new_v7(), "kesehatan", "AGENCY_HEALTH");
        assert_eq!(given(Some(&open_job()), &e, T0), Decision::none());
    }

    #[test]
    fn given_a_job_when_the_report_is_edited_then_job_and_escalations_follow_its_routing() {
        let e = updated(ReportId::new_v7());
        assert_eq!(
            given(Some(&open_job()), &e, T1),
            Decision::Write(vec![WorkflowWrite::ReRoute {
                agency: agency("AGENCY_HEALTH"),
                category: category("kesehatan"),
                at: T1,
            }])
        );
    }

    #[test]
    fn given_an_open_job_when_the_report_is_withdrawn_then_the_job_is_cancelled() {
        for j in [open_job(), {
            let mut j = open_job();
            j.job.status = SlaStatus::Escalated;
            j.job.escalation_level = 1;
            j
        }] {
            let mut cancelled = j.job.clone();
            cancelled.status = SlaStatus::Cancelled;
            cancelled.next_escalation_at = None;
            assert_eq!(
                given(Some(&j), &withdrawn(ReportId::new_v7()), T1),
                Decision::Write(vec![WorkflowWrite::SaveJob {
                    job: cancelled,
                    at: T1
                }])
            );
        }
    }

    #[test]
    fn given_a_closed_job_when_the_report_is_withdrawn_then_nothing_changes() {
        for status in [SlaStatus::Completed, SlaStatus::Cancelled] {
            let mut j = open_job();
            j.job.status = status;
            j.job.next_escalation_at = None;
            assert_eq!(
                given(Some(&j), &withdrawn(ReportId::new_v7()), T1),
                Decision::none()
            );
        }
    }

    #[test]
    fn given_a_job_when_the_case_moves_then_the_job_follows_and_the_reporter_is_told() {
        let id = ReportId::new_v7();
        let s = status(id, Status::Received, Status::InProgress, None);
        let e = DomainEvent::StatusUpdated(s.clone()).into_envelope(T1);
        let mut moved = open_job().job;
        moved.current_status = Status::InProgress;
        assert_eq!(
            given(Some(&open_job()), &e, T1),
            Decision::Write(vec![
                WorkflowWrite::SaveJob { job: moved, at: T1 },
                WorkflowWrite::Notify(NewNotification {
                    id: NotificationId(e.event_id.0),
                    recipient: owner(),
                    report_id: id,
                    notice: Notice::Status {
                        old_status: Status::Received,
                        new_status: Status::InProgress,
                        reason: None,
                    },
                    created_at: T1,
                }),
            ])
        );
    }

    #[test]
    fn given_an_open_job_when_the_case_is_rejected_then_it_completes_and_the_reason_is_told() {
        let id = ReportId::new_v7();
        let s = status(id, Status::InProgress, Status::Rejected, Some("duplikat"));
        let e = DomainEvent::StatusUpdated(s).into_envelope(T1);
        let mut done = open_job().job;
        done.current_status = Status::Rejected;
        done.status = SlaStatus::Completed;
        done.next_escalation_at = None;
        assert_eq!(
            given(Some(&open_job()), &e, T1),
            Decision::Write(vec![
                WorkflowWrite::SaveJob { job: done, at: T1 },
                WorkflowWrite::Notify(NewNotification {
                    id: NotificationId(e.event_id.0),
                    recipient: owner(),
                    report_id: id,
                    notice: Notice::Status {
                        old_status: Status::InProgress,
                        new_status: Status::Rejected,
                        reason: Some("duplikat".into()),
                    },
                    created_at: T1,
                }),
            ])
        );
    }

    #[test]
    fn given_a_job_when_the_case_is_answered_then_the_reporter_is_told() {
        let id = ReportId::new_v7();
        let e = DomainEvent::CaseAnswered(answered(id)).into_envelope(T1);
        assert_eq!(
            given(Some(&open_job()), &e, T1),
            Decision::Write(vec![WorkflowWrite::Notify(NewNotification {
                id: NotificationId(e.event_id.0),
                recipient: owner(),
                report_id: id,
                notice: Notice::Answer {
                    message: "Tim menuju lokasi".into()
                },
                created_at: T1,
            })])
        );
    }

    #[test]
    fn given_no_job_when_a_later_event_arrives_then_it_is_retried_then_skipped() {
        let id = ReportId::new_v7();
        for e in [
            updated(id),
            withdrawn(id),
            DomainEvent::StatusUpdated(status(id, Status::Received, Status::InProgress, None))
                .into_envelope(T1),
            DomainEvent::CaseAnswered(answered(id)).into_envelope(T1),
        ] {
            assert!(reacts_to(&e.event_type));
            assert_eq!(given(None, &e, T1), Decision::RetryLater, "{e:?}");
            assert_eq!(
                given(None, &e, T1 + RETRY_WINDOW + Duration::seconds(1)),
                Decision::Skip,
                "{e:?}"
            );
        }
    }

    #[test]
    fn escalations_votes_photos_and_sla_starts_change_nothing_here() {
        let id = ReportId::new_v7();
        for ev in [
            DomainEvent::ReportEscalated(ReportEscalated {
                report_id: id,
                reason: "SLA_BREACH".into(),
                escalation_level: 1,
                owner_agency: agency("AGENCY_INFRA"),
                escalated_at: T1,
            }),
            DomainEvent::ReportUpvoted(ReportUpvoted {
                report_id: id,
                voter_user_id: UserId::new_v7(),
                vote_count: 2,
                created_at: T1,
            }),
            DomainEvent::PhotosAdded(PhotosAdded {
                report_id: id,
                photo_ids: vec![PhotoId::new_v7()],
                agency: agency("AGENCY_INFRA"),
                added_at: T1,
            }),
            DomainEvent::SlaStarted(SlaStarted {
                report_id: id,
                owner_agency: agency("AGENCY_INFRA"),
                due_at: T1,
            }),
        ] {
            let e = ev.into_envelope(T1);
            assert!(!reacts_to(&e.event_type), "{e:?}");
            assert_eq!(given(Some(&open_job()), &e, T1), Decision::none());
            assert_eq!(given(None, &e, T1), Decision::none());
        }
        assert!(reacts_to("report.created"));
        assert!(!reacts_to("report.teleported"));
    }

    #[test]
    fn an_unreadable_event_changes_nothing() {
        let mut e = withdrawn(ReportId::new_v7());
        e.payload = serde_json::json!({});
        assert_eq!(given(Some(&open_job()), &e, T1), Decision::none());
        assert_eq!(given(None, &e, T1), Decision::none());
    }
}
