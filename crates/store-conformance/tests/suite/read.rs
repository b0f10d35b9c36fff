//! The reporting read side: the projector applies events once and rebuilds
//! the same picture; listings follow scopes, filters, search, sorts and both
//! kinds of paging; paged totals agree with what is listed.

use crate::fixtures::*;
use lapor_app::ports::{Cursor, FeedSort, Paging, ReadStore, ReportFilter};
use lapor_domain::access::{ListingScope, Owner, Visibility};
use lapor_domain::events::EventEnvelope;
use lapor_domain::ids::ReportId;
use lapor_domain::lifecycle::Status;
use lapor_domain::report::Report;
use lapor_store_conformance::harness::TestStores;

/// Seven reports of every visibility with a history: votes (one stale),
/// status changes, an answer, a redelivered escalation, a re-routing edit,
/// a withdrawal.
pub struct ReadFixture {
    pub u1: Owner,
    pub u2: Owner,
    pub tag: Owner,
    pub a: Report,
    pub b: Report,
    pub c: Report,
    pub d: Report,
    pub e: Report,
    pub f: Report,
    pub g: Report,
    pub events: Vec<EventEnvelope>,
}

pub fn read_fixture() -> ReadFixture {
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

pub async fn the_projector_applies_events_once_and_rebuilds_identically(s: &TestStores) {
    let (read, projector) = (&s.read, &s.projector);
    assert_eq!(projector.group(), "projector:read");
    let fx = read_fixture();
    let all_ids = [
        fx.a.id, fx.b.id, fx.c.id, fx.d.id, fx.e.id, fx.f.id, fx.g.id,
    ];
    let n = fx.events.len();

    // a first, partial delivery, then the whole batch redelivered
    assert_eq!(projector.apply(&fx.events[..9], now()).await.unwrap(), 9);
    assert_eq!(projector.apply(&fx.events, now()).await.unwrap(), n - 9);
    let once = read_snapshot(read.as_ref(), &all_ids).await;
    assert_eq!(projector.apply(&fx.events, now()).await.unwrap(), 0);
    assert_eq!(read_snapshot(read.as_ref(), &all_ids).await, once);

    // rebuilt from scratch: the same picture
    projector.reset().await.unwrap();
    assert_eq!(read.count_reports().await.unwrap(), 0);
    assert!(read.statistics(None).await.unwrap().is_empty());
    assert!(
        read.list_reports(&filter(ListingScope::All, ALL_PAGE))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(projector.apply(&fx.events, now()).await.unwrap(), n);
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
        read.timelines(&[ReportId::new_v7()])
            .await
            .unwrap()
            .is_empty()
    );
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
    assert!(
        read.report(ReportId::new_v7(), true)
            .await
            .unwrap()
            .is_none()
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
    assert!(
        read.statistics(Some(&cat("lainnya")))
            .await
            .unwrap()
            .is_empty()
    );
    let _ = (&fx.u2, &fx.g);
}

pub async fn listings_follow_scopes_filters_and_paging(s: &TestStores) {
    let read = s.read.clone();
    let fx = read_fixture();
    s.projector.apply(&fx.events, now()).await.unwrap();
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
    let mut nobody = filter(ListingScope::All, ALL_PAGE);
    nobody.only_owners = Some(vec![]);
    let nobody = list(nobody).await;
    assert_eq!((nobody.items.len(), nobody.total), (0, Some(0)));

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
    let beyond = list(filter(
        ListingScope::All,
        Paging::Offset {
            page: 9,
            per_page: 4,
        },
    ))
    .await;
    assert_eq!((beyond.items.len(), beyond.total), (0, Some(6)));

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
            Some(c) => after = Some(Cursor::decode(&c).unwrap()),
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

/// Search: every word must appear in the title or the text, ASCII case
/// ignored, the `LIKE` wildcards a user types taken literally. (Only ASCII
/// case: SQLite's `LIKE` folds ASCII letters alone, PostgreSQL's `ILIKE`
/// every letter, so `NAÏVE` finds `naïve` on PostgreSQL only.)
pub async fn listings_search_titles_and_text(s: &TestStores) {
    let owner = user();
    let mk = |t: i64, title: &str, content: &str| {
        let mut r = report(
            &owner,
            Visibility::Public,
            "infrastruktur",
            "AGENCY_INFRA",
            t,
        );
        r.title = title.into();
        r.content = content.into();
        r
    };
    let a = mk(0, "Jalan berlubang", "Di depan SEKOLAH dasar");
    let b = mk(1, "Lampu jalan mati", "Sudah 3 hari");
    let c = mk(2, "Diskon 100% palsu", "spanduk_liar di tiang");
    let hidden = {
        let mut r = mk(3, "Jalan rusak", "sekolah");
        r.visibility = Visibility::Private;
        r
    };
    let events: Vec<_> = [&a, &b, &c, &hidden].into_iter().map(created).collect();
    s.projector.apply(&events, now()).await.unwrap();
    let search = |q: &str, scope: ListingScope| {
        let mut f = filter(scope, ALL_PAGE);
        f.search = Some(q.to_owned());
        let read = s.read.clone();
        async move {
            let page = read.list_reports(&f).await.unwrap();
            assert_eq!(page.total, Some(page.items.len() as i64), "{f:?}");
            ids(&page.items, |v| v.id)
        }
    };
    let public = || ListingScope::PublicOnly;
    assert_eq!(search("jalan", public()).await, [b.id, a.id]);
    assert_eq!(search("JALAN sekolah", public()).await, [a.id]);
    assert_eq!(search("  sekolah  ", public()).await, [a.id]);
    assert_eq!(
        search("jalan sekolah", ListingScope::All).await,
        [hidden.id, a.id]
    );
    assert_eq!(search("100%", public()).await, [c.id]);
    assert!(search("10%", public()).await.is_empty(), "% is literal");
    assert_eq!(search("spanduk_liar", public()).await, [c.id]);
    assert!(
        search("spanduk_l_ar", public()).await.is_empty(),
        "_ is literal"
    );
    assert!(search("jembatan", public()).await.is_empty());
    // keyset pages search too
    let mut f = filter(
        public(),
        Paging::Keyset {
            after: None,
            limit: 1,
        },
    );
    f.search = Some("jalan".into());
    let first = s.read.list_reports(&f).await.unwrap();
    assert_eq!(ids(&first.items, |v| v.id), [b.id]);
    f.paging = Paging::Keyset {
        after: Cursor::decode(first.next_cursor.as_deref().unwrap()),
        limit: 1,
    };
    assert_eq!(
        ids(&s.read.list_reports(&f).await.unwrap().items, |v| v.id),
        [a.id]
    );
}

/// A workload of creates of every visibility by several owners in every
/// category, then re-routing edits, status changes and withdrawals.
pub fn mixed_workload(n: usize) -> (Vec<Owner>, Vec<EventEnvelope>) {
    const CATS: [(&str, &str); 6] = [
        ("infrastruktur", "AGENCY_INFRA"),
        ("kebersihan", "AGENCY_INFRA"),
        ("lainnya", "AGENCY_INFRA"),
        ("kesehatan", "AGENCY_HEALTH"),
        ("keamanan", "AGENCY_SAFETY"),
        ("kriminalitas", "AGENCY_SAFETY"),
    ];
    let owners: Vec<Owner> = (0..5).map(|_| user()).chain([anon('d')]).collect();
    let vis = [
        Visibility::Public,
        Visibility::Private,
        Visibility::Anonymous,
    ];
    let mut events = vec![];
    let mut reports = vec![];
    for i in 0..n {
        let (c, a) = CATS[i % 6];
        let v = vis[i % 3];
        let owner = if v == Visibility::Anonymous {
            &owners[5]
        } else {
            &owners[(i * 7) % 5]
        };
        // scrambled creation times, as with clock skew between instances
        let r = report(owner, v, c, a, ((i * 37) % n) as i64);
        events.push(created(&r));
        reports.push(r);
    }
    for (i, r) in reports.iter().enumerate() {
        if i % 5 == 0 {
            let (c, a) = CATS[(i + 3) % 6];
            let mut moved = r.clone();
            moved.category = cat(c);
            moved.agency = agency(a);
            moved.updated_at = at(1_000);
            events.push(updated(&moved));
        }
        if i % 4 == 1 {
            events.push(status(r, Status::Received, Status::InProgress, 1_001));
        }
        if i % 9 == 2 {
            events.push(withdrawn(r, 1_002));
        }
    }
    (owners, events)
}

/// The scopes a listing may have, over the workload's owners.
pub fn scopes(owners: &[Owner]) -> Vec<ListingScope> {
    vec![
        ListingScope::All,
        ListingScope::PublicOnly,
        ListingScope::PublicAndOwn(vec![owners[1].clone()]),
        ListingScope::PublicAndOwn(vec![owners[2].clone(), owners[5].clone()]),
        ListingScope::PublicOwnAndAgency(vec![owners[3].clone()], agency("AGENCY_INFRA")),
        ListingScope::PublicOwnAndAgency(vec![], agency("AGENCY_HEALTH")),
    ]
}

/// Whatever an engine keeps to answer totals quickly (maintained counters),
/// the total of a numbered page equals the number of reports a keyset walk
/// of the same filter lists, for every scope and filter combination.
pub async fn listing_totals_match_the_listed_reports_after_a_mixed_workload(s: &TestStores) {
    let (owners, events) = mixed_workload(150);
    for chunk in events.chunks(37) {
        s.projector.apply(chunk, now()).await.unwrap();
    }
    // redelivery changes nothing
    assert_eq!(s.projector.apply(&events[10..60], now()).await.unwrap(), 0);
    let mut checked = 0;
    for scope in scopes(&owners) {
        for only in [
            None,
            Some(vec![owners[1].clone()]),
            Some(vec![owners[4].clone(), owners[5].clone()]),
        ] {
            for category in [None, Some(cat("kesehatan"))] {
                for status in [None, Some(Status::Received), Some(Status::InProgress)] {
                    let mut f = ReportFilter {
                        scope: scope.clone(),
                        only_owners: only.clone(),
                        category: category.clone(),
                        status,
                        search: None,
                        sort: FeedSort::Newest,
                        paging: Paging::Offset {
                            page: 2,
                            per_page: 7,
                        },
                    };
                    let total = s.read.list_reports(&f).await.unwrap().total;
                    let mut listed = 0;
                    let mut after = None;
                    loop {
                        f.paging = Paging::Keyset { after, limit: 100 };
                        let page = s.read.list_reports(&f).await.unwrap();
                        listed += page.items.len() as i64;
                        match page.next_cursor {
                            Some(c) => after = Cursor::decode(&c),
                            None => break,
                        }
                    }
                    assert_eq!(total, Some(listed), "{f:?}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 6 * 3 * 2 * 3);
    // a rebuild gives the same totals
    let all = filter(ListingScope::All, ALL_PAGE);
    let before = s.read.list_reports(&all).await.unwrap().total;
    s.projector.reset().await.unwrap();
    s.projector.apply(&events, now()).await.unwrap();
    assert_eq!(s.read.list_reports(&all).await.unwrap().total, before);
}
