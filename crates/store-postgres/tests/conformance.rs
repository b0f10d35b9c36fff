//! The PostgreSQL stores against the behaviour the SQLite engine defines:
//! conditional updates that settle races, outbox claims and replay, every
//! consumer applying events idempotently, listings with scopes and paging,
//! SLA escalation raced by two workers.
//!
//! Runs only when `LAPOR_TEST_DATABASE_URL` names a server and a database to
//! connect to for administration (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); otherwise each test says
//! it skipped. Every test creates its own database (`lapor_test_<uuid>`)
//! and drops it afterwards, also when it fails.
//!
//! With `LAPOR_TEST_PGBOUNCER_URL` also set (a PgBouncer in transaction
//! pooling mode in front of the same server, any database name), the stores
//! are migrated directly and then used through PgBouncer with the statement
//! cache disabled.

use lapor_app::ports::{
    EventConsumer, FeedSort, IdentityStore, InboxFilter, InboxSort, NewNotification,
    OperationsStore, Outbox, Paging, ReadStore, ReportFilter, ReportingStore, SlaConfig, SlaFilter,
    StoreError, UserRecord, WorkflowStore,
};
use lapor_domain::Timestamp;
use lapor_domain::access::{ListingScope, Owner, OwnerTag, Role, Visibility};
use lapor_domain::catalog::{Agency, AgencyCode, Category, CategorySlug};
use lapor_domain::events::{
    CaseAnswered, DomainEvent, EventEnvelope, ReportCreated, ReportEscalated, ReportUpdated,
    ReportUpvoted, ReportWithdrawn, SlaStarted, StatusUpdated,
};
use lapor_domain::ids::{AnswerId, NotificationId, ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_domain::notices::Notice;
use lapor_domain::report::{self, Location, Report};
use lapor_domain::sla::{self, SlaStatus};
use lapor_store_postgres::{PgStores, PgUrls, PoolSettings, connect, open, read_group, redact};
use sqlx::Connection;
use time::Duration;
use time::macros::datetime;

// ---------------------------------------------------------------- harness

/// Databases created for one test; dropped (WITH (FORCE)) when the guard
/// goes out of scope, also while a failed test unwinds.
struct TestDbs {
    admin: String,
    names: Vec<String>,
}

fn admin_url() -> Option<String> {
    match std::env::var("LAPOR_TEST_DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            println!("skipped: set LAPOR_TEST_DATABASE_URL");
            None
        }
    }
}

/// `admin` with its database name replaced by `name`.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after_scheme..]
        .find('/')
        .map(|i| i + after_scheme)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..host_end])
}

impl TestDbs {
    fn new(admin: String) -> Self {
        Self {
            admin,
            names: vec![],
        }
    }

