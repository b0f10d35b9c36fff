//! PostgreSQL only: what exists on no other engine. Several relay
//! instances claiming outbox rows, several instances appending to the audit
//! trail, several read databases, an unreachable
//! server, and the counters PostgreSQL keeps with triggers (migrations
//! 3003, 3004, 5002) checked against `count(*)`.

use crate::fixtures::*;
use crate::migrations::versions;
use lapor_app::ports::{AuditLog, EventConsumer, Outbox, StoreError};
use lapor_domain::access::Visibility;
use lapor_domain::events::{DomainEvent, PhotosAdded};
use lapor_domain::ids::PhotoId;
use lapor_store_conformance::harness::{Engine, TestDbs, TestStores, admin_url};
use lapor_store_postgres::{PgUrls, PoolSettings, open, read_group, redact};
use sqlx::Connection;
use std::sync::Arc;

/// A second instance's relay waits for the first one's claimed batch; a
/// claim that expires (its relay died before marking) is taken over, so
/// rows are published again (a duplicate consumers ignore), never lost.
pub async fn two_relays_claim_rows_and_take_over_expired_claims(s: &TestStores) {
    let (_, url) = s.postgres().expect("PostgreSQL stores");
    let rep = &s.reporting;
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
    let first = rep.unrelayed(3).await.unwrap();
    let seqs: Vec<i64> = first.iter().map(|o| o.seq).collect();

    let other = open(&PgUrls::single(url), PoolSettings::default())
        .await
        .unwrap();
    assert!(other.reporting.unrelayed(10).await.unwrap().is_empty());

    rep.mark_relayed(&seqs).await.unwrap();
    let second = other.reporting.unrelayed(10).await.unwrap();
    assert_eq!(
        second.iter().map(|o| o.event.clone()).collect::<Vec<_>>(),
        events[3..]
    );
    assert!(
        rep.unrelayed(10).await.unwrap().is_empty(),
        "claimed by the other"
    );

    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
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
    other.close().await;
}

/// Each read database (primary and replicas) has its own projection and
/// consumer group; contexts in different databases migrate only their own
/// schemas; re-opening migrates nothing.
pub async fn several_read_databases_keep_their_own_state() {
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
    use lapor_app::ports::ReadStore;
    assert_eq!(s.reads[0].apply(&[created(&r)], now()).await.unwrap(), 1);
    assert_eq!(s.reads[1].count_reports().await.unwrap(), 0);
    assert_eq!(s.reads[1].apply(&[created(&r)], now()).await.unwrap(), 1);
    assert_eq!(s.reads[1].count_reports().await.unwrap(), 1);

    // re-opening migrates nothing and shares the migration table safely
    s.close().await;
    let s = open(&urls, PoolSettings::default()).await.unwrap();
    assert_eq!(s.reads[0].count_reports().await.unwrap(), 1);
    let applied = |url: String| async move {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let v: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut c)
                .await
                .unwrap();
        c.close().await.unwrap();
        v
    };
    let of = |contexts: &[&str]| {
        let mut v: Vec<i64> = contexts
            .iter()
            .flat_map(|c| versions(Engine::Postgres, c))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        applied(main.clone()).await,
        of(&["identity", "reporting", "reporting_read"])
    );
    assert_eq!(
        applied(cases.clone()).await,
        of(&["operations", "workflow"])
    );
    assert_eq!(applied(replica.clone()).await, of(&["reporting_read"]));
    s.close().await;

    let mut twice = urls.clone();
    twice.read = vec![main.clone(), main.clone()];
    assert!(open(&twice, PoolSettings::default()).await.is_err());
    let mut none = urls.clone();
    none.read.clear();
    assert!(open(&none, PoolSettings::default()).await.is_err());
}

