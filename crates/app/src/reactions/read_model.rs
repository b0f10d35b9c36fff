//! The read model's reactions (the projector): what each event does to the
//! report views, their timelines, the per-category statistics and the
//! listing counters, whatever the engine.
//!
//! The store loads the [`ProjectedReport`] of the event's report (locking it
//! where several projectors may run at once), calls [`react`], and executes
//! the returned [`ReadWrite`]s in the transaction that records the event as
//! applied. Redelivery is handled twice over: the applied-events record
//! skips an event seen before, and every reaction reads the state it
//! changes, so a second `report.created` or `report.withdrawn` (under a new
//! event id, after a replay) changes nothing.

use lapor_domain::Timestamp;
use lapor_domain::access::{Owner, Visibility};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::{DomainEvent, EventEnvelope};
use lapor_domain::ids::{PhotoId, ReportId};
use lapor_domain::lifecycle::Status;
use lapor_domain::report::Location;

use super::{Decision, missing_report};

/// Event types the projector ignores: adapters may leave them out before
/// opening a transaction. (Operations shows the due time; the read model
/// does not.)
const IGNORED: &[&str] = &["sla.started"];

/// Whether the projector acts on events of this type (the same question
/// every context's `reacts_to` answers).
pub fn reacts_to(event_type: &str) -> bool {
    !IGNORED.contains(&event_type)
}

/// Whether an event of this type can change what a listing shows (a row's
/// fields, or whether it is listed). Answers only add to the timeline, which
/// listings do not show; ignored events change nothing. The in-memory lists
/// re-read only the reports such events touched.
pub fn changes_listings(event_type: &str) -> bool {
    event_type != "case.answered" && !IGNORED.contains(&event_type)
}

/// What the projector knows of a report before an event: the facts its
/// counters are keyed by. The store loads it by the event's report id;
/// `None` when the report has no view yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectedReport {
    pub category: CategorySlug,
    pub status: Status,
    pub withdrawn: bool,
    pub owner: Owner,
    pub visibility: Visibility,
    pub agency: AgencyCode,
}

impl ProjectedReport {
    /// The listing counter this report is counted in while it is live.
    pub fn count_key(&self) -> CountKey {
        CountKey {
            owner: self.owner.clone(),
            public: self.visibility == Visibility::Public,
            agency: self.agency.clone(),
            category: self.category.clone(),
            status: self.status,
        }
    }
}

/// One listing counter: live (not withdrawn) reports per owner, public or
/// not, agency, category and status. Stores sum these for listing totals
/// (see the engines' `scope` modules); the sums need the owners to be
/// disjoint, which they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountKey {
    pub owner: Owner,
    /// PUBLIC: in every listing scope.
    pub public: bool,
    pub agency: AgencyCode,
    pub category: CategorySlug,
    pub status: Status,
}

/// The kinds of timeline entries (stored as [`TimelineKind::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineKind {
    Created,
    Status,
    Answer,
    Escalation,
    Withdrawn,
}

impl TimelineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Created => "created",
            TimelineKind::Status => "status",
            TimelineKind::Answer => "answer",
            TimelineKind::Escalation => "escalation",
            TimelineKind::Withdrawn => "withdrawn",
        }
    }
}

/// A new report's view: no votes, no escalation, created, updated and last
/// changed at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewView {
    pub report_id: ReportId,
    pub owner: Owner,
    pub visibility: Visibility,
    pub title: String,
    pub content: String,
    pub category: CategorySlug,
    pub agency: AgencyCode,
    pub location: Option<Location>,
    pub status: Status,
    pub at: Timestamp,
}