    /// Creates a fresh database and returns its URL.
    async fn create(&mut self) -> String {
        let name = format!("lapor_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&self.admin)
            .await
            .expect("connect to LAPOR_TEST_DATABASE_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        self.names.push(name.clone());
        with_database(&self.admin, &name)
    }
}

impl Drop for TestDbs {
    fn drop(&mut self) {
        if self.names.is_empty() {
            return;
        }
        let admin = self.admin.clone();
        let names = std::mem::take(&mut self.names);
        // The test's runtime may be the one being dropped: clean up on a
        // thread with its own.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await else {
                    eprintln!("could not connect to drop {names:?}");
                    return;
                };
                for n in names {
                    if let Err(e) =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await
                    {
                        eprintln!("could not drop {n}: {e}");
                    }
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// One fresh database with every context in it.
async fn setup() -> Option<(TestDbs, String, PgStores)> {
    let mut dbs = TestDbs::new(admin_url()?);
    let url = dbs.create().await;
    let stores = open(&PgUrls::single(&url), PoolSettings::default())
        .await
        .expect("open stores");
    let Some(bouncer) = std::env::var("LAPOR_TEST_PGBOUNCER_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        return Some((dbs, url, stores));
    };
    stores.close().await;
    let name = dbs.names.last().expect("created").clone();
    let settings = PoolSettings {
        statement_cache_capacity: 0,
        ..PoolSettings::default()
    };
    let stores = connect(&PgUrls::single(with_database(&bouncer, &name)), settings)
        .await
        .expect("connect through PgBouncer");
    Some((dbs, url, stores))
}

// ---------------------------------------------------------------- fixtures

const T0: Timestamp = datetime!(2026-03-01 08:00 UTC);

fn at(secs: i64) -> Timestamp {
    T0 + Duration::seconds(secs)
}

fn cat(s: &str) -> CategorySlug {
    CategorySlug::parse(s).unwrap()
}

fn agency(s: &str) -> AgencyCode {
    AgencyCode::parse(s).unwrap()
}

fn user() -> Owner {
    Owner::User(UserId::new_v7())
}

fn anon(c: char) -> Owner {
    Owner::Anonymous(OwnerTag::parse(&c.to_string().repeat(64)).unwrap())
}

fn report(owner: &Owner, vis: Visibility, category: &str, agency_code: &str, t: i64) -> Report {
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

fn created(r: &Report) -> EventEnvelope {
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

fn updated(r: &Report) -> EventEnvelope {
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

fn withdrawn(r: &Report, t: i64) -> EventEnvelope {
    DomainEvent::ReportWithdrawn(ReportWithdrawn {
        report_id: r.id,
        agency: r.agency.clone(),
        withdrawn_at: at(t),
    })
    .into_envelope(at(t))
}

fn upvoted(r: &Report, count: i64, t: i64) -> EventEnvelope {
    DomainEvent::ReportUpvoted(ReportUpvoted {
        report_id: r.id,
        voter_user_id: UserId::new_v7(),
        vote_count: count,
        created_at: at(t),
    })
    .into_envelope(at(t))
}

fn status(r: &Report, old: Status, new: Status, t: i64) -> EventEnvelope {
    DomainEvent::StatusUpdated(StatusUpdated {
        report_id: r.id,
        old_status: old,
        new_status: new,
        owner_agency: r.agency.clone(),
        reason: (new == Status::Rejected).then(|| "duplicate".into()),
        actor_user_id: UserId::new_v7(),
        changed_at: at(t),
    })
    .into_envelope(at(t))
}

fn answered(r: &Report, t: i64) -> EventEnvelope {
    DomainEvent::CaseAnswered(CaseAnswered {
        report_id: r.id,
        answer_id: AnswerId::new_v7(),
        owner_agency: r.agency.clone(),
        officer_user_id: UserId::new_v7(),
        message: "Tim sudah dikirim".into(),
        answered_at: at(t),
    })
    .into_envelope(at(t))
}

fn escalated(r: &Report, level: i64, t: i64) -> EventEnvelope {
    DomainEvent::ReportEscalated(ReportEscalated {
        report_id: r.id,
        reason: "SLA_BREACH".into(),
        escalation_level: level,
        owner_agency: r.agency.clone(),
        escalated_at: at(t),
    })
    .into_envelope(at(t))
}

/// `change_status` with the typed change read back from its envelope.
async fn change_status(ops: &dyn OperationsStore, e: EventEnvelope) -> Result<(), StoreError> {
    let Ok(DomainEvent::StatusUpdated(s)) = e.decode() else {
        panic!("not a status change: {e:?}");
    };
    ops.change_status(&s, &e).await
}

/// `add_answer` with the typed answer read back from its envelope.
async fn add_answer(ops: &dyn OperationsStore, e: EventEnvelope) -> Result<(), StoreError> {
    let Ok(DomainEvent::CaseAnswered(a)) = e.decode() else {
        panic!("not an answer: {e:?}");
    };
    ops.add_answer(&a, &e).await
}

fn conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::Conflict(_))),
        "expected a conflict, got {r:?}"
    );
}

/// Two ids in newest-first order for rows created at the same time (the
/// id breaks the tie, descending).
fn by_id_desc(x: ReportId, y: ReportId) -> [ReportId; 2] {
    if x > y { [x, y] } else { [y, x] }
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> ReportId) -> Vec<ReportId> {
    items.iter().map(id).collect()
}

// ---------------------------------------------------------------- reporting (write)

#[tokio::test]
async fn reports_are_inserted_updated_and_withdrawn_under_conditions() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let rep = &s.reporting;
    let owner = user();
    let r = report(
        &owner,
        Visibility::Public,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    rep.insert_report(&r, &created(&r)).await.unwrap();
    assert_eq!(rep.report(r.id).await.unwrap(), Some(r.clone()));
    assert_eq!(rep.report(ReportId::new_v7()).await.unwrap(), None);
    conflict(rep.insert_report(&r, &created(&r)).await);
    assert_eq!(rep.count_reports().await.unwrap(), 1);

    // an edit must name the version it was based on
    let mut r2 = r.clone();
    r2.title = "Lubang besar".into();
    r2.category = cat("kebersihan");
    r2.location = None;
    r2.updated_at = at(1);
    let ev = updated(&r2);
    conflict(rep.update_report(&r2, at(5), &ev).await);
    rep.update_report(&r2, r.updated_at, &ev).await.unwrap();
    assert_eq!(rep.report(r.id).await.unwrap(), Some(r2.clone()));
    conflict(rep.update_report(&r2, r.updated_at, &updated(&r2)).await);

    rep.withdraw_report(r.id, &withdrawn(&r, 2)).await.unwrap();
    let w = rep.report(r.id).await.unwrap().unwrap();
    assert!(w.withdrawn);
    assert_eq!(w.updated_at, at(2));
    conflict(rep.withdraw_report(r.id, &withdrawn(&r, 3)).await);
    conflict(rep.update_report(&r2, at(2), &updated(&r2)).await);

    // only the successful commands appended events
    let rows = rep.replay(0, 100).await.unwrap();
    let types: Vec<_> = rows.iter().map(|o| o.event.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["report.created", "report.updated", "report.withdrawn"]
    );
    assert_eq!(rows[1].event, ev);
}

#[tokio::test]
async fn reporting_mirrors_case_status_idempotently() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let rep = &s.reporting;
    assert_eq!(rep.group(), "reporting");
    let owner = user();
    let a = report(
        &owner,
        Visibility::Public,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    let b = report(&owner, Visibility::Private, "kesehatan", "AGENCY_HEALTH", 1);
    rep.insert_report(&a, &created(&a)).await.unwrap();
    rep.insert_report(&b, &created(&b)).await.unwrap();

    let batch = vec![
        created(&a), // not for this consumer
        status(&a, Status::Received, Status::InProgress, 10),
        status(&b, Status::Received, Status::InProgress, 11),
        status(&b, Status::InProgress, Status::Resolved, 12),
    ];
    assert_eq!(rep.apply(&batch, now()).await.unwrap(), 3);
    let before = (
        rep.report(a.id).await.unwrap(),
        rep.report(b.id).await.unwrap(),
    );
    assert_eq!(rep.apply(&batch, now()).await.unwrap(), 0);
    assert_eq!(
        (
            rep.report(a.id).await.unwrap(),
            rep.report(b.id).await.unwrap()
        ),
        before
    );
    assert_eq!(before.0.unwrap().status, Status::InProgress);
    assert_eq!(before.1.unwrap().status, Status::Resolved);

    // edits only while RECEIVED; withdrawals only while open
    let mut a2 = a.clone();
    a2.title = "x".into();
    a2.updated_at = at(20);
    conflict(rep.update_report(&a2, a.updated_at, &updated(&a2)).await);
    conflict(rep.withdraw_report(b.id, &withdrawn(&b, 21)).await);
    rep.withdraw_report(a.id, &withdrawn(&a, 22)).await.unwrap();
    assert!(
        rep.reset().await.is_err(),
        "the write side cannot be rebuilt"
    );
}

#[tokio::test]
async fn one_voter_racing_counts_once() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let rep = s.reporting.clone();
    let r = report(
        &user(),
        Visibility::Public,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    rep.insert_report(&r, &created(&r)).await.unwrap();

    let (id, voter) = (r.id, UserId::new_v7());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let rep = rep.clone();
        tasks.spawn(async move {
            rep.add_vote(id, voter, at(1), report::upvoted)
                .await
                .unwrap()
        });
    }
    let results = tasks.join_all().await;
    assert_eq!(results.iter().filter(|c| **c == Some(1)).count(), 1);
    assert_eq!(results.iter().filter(|c| c.is_none()).count(), 15);

    // distinct voters at once: each gets its own count
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let rep = rep.clone();
        tasks.spawn(async move {
            rep.add_vote(id, UserId::new_v7(), at(2), report::upvoted)
                .await
                .unwrap()
                .unwrap()
        });
    }
    let mut counts = tasks.join_all().await;
    counts.sort();
    assert_eq!(counts, (2..=11).collect::<Vec<i64>>());
    assert_eq!(rep.report(r.id).await.unwrap().unwrap().vote_count, 11);

    let upvotes: Vec<i64> = rep
        .replay(0, 100)
        .await
        .unwrap()
        .iter()
        .filter_map(|o| match o.event.decode() {
            Ok(DomainEvent::ReportUpvoted(v)) => Some(v.vote_count),
            _ => None,
        })
        .collect();
    assert_eq!(upvotes.len(), 11);

    // a PRIVATE report cannot be upvoted, and the refused vote is not kept
    let p = report(
        &user(),
        Visibility::Private,
        "kesehatan",
        "AGENCY_HEALTH",
        3,
    );
    rep.insert_report(&p, &created(&p)).await.unwrap();
    conflict(rep.add_vote(p.id, voter, at(4), report::upvoted).await);
    conflict(rep.add_vote(p.id, voter, at(4), report::upvoted).await);
    assert_eq!(rep.report(p.id).await.unwrap().unwrap().vote_count, 0);
}

// ---------------------------------------------------------------- outbox

#[tokio::test]
async fn relays_claim_rows_mark_them_and_replay_keeps_them() {
    let Some((dbs, url, s)) = setup().await else {
        return;
    };
    let rep = &s.reporting;
    assert_eq!(rep.source(), "reporting");
    let mut events = vec![];
    for i in 0..5 {
        let r = report(
            &user(),
            Visibility::Public,
            "infrastruktur",
            "AGENCY_INFRA",
            i,
        );
        let ev = created(&r);
        rep.insert_report(&r, &ev).await.unwrap();
        events.push(ev);
    }
    assert_eq!(rep.unrelayed_count().await.unwrap(), 5);

    let first = rep.unrelayed(3).await.unwrap();
    let seqs: Vec<i64> = first.iter().map(|o| o.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert_eq!(
        first.iter().map(|o| o.event.clone()).collect::<Vec<_>>(),
        events[..3]
    );
    // reading again (after a failed publish) returns the same claimed rows
    assert_eq!(
        rep.unrelayed(3)
            .await
            .unwrap()
            .iter()
            .map(|o| o.seq)
            .collect::<Vec<_>>(),
        seqs
    );

    // a second instance's relay waits for the first one's batch
    let other = open(&PgUrls::single(&url), PoolSettings::default())
        .await
        .unwrap();
    assert!(other.reporting.unrelayed(10).await.unwrap().is_empty());

    rep.mark_relayed(&seqs).await.unwrap();
    rep.mark_relayed(&[]).await.unwrap();
    assert_eq!(rep.unrelayed_count().await.unwrap(), 2);
    let second = other.reporting.unrelayed(10).await.unwrap();
    assert_eq!(
        second.iter().map(|o| o.event.clone()).collect::<Vec<_>>(),
        events[3..]
    );
    assert!(rep.unrelayed(10).await.unwrap().is_empty());

    // the second relay dies before marking: once its claim expires the rows
    // are published again (a duplicate consumers ignore), never lost
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE reporting.outbox SET claimed_until = claimed_until - $1")
        .bind(lapor_store_postgres::CLAIM_LEASE_MS + 1)
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let again = rep.unrelayed(10).await.unwrap();
    assert_eq!(
        again.iter().map(|o| o.seq).collect::<Vec<_>>(),
        second.iter().map(|o| o.seq).collect::<Vec<_>>()
    );
    rep.mark_relayed(&again.iter().map(|o| o.seq).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(rep.unrelayed_count().await.unwrap(), 0);
    assert!(rep.unrelayed(10).await.unwrap().is_empty());

    // replay reads everything, relayed or not, by position
    let all = rep.replay(0, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|o| o.event.clone()).collect::<Vec<_>>(),
        events
    );
    let page = rep.replay(all[1].seq, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|o| o.seq).collect::<Vec<_>>(),
        [all[2].seq, all[3].seq]
    );
    assert!(rep.replay(all[4].seq, 10).await.unwrap().is_empty());

    assert_eq!(s.operations.source(), "operations");
    assert_eq!(s.workflow.source(), "workflow");
    assert_eq!(s.operations.unrelayed_count().await.unwrap(), 0);
    other.close().await;
    s.close().await;
    drop(dbs);
}

// ---------------------------------------------------------------- read side

struct ReadFixture {
    u1: Owner,
    u2: Owner,
    tag: Owner,
    a: Report,
    b: Report,
    c: Report,
    d: Report,
    e: Report,
    f: Report,
    g: Report,
    events: Vec<EventEnvelope>,
}

fn read_fixture() -> ReadFixture {
    let (u1, u2, u3, tag) = (user(), user(), user(), anon('a'));
    let a = report(&u1, Visibility::Public, "infrastruktur", "AGENCY_INFRA", 0);
    let b = report(&u1, Visibility::Private, "kesehatan", "AGENCY_HEALTH", 1);
    let c = report(&tag, Visibility::Anonymous, "kebersihan", "AGENCY_INFRA", 2);
    let d = report(&u2, Visibility::Public, "keamanan", "AGENCY_SAFETY", 3);
    let g = report(&u3, Visibility::Public, "keamanan", "AGENCY_SAFETY", 3);
    let e = report(&u2, Visibility::Public, "infrastruktur", "AGENCY_INFRA", 4);
    let f = report(&u2, Visibility::Private, "kesehatan", "AGENCY_HEALTH", 5);
    let mut b2 = b.clone();
    b2.category = cat("keamanan");
    b2.agency = agency("AGENCY_SAFETY");
    b2.updated_at = at(30);
    let events = vec![
        created(&a),
        created(&b),
        created(&c),
        created(&d),
        created(&g),
        created(&e),
        created(&f),
        upvoted(&d, 3, 20),
        upvoted(&d, 1, 21), // stale: an older count delivered late
        upvoted(&g, 1, 22),
        status(&a, Status::Received, Status::InProgress, 40),
        answered(&a, 41),
        escalated(&a, 1, 42),
        escalated(&a, 1, 43), // a redelivered escalation under a new id
        updated(&b2),
        withdrawn(&e, 50),
        status(&f, Status::Received, Status::InProgress, 60),
        status(&f, Status::InProgress, Status::Resolved, 61),
    ];
    ReadFixture {
        u1,
        u2,
        tag,
        a,
        b,
        c,
        d,
        e,
        f,
        g,
        events,
    }
}

fn filter(scope: ListingScope, paging: Paging) -> ReportFilter {
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

const ALL_PAGE: Paging = Paging::Offset {
    page: 1,
    per_page: 100,
};

/// Everything the read store shows, for before/after comparisons.
async fn read_snapshot(read: &dyn ReadStore, ids: &[ReportId]) -> serde_json::Value {
    let listing = read
        .list_reports(&filter(ListingScope::All, ALL_PAGE))
        .await
        .unwrap();
    let mut singles = vec![];
    for id in ids {
        singles.push(serde_json::to_value(read.report(*id, true).await.unwrap()).unwrap());
    }
    serde_json::json!({
        "listing": serde_json::to_value(&listing.items).unwrap(),
        "total": listing.total,
        "singles": singles,
        "stats": serde_json::to_value(read.statistics(None).await.unwrap()).unwrap(),
        "count": read.count_reports().await.unwrap(),
    })
}

#[tokio::test]
async fn the_projector_applies_events_once_and_rebuilds_identically() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let read = s.reads[0].clone();
    assert_eq!(read.group(), "projector:read");
    let fx = read_fixture();
    let all_ids = [
        fx.a.id, fx.b.id, fx.c.id, fx.d.id, fx.e.id, fx.f.id, fx.g.id,
    ];
    let n = fx.events.len();

    // a first, partial delivery, then the whole batch redelivered
    assert_eq!(read.apply(&fx.events[..9], now()).await.unwrap(), 9);
    assert_eq!(read.apply(&fx.events, now()).await.unwrap(), n - 9);
    let once = read_snapshot(read.as_ref(), &all_ids).await;
    assert_eq!(read.apply(&fx.events, now()).await.unwrap(), 0);
    assert_eq!(read_snapshot(read.as_ref(), &all_ids).await, once);

    // rebuilt from scratch: the same picture
    read.reset().await.unwrap();
    assert_eq!(read.count_reports().await.unwrap(), 0);
    assert!(read.statistics(None).await.unwrap().is_empty());
    assert_eq!(read.apply(&fx.events, now()).await.unwrap(), n);
    assert_eq!(read_snapshot(read.as_ref(), &all_ids).await, once);

    // what the projection holds
    let a = read.report(fx.a.id, true).await.unwrap().unwrap();
    assert_eq!(a.status, Status::InProgress);
    assert_eq!(a.escalation_level, 1);
    assert_eq!(a.last_status_at, at(40));
    assert_eq!(a.owner, Some(fx.u1.clone()));
    assert_eq!(a.reporter_user_id, fx.u1.user_id());
    assert_eq!(a.location.as_ref().unwrap().lat, -6.200_000_123_456_789);
    let timeline = a.timeline.unwrap();
    let kinds: Vec<_> = timeline.iter().map(|t| t.kind.clone()).collect();
    assert_eq!(
        kinds,
        ["created", "status", "answer", "escalation", "escalation"]
    );
    // Several reports' timelines in one read match the single reads.
    let many = read.timelines(&[fx.a.id, fx.c.id]).await.unwrap();
    let of_a: Vec<_> = many
        .iter()
        .filter(|(id, _)| *id == fx.a.id)
        .map(|(_, t)| t.kind.clone())
        .collect();
    assert_eq!(of_a, kinds);
    let of_c = read
        .report(fx.c.id, true)
        .await
        .unwrap()
        .unwrap()
        .timeline
        .unwrap();
    assert_eq!(many.len(), timeline.len() + of_c.len());
    assert!(read.timelines(&[]).await.unwrap().is_empty());
    assert!(
        read.report(fx.a.id, false)
            .await
            .unwrap()
            .unwrap()
            .timeline
            .is_none()
    );
    let c = read.report(fx.c.id, false).await.unwrap().unwrap();
    assert_eq!(c.reporter_user_id, None);
    assert_eq!(c.owner, Some(fx.tag.clone()));
    let d = read.report(fx.d.id, false).await.unwrap().unwrap();
    assert_eq!(d.vote_count, 3, "a stale count never lowers the counter");
    let b = read.report(fx.b.id, false).await.unwrap().unwrap();
    assert_eq!(b.category, cat("keamanan"));
    assert_eq!(b.updated_at, at(30));
    assert!(
        read.report(fx.e.id, false).await.unwrap().is_none(),
        "withdrawn"
    );
    // Every projected report, the withdrawn one included (check-sync
    // compares this with the write side).
    assert_eq!(read.count_reports().await.unwrap(), 7);

    // statistics: B moved to keamanan, E withdrawn, F resolved
    let stats = read.statistics(None).await.unwrap();
    let row = |c: &str| stats.iter().find(|s| s.category.as_str() == c).unwrap();
    assert_eq!(
        stats
            .iter()
            .map(|s| s.category.as_str())
            .collect::<Vec<_>>(),
        ["infrastruktur", "keamanan", "kebersihan", "kesehatan"]
    );
    let infra = row("infrastruktur");
    assert_eq!(
        (
            infra.total_count,
            infra.pending_count,
            infra.in_progress_count
        ),
        (1, 0, 1)
    );
    assert_eq!(
        (row("keamanan").total_count, row("keamanan").pending_count),
        (3, 3)
    );
    assert_eq!(
        (
            row("kebersihan").total_count,
            row("kebersihan").pending_count
        ),
        (1, 1)
    );
    let health = row("kesehatan");
    assert_eq!(
        (
            health.total_count,
            health.pending_count,
            health.resolved_count
        ),
        (1, 0, 1)
    );
    assert_eq!(health.last_updated, at(61));
    let one = read.statistics(Some(&cat("keamanan"))).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].total_count, 3);
    let _ = (&fx.u2, &fx.g);
}

