//! Reports, events and filters the behaviours are written with, and the
//! few helpers that wrap port calls whose signatures are expected to change
//! ([`vote`], [`note`], [`kinds`], [`change_status`], [`add_answer`]): adapt those here, not in every test.

use lapor_app::ports::{
    FeedSort, InboxFilter, InboxSort, NewNotification, NewPhoto, OperationsStore, Paging,
    ReportFilter, ReportingStore, StoreError, StoreResult,
};
use lapor_app::views::NotificationView;
use lapor_domain::Timestamp;
use lapor_domain::access::{ListingScope, Owner, OwnerTag, Visibility};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::{
    CaseAnswered, DomainEvent, EventEnvelope, PhotosAdded, ReportCreated, ReportEscalated,
    ReportUpdated, ReportUpvoted, ReportWithdrawn, SlaStarted, StatusUpdated,
};
use lapor_domain::ids::{AnswerId, NotificationId, PhotoId, ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_domain::report::{Location, Report};
use time::Duration;
use time::macros::datetime;

/// The time every fixture is placed relative to.
pub const T0: Timestamp = datetime!(2026-03-01 08:00 UTC);

pub fn at(secs: i64) -> Timestamp {
    T0 + Duration::seconds(secs)
}

/// The consumers' "now": the wall clock (events in these tests are fresh
/// enough that no consumer gives up on them).
pub fn now() -> Timestamp {
    time::OffsetDateTime::now_utc()
}

pub fn cat(s: &str) -> CategorySlug {
    CategorySlug::parse(s).unwrap()
}

pub fn agency(s: &str) -> AgencyCode {
    AgencyCode::parse(s).unwrap()
}

pub fn user() -> Owner {
    Owner::User(UserId::new_v7())
}

/// An anonymous reporter's pseudonym.
pub fn anon(c: char) -> Owner {
    Owner::Anonymous(OwnerTag::parse(&c.to_string().repeat(64)).unwrap())
}

/// A RECEIVED report filed `t` seconds after [`T0`].
pub fn report(owner: &Owner, vis: Visibility, category: &str, agency_code: &str, t: i64) -> Report {
    Report {
        id: ReportId::new_v7(),
        owner: owner.clone(),
        visibility: vis,
        title: format!("{category} at {t}"),
        content: "Jalan berlubang di depan sekolah".into(),
        category: cat(category),
        agency: agency(agency_code),
        location: Some(Location {
            lat: -6.200_000_123_456_789,
            lon: 106.816_666_987_654_32,
            address: Some("Jl. Sudirman 1".into()),
        }),
        status: Status::Received,
        withdrawn: false,
        vote_count: 0,
        created_at: at(t),
        updated_at: at(t),
    }
}

pub fn created(r: &Report) -> EventEnvelope {
    DomainEvent::ReportCreated(ReportCreated {
        report_id: r.id,
        reporter_user_id: r.owner.user_id(),
        owner: r.owner.clone(),
        visibility: r.visibility,
        title: r.title.clone(),
        content: r.content.clone(),
        category: r.category.clone(),
        agency: r.agency.clone(),
        location: r.location.clone(),
        created_at: r.created_at,
    })
    .into_envelope(r.created_at)
}

pub fn updated(r: &Report) -> EventEnvelope {
    DomainEvent::ReportUpdated(ReportUpdated {
        report_id: r.id,
        title: r.title.clone(),
        content: r.content.clone(),
        category: r.category.clone(),
        agency: r.agency.clone(),
        location: r.location.clone(),
        updated_at: r.updated_at,
    })
    .into_envelope(r.updated_at)
}

pub fn withdrawn(r: &Report, t: i64) -> EventEnvelope {
    DomainEvent::ReportWithdrawn(ReportWithdrawn {
        report_id: r.id,
        agency: r.agency.clone(),
        withdrawn_at: at(t),
    })
    .into_envelope(at(t))
}

pub fn upvoted(r: &Report, count: i64, t: i64) -> EventEnvelope {
    DomainEvent::ReportUpvoted(ReportUpvoted {
        report_id: r.id,
        voter_user_id: UserId::new_v7(),
        vote_count: count,
        created_at: at(t),
    })
    .into_envelope(at(t))
}

/// A status change by some officer.
pub fn status(r: &Report, old: Status, new: Status, t: i64) -> EventEnvelope {
    status_by(r, old, new, t, UserId::new_v7())
}

/// A status change by a known officer.
pub fn status_by(r: &Report, old: Status, new: Status, t: i64, by: UserId) -> EventEnvelope {
    DomainEvent::StatusUpdated(StatusUpdated {
        report_id: r.id,
        old_status: old,
        new_status: new,
        owner_agency: r.agency.clone(),
        reason: (new == Status::Rejected).then(|| "duplicate".into()),
        actor_user_id: by,
        changed_at: at(t),
    })
    .into_envelope(at(t))
}

/// An answer by some officer.
pub fn answered(r: &Report, t: i64) -> EventEnvelope {
    answered_by(r, t, UserId::new_v7())
}

pub fn answered_by(r: &Report, t: i64, by: UserId) -> EventEnvelope {
    DomainEvent::CaseAnswered(CaseAnswered {
        report_id: r.id,
        answer_id: AnswerId::new_v7(),
        owner_agency: r.agency.clone(),
        officer_user_id: by,
        message: "Tim sudah dikirim".into(),
        answered_at: at(t),
    })
    .into_envelope(at(t))
}

pub fn escalated(r: &Report, level: i64, t: i64) -> EventEnvelope {
    DomainEvent::ReportEscalated(ReportEscalated {
        report_id: r.id,
        reason: "SLA_BREACH".into(),
        escalation_level: level,
        owner_agency: r.agency.clone(),
        escalated_at: at(t),
    })
    .into_envelope(at(t))
}

pub fn sla_started(r: &Report, due: i64) -> EventEnvelope {
    DomainEvent::SlaStarted(SlaStarted {
        report_id: r.id,
        owner_agency: r.agency.clone(),
        due_at: at(due),
    })
    .into_envelope(r.created_at)
}

/// `n` sanitised photos as the reporting write side records them.
pub fn new_photos(n: usize) -> Vec<NewPhoto> {
    (0..n)
        .map(|i| NewPhoto {
            id: PhotoId::new_v7(),
            width: 640 + i as u32,
            height: 480,
            bytes: 50_000,
        })
        .collect()
}

pub fn photos_added(r: &Report, photos: &[NewPhoto], t: i64) -> EventEnvelope {
    DomainEvent::PhotosAdded(PhotosAdded {
        report_id: r.id,
        photo_ids: photos.iter().map(|p| p.id).collect(),
        agency: r.agency.clone(),
        added_at: at(t),
    })
    .into_envelope(at(t))
}

// ---------------------------------------------------------------- port calls that will change

/// One upvote through [`ReportingStore::add_vote`], with the domain's event
/// builder.
pub async fn vote(
    rep: &dyn ReportingStore,
    id: ReportId,
    voter: UserId,
    at: Timestamp,
) -> StoreResult<Option<i64>> {
    rep.add_vote(id, voter, at, lapor_domain::report::upvoted)
        .await
}

/// An escalation notification for `recipient` (the one place that builds a
/// [`NewNotification`]).
pub fn note(recipient: &Owner, report_id: ReportId, created_at: Timestamp) -> NewNotification {
    NewNotification {
        id: NotificationId::new_v7(),
        recipient: recipient.clone(),
        report_id,
        notice: lapor_domain::notices::Notice::EscalatedReporter {
            escalation_level: 1,
        },
        created_at,
    }
}

/// The kinds of these notifications, in order (the one place that reads a
/// [`NotificationView`]'s kind).
pub fn kinds(notes: &[NotificationView]) -> Vec<String> {
    notes.iter().map(|n| n.notice.kind().to_owned()).collect()
}

/// [`OperationsStore::change_status`] with the typed change read back from
/// its envelope (the port takes both).
pub async fn change_status(ops: &dyn OperationsStore, e: EventEnvelope) -> StoreResult<()> {
    let Ok(DomainEvent::StatusUpdated(s)) = e.decode() else {
        panic!("not a status change: {e:?}");
    };
    ops.change_status(&s, &e).await
}

/// [`OperationsStore::add_answer`] with the typed answer read back from its
/// envelope (the port takes both).
pub async fn add_answer(ops: &dyn OperationsStore, e: EventEnvelope) -> StoreResult<()> {
    let Ok(DomainEvent::CaseAnswered(a)) = e.decode() else {
        panic!("not an answer: {e:?}");
    };
    ops.add_answer(&a, &e).await
}

// ---------------------------------------------------------------- filters and checks

pub fn conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::Conflict(_))),
        "expected a conflict, got {r:?}"
    );
}

/// Two ids in newest-first order for rows created at the same time (the
/// id breaks the tie, descending).
pub fn by_id_desc(x: ReportId, y: ReportId) -> [ReportId; 2] {
    if x > y { [x, y] } else { [y, x] }
}

pub fn ids<T>(items: &[T], id: impl Fn(&T) -> ReportId) -> Vec<ReportId> {
    items.iter().map(id).collect()
}

/// A newest-first listing without owner, category, status or search filters.
pub fn filter(scope: ListingScope, paging: Paging) -> ReportFilter {
    ReportFilter {
        scope,
        only_owners: None,
        category: None,
        status: None,
        search: None,
        sort: FeedSort::Newest,
        paging,
    }
}

/// One page with everything the fixtures create.
pub const ALL_PAGE: Paging = Paging::Offset {
    page: 1,
    per_page: 100,
};

/// The newest-first inbox of one agency (or every agency).
pub fn inbox(agency_code: Option<&str>, limit: i64) -> InboxFilter {
    InboxFilter {
        agency: agency_code.map(agency),
        status: None,
        category: None,
        overdue_only: false,
        now: at(0),
        sort: InboxSort::Newest,
        paging: Paging::Keyset { after: None, limit },
    }
}