/// One write the projector makes.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadWrite {
    /// Insert a report's view.
    InsertView(Box<NewView>),
    /// Replace what the owner may edit; `updated_at` becomes `at`.
    UpdateContent {
        report_id: ReportId,
        title: String,
        content: String,
        category: CategorySlug,
        agency: AgencyCode,
        location: Option<Location>,
        at: Timestamp,
    },
    /// Hide the view from every read; `updated_at` becomes `at`.
    MarkWithdrawn { report_id: ReportId, at: Timestamp },
    /// The vote count becomes at least `vote_count` (events carry the
    /// authoritative count; a late, older one never lowers it).
    RaiseVotes {
        report_id: ReportId,
        vote_count: i64,
    },
    /// The status becomes `status`; `last_status_at` and `updated_at`
    /// become `at`.
    SetStatus {
        report_id: ReportId,
        status: Status,
        at: Timestamp,
    },
    /// The escalation level becomes at least `level`.
    RaiseEscalation { report_id: ReportId, level: i64 },
    /// Attach photos (each once).
    AddPhotos {
        report_id: ReportId,
        photos: Vec<PhotoId>,
        at: Timestamp,
    },
    /// Add to a category's total and to one of its status counters; its
    /// `last_updated` becomes at least `at`.
    BumpStats {
        category: CategorySlug,
        status: Status,
        total_delta: i64,
        status_delta: i64,
        at: Timestamp,
    },
    /// Add `delta` to one listing counter.
    Count { key: CountKey, delta: i64 },
    /// Append a timeline entry.
    Timeline {
        report_id: ReportId,
        kind: TimelineKind,
        status: Option<Status>,
        message: Option<String>,
        escalation_level: Option<i64>,
        at: Timestamp,
    },
}

impl ReadWrite {
    fn timeline(report_id: ReportId, kind: TimelineKind, at: Timestamp) -> Self {
        ReadWrite::Timeline {
            report_id,
            kind,
            status: None,
            message: None,
            escalation_level: None,
            at,
        }
    }
}

/// A report moves from one counter to another: out of `from`, into `to`.
fn move_count(from: CountKey, to: CountKey) -> [ReadWrite; 2] {
    [
        ReadWrite::Count {
            key: from,
            delta: -1,
        },
        ReadWrite::Count { key: to, delta: 1 },
    ]
}

