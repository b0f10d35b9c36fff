//! The audit trail: entries chain in order with gapless sequence numbers,
//! come back exactly as appended (so the chain verifies), list newest first
//! under every filter, and concurrent appends never fork the chain.

use crate::fixtures::at;
use lapor_app::ports::{AuditFilter, AuditLog};
use lapor_app::services::audit::verify_log;
use lapor_domain::audit::{AuditAction, AuditEntry, GENESIS, NewAuditEntry};
use lapor_domain::ids::UserId;
use lapor_store_conformance::harness::TestStores;
use serde_json::json;
use std::sync::Arc;

fn new_entry(actor: UserId, action: AuditAction, t: i64, n: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: at(t),
        actor,
        action,
        target: (n % 2 == 0).then(|| format!("target-{n}")),
        // Keys out of order, nested, unicode and a quote: stored and read
        // back, they must hash the same.
        details: json!({"z": n, "a": {"y": "Jalan \"Merdeka\" — 5", "b": [1, null, true]}}),
    }
}

fn seqs(entries: &[AuditEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.seq).collect()
}

pub async fn audit_entries_chain_list_and_verify(s: &TestStores) {
    let log = &s.audit;
    assert_eq!(verify_log(&**log).await.unwrap(), Ok(0), "empty log");
    let (officer, admin) = (UserId::new_v7(), UserId::new_v7());
    let plan = [
        (officer, AuditAction::StaffLogin, 0),
        (officer, AuditAction::StatusChanged, 10),
        (officer, AuditAction::Answered, 20),
        (admin, AuditAction::StaffLogin, 30),
        (admin, AuditAction::SlaChanged, 40),
        (admin, AuditAction::CategoryChanged, 50),
    ];
    let mut appended = Vec::new();
    for (n, (actor, action, t)) in plan.into_iter().enumerate() {
        appended.push(
            log.append(&new_entry(actor, action, t, n as i64))
                .await
                .unwrap(),
        );
    }
    assert_eq!(seqs(&appended), [1, 2, 3, 4, 5, 6]);
    assert_eq!(appended[0].prev_hash, GENESIS);
    for w in appended.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
    }

    // Stored exactly as appended, in order, page by page.
    let mut all = log.all_in_order(0, 4).await.unwrap();
    assert_eq!(seqs(&all), [1, 2, 3, 4]);
    all.extend(log.all_in_order(4, 4).await.unwrap());
    assert_eq!(all, appended);
    assert_eq!(verify_log(&**log).await.unwrap(), Ok(6));

    let list = |f: AuditFilter| async move { seqs(&log.list(&f).await.unwrap()) };
    let f = |limit| AuditFilter {
        limit,
        ..Default::default()
    };
    assert_eq!(list(f(10)).await, [6, 5, 4, 3, 2, 1], "newest first");
    assert_eq!(list(f(2)).await, [6, 5]);
    assert_eq!(
        list(AuditFilter {
            before_seq: Some(5),
            ..f(2)
        })
        .await,
        [4, 3]
    );
    assert_eq!(
        list(AuditFilter {
            actor: Some(officer),
            ..f(10)
        })
        .await,
        [3, 2, 1]
    );
    assert_eq!(
        list(AuditFilter {
            action: Some(AuditAction::StaffLogin),
            ..f(10)
        })
        .await,
        [4, 1]
    );
    assert_eq!(
        list(AuditFilter {
            actor: Some(admin),
            action: Some(AuditAction::StaffLogin),
            ..f(10)
        })
        .await,
        [4]
    );
    // from is inclusive, to exclusive.
    assert_eq!(
        list(AuditFilter {
            from: Some(at(10)),
            to: Some(at(40)),
            ..f(10)
        })
        .await,
        [4, 3, 2]
    );
    assert_eq!(
        list(AuditFilter {
            actor: Some(UserId::new_v7()),
            ..f(10)
        })
        .await,
        Vec::<i64>::new()
    );
}

/// Appends from many tasks at once on one store; the chain stays one line.
pub async fn concurrent_appends_keep_one_chain(s: &TestStores) {
    let tasks: Vec<_> = (0..24)
        .map(|n| {
            let log = s.audit.clone();
            tokio::spawn(async move {
                log.append(&new_entry(UserId::new_v7(), AuditAction::Answered, n, n))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(verify_log(&*s.audit).await.unwrap(), Ok(24));
}

/// Several instances (each its own pool) appending at once: the advisory
/// lock orders them, so the chain neither forks nor skips a sequence number.
pub async fn several_instances_append_to_one_chain(s: &TestStores, others: Vec<Arc<dyn AuditLog>>) {
    let mut logs = others;
    logs.push(s.audit.clone());
    let mut tasks = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        for n in 0..10 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                log.append(&new_entry(
                    UserId::new_v7(),
                    AuditAction::StatusChanged,
                    n,
                    (i * 10 + n as usize) as i64,
                ))
                .await
                .unwrap()
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = logs.len() as i64 * 10;
    assert_eq!(verify_log(&*s.audit).await.unwrap(), Ok(total));
    assert_eq!(verify_log(&*logs[0]).await.unwrap(), Ok(total));
}
