//! The reporting write side: reports inserted, edited and withdrawn under
//! conditions, one vote per voter under races, photos within the limit,
//! and the case status mirrored from operations' events.

use crate::fixtures::*;
use lapor_app::ports::StoreError;
use lapor_domain::access::{ListingScope, Visibility};
use lapor_domain::events::DomainEvent;
use lapor_domain::ids::{ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_store_conformance::harness::TestStores;

pub async fn reports_are_inserted_updated_and_withdrawn_under_conditions(s: &TestStores) {
    let rep = &s.reporting;
    let owner = user();
    let r = report(
        &owner,
        Visibility::Public,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    assert_eq!(rep.count_reports().await.unwrap(), 0);
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
    // withdrawn reports are still counted (sync checks compare counts)
    assert_eq!(rep.count_reports().await.unwrap(), 1);

    // only the successful commands appended events
    let rows = rep.replay(0, 100).await.unwrap();
    let types: Vec<_> = rows.iter().map(|o| o.event.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["report.created", "report.updated", "report.withdrawn"]
    );
    assert_eq!(rows[1].event, ev);
}

/// Text is stored as given: non-ASCII letters, emoji, quotes and the
/// characters `LIKE` treats specially.
pub async fn text_round_trips_unchanged(s: &TestStores) {
    let mut r = report(&user(), Visibility::Public, "kebersihan", "AGENCY_INFRA", 0);
    r.title = "Sampah menumpuk 🗑️ di \"Pasar Baru\"".into();
    r.content = "100% penuh_lagi; O'Brien\\ naïve — Ünïcödé\nbaris kedua\ttab".into();
    s.reporting.insert_report(&r, &created(&r)).await.unwrap();
    assert_eq!(s.reporting.report(r.id).await.unwrap(), Some(r.clone()));
    s.projector.apply(&[created(&r)], now()).await.unwrap();
    let v = s.read.report(r.id, false).await.unwrap().unwrap();
    assert_eq!(
        (v.title.as_str(), v.content.as_str()),
        (&*r.title, &*r.content)
    );
    let listed = s
        .read
        .list_reports(&filter(ListingScope::PublicOnly, ALL_PAGE))
        .await
        .unwrap();
    assert_eq!(listed.items[0].title, r.title);
}

pub async fn reporting_mirrors_case_status_idempotently(s: &TestStores) {
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

pub async fn one_voter_racing_counts_once(s: &TestStores) {
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
        tasks.spawn(async move { vote(&*rep, id, voter, at(1)).await.unwrap() });
    }
    let results = tasks.join_all().await;
    assert_eq!(results.iter().filter(|c| **c == Some(1)).count(), 1);
    assert_eq!(results.iter().filter(|c| c.is_none()).count(), 15);

    // distinct voters at once: each gets its own count
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let rep = rep.clone();
        tasks.spawn(async move {
            vote(&*rep, id, UserId::new_v7(), at(2))
                .await
                .unwrap()
                .unwrap()
        });
    }
    let mut counts = tasks.join_all().await;
    counts.sort();
    assert_eq!(counts, (2..=11).collect::<Vec<i64>>());
    assert_eq!(rep.report(r.id).await.unwrap().unwrap().vote_count, 11);

    // one event per counted vote, carrying the count it produced
    let mut upvotes: Vec<i64> = rep
        .replay(0, 100)
        .await
        .unwrap()
        .iter()
        .filter_map(|o| match o.event.decode() {
            Ok(DomainEvent::ReportUpvoted(v)) => Some(v.vote_count),
            _ => None,
        })
        .collect();
    upvotes.sort();
    assert_eq!(upvotes, (1..=11).collect::<Vec<i64>>());

    // a PRIVATE report cannot be upvoted, and the refused vote is not kept
    let p = report(
        &user(),
        Visibility::Private,
        "kesehatan",
        "AGENCY_HEALTH",
        3,
    );
    rep.insert_report(&p, &created(&p)).await.unwrap();
    conflict(vote(&*rep, p.id, voter, at(4)).await);
    conflict(vote(&*rep, p.id, voter, at(4)).await);
    assert_eq!(rep.report(p.id).await.unwrap().unwrap().vote_count, 0);
    // nor can a report that does not exist
    assert!(vote(&*rep, ReportId::new_v7(), voter, at(4)).await.is_err());
}

pub async fn photos_are_recorded_with_their_event_within_the_limit_and_projected(s: &TestStores) {
    let rep = &s.reporting;
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
    let read = &s.read;
    let projector = &s.projector;
    let fresh = report(&user(), Visibility::Public, "kebersihan", "AGENCY_INFRA", 0);
    let mut early = photos_added(&fresh, &new_photos(1), 0);
    early.timestamp = time::OffsetDateTime::now_utc();
    assert!(matches!(
        projector.apply(std::slice::from_ref(&early), now()).await,
        Err(StoreError::Unavailable(_))
    ));
    let events = [created(&r), ev1.clone(), ev2.clone(), ev1.clone()];
    assert_eq!(projector.apply(&events, now()).await.unwrap(), 3);
    let v = read.report(r.id, false).await.unwrap().unwrap();
    let shown: Vec<_> = v.photos.iter().map(|p| p.id).collect();
    let mut all: Vec<_> = ids.clone();
    all.extend(two.iter().map(|p| p.id));
    assert_eq!(shown, all);
    assert!(v.photos.iter().all(|p| p.report == r.id));
    let listing = read
        .list_reports(&filter(ListingScope::All, ALL_PAGE))
        .await
        .unwrap();
    assert_eq!(listing.items[0].photos.len(), 5);
    let keyset = read
        .list_reports(&filter(
            ListingScope::All,
            lapor_app::ports::Paging::Keyset {
                after: None,
                limit: 10,
            },
        ))
        .await
        .unwrap();
    assert_eq!(keyset.items[0].photos.len(), 5);

    // rebuilt: the same photos
    projector.reset().await.unwrap();
    projector.apply(&events, now()).await.unwrap();
    let again = read.report(r.id, false).await.unwrap().unwrap();
    assert_eq!(again.photos, v.photos);
}