#[tokio::test]
async fn listings_follow_scopes_filters_and_paging() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let read = s.reads[0].clone();
    let fx = read_fixture();
    read.apply(&fx.events, now()).await.unwrap();
    // D and G share a creation time: the id breaks the tie (descending)
    let [dg_first, dg_second] = by_id_desc(fx.d.id, fx.g.id);
    let list = |f: ReportFilter| {
        let read = read.clone();
        async move { read.list_reports(&f).await.unwrap() }
    };

    let public = list(filter(ListingScope::PublicOnly, ALL_PAGE)).await;
    assert_eq!(ids(&public.items, |v| v.id), [dg_first, dg_second, fx.a.id]);
    assert_eq!(public.total, Some(3));
    assert_eq!(public.next_cursor, None);

    let citizen = list(filter(
        ListingScope::PublicAndOwn(vec![fx.u1.clone(), fx.tag.clone()]),
        ALL_PAGE,
    ))
    .await;
    assert_eq!(
        ids(&citizen.items, |v| v.id),
        [dg_first, dg_second, fx.c.id, fx.b.id, fx.a.id]
    );
    let none_owned = list(filter(ListingScope::PublicAndOwn(vec![]), ALL_PAGE)).await;
    assert_eq!(none_owned.total, Some(3));

    // u2 works at AGENCY_HEALTH: public + own (F; E withdrawn) + agency (F)
    let staff = list(filter(
        ListingScope::PublicOwnAndAgency(vec![fx.u2.clone()], agency("AGENCY_HEALTH")),
        ALL_PAGE,
    ))
    .await;
    assert_eq!(
        ids(&staff.items, |v| v.id),
        [fx.f.id, dg_first, dg_second, fx.a.id]
    );
    // B moved to AGENCY_SAFETY with its category
    let safety = list(filter(
        ListingScope::PublicOwnAndAgency(vec![user()], agency("AGENCY_SAFETY")),
        ALL_PAGE,
    ))
    .await;
    assert_eq!(
        ids(&safety.items, |v| v.id),
        [dg_first, dg_second, fx.b.id, fx.a.id]
    );

    let everything = list(filter(ListingScope::All, ALL_PAGE)).await;
    assert_eq!(
        ids(&everything.items, |v| v.id),
        [fx.f.id, dg_first, dg_second, fx.c.id, fx.b.id, fx.a.id]
    );
    assert_eq!(everything.total, Some(6));

    let mut mine = filter(ListingScope::All, ALL_PAGE);
    mine.only_owners = Some(vec![fx.u2.clone()]);
    assert_eq!(ids(&list(mine).await.items, |v| v.id), [fx.f.id, fx.d.id]);

    let mut infra = filter(ListingScope::All, ALL_PAGE);
    infra.category = Some(cat("infrastruktur"));
    assert_eq!(ids(&list(infra).await.items, |v| v.id), [fx.a.id]);

    let mut in_progress = filter(ListingScope::All, ALL_PAGE);
    in_progress.status = Some(Status::InProgress);
    assert_eq!(ids(&list(in_progress).await.items, |v| v.id), [fx.a.id]);

    let mut top = filter(ListingScope::PublicOnly, ALL_PAGE);
    top.sort = FeedSort::MostUpvoted;
    // D has 3 votes, G 1, A none
    assert_eq!(
        ids(&list(top).await.items, |v| v.id),
        [fx.d.id, fx.g.id, fx.a.id]
    );

    // offset pages carry the total of the whole filter
    let page2 = list(filter(
        ListingScope::All,
        Paging::Offset {
            page: 2,
            per_page: 4,
        },
    ))
    .await;
    assert_eq!(ids(&page2.items, |v| v.id), [fx.b.id, fx.a.id]);
    assert_eq!(page2.total, Some(6));

    // keyset pages walk the same order without gaps or repeats
    let mut walked = vec![];
    let mut after = None;
    loop {
        let page = list(filter(
            ListingScope::All,
            Paging::Keyset { after, limit: 2 },
        ))
        .await;
        assert!(page.items.len() <= 2);
        assert_eq!(page.total, None);
        walked.extend(ids(&page.items, |v| v.id));
        match page.next_cursor {
            Some(c) => after = Some(lapor_app::ports::Cursor::decode(&c).unwrap()),
            None => break,
        }
    }
    assert_eq!(walked, ids(&everything.items, |v| v.id));
    let mut top_keyset = filter(
        ListingScope::All,
        Paging::Keyset {
            after: None,
            limit: 2,
        },
    );
    top_keyset.sort = FeedSort::MostUpvoted;
    assert_eq!(
        list(top_keyset).await.next_cursor,
        None,
        "no cursor for top"
    );
    let _ = &fx.e;
}

