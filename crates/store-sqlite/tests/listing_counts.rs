//! The maintained listing counters agree with `count(*)` after a mixed
//! workload (creates of every visibility, category changes that re-route,
//! status changes, withdrawals, redelivered events), for every scope.

use lapor_app::ports::{EventConsumer, FeedSort, Paging, ReportFilter};
use lapor_domain::access::{ListingScope, Owner, Visibility};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::{
    DomainEvent, EventEnvelope, ReportCreated, ReportUpdated, ReportWithdrawn, StatusUpdated,
};
use lapor_domain::ids::{ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_store_sqlite::{Db, SqliteRead};

fn owner(i: usize) -> Owner {
    Owner::User(UserId(uuid::Uuid::from_u128(1000 + i as u128)))
}

fn agency(cat: &str) -> AgencyCode {
    let a = match cat {
        "kesehatan" => "AGENCY_HEALTH",
        "keamanan" | "kriminalitas" => "AGENCY_SAFETY",
        _ => "AGENCY_INFRA",
    };
    AgencyCode::parse(a).unwrap()
}

const CATS: [&str; 6] = [
    "infrastruktur",
    "kebersihan",
    "lainnya",
    "kesehatan",
    "keamanan",
    "kriminalitas",
];

/// Creates of every visibility by 7 owners in 6 categories, then
/// re-categorisations (re-routing), status changes and withdrawals.
fn workload() -> Vec<EventEnvelope> {
    let now = time::OffsetDateTime::now_utc();
    let mut events: Vec<EventEnvelope> = Vec::new();
    let mut reports = Vec::new();
    // A deterministic mix: 7 owners (owner 0 with over half the reports),
    // 3 visibilities, 6 categories; more reports than the in-memory lists
    // keep, created in scrambled time order (later events may carry older
    // reports, as with clock skew between command instances).
    for i in 0..420usize {
        let id = ReportId(uuid::Uuid::from_u128(i as u128 + 1));
        let cat = CATS[i % 6];
        let vis = [
            Visibility::Public,
            Visibility::Private,
            Visibility::Anonymous,
        ][i % 3];
        let o = if i % 2 == 0 { owner(0) } else { owner(i % 7) };
        let created_at = now - time::Duration::milliseconds(((i * 37) % 420) as i64);
        reports.push((id, cat));
        events.push(
            DomainEvent::ReportCreated(ReportCreated {
                report_id: id,
                reporter_user_id: o.user_id(),
                owner: o,
                visibility: vis,
                title: format!("r{i}"),
                content: "text".into(),
                category: CategorySlug::parse(cat).unwrap(),
                agency: agency(cat),
                location: None,
                created_at,
            })
            .into_envelope(now),
        );
    }
    for (i, (id, cat)) in reports.iter().enumerate() {
        if i % 5 == 0 {
            // Re-categorised (and re-routed to another agency).
            let new = CATS[(i + 3) % 6];
            events.push(
                DomainEvent::ReportUpdated(ReportUpdated {
                    report_id: *id,
                    title: "t".into(),
                    content: "c".into(),
                    category: CategorySlug::parse(new).unwrap(),
                    agency: agency(new),
                    location: None,
                    updated_at: now,
                })
                .into_envelope(now),
            );
        }
        if i % 4 == 1 {
            events.push(
                DomainEvent::StatusUpdated(StatusUpdated {
                    report_id: *id,
                    old_status: Status::Received,
                    new_status: Status::InProgress,
                    owner_agency: agency(cat),
                    reason: None,
                    actor_user_id: UserId(uuid::Uuid::from_u128(9)),
                    changed_at: now,
                })
                .into_envelope(now),
            );
        }
        if i % 9 == 2 {
            events.push(
                DomainEvent::ReportWithdrawn(ReportWithdrawn {
                    report_id: *id,
                    agency: agency(cat),
                    withdrawn_at: now,
                })
                .into_envelope(now),
            );
        }
    }
    events
}

/// A newest-first listing without category, status or search filters.
fn filter(scope: ListingScope, only_owners: Option<Vec<Owner>>, paging: Paging) -> ReportFilter {
    ReportFilter {
        scope,
        only_owners,
        category: None,
        status: None,
        search: None,
        sort: FeedSort::Newest,
        paging,
    }
}

/// A fresh read database with its projector.
async fn open_read(dir: &tempfile::TempDir) -> SqliteRead {
    let db = Db::open(
        &dir.path().join("reporting_read.db"),
        lapor_store_sqlite::Schema::Read,
    )
    .await
    .unwrap();
    SqliteRead::new(db, "projector:read")
}

#[tokio::test]
async fn listing_counters_equal_count_star_after_a_mixed_workload() {
    let dir = tempfile::tempdir().unwrap();
    let read = open_read(&dir).await;
    let events = workload();
    // Applied in batches, then some of them again (redelivery).
    for chunk in events.chunks(37) {
        read.apply(chunk, now()).await.unwrap();
    }
    assert_eq!(read.apply(&events[10..60], now()).await.unwrap(), 0);

    let scopes = scopes();
    let mut checked = 0;
    for scope in &scopes {
        for only in [None, Some(vec![owner(1)]), Some(vec![owner(4), owner(5)])] {
            for category in [None, Some(CategorySlug::parse("kesehatan").unwrap())] {
                for status in [None, Some(Status::Received), Some(Status::InProgress)] {
                    let f = ReportFilter {
                        scope: scope.clone(),
                        only_owners: only.clone(),
                        category: category.clone(),
                        status,
                        search: None,
                        sort: FeedSort::Newest,
                        paging: Paging::Offset {
                            page: 1,
                            per_page: 20,
                        },
                    };
                    let counted = read.counted_total(&f).unwrap().unwrap();
                    let scanned = read.scanned_total(&f).unwrap();
                    assert_eq!(counted, scanned, "filter {f:?}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 6 * 3 * 2 * 3);
    // And the listing reports the counted total.
    let f = filter(
        ListingScope::All,
        None,
        Paging::Offset {
            page: 2,
            per_page: 10,
        },
    );
    use lapor_app::ports::ReadStore;
    let page = read.list_reports(&f).await.unwrap();
    assert_eq!(page.total, Some(read.scanned_total(&f).unwrap()));
    assert_eq!(page.items.len(), 10);
}

fn scopes() -> Vec<ListingScope> {
    vec![
        ListingScope::All,
        ListingScope::PublicOnly,
        ListingScope::PublicAndOwn(vec![owner(1)]),
        ListingScope::PublicAndOwn(vec![owner(2), owner(3)]),
        ListingScope::PublicOwnAndAgency(
            vec![owner(4)],
            AgencyCode::parse("AGENCY_INFRA").unwrap(),
        ),
        ListingScope::PublicOwnAndAgency(vec![], AgencyCode::parse("AGENCY_HEALTH").unwrap()),
    ]
}

#[tokio::test]
async fn sla_counters_equal_count_star_after_a_mixed_workload() {
    use lapor_app::ports::SlaFilter;
    use lapor_domain::sla::SlaStatus;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        &dir.path().join("workflow.db"),
        lapor_store_sqlite::Schema::Workflow,
    )
    .await
    .unwrap();
    let workflow = lapor_store_sqlite::SqliteWorkflow::new(db);
    let events = workload();
    for chunk in events.chunks(29) {
        workflow.apply(chunk, now()).await.unwrap();
    }
    let mut checked = 0;
    for scope in scopes() {
        for sla_status in [
            None,
            Some(SlaStatus::Pending),
            Some(SlaStatus::Cancelled),
            Some(SlaStatus::Completed),
        ] {
            let f = SlaFilter {
                scope: scope.clone(),
                report_id: None,
                sla_status,
                overdue_only: false,
                now: time::OffsetDateTime::now_utc(),
                page: 1,
                per_page: 20,
            };
            let (scanned, counted) = workflow.sla_totals(&f).unwrap();
            assert_eq!(Some(scanned), counted, "filter {f:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
}

/// The first pages served from the lists the projector keeps in memory are
/// the pages SQLite returns, after every batch of a workload with creates of
/// every visibility, re-routing, status changes, withdrawals and photos.
#[tokio::test]
async fn pages_from_memory_equal_pages_from_sqlite() {
    use lapor_app::ports::ReadStore;
    use lapor_domain::events::{PhotosAdded, ReportUpvoted};
    use lapor_domain::ids::PhotoId;

    let dir = tempfile::tempdir().unwrap();
    let read = open_read(&dir).await;
    let now = time::OffsetDateTime::now_utc();
    let mut events = workload();
    for i in [3u128, 6, 9, 12] {
        let id = ReportId(uuid::Uuid::from_u128(i));
        events.push(
            DomainEvent::PhotosAdded(PhotosAdded {
                report_id: id,
                photo_ids: vec![PhotoId(uuid::Uuid::from_u128(9000 + i))],
                agency: agency("infrastruktur"),
                added_at: now,
            })
            .into_envelope(now),
        );
        events.push(
            DomainEvent::ReportUpvoted(ReportUpvoted {
                report_id: id,
                voter_user_id: UserId(uuid::Uuid::from_u128(77)),
                vote_count: 2,
                created_at: now,
            })
            .into_envelope(now),
        );
    }
    let keyset = |limit| Paging::Keyset { after: None, limit };
    let mut filters = Vec::new();
    for limit in [1, 5, 20, 50, 63, 100, 127] {
        filters.push(filter(ListingScope::PublicOnly, None, keyset(limit)));
    }
    // Seed 2's numbered pages of the public feed, with their totals.
    for (page, per_page) in [
        (1, 20),
        (3, 20),
        (6, 20),
        (7, 20),
        (2, 50),
        (3, 40),
        (1, 128),
    ] {
        filters.push(filter(
            ListingScope::PublicOnly,
            None,
            Paging::Offset { page, per_page },
        ));
    }
    for owners in [
        vec![owner(0)],
        vec![owner(1)],
        vec![owner(2), owner(5)],
        vec![owner(0), owner(6)],
    ] {
        for scope in [
            ListingScope::PublicAndOwn(owners.clone()),
            ListingScope::All,
        ] {
            for limit in [3, 50] {
                filters.push(filter(scope.clone(), Some(owners.clone()), keyset(limit)));
            }
        }
    }
    let mut compared = 0;
    for chunk in events.chunks(11) {
        read.apply(chunk, now).await.unwrap();
        for f in &filters {
            let served = read.list_reports(f).await.unwrap();
            let stored = read.list_reports_from_db(f).await.unwrap();
            assert_eq!(
                serde_json::to_value(&served.items).unwrap(),
                serde_json::to_value(&stored.items).unwrap(),
                "{f:?}"
            );
            assert_eq!(served.next_cursor, stored.next_cursor, "{f:?}");
            assert_eq!(served.total, stored.total, "{f:?}");
            compared += 1;
        }
    }
    // Most pages after the first batch came from memory.
    let hits = read.hot_hits();
    assert!(
        hits as usize > compared / 2,
        "{hits} of {compared} from memory"
    );
    // A reset forgets them.
    read.reset().await.unwrap();
    assert!(
        read.list_reports(&filters[0])
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// Seed 2's numbered pages alone (no other listing read) bring the public
/// feed into memory: a miss asks the projector for the list.
#[tokio::test]
async fn numbered_pages_alone_bring_the_public_feed_into_memory() {
    use lapor_app::ports::ReadStore;

    let dir = tempfile::tempdir().unwrap();
    let read = open_read(&dir).await;
    let events = workload();
    read.apply(&events[..50], now()).await.unwrap();
    let f = filter(
        ListingScope::PublicOnly,
        None,
        Paging::Offset {
            page: 2,
            per_page: 5,
        },
    );
    read.list_reports(&f).await.unwrap();
    assert_eq!(read.hot_hits(), 0);
    read.apply(&events[50..60], now()).await.unwrap();
    let served = read.list_reports(&f).await.unwrap();
    assert_eq!(read.hot_hits(), 1, "the second read came from memory");
    let stored = read.list_reports_from_db(&f).await.unwrap();
    assert_eq!(
        serde_json::to_value(&served.items).unwrap(),
        serde_json::to_value(&stored.items).unwrap()
    );
    assert_eq!(served.total, stored.total);
}

/// The consumers' "now": the wall clock (events in these tests are fresh).
fn now() -> lapor_domain::Timestamp {
    time::OffsetDateTime::now_utc()
}