/// A closed pool answers reads as unavailable too; a server that cannot be
/// reached fails to open; URLs never show their password.
pub async fn a_closed_or_unreachable_database_is_unavailable(s: &TestStores) {
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

/// Each maintained counter next to the `count(*)` it stands for, one row
/// per non-zero key, as text.
const COUNTERS: [(&str, &str, &str); 5] = [
    (
        "report_counts (3003)",
        "SELECT concat_ws('|', public, agency, category, status, n) FROM reporting_read.report_counts WHERE n <> 0 ORDER BY 1",
        "SELECT concat_ws('|', visibility = 'PUBLIC', agency, category, status, count(*)) FROM reporting_read.report_views WHERE withdrawn = 0 GROUP BY visibility = 'PUBLIC', agency, category, status ORDER BY 1",
    ),
    (
        "report_owner_counts (3003)",
        "SELECT concat_ws('|', owner, public, agency, category, status, n) FROM reporting_read.report_owner_counts WHERE n <> 0 ORDER BY 1",
        "SELECT concat_ws('|', owner, visibility = 'PUBLIC', agency, category, status, count(*)) FROM reporting_read.report_views WHERE withdrawn = 0 GROUP BY owner, visibility = 'PUBLIC', agency, category, status ORDER BY 1",
    ),
    (
        "photo_count (3004)",
        "SELECT concat_ws('|', id, photo_count) FROM reporting_read.report_views WHERE photo_count <> 0 ORDER BY 1",
        "SELECT concat_ws('|', v.id, count(*)) FROM reporting_read.report_views v JOIN reporting_read.report_photos p ON p.report_id = v.id GROUP BY v.id ORDER BY 1",
    ),
    (
        "sla_counts (5002)",
        "SELECT concat_ws('|', public, agency, sla_status, n) FROM workflow.sla_counts WHERE n <> 0 ORDER BY 1",
        "SELECT concat_ws('|', visibility = 'PUBLIC', agency, sla_status, count(*)) FROM workflow.sla_jobs GROUP BY visibility = 'PUBLIC', agency, sla_status ORDER BY 1",
    ),
    (
        "sla_owner_counts (5002)",
        "SELECT concat_ws('|', owner, public, agency, sla_status, n) FROM workflow.sla_owner_counts WHERE n <> 0 ORDER BY 1",
        "SELECT concat_ws('|', owner, visibility = 'PUBLIC', agency, sla_status, count(*)) FROM workflow.sla_jobs GROUP BY owner, visibility = 'PUBLIC', agency, sla_status ORDER BY 1",
    ),
];

/// Checks every counter against its `count(*)`; returns how many counter
/// rows there were.
async fn check_counters(url: &str) -> usize {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let mut rows = 0;
    for (name, kept, counted) in COUNTERS {
        let kept: Vec<String> = sqlx::query_scalar(kept).fetch_all(&mut c).await.unwrap();
        let counted: Vec<String> = sqlx::query_scalar(counted).fetch_all(&mut c).await.unwrap();
        assert_eq!(kept, counted, "{name}");
        rows += kept.len();
    }
    c.close().await.unwrap();
    rows
}

/// The counters migrations 3003, 3004 and 5002 add on PostgreSQL are kept
/// by triggers: after a mixed workload (creates, re-routing, status changes,
/// withdrawals, photos, redelivery), a rebuild and re-application, each
/// equals the `count(*)` it stands for.
pub async fn counters_kept_by_triggers_equal_count_star(s: &TestStores) {
    let (_, url) = s.postgres().expect("PostgreSQL stores");
    let (_, mut events) = crate::read::mixed_workload(120);
    let created: Vec<_> = events
        .iter()
        .filter_map(|e| match e.decode() {
            Ok(DomainEvent::ReportCreated(c)) => Some((c.report_id, c.agency)),
            _ => None,
        })
        .collect();
    for (i, (id, agency)) in created.iter().enumerate().filter(|(i, _)| i % 7 == 0) {
        let photos = (0..=i % 3).map(|_| PhotoId::new_v7()).collect();
        events.push(
            DomainEvent::PhotosAdded(PhotosAdded {
                report_id: *id,
                photo_ids: photos,
                agency: agency.clone(),
                added_at: at(2_000),
            })
            .into_envelope(at(2_000)),
        );
    }
    for chunk in events.chunks(31) {
        s.projector.apply(chunk, now()).await.unwrap();
        s.workflow.apply(chunk, now()).await.unwrap();
    }
    let rows = check_counters(url).await;
    assert!(rows > 50, "the workload reaches many keys ({rows})");

    // a rebuild empties the read side's counters and builds them again
    s.projector.reset().await.unwrap();
    assert_eq!(check_counters(url).await, {
        // only the workflow counters are left
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM workflow.sla_counts WHERE n <> 0) \
                  + (SELECT count(*) FROM workflow.sla_owner_counts WHERE n <> 0)",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
        n as usize
    });
    s.projector.apply(&events, now()).await.unwrap();
    assert_eq!(check_counters(url).await, rows);
}

/// Three instances (this one and two more pools on the same database)
/// append to the audit trail at once; the chain verifies.
pub async fn several_instances_append_to_one_audit_chain(s: &TestStores) {
    let (_, url) = s.postgres().expect("PostgreSQL stores");
    let mut others: Vec<Arc<dyn AuditLog>> = Vec::new();
    let mut opened = Vec::new();
    for _ in 0..2 {
        let o = open(&PgUrls::single(url), PoolSettings::default())
            .await
            .unwrap();
        others.push(o.identity.clone());
        opened.push(o);
    }
    crate::audit::several_instances_append_to_one_chain(s, others).await;
    for o in opened {
        o.close().await;
    }
}