#[tokio::test]
async fn several_read_databases_keep_their_own_state() {
    let Some(admin) = admin_url() else {
        return;
    };
    let mut dbs = TestDbs::new(admin);
    let (main, cases, replica) = (dbs.create().await, dbs.create().await, dbs.create().await);
    let urls = PgUrls {
        identity: main.clone(),
        reporting: main.clone(),
        read: vec![main.clone(), replica.clone()],
        operations: cases.clone(),
        workflow: cases.clone(),
    };
    let s = open(&urls, PoolSettings::default()).await.unwrap();
    assert_eq!(s.reads.len(), 2);
    assert_eq!(s.reads[0].group(), "projector:read");
    assert_eq!(s.reads[1].group(), "projector:read:2");
    assert_eq!(read_group(2), "projector:read:3");
    assert_eq!(s.read_consumers().len(), 2);
    let groups: Vec<_> = s.stores().read_models.iter().map(|m| m.group()).collect();
    assert_eq!(groups, ["projector:read", "projector:read:2"]);

    let r = report(
        &user(),
        Visibility::Public,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    assert_eq!(s.reads[0].apply(&[created(&r)], now()).await.unwrap(), 1);
    assert_eq!(s.reads[1].count_reports().await.unwrap(), 0);
    assert_eq!(s.reads[1].apply(&[created(&r)], now()).await.unwrap(), 1);
    assert_eq!(s.reads[1].count_reports().await.unwrap(), 1);

    // re-opening migrates nothing and shares the migration table safely
    s.close().await;
    let s = open(&urls, PoolSettings::default()).await.unwrap();
    assert_eq!(s.reads[0].count_reports().await.unwrap(), 1);
    let versions = |url: String| async move {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let v: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut c)
                .await
                .unwrap();
        c.close().await.unwrap();
        v
    };
    assert_eq!(versions(main.clone()).await, [1001, 2001, 2002, 3001, 3002]);
    assert_eq!(versions(cases.clone()).await, [4001, 4002, 5001, 5003]);
    assert_eq!(versions(replica.clone()).await, [3001, 3002]);
    s.close().await;

    let mut twice = urls.clone();
    twice.read = vec![main.clone(), main.clone()];
    assert!(open(&twice, PoolSettings::default()).await.is_err());
    let mut none = urls.clone();
    none.read.clear();
    assert!(open(&none, PoolSettings::default()).await.is_err());
}

// ---------------------------------------------------------------- operations

