//! The operations context: cases follow the reporting events, status
//! changes and answers are conditional and appended to the outbox, inboxes
//! sort, filter and page, analytics reads case facts and open cases.

use crate::fixtures::*;
use lapor_app::ports::{InboxFilter, InboxSort, Paging};
use lapor_domain::access::Visibility;
use lapor_domain::ids::{ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_store_conformance::harness::TestStores;

pub async fn operations_cases_follow_events_and_status_changes_race_safely(s: &TestStores) {
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
    ];
    assert_eq!(ops.apply(&batch, now()).await.unwrap(), batch.len());
    // operations' own events come back through the bus and change nothing
    // (what `apply` counts for them: consumers_count_only_the_events_they_act_on)
    ops.apply(
        &[status(&a, Status::Received, Status::InProgress, 12)],
        now(),
    )
    .await
    .unwrap();
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

pub async fn inbox_sorts_filters_overdue_and_extracts_case_facts(s: &TestStores) {
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