/// What the projector does with `event`, given the report's projected
/// state (`None`: no view yet). Events about a report without a view wait
/// for it ([`missing_report`]); events it does not understand (a newer
/// producer) are skipped.
pub fn react(
    event: &EventEnvelope,
    state: Option<&ProjectedReport>,
    now: Timestamp,
) -> Decision<ReadWrite> {
    let decoded = match event.decode() {
        Ok(d) => d,
        Err(err) => {
            tracing::warn!(event_type = %event.event_type, %err,
                "projector skips an event it does not understand");
            return Decision::none();
        }
    };
    if let DomainEvent::ReportCreated(c) = decoded {
        // Already projected (a replay under a new event id): nothing.
        if state.is_some() {
            return Decision::none();
        }
        let status = Status::Received;
        let counted = [
            ReadWrite::BumpStats {
                category: c.category.clone(),
                status,
                total_delta: 1,
                status_delta: 1,
                at: c.created_at,
            },
            ReadWrite::Count {
                key: CountKey {
                    owner: c.owner.clone(),
                    public: c.visibility == Visibility::Public,
                    agency: c.agency.clone(),
                    category: c.category.clone(),
                    status,
                },
                delta: 1,
            },
            ReadWrite::Timeline {
                report_id: c.report_id,
                kind: TimelineKind::Created,
                status: Some(status),
                message: None,
                escalation_level: None,
                at: c.created_at,
            },
        ];
        let view = ReadWrite::InsertView(Box::new(NewView {
            report_id: c.report_id,
            owner: c.owner,
            visibility: c.visibility,
            title: c.title,
            content: c.content,
            category: c.category,
            agency: c.agency,
            location: c.location,
            status,
            at: c.created_at,
        }));
        // The view first: the rows after it refer to it.
        let mut w = vec![view];
        w.extend(counted);
        return Decision::Write(w);
    }
    if IGNORED.contains(&event.event_type.as_str()) {
        return Decision::none();
    }
    let Some(cur) = state else {
        return missing_report(event, now);
    };
    let mut w = Vec::new();
    match decoded {
        DomainEvent::ReportCreated(_) | DomainEvent::SlaStarted(_) => {}
        DomainEvent::ReportUpdated(u) => {
            w.push(ReadWrite::UpdateContent {
                report_id: u.report_id,
                title: u.title,
                content: u.content,
                category: u.category.clone(),
                agency: u.agency.clone(),
                location: u.location,
                at: u.updated_at,
            });
            // A withdrawn report is counted nowhere any more.
            if !cur.withdrawn {
                if u.category != cur.category {
                    w.push(ReadWrite::BumpStats {
                        category: cur.category.clone(),
                        status: cur.status,
                        total_delta: -1,
                        status_delta: -1,
                        at: u.updated_at,
                    });
                    w.push(ReadWrite::BumpStats {
                        category: u.category.clone(),
                        status: cur.status,
                        total_delta: 1,
                        status_delta: 1,
                        at: u.updated_at,
                    });
                }
                // A new category may route the report to another agency.
                if u.category != cur.category || u.agency != cur.agency {
                    let to = CountKey {
                        category: u.category,
                        agency: u.agency,
                        ..cur.count_key()
                    };
                    w.extend(move_count(cur.count_key(), to));
                }
            }
        }
        DomainEvent::ReportWithdrawn(x) => {
            if !cur.withdrawn {
                w.push(ReadWrite::MarkWithdrawn {
                    report_id: x.report_id,
                    at: x.withdrawn_at,
                });
                w.push(ReadWrite::BumpStats {
                    category: cur.category.clone(),
                    status: cur.status,
                    total_delta: -1,
                    status_delta: -1,
                    at: x.withdrawn_at,
                });
                w.push(ReadWrite::Count {
                    key: cur.count_key(),
                    delta: -1,
                });
                w.push(ReadWrite::timeline(
                    x.report_id,
                    TimelineKind::Withdrawn,
                    x.withdrawn_at,
                ));
            }
        }
        DomainEvent::ReportUpvoted(v) => w.push(ReadWrite::RaiseVotes {
            report_id: v.report_id,
            vote_count: v.vote_count,
        }),
        DomainEvent::StatusUpdated(s) => {
            w.push(ReadWrite::SetStatus {
                report_id: s.report_id,
                status: s.new_status,
                at: s.changed_at,
            });
            if !cur.withdrawn && cur.status != s.new_status {
                w.push(ReadWrite::BumpStats {
                    category: cur.category.clone(),
                    status: cur.status,
                    total_delta: 0,
                    status_delta: -1,
                    at: s.changed_at,
                });
                w.push(ReadWrite::BumpStats {
                    category: cur.category.clone(),
                    status: s.new_status,
                    total_delta: 0,
                    status_delta: 1,
                    at: s.changed_at,
                });
                let to = CountKey {
                    status: s.new_status,
                    ..cur.count_key()
                };
                w.extend(move_count(cur.count_key(), to));
            }
            w.push(ReadWrite::Timeline {
                report_id: s.report_id,
                kind: TimelineKind::Status,
                status: Some(s.new_status),
                message: s.reason,
                escalation_level: None,
                at: s.changed_at,
            });
        }
        DomainEvent::CaseAnswered(a) => w.push(ReadWrite::Timeline {
            report_id: a.report_id,
            kind: TimelineKind::Answer,
            status: None,
            message: Some(a.message),
            escalation_level: None,
            at: a.answered_at,
        }),
        DomainEvent::ReportEscalated(x) => {
            w.push(ReadWrite::RaiseEscalation {
                report_id: x.report_id,
                level: x.escalation_level,
            });
            w.push(ReadWrite::Timeline {
                report_id: x.report_id,
                kind: TimelineKind::Escalation,
                status: None,
                message: None,
                escalation_level: Some(x.escalation_level),
                at: x.escalated_at,
            });
        }
        DomainEvent::PhotosAdded(p) => w.push(ReadWrite::AddPhotos {
            report_id: p.report_id,
            photos: p.photo_ids,
            at: p.added_at,
        }),
    }
    Decision::Write(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::events::{
        CaseAnswered, PhotosAdded, ReportCreated, ReportEscalated, ReportUpdated, ReportUpvoted,
        ReportWithdrawn, SlaStarted, StatusUpdated,
    };
    use lapor_domain::ids::{AnswerId, UserId};
    use time::macros::datetime;

    const T0: Timestamp = datetime!(2026-03-01 10:00 UTC);

    fn t(min: i64) -> Timestamp {
        T0 + time::Duration::minutes(min)
    }
    fn rid() -> ReportId {
        ReportId(uuid::Uuid::from_u128(7))
    }
    fn owner() -> Owner {
        Owner::User(UserId(uuid::Uuid::from_u128(42)))
    }
    fn cat(s: &str) -> CategorySlug {
        CategorySlug::parse(s).unwrap()
    }
    fn agency(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }

    /// The projected state of the report a created event (below) makes.
    fn state(status: Status, withdrawn: bool) -> ProjectedReport {
        ProjectedReport {
            category: cat("kebersihan"),
            status,
            withdrawn,
            owner: owner(),
            visibility: Visibility::Private,
            agency: agency("AGENCY_INFRA"),
        }
    }
    fn key(category: &str, agency_code: &str, status: Status) -> CountKey {
        CountKey {
            owner: owner(),
            public: false,
            agency: agency(agency_code),
            category: cat(category),
            status,
        }
    }

    fn created(visibility: Visibility) -> EventEnvelope {
        DomainEvent::ReportCreated(ReportCreated {
            report_id: rid(),
            reporter_user_id: owner().user_id(),
            owner: owner(),
            visibility,
            title: "Sampah".into(),
            content: "menumpuk".into(),
            category: cat("kebersihan"),
            agency: agency("AGENCY_INFRA"),
            location: Some(Location {
                lat: -6.2,
                lon: 106.8,
                address: Some("Jl. Sudirman".into()),
            }),
            created_at: t(0),
        })
        .into_envelope(t(0))
    }
    fn updated(category: &str, agency_code: &str) -> EventEnvelope {
        DomainEvent::ReportUpdated(ReportUpdated {
            report_id: rid(),
            title: "Sampah lagi".into(),
            content: "masih".into(),
            category: cat(category),
            agency: agency(agency_code),
            location: None,
            updated_at: t(5),
        })
        .into_envelope(t(5))
    }
    fn withdrawn() -> EventEnvelope {
        DomainEvent::ReportWithdrawn(ReportWithdrawn {
            report_id: rid(),
            agency: agency("AGENCY_INFRA"),
            withdrawn_at: t(6),
        })
        .into_envelope(t(6))
    }
    fn upvoted(count: i64) -> EventEnvelope {
        DomainEvent::ReportUpvoted(ReportUpvoted {
            report_id: rid(),
            voter_user_id: UserId(uuid::Uuid::from_u128(9)),
            vote_count: count,
            created_at: t(7),
        })
        .into_envelope(t(7))
    }
    fn status(old: Status, new: Status, reason: Option<&str>) -> EventEnvelope {
        DomainEvent::StatusUpdated(StatusUpdated {
            report_id: rid(),
            old_status: old,
            new_status: new,
            owner_agency: agency("AGENCY_INFRA"),
            reason: reason.map(str::to_owned),
            actor_user_id: UserId(uuid::Uuid::from_u128(3)),
            changed_at: t(8),
        })
        .into_envelope(t(8))
    }
    fn answered() -> EventEnvelope {
        DomainEvent::CaseAnswered(CaseAnswered {
            report_id: rid(),
            answer_id: AnswerId(uuid::Uuid::from_u128(11)),
            owner_agency: agency("AGENCY_INFRA"),
            officer_user_id: UserId(uuid::Uuid::from_u128(3)),
            message: "Sedang ditangani".into(),
            answered_at: t(9),
        })
        .into_envelope(t(9))
    }
    fn escalated(level: i64) -> EventEnvelope {
        DomainEvent::ReportEscalated(ReportEscalated {
            report_id: rid(),
            reason: "SLA_BREACH".into(),
            escalation_level: level,
            owner_agency: agency("AGENCY_INFRA"),
            escalated_at: t(10),
        })
        .into_envelope(t(10))
    }
    fn photos() -> (EventEnvelope, Vec<PhotoId>) {
        let ids = vec![
            PhotoId(uuid::Uuid::from_u128(21)),
            PhotoId(uuid::Uuid::from_u128(22)),
        ];
        let e = DomainEvent::PhotosAdded(PhotosAdded {
            report_id: rid(),
            photo_ids: ids.clone(),
            agency: agency("AGENCY_INFRA"),
            added_at: t(11),
        })
        .into_envelope(t(11));
        (e, ids)
    }
    fn sla_started() -> EventEnvelope {
        DomainEvent::SlaStarted(SlaStarted {
            report_id: rid(),
            owner_agency: agency("AGENCY_INFRA"),
            due_at: t(60),
        })
        .into_envelope(t(0))
    }

    fn writes(d: Decision<ReadWrite>) -> Vec<ReadWrite> {
        match d {
            Decision::Write(w) => w,
            other => panic!("expected writes, got {other:?}"),
        }
    }

    #[test]
    fn created_on_empty_state_inserts_the_view_and_counts_it_everywhere() {
        let w = writes(react(&created(Visibility::Public), None, t(0)));
        assert_eq!(
            w,
            vec![
                ReadWrite::InsertView(Box::new(NewView {
                    report_id: rid(),
                    owner: owner(),
                    visibility: Visibility::Public,
                    title: "Sampah".into(),
                    content: "menumpuk".into(),
                    category: cat("kebersihan"),
                    agency: agency("AGENCY_INFRA"),
                    location: Some(Location {
                        lat: -6.2,
                        lon: 106.8,
                        address: Some("Jl. Sudirman".into()),
                    }),
                    status: Status::Received,
                    at: t(0),
                })),
                ReadWrite::BumpStats {
                    category: cat("kebersihan"),
                    status: Status::Received,
                    total_delta: 1,
                    status_delta: 1,
                    at: t(0),
                },
                ReadWrite::Count {
                    key: CountKey {
                        public: true,
                        ..key("kebersihan", "AGENCY_INFRA", Status::Received)
                    },
                    delta: 1,
                },
                ReadWrite::Timeline {
                    report_id: rid(),
                    kind: TimelineKind::Created,
                    status: Some(Status::Received),
                    message: None,
                    escalation_level: None,
                    at: t(0),
                },
            ]
        );
    }

    #[test]
    fn a_non_public_report_is_counted_as_not_public() {
        for vis in [Visibility::Private, Visibility::Anonymous] {
            let w = writes(react(&created(vis), None, t(0)));
            assert_eq!(
                w[2],
                ReadWrite::Count {
                    key: key("kebersihan", "AGENCY_INFRA", Status::Received),
                    delta: 1
                }
            );
        }
    }

    #[test]
    fn created_again_writes_nothing() {
        for s in [
            state(Status::Received, false),
            state(Status::Resolved, true),
        ] {
            assert_eq!(
                react(&created(Visibility::Public), Some(&s), t(0)),
                Decision::Write(vec![])
            );
        }
    }

    #[test]
    fn an_update_in_the_same_category_only_rewrites_the_content() {
        let s = state(Status::InProgress, false);
        let w = writes(react(
            &updated("kebersihan", "AGENCY_INFRA"),
            Some(&s),
            t(5),
        ));
        assert_eq!(
            w,
            vec![ReadWrite::UpdateContent {
                report_id: rid(),
                title: "Sampah lagi".into(),
                content: "masih".into(),
                category: cat("kebersihan"),
                agency: agency("AGENCY_INFRA"),
                location: None,
                at: t(5),
            }]
        );
    }

    #[test]
    fn an_update_that_re_routes_moves_the_statistics_and_the_counters() {
        let s = state(Status::InProgress, false);
        let w = writes(react(
            &updated("kesehatan", "AGENCY_HEALTH"),
            Some(&s),
            t(5),
        ));
        assert_eq!(
            w[1..],
            [
                ReadWrite::BumpStats {
                    category: cat("kebersihan"),
                    status: Status::InProgress,
                    total_delta: -1,
                    status_delta: -1,
                    at: t(5),
                },
                ReadWrite::BumpStats {
                    category: cat("kesehatan"),
                    status: Status::InProgress,
                    total_delta: 1,
                    status_delta: 1,
                    at: t(5),
                },
                ReadWrite::Count {
                    key: key("kebersihan", "AGENCY_INFRA", Status::InProgress),
                    delta: -1
                },
                ReadWrite::Count {
                    key: key("kesehatan", "AGENCY_HEALTH", Status::InProgress),
                    delta: 1
                },
            ]
        );
        assert!(matches!(w[0], ReadWrite::UpdateContent { .. }));
    }

    #[test]
    fn a_new_category_of_the_same_agency_moves_both() {
        let s = state(Status::Received, false);
        let w = writes(react(&updated("lainnya", "AGENCY_INFRA"), Some(&s), t(5)));
        assert_eq!(
            w[1..],
            [
                ReadWrite::BumpStats {
                    category: cat("kebersihan"),
                    status: Status::Received,
                    total_delta: -1,
                    status_delta: -1,
                    at: t(5),
                },
                ReadWrite::BumpStats {
                    category: cat("lainnya"),
                    status: Status::Received,
                    total_delta: 1,
                    status_delta: 1,
                    at: t(5),
                },
                ReadWrite::Count {
                    key: key("kebersihan", "AGENCY_INFRA", Status::Received),
                    delta: -1
                },
                ReadWrite::Count {
                    key: key("lainnya", "AGENCY_INFRA", Status::Received),
                    delta: 1
                },
            ]
        );
    }

    #[test]
    fn an_agency_change_alone_moves_only_the_counters() {
        // An admin re-routed the category between the report and the edit.
        let s = state(Status::Received, false);
        let w = writes(react(
            &updated("kebersihan", "AGENCY_HEALTH"),
            Some(&s),
            t(5),
        ));
        assert_eq!(
            w[1..],
            [
                ReadWrite::Count {
                    key: key("kebersihan", "AGENCY_INFRA", Status::Received),
                    delta: -1
                },
                ReadWrite::Count {
                    key: key("kebersihan", "AGENCY_HEALTH", Status::Received),
                    delta: 1
                },
            ]
        );
    }

    #[test]
    fn an_update_of_a_withdrawn_report_counts_nothing() {
        let s = state(Status::Received, true);
        let w = writes(react(
            &updated("kesehatan", "AGENCY_HEALTH"),
            Some(&s),
            t(5),
        ));
        assert_eq!(w.len(), 1);
        assert!(matches!(w[0], ReadWrite::UpdateContent { .. }));
    }

    #[test]
    fn withdrawn_hides_the_view_and_uncounts_it_once() {
        let s = state(Status::InProgress, false);
        assert_eq!(
            writes(react(&withdrawn(), Some(&s), t(6))),
            vec![
                ReadWrite::MarkWithdrawn {
                    report_id: rid(),
                    at: t(6)
                },
                ReadWrite::BumpStats {
                    category: cat("kebersihan"),
                    status: Status::InProgress,
                    total_delta: -1,
                    status_delta: -1,
                    at: t(6),
                },
                ReadWrite::Count {
                    key: key("kebersihan", "AGENCY_INFRA", Status::InProgress),
                    delta: -1
                },
                ReadWrite::Timeline {
                    report_id: rid(),
                    kind: TimelineKind::Withdrawn,
                    status: None,
                    message: None,
                    escalation_level: None,
                    at: t(6),
                },
            ]
        );
        let gone = state(Status::InProgress, true);
        assert_eq!(
            react(&withdrawn(), Some(&gone), t(6)),
            Decision::Write(vec![])
        );
    }

    #[test]
    fn an_upvote_raises_the_count_to_the_events() {
        let s = state(Status::Received, false);
        assert_eq!(
            writes(react(&upvoted(3), Some(&s), t(7))),
            vec![ReadWrite::RaiseVotes {
                report_id: rid(),
                vote_count: 3
            }]
        );
        // Votes are kept on a withdrawn view too (it is not shown).
        let gone = state(Status::Received, true);
        assert_eq!(writes(react(&upvoted(4), Some(&gone), t(7))).len(), 1);
    }

    #[test]
    fn a_status_change_moves_statistics_and_counters_and_adds_to_the_timeline() {
        let s = state(Status::InProgress, false);
        let e = status(Status::InProgress, Status::Rejected, Some("duplikat"));
        assert_eq!(
            writes(react(&e, Some(&s), t(8))),
            vec![
                ReadWrite::SetStatus {
                    report_id: rid(),
                    status: Status::Rejected,
                    at: t(8)
                },
                ReadWrite::BumpStats {
                    category: cat("kebersihan"),
                    status: Status::InProgress,
                    total_delta: 0,
                    status_delta: -1,
                    at: t(8),
                },
                ReadWrite::BumpStats {
                    category: cat("kebersihan"),
                    status: Status::Rejected,
                    total_delta: 0,
                    status_delta: 1,
                    at: t(8),
                },
                ReadWrite::Count {
                    key: key("kebersihan", "AGENCY_INFRA", Status::InProgress),
                    delta: -1
                },
                ReadWrite::Count {
                    key: key("kebersihan", "AGENCY_INFRA", Status::Rejected),
                    delta: 1
                },
                ReadWrite::Timeline {
                    report_id: rid(),
                    kind: TimelineKind::Status,
                    status: Some(Status::Rejected),
                    message: Some("duplikat".into()),
                    escalation_level: None,
                    at: t(8),
                },
            ]
        );
    }

    #[test]
    fn a_status_already_projected_or_of_a_withdrawn_report_counts_nothing() {
        let e = status(Status::Received, Status::InProgress, None);
        let timeline = ReadWrite::Timeline {
            report_id: rid(),
            kind: TimelineKind::Status,
            status: Some(Status::InProgress),
            message: None,
            escalation_level: None,
            at: t(8),
        };
        let set = ReadWrite::SetStatus {
            report_id: rid(),
            status: Status::InProgress,
            at: t(8),
        };
        for s in [
            state(Status::InProgress, false),
            state(Status::Received, true),
        ] {
            assert_eq!(
                writes(react(&e, Some(&s), t(8))),
                vec![set.clone(), timeline.clone()]
            );
        }
    }

    #[test]
    fn an_answer_only_adds_to_the_timeline() {
        let s = state(Status::InProgress, false);
        assert_eq!(
            writes(react(&answered(), Some(&s), t(9))),
            vec![ReadWrite::Timeline {
                report_id: rid(),
                kind: TimelineKind::Answer,
                status: None,
                message: Some("Sedang ditangani".into()),
                escalation_level: None,
                at: t(9),
            }]
        );
    }

    #[test]
    fn an_escalation_raises_the_level_and_adds_to_the_timeline() {
        let s = state(Status::Received, false);
        assert_eq!(
            writes(react(&escalated(2), Some(&s), t(10))),
            vec![
                ReadWrite::RaiseEscalation {
                    report_id: rid(),
                    level: 2
                },
                ReadWrite::Timeline {
                    report_id: rid(),
                    kind: TimelineKind::Escalation,
                    status: None,
                    message: None,
                    escalation_level: Some(2),
                    at: t(10),
                },
            ]
        );
    }

    #[test]
    fn photos_are_attached() {
        let s = state(Status::Received, false);
        let (e, ids) = photos();
        assert_eq!(
            writes(react(&e, Some(&s), t(11))),
            vec![ReadWrite::AddPhotos {
                report_id: rid(),
                photos: ids,
                at: t(11)
            }]
        );
    }

    #[test]
    fn events_about_a_missing_report_wait_for_it_then_are_skipped() {
        let (photos, _) = photos();
        for e in [
            updated("kesehatan", "AGENCY_HEALTH"),
            withdrawn(),
            upvoted(1),
            status(Status::Received, Status::InProgress, None),
            answered(),
            escalated(1),
            photos,
        ] {
            assert_eq!(
                react(&e, None, e.timestamp),
                Decision::RetryLater,
                "{}",
                e.event_type
            );
            let late = e.timestamp + super::super::RETRY_WINDOW + time::Duration::seconds(1);
            assert_eq!(react(&e, None, late), Decision::Skip, "{}", e.event_type);
        }
    }

    #[test]
    fn ignored_and_unknown_events_write_nothing_whatever_the_state() {
        let s = state(Status::Received, false);
        let e = sla_started();
        assert!(IGNORED.contains(&e.event_type.as_str()));
        assert_eq!(react(&e, None, t(0)), Decision::Write(vec![]));
        assert_eq!(react(&e, Some(&s), t(0)), Decision::Write(vec![]));
        let mut unknown = answered();
        unknown.event_type = "report.teleported".into();
        assert_eq!(react(&unknown, None, t(9)), Decision::Write(vec![]));
        let mut bad = answered();
        bad.payload = serde_json::json!({"report_id": 1});
        assert_eq!(react(&bad, Some(&s), t(9)), Decision::Write(vec![]));
    }

    /// The in-memory lists re-read the reports of the events that may change
    /// a listing: exactly those whose writes go beyond the timeline.
    #[test]
    fn changes_listings_matches_what_the_reactions_write() {
        let s = state(Status::Received, false);
        let (photos, _) = photos();
        let cases = [
            (created(Visibility::Public), None),
            (updated("kesehatan", "AGENCY_HEALTH"), Some(&s)),
            (withdrawn(), Some(&s)),
            (upvoted(1), Some(&s)),
            (status(Status::Received, Status::InProgress, None), Some(&s)),
            (answered(), Some(&s)),
            (escalated(1), Some(&s)),
            (photos, Some(&s)),
            (sla_started(), Some(&s)),
        ];
        for (e, state) in cases {
            let w = writes(react(&e, state, e.timestamp));
            let beyond_timeline = w.iter().any(|w| !matches!(w, ReadWrite::Timeline { .. }));
            assert_eq!(
                changes_listings(&e.event_type),
                beyond_timeline,
                "{}",
                e.event_type
            );
        }
    }

    #[test]
    fn timeline_kinds_keep_their_stored_names() {
        let names: Vec<_> = [
            TimelineKind::Created,
            TimelineKind::Status,
            TimelineKind::Answer,
            TimelineKind::Escalation,
            TimelineKind::Withdrawn,
        ]
        .map(TimelineKind::as_str)
        .into();
        assert_eq!(
            names,
            ["created", "status", "answer", "escalation", "withdrawn"]
        );
    }
}