#[tokio::test]
async fn operations_cases_follow_events_and_status_changes_race_safely() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let ops = s.operations.clone();
    assert_eq!(ops.group(), "operations");
    let a = report(
        &user(),
        Visibility::Public,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    let b = report(
        &anon('b'),
        Visibility::Anonymous,
        "kesehatan",
        "AGENCY_HEALTH",
        1,
    );
    let c = report(&user(), Visibility::Public, "kebersihan", "AGENCY_INFRA", 2);
    let d = report(
        &user(),
        Visibility::Public,
        "infrastruktur",
        "AGENCY_INFRA",
        3,
    );
    let mut c2 = c.clone();
    c2.category = cat("kesehatan");
    c2.agency = agency("AGENCY_HEALTH");
    c2.updated_at = at(10);
    let batch = vec![
        created(&a),
        created(&b),
        created(&c),
        created(&d),
        upvoted(&a, 2, 5),
        upvoted(&a, 1, 6),
        escalated(&a, 1, 7),
        updated(&c2),
        withdrawn(&d, 11),
        status(&a, Status::Received, Status::InProgress, 12), // its own event
    ];
    // Its own event is not taken in (as on SQLite).
    assert_eq!(ops.apply(&batch, now()).await.unwrap(), batch.len() - 1);
    let before = serde_json::to_value(ops.inbox(&inbox(None, 100)).await.unwrap().items).unwrap();
    assert_eq!(ops.apply(&batch, now()).await.unwrap(), 0);
    assert_eq!(
        serde_json::to_value(ops.inbox(&inbox(None, 100)).await.unwrap().items).unwrap(),
        before
    );
    assert_eq!(ops.count_cases().await.unwrap(), 4);

    let st = ops.case_state(a.id).await.unwrap().unwrap();
    assert_eq!((st.status, st.withdrawn), (Status::Received, false));
    assert_eq!(st.agency, agency("AGENCY_INFRA"));
    assert!(ops.case_state(d.id).await.unwrap().unwrap().withdrawn);
    assert!(ops.case_state(ReportId::new_v7()).await.unwrap().is_none());

    // status changes name the status they were decided on
    conflict(change_status(&*ops, status(&a, Status::InProgress, Status::Resolved, 20)).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..2 {
        let (ops, a) = (ops.clone(), a.clone());
        tasks.spawn(async move {
            change_status(
                &*ops,
                status(&a, Status::Received, Status::InProgress, 21 + i),
            )
            .await
        });
    }
    let results = tasks.join_all().await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    conflict(results.into_iter().find(|r| r.is_err()).unwrap());
    conflict(change_status(&*ops, status(&d, Status::Received, Status::Rejected, 22)).await);
    add_answer(&*ops, answered(&a, 30)).await.unwrap();

    let detail = ops.case_detail(a.id).await.unwrap().unwrap();
    assert_eq!(detail.case.status, Status::InProgress);
    assert_eq!(detail.case.vote_count, 2);
    assert_eq!(detail.case.escalation_level, 1);
    assert_eq!(detail.case.updated_at, at(30));
    assert_eq!(detail.history.len(), 1);
    assert_eq!(detail.history[0].new_status, Status::InProgress);
    assert_eq!(detail.answers.len(), 1);
    assert_eq!(detail.answers[0].message, "Tim sudah dikirim");
    let anon_case = ops.case_detail(b.id).await.unwrap().unwrap();
    assert_eq!(anon_case.case.reporter_user_id, None);
    assert!(ops.case_detail(ReportId::new_v7()).await.unwrap().is_none());
    // Titles by id in one query; unknown ids are left out.
    let mut titles = ops
        .case_titles(&[a.id, b.id, ReportId::new_v7()])
        .await
        .unwrap();
    titles.sort_by_key(|(id, _, _)| *id != a.id);
    assert_eq!(titles.len(), 2);
    assert_eq!(titles[0].0, a.id);
    assert_eq!(titles[0].1, detail.case.owner_agency);
    assert_eq!(titles[0].2, detail.case.title);
    assert!(ops.case_titles(&[]).await.unwrap().is_empty());

    // inboxes: C was routed to AGENCY_HEALTH by its edit; D is withdrawn
    let infra = ops.inbox(&inbox(Some("AGENCY_INFRA"), 100)).await.unwrap();
    assert_eq!(ids(&infra.items, |v| v.report_id), [a.id]);
    let health = ops.inbox(&inbox(Some("AGENCY_HEALTH"), 100)).await.unwrap();
    assert_eq!(ids(&health.items, |v| v.report_id), [c.id, b.id]);
    let mut f = inbox(None, 100);
    f.status = Some(Status::InProgress);
    assert_eq!(
        ids(&ops.inbox(&f).await.unwrap().items, |v| v.report_id),
        [a.id]
    );
    let mut f = inbox(None, 100);
    f.category = Some(cat("kesehatan"));
    assert_eq!(
        ids(&ops.inbox(&f).await.unwrap().items, |v| v.report_id),
        [c.id, b.id]
    );
    let mut walked = vec![];
    let mut f = inbox(None, 1);
    loop {
        let page = ops.inbox(&f).await.unwrap();
        walked.extend(ids(&page.items, |v| v.report_id));
        match page.next_cursor {
            Some(cur) => {
                f.paging = Paging::Keyset {
                    after: lapor_app::ports::Cursor::decode(&cur),
                    limit: 1,
                }
            }
            None => break,
        }
    }
    assert_eq!(walked, [c.id, b.id, a.id]);

    // the status change and the answer are in the outbox
    let types: Vec<_> = ops
        .replay(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.event.event_type)
        .collect();
    assert_eq!(types, ["report.status.updated", "case.answered"]);
    assert!(ops.reset().await.is_err());
}

fn inbox(agency_code: Option<&str>, limit: i64) -> InboxFilter {
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

fn sla_started(r: &Report, due: i64) -> EventEnvelope {
    DomainEvent::SlaStarted(SlaStarted {
        report_id: r.id,
        owner_agency: r.agency.clone(),
        due_at: at(due),
    })
    .into_envelope(r.created_at)
}

/// `status` by a known officer.
fn status_by(r: &Report, old: Status, new: Status, t: i64, by: UserId) -> EventEnvelope {
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

fn answered_by(r: &Report, t: i64, by: UserId) -> EventEnvelope {
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

#[tokio::test]
async fn inbox_sorts_filters_overdue_and_extracts_case_facts() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let ops = s.operations.clone();
    let infra = |t| {
        report(
            &user(),
            Visibility::Public,
            "infrastruktur",
            "AGENCY_INFRA",
            t,
        )
    };
    // a: due 100, 1 vote; b: due 50, 3 votes; c: no due time (filed before
    // due times were recorded); d: due 30 but resolved; e: another agency
    let (a, b, c, d) = (infra(0), infra(1), infra(2), infra(3));
    let e = report(&user(), Visibility::Public, "kesehatan", "AGENCY_HEALTH", 4);
    let mut batch: Vec<_> = [&a, &b, &c, &d, &e].into_iter().map(created).collect();
    batch.extend([
        sla_started(&a, 100),
        sla_started(&b, 50),
        sla_started(&d, 30),
        sla_started(&e, 20),
        upvoted(&a, 1, 5),
        upvoted(&b, 3, 6),
        escalated(&b, 1, 51),
    ]);
    assert_eq!(ops.apply(&batch, now()).await.unwrap(), batch.len());
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    change_status(
        &*ops,
        status_by(&b, Status::Received, Status::InProgress, 20, bob),
    )
    .await
    .unwrap();
    add_answer(&*ops, answered_by(&a, 10, alice)).await.unwrap();
    change_status(
        &*ops,
        status_by(&d, Status::Received, Status::InProgress, 13, alice),
    )
    .await
    .unwrap();
    change_status(
        &*ops,
        status_by(&d, Status::InProgress, Status::Resolved, 43, alice),
    )
    .await
    .unwrap();

    let listed = |f: InboxFilter| {
        let ops = ops.clone();
        async move { ops.inbox(&f).await.unwrap() }
    };
    let sorted = |sort: InboxSort| {
        let mut f = inbox(Some("AGENCY_INFRA"), 100);
        f.sort = sort;
        f.paging = Paging::Offset {
            page: 1,
            per_page: 100,
        };
        f
    };
    let all = listed(sorted(InboxSort::Newest)).await;
    assert_eq!(ids(&all.items, |v| v.report_id), [d.id, c.id, b.id, a.id]);
    assert_eq!((all.total, all.next_cursor.as_deref()), (Some(4), None));
    let due: Vec<_> = all.items.iter().map(|v| v.due_at).collect();
    assert_eq!(due, [Some(at(30)), None, Some(at(50)), Some(at(100))]);
    assert!(
        all.items.iter().all(|v| !v.is_overdue),
        "the service sets it"
    );
    assert_eq!(
        ids(&listed(sorted(InboxSort::Oldest)).await.items, |v| v
            .report_id),
        [a.id, b.id, c.id, d.id]
    );
    assert_eq!(
        ids(&listed(sorted(InboxSort::Upvotes)).await.items, |v| v
            .report_id),
        [b.id, a.id, d.id, c.id]
    );
    assert_eq!(
        ids(&listed(sorted(InboxSort::SlaDue)).await.items, |v| v
            .report_id),
        [d.id, b.id, a.id, c.id],
        "earliest due first, no due time last"
    );
    let mut page2 = sorted(InboxSort::SlaDue);
    page2.paging = Paging::Offset {
        page: 2,
        per_page: 3,
    };
    let page2 = listed(page2).await;
    assert_eq!(
        (ids(&page2.items, |v| v.report_id), page2.total),
        (vec![c.id], Some(4))
    );
    // overdue at 60 s: b (due 50, in progress); not d (resolved) nor a (due 100)
    let mut overdue = sorted(InboxSort::SlaDue);
    overdue.overdue_only = true;
    overdue.now = at(60);
    let overdue = listed(overdue).await;
    assert_eq!(
        (ids(&overdue.items, |v| v.report_id), overdue.total),
        (vec![b.id], Some(1))
    );
    let mut keyset = sorted(InboxSort::Upvotes);
    keyset.paging = Paging::Keyset {
        after: None,
        limit: 1,
    };
    let first = listed(keyset).await;
    assert_eq!(
        (ids(&first.items, |v| v.report_id), first.next_cursor),
        (vec![b.id], None)
    );

    // facts of the period [0, 3 s): a, b, c
    let facts = ops
        .case_facts(Some(&agency("AGENCY_INFRA")), at(0), at(3))
        .await
        .unwrap();
    assert_eq!(ids(&facts, |f| f.report_id), [a.id, b.id, c.id]);
    assert_eq!(
        (facts[0].first_response_at, facts[0].first_responder),
        (Some(at(10)), Some(alice))
    );
    assert_eq!(facts[0].resolved_at, None);
    assert_eq!(
        (facts[1].first_response_at, facts[1].first_responder),
        (Some(at(20)), Some(bob))
    );
    assert_eq!(
        (facts[1].status, facts[1].escalation_level),
        (Status::InProgress, 1)
    );
    assert_eq!(facts[2].first_response_at, None);
    let facts = ops.case_facts(None, at(0), at(10)).await.unwrap();
    assert_eq!(ids(&facts, |f| f.report_id), [a.id, b.id, c.id, d.id, e.id]);
    assert_eq!(
        (
            facts[3].first_response_at,
            facts[3].resolved_at,
            facts[3].resolver,
            facts[3].status
        ),
        (Some(at(13)), Some(at(43)), Some(alice), Status::Resolved)
    );
    assert_eq!(facts[4].agency, agency("AGENCY_HEALTH"));

    let mut open = ops.open_cases(None).await.unwrap();
    open.sort_by_key(|o| (o.agency.clone(), o.status.as_str(), o.count));
    let open: Vec<_> = open
        .iter()
        .map(|o| (o.agency.as_str(), o.status, o.taken_by, o.count))
        .collect();
    assert_eq!(
        open,
        [
            ("AGENCY_HEALTH", Status::Received, None, 1),
            ("AGENCY_INFRA", Status::InProgress, Some(bob), 1),
            ("AGENCY_INFRA", Status::Received, None, 2),
        ]
    );
    assert_eq!(
        ops.open_cases(Some(&agency("AGENCY_HEALTH")))
            .await
            .unwrap()
            .len(),
        1
    );
}

// ---------------------------------------------------------------- workflow

#[tokio::test]
async fn sla_configuration_is_kept() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let wf = &s.workflow;
    assert_eq!(
        wf.sla_config().await.unwrap(),
        SlaConfig {
            default_seconds: 86_400,
            per_category: vec![]
        }
    );
    wf.set_sla_seconds(None, 60).await.unwrap();
    wf.set_sla_seconds(Some(&cat("kesehatan")), 300)
        .await
        .unwrap();
    wf.set_sla_seconds(Some(&cat("keamanan")), 90)
        .await
        .unwrap();
    wf.set_sla_seconds(Some(&cat("kesehatan")), 120)
        .await
        .unwrap();
    assert_eq!(
        wf.sla_config().await.unwrap(),
        SlaConfig {
            default_seconds: 60,
            per_category: vec![(cat("keamanan"), 90), (cat("kesehatan"), 120)]
        }
    );
}

#[tokio::test]
async fn workflow_jobs_escalate_once_and_notify() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let wf = s.workflow.clone();
    assert_eq!(wf.group(), "workflow");
    wf.set_sla_seconds(None, 60).await.unwrap();
    wf.set_sla_seconds(Some(&cat("kesehatan")), 120)
        .await
        .unwrap();
    let (owner_a, owner_b, tag) = (user(), user(), anon('c'));
    let a = report(
        &owner_a,
        Visibility::Public,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    let b = report(
        &owner_b,
        Visibility::Private,
        "kesehatan",
        "AGENCY_HEALTH",
        0,
    );
    let c = report(&tag, Visibility::Anonymous, "kebersihan", "AGENCY_INFRA", 1);
    let batch = vec![created(&a), created(&b), created(&c)];
    assert_eq!(wf.apply(&batch, now()).await.unwrap(), 3);
    assert_eq!(wf.apply(&batch, now()).await.unwrap(), 0);
    assert_eq!(wf.count_jobs().await.unwrap(), 3);
    assert_eq!(wf.next_due().await.unwrap(), Some(at(60)));

    assert!(wf.due_jobs(at(59), 10).await.unwrap().is_empty());
    let due = wf.due_jobs(at(61), 10).await.unwrap();
    assert_eq!(ids(&due, |d| d.report_id), [a.id, c.id]);
    assert_eq!(due[1].owner, tag);
    assert_eq!(due[0].category, cat("infrastruktur"));
    assert_eq!(due[0].job.due_at, at(60));
    assert_eq!(wf.due_jobs(at(61), 1).await.unwrap().len(), 1);

    // two workers race to escalate A: exactly one wins
    let job_a = due[0].clone();
    let esc = sla::escalation_due(&job_a.job, at(61), 60).unwrap();
    let mut next = job_a.job.clone();
    sla::apply_escalation(&mut next, &esc);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (wf, a, next, owner) = (wf.clone(), a.clone(), next.clone(), owner_a.clone());
        tasks.spawn(async move {
            let note = NewNotification {
                id: NotificationId::new_v7(),
                recipient: owner,
                report_id: a.id,
                notice: Notice::EscalatedReporter {
                    escalation_level: 1,
                },
                created_at: at(61),
            };
            wf.escalate(a.id, 0, &next, &[note], &escalated(&a, 1, 61))
                .await
                .unwrap()
        });
    }
    let wins = tasks.join_all().await;
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{wins:?}");
    assert!(
        !wf.escalate(a.id, 0, &next, &[], &escalated(&a, 1, 62))
            .await
            .unwrap()
    );
    let escalations = wf.escalations(None, 10).await.unwrap();
    assert_eq!(escalations.len(), 1);
    assert_eq!(
        (escalations[0].report_id, escalations[0].escalation_level),
        (a.id, 1)
    );
    assert_eq!(escalations[0].current_status, Status::Received);
    assert_eq!(escalations[0].escalated_at, at(61));
    assert_eq!(
        wf.escalations(Some(&agency("AGENCY_INFRA")), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        wf.escalations(Some(&agency("AGENCY_HEALTH")), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        wf.unrelayed_count().await.unwrap(),
        4,
        "three sla.started and one report.escalated"
    );
    let started: Vec<_> = wf
        .replay(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|o| match o.event.decode() {
            Ok(DomainEvent::SlaStarted(x)) => Some((x.report_id, x.due_at)),
            _ => None,
        })
        .collect();
    assert_eq!(
        started,
        [(a.id, at(60)), (b.id, at(120)), (c.id, at(61))],
        "once per job, with its category's duration"
    );
    // next level one period later
    let due = wf.due_jobs(at(125), 10).await.unwrap();
    assert_eq!(ids(&due, |d| d.report_id), [c.id, b.id, a.id]);
    assert_eq!(due[2].job.escalation_level, 1);
    assert_eq!(due[2].job.status, SlaStatus::Escalated);

    // SLA listing with scopes and filters
    let sla = |scope: ListingScope, overdue_only: bool, status: Option<SlaStatus>| {
        let wf = wf.clone();
        async move {
            wf.sla_status(&SlaFilter {
                scope,
                report_id: None,
                sla_status: status,
                overdue_only,
                now: at(61),
                page: 1,
                per_page: 50,
            })
            .await
            .unwrap()
        }
    };
    // A and B were created at the same time
    let [ab_first, ab_second] = by_id_desc(a.id, b.id);
    let all = sla(ListingScope::All, false, None).await;
    assert_eq!(all.total, Some(3));
    assert_eq!(
        ids(&all.items, |v| v.report_id),
        [c.id, ab_first, ab_second]
    );
    // C is due at exactly 61 s: not yet overdue
    let overdue = sla(ListingScope::All, true, None).await;
    assert_eq!(ids(&overdue.items, |v| v.report_id), [a.id]);
    assert!(overdue.items.iter().all(|v| v.is_overdue));
    let esc_only = sla(ListingScope::All, false, Some(SlaStatus::Escalated)).await;
    assert_eq!(ids(&esc_only.items, |v| v.report_id), [a.id]);
    assert_eq!(
        ids(
            &sla(ListingScope::PublicOnly, false, None).await.items,
            |v| v.report_id
        ),
        [a.id]
    );
    assert_eq!(
        ids(
            &sla(ListingScope::PublicAndOwn(vec![tag.clone()]), false, None)
                .await
                .items,
            |v| v.report_id
        ),
        [c.id, a.id]
    );
    assert_eq!(
        ids(
            &sla(
                ListingScope::PublicOwnAndAgency(vec![], agency("AGENCY_HEALTH")),
                false,
                None
            )
            .await
            .items,
            |v| v.report_id
        ),
        [ab_first, ab_second]
    );
    let one = wf
        .sla_status(&SlaFilter {
            scope: ListingScope::All,
            report_id: Some(b.id),
            sla_status: None,
            overdue_only: false,
            now: at(61),
            page: 1,
            per_page: 1,
        })
        .await
        .unwrap();
    assert_eq!(ids(&one.items, |v| v.report_id), [b.id]);
    assert_eq!(one.items[0].due_at, at(120));
    let page2 = wf
        .sla_status(&SlaFilter {
            scope: ListingScope::All,
            report_id: None,
            sla_status: None,
            overdue_only: false,
            now: at(61),
            page: 2,
            per_page: 2,
        })
        .await
        .unwrap();
    assert_eq!(
        (ids(&page2.items, |v| v.report_id), page2.total),
        (vec![ab_second], Some(3))
    );

    // resolving completes the job and notifies the reporter; answers too;
    // withdrawing cancels
    let later = vec![
        status(&a, Status::Received, Status::InProgress, 70),
        status(&a, Status::InProgress, Status::Resolved, 71),
        answered(&b, 72),
        withdrawn(&c, 73),
    ];
    assert_eq!(wf.apply(&later, now()).await.unwrap(), 4);
    assert_eq!(wf.apply(&later, now()).await.unwrap(), 0);
    let due = wf.due_jobs(at(10_000), 10).await.unwrap();
    assert_eq!(ids(&due, |d| d.report_id), [b.id]);
    assert_eq!(wf.next_due().await.unwrap(), Some(at(120)));
    let closed = sla(ListingScope::All, false, Some(SlaStatus::Completed)).await;
    assert_eq!(ids(&closed.items, |v| v.report_id), [a.id]);
    assert_eq!(closed.items[0].current_status, Status::Resolved);
    let cancelled = sla(ListingScope::All, false, Some(SlaStatus::Cancelled)).await;
    assert_eq!(ids(&cancelled.items, |v| v.report_id), [c.id]);

    // notifications: A's reporter has the escalation and two status notes
    let (notes, unread) = wf
        .notifications(std::slice::from_ref(&owner_a), false, 10)
        .await
        .unwrap();
    assert_eq!(unread, 3);
    assert_eq!(
        notes.iter().map(|n| n.notice.kind()).collect::<Vec<_>>(),
        ["status", "status", "escalated_reporter"]
    );
    let (b_notes, _) = wf
        .notifications(std::slice::from_ref(&owner_b), false, 10)
        .await
        .unwrap();
    assert_eq!(b_notes.len(), 1);
    assert_eq!(
        b_notes[0].notice,
        Notice::Answer {
            message: "Tim sudah dikirim".into()
        }
    );
    assert_eq!(wf.notifications(&[], false, 10).await.unwrap().1, 0);
    assert_eq!(
        wf.notifications(std::slice::from_ref(&owner_a), false, 2)
            .await
            .unwrap()
            .0
            .len(),
        2
    );

    // marking read: one, then the rest, then nothing left
    assert_eq!(
        wf.mark_read(std::slice::from_ref(&owner_b), Some(notes[0].id))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        wf.mark_read(std::slice::from_ref(&owner_a), Some(notes[0].id))
            .await
            .unwrap(),
        1
    );
    let (unread_only, unread) = wf
        .notifications(std::slice::from_ref(&owner_a), true, 10)
        .await
        .unwrap();
    assert_eq!((unread_only.len(), unread), (2, 2));
    assert!(
        wf.notifications(std::slice::from_ref(&owner_a), false, 10)
            .await
            .unwrap()
            .0
            .iter()
            .any(|n| n.id == notes[0].id && n.is_read)
    );
    assert_eq!(
        wf.mark_read(&[owner_a.clone(), tag.clone()], None)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        wf.mark_read(std::slice::from_ref(&owner_a), None)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        wf.notifications(std::slice::from_ref(&owner_a), true, 10)
            .await
            .unwrap()
            .1,
        0
    );
    assert_eq!(wf.mark_read(&[], None).await.unwrap(), 0);
    assert!(wf.reset().await.is_err());
}

// ---------------------------------------------------------------- identity

#[tokio::test]
async fn identity_users_and_catalog() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let id = &s.identity;
    let catalog = id.catalog().await.unwrap();
    assert_eq!(catalog.agencies().count(), 3);
    assert_eq!(catalog.categories().count(), 6);
    assert_eq!(id.catalog().await.unwrap(), catalog, "seeded once");
    id.upsert_agency(&Agency {
        code: agency("AGENCY_WATER"),
        name: "Dinas Air".into(),
    })
    .await
    .unwrap();
    id.upsert_agency(&Agency {
        code: agency("AGENCY_WATER"),
        name: "Dinas Sumber Daya Air".into(),
    })
    .await
    .unwrap();
    id.upsert_category(&Category {
        slug: cat("banjir"),
        name: "Banjir".into(),
        agency: agency("AGENCY_WATER"),
    })
    .await
    .unwrap();
    id.upsert_category(&Category {
        slug: cat("lainnya"),
        name: "Lainnya".into(),
        agency: agency("AGENCY_WATER"),
    })
    .await
    .unwrap();
    let catalog = id.catalog().await.unwrap();
    assert_eq!(
        catalog.agency(&agency("AGENCY_WATER")).unwrap().name,
        "Dinas Sumber Daya Air"
    );
    assert_eq!(
        catalog.category(&cat("lainnya")).unwrap().agency,
        agency("AGENCY_WATER")
    );
    assert_eq!(catalog.categories().count(), 7);

    let rec = |name: &str, role: Role, ag: Option<&str>| UserRecord {
        id: UserId::new_v7(),
        username: name.into(),
        password_hash: "$argon2id$v=19$...".into(),
        role,
        agency: ag.map(agency),
        sealed_anon_key: Some("v1.sealed".into()),
        created_at: at(0),
    };
    let alice = rec("alice", Role::Citizen, None);
    let zed = rec("Zed", Role::Supervisor, Some("AGENCY_INFRA"));
    let sup2 = rec("sup2", Role::Supervisor, Some("AGENCY_HEALTH"));
    for u in [&alice, &zed, &sup2] {
        id.insert_user(u).await.unwrap();
    }
    conflict(id.insert_user(&rec("alice", Role::Admin, None)).await);

    let got = id.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(
        (
            got.id,
            got.role,
            got.agency,
            got.sealed_anon_key,
            got.created_at
        ),
        (
            alice.id,
            Role::Citizen,
            None,
            alice.sealed_anon_key.clone(),
            at(0)
        )
    );
    assert!(id.user_by_username("ALICE").await.unwrap().is_none());
    let got = id.user_by_id(zed.id).await.unwrap().unwrap();
    assert_eq!(
        (got.username.as_str(), got.agency),
        ("Zed", Some(agency("AGENCY_INFRA")))
    );
    assert!(id.user_by_id(UserId::new_v7()).await.unwrap().is_none());

    // byte order, as on SQLite: "Zed" before "alice"
    let names = |v: Vec<UserRecord>| v.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(
        names(id.users(None, None).await.unwrap()),
        ["Zed", "alice", "sup2"]
    );
    assert_eq!(
        names(id.users(Some(Role::Supervisor), None).await.unwrap()),
        ["Zed", "sup2"]
    );
    assert_eq!(
        names(
            id.users(Some(Role::Supervisor), Some(&agency("AGENCY_HEALTH")))
                .await
                .unwrap()
        ),
        ["sup2"]
    );
    assert!(id.users(Some(Role::Admin), None).await.unwrap().is_empty());
}

// ---------------------------------------------------------------- engine

#[tokio::test]
async fn a_closed_or_unreachable_database_is_unavailable() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    s.close().await;
    let e = s.reporting.count_reports().await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");

    let nowhere = PgUrls::single("postgres://lapor:secret@127.0.0.1:1/nowhere");
    let settings = PoolSettings {
        acquire_timeout: std::time::Duration::from_millis(300),
        ..PoolSettings::default()
    };
    assert!(open(&nowhere, settings).await.is_err());
    let shown = format!("{nowhere:?}");
    assert!(!shown.contains("secret"), "{shown}");
    assert_eq!(
        redact("postgres://lapor:secret@db:5432/lapor?sslmode=require"),
        "postgres://lapor:***@db:5432/lapor?sslmode=require"
    );
    assert_eq!(
        redact("postgres://postgres@127.0.0.1/x"),
        "postgres://postgres@127.0.0.1/x"
    );
}

#[test]
fn test_urls_name_the_new_database() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "t1"),
        "postgres://u:p@h/t1?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "t1"),
        "postgres://h:5432/t1"
    );
}

