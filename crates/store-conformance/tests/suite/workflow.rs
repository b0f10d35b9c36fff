//! The workflow context: SLA configuration, one job per report with its
//! category's duration, escalations raced by two workers, the SLA listing
//! with scopes, filters and totals, notifications and marking them read,
//! and notifications stored before they were typed.

use crate::fixtures::*;
use lapor_app::ports::{SlaConfig, SlaFilter};
use lapor_domain::access::{ListingScope, Visibility};
use lapor_domain::events::DomainEvent;
use lapor_domain::ids::NotificationId;
use lapor_domain::lifecycle::Status;
use lapor_domain::notices::Notice;
use lapor_domain::sla::{self, SlaStatus};
use lapor_store_conformance::harness::TestStores;

pub async fn sla_configuration_is_kept(s: &TestStores) {
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

pub async fn workflow_jobs_escalate_once_and_notify(s: &TestStores) {
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
            wf.escalate(
                a.id,
                0,
                &next,
                &[note(&owner, a.id, at(61))],
                &escalated(&a, 1, 61),
            )
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
    assert_eq!(kinds(&notes), ["status", "status", "escalated_reporter"]);
    let (b_notes, _) = wf
        .notifications(std::slice::from_ref(&owner_b), false, 10)
        .await
        .unwrap();
    assert_eq!(b_notes.len(), 1);
    assert_eq!(kinds(&b_notes), ["answer"]);
    // stored as kind + params and read back as they were
    assert_eq!(
        b_notes[0].notice,
        lapor_domain::notices::Notice::Answer {
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

/// Whatever an engine keeps to answer totals quickly (maintained counters),
/// the total of the SLA listing equals the number of jobs its pages list,
/// for every scope and SLA status, after jobs were re-routed, cancelled and
/// moved on.
pub async fn sla_totals_match_the_listed_jobs_after_a_mixed_workload(s: &TestStores) {
    let (owners, events) = crate::read::mixed_workload(150);
    for chunk in events.chunks(29) {
        s.workflow.apply(chunk, now()).await.unwrap();
    }
    assert_eq!(s.workflow.count_jobs().await.unwrap(), 150);
    let mut checked = 0;
    for scope in crate::read::scopes(&owners) {
        for sla_status in [
            None,
            Some(SlaStatus::Pending),
            Some(SlaStatus::Cancelled),
            Some(SlaStatus::Completed),
        ] {
            let page = |page, per_page| SlaFilter {
                scope: scope.clone(),
                report_id: None,
                sla_status,
                overdue_only: false,
                now: at(0),
                page,
                per_page,
            };
            let total = s.workflow.sla_status(&page(2, 7)).await.unwrap().total;
            let mut listed = 0;
            for p in 1.. {
                let items = s.workflow.sla_status(&page(p, 40)).await.unwrap().items;
                if items.is_empty() {
                    break;
                }
                listed += items.len() as i64;
            }
            assert_eq!(total, Some(listed), "{scope:?} {sla_status:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
}

/// Notifications stored before migration 5003 (an English sentence in
/// `message`, no parameters) read back as legacy notices beside the typed
/// ones, newest first, and count as unread like them.
pub async fn notifications_stored_before_typed_notices_read_back_as_legacy(s: &TestStores) {
    let wf = &s.workflow;
    let owner = anon('d');
    let r = report(
        &owner,
        Visibility::Anonymous,
        "infrastruktur",
        "AGENCY_INFRA",
        0,
    );
    let sentence = "Your report is now IN_PROGRESS (was RECEIVED)";
    // The columns and their types are the same on both engines; the ids are
    // UUIDs and the owner a fixed pseudonym, so inlining them is safe.
    s.execute_sql(
        "workflow",
        &format!(
            "INSERT INTO notifications (id, recipient, report_id, kind, message, is_read, created_at) \
             VALUES ('{}', '{owner}', '{}', 'status', '{sentence}', 0, {})",
            NotificationId::new_v7(),
            r.id,
            lapor_app::clock::millis(at(0)),
        ),
    )
    .await;
    wf.apply(&[created(&r)], now()).await.unwrap();
    wf.apply(&[answered(&r, 60)], now()).await.unwrap();
    let (notes, unread) = wf
        .notifications(std::slice::from_ref(&owner), false, 10)
        .await
        .unwrap();
    assert_eq!(unread, 2);
    assert_eq!(
        notes.iter().map(|n| n.notice.clone()).collect::<Vec<_>>(),
        [
            Notice::Answer {
                message: "Tim sudah dikirim".into()
            },
            Notice::Legacy {
                message: sentence.into()
            },
        ]
    );
    assert!(notes.iter().all(|n| n.report_id == r.id && !n.is_read));
}