// ---------------------------------------------------------------- photos

fn new_photos(n: usize) -> Vec<lapor_app::ports::NewPhoto> {
    (0..n)
        .map(|i| lapor_app::ports::NewPhoto {
            id: lapor_domain::ids::PhotoId::new_v7(),
            width: 640 + i as u32,
            height: 480,
            bytes: 50_000,
        })
        .collect()
}

fn photos_added(r: &Report, photos: &[lapor_app::ports::NewPhoto], t: i64) -> EventEnvelope {
    DomainEvent::PhotosAdded(lapor_domain::events::PhotosAdded {
        report_id: r.id,
        photo_ids: photos.iter().map(|p| p.id).collect(),
        agency: r.agency.clone(),
        added_at: at(t),
    })
    .into_envelope(at(t))
}

#[tokio::test]
async fn photos_are_recorded_with_their_event_within_the_limit_and_projected() {
    let Some((_dbs, _, s)) = setup().await else {
        return;
    };
    let rep = &s.reporting;
    let read = s.reads[0].clone();
    let r = report(
        &user(),
        Visibility::Private,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    rep.insert_report(&r, &created(&r)).await.unwrap();
    assert!(rep.photos(r.id).await.unwrap().is_empty());

    let first = new_photos(3);
    let ev1 = photos_added(&r, &first, 1);
    rep.add_photos(r.id, &first, 5, &ev1).await.unwrap();
    let ids: Vec<_> = first.iter().map(|p| p.id).collect();
    assert_eq!(rep.photos(r.id).await.unwrap(), ids, "oldest first");

    // over the limit, a photo recorded twice, an unknown report: refused,
    // nothing recorded, no event appended
    let three = new_photos(3);
    conflict(
        rep.add_photos(r.id, &three, 5, &photos_added(&r, &three, 2))
            .await,
    );
    conflict(
        rep.add_photos(r.id, &first[..1], 5, &photos_added(&r, &first[..1], 2))
            .await,
    );
    let ghost = report(
        &user(),
        Visibility::Public,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    let one = new_photos(1);
    conflict(
        rep.add_photos(ghost.id, &one, 5, &photos_added(&ghost, &one, 2))
            .await,
    );
    assert_eq!(rep.photos(r.id).await.unwrap(), ids);

    let two = new_photos(2);
    let ev2 = photos_added(&r, &two, 3);
    rep.add_photos(r.id, &two, 5, &ev2).await.unwrap();
    assert_eq!(rep.photos(r.id).await.unwrap().len(), 5);

    // a withdrawn report takes no photos
    rep.withdraw_report(r.id, &withdrawn(&r, 4)).await.unwrap();
    let late = new_photos(1);
    conflict(
        rep.add_photos(r.id, &late, 9, &photos_added(&r, &late, 5))
            .await,
    );
    let types: Vec<_> = rep
        .replay(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|o| o.event.event_type.clone())
        .collect();
    assert_eq!(
        types,
        [
            "report.created",
            "report.photos_added",
            "report.photos_added",
            "report.withdrawn"
        ]
    );

    // the read side: photos before their report are "not yet"; applied once
    let fresh = report(&user(), Visibility::Public, "kebersihan", "AGENCY_INFRA", 0);
    let mut early = photos_added(&fresh, &new_photos(1), 0);
    early.timestamp = time::OffsetDateTime::now_utc();
    assert!(matches!(
        read.apply(std::slice::from_ref(&early), now()).await,
        Err(StoreError::Unavailable(_))
    ));
    let events = [created(&r), ev1.clone(), ev2.clone(), ev1.clone()];
    assert_eq!(read.apply(&events, now()).await.unwrap(), 3);
    let v = read.report(r.id, false).await.unwrap().unwrap();
    let shown: Vec<_> = v.photos.iter().map(|p| p.id).collect();
    let mut all: Vec<_> = ids.clone();
    all.extend(two.iter().map(|p| p.id));
    assert_eq!(shown, all);
    assert_eq!(
        v.photos[0].url,
        format!("/reports/{}/photos/{}", r.id, all[0])
    );
    assert_eq!(v.photos[0].thumb_url, format!("{}/thumb", v.photos[0].url));
    let listing = read
        .list_reports(&filter(ListingScope::All, ALL_PAGE))
        .await
        .unwrap();
    assert_eq!(listing.items[0].photos.len(), 5);
    let keyset = read
        .list_reports(&filter(
            ListingScope::All,
            Paging::Keyset {
                after: None,
                limit: 10,
            },
        ))
        .await
        .unwrap();
    assert_eq!(keyset.items[0].photos.len(), 5);

    // rebuilt: the same photos
    read.reset().await.unwrap();
    read.apply(&events, now()).await.unwrap();
    let again = read.report(r.id, false).await.unwrap().unwrap();
    assert_eq!(again.photos, v.photos);
}

/// The consumers' "now": the wall clock (events in these tests are fresh).
fn now() -> lapor_domain::Timestamp {
    time::OffsetDateTime::now_utc()
}
