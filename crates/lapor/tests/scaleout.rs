//! Scale-out: several `lapor serve --role ...` processes (the real binary)
//! against one PostgreSQL and one Redis, and faults injected while they
//! work: kill -9, Redis down, a read database down, a query instance killed
//! behind nginx. Each test ends with the same proof once the system has
//! settled: the acknowledged reports are in the write side, operations,
//! workflow and every read database exactly once, every outbox row is in the
//! Redis stream exactly once, and `lapor check-sync` exits 0.
//!
//! Needs `LAPOR_TEST_DATABASE_URL` (an admin URL, a fresh database per test)
//! and `LAPOR_TEST_REDIS_URL` (a fresh key prefix per test); without them
//! every test prints that it skipped. Outages go through a TCP proxy in
//! front of the service (common/proxy.rs), so the shared servers stay up for
//! other tests. Run with `--nocapture` to see the measured numbers.

mod common;

use common::cluster::{
    Ack, Burst, Cluster, all_ids, create_report, eventually, get_json, host_port, int, login,
    post_json, strings, via,
};
use common::proxy::Proxy;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn ids(acked: &[Ack]) -> HashSet<String> {
    acked.iter().map(|a| a.id.clone()).collect()
}

/// Spawns the named processes and waits until each runs.
async fn start_all(c: &mut Cluster, procs: &[(&str, &str, &[&str])]) {
    for (name, role, args) in procs {
        c.spawn(name, role, args, &[]);
    }
    for (name, _, _) in procs {
        c.ready(name).await;
    }
}

fn report(test: &str, line: String) {
    println!("[scaleout] {test}: {line}");
}

// ------------------------------------------------------------------ 1

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_command_and_two_query_instances_serve_one_system() {
    let t0 = Instant::now();
    let Some(mut c) = Cluster::new(0).await else {
        return;
    };
    c.start("command-a", "command", &["--demo"], &[]).await;
    start_all(
        &mut c,
        &[
            ("command-b", "command", &[]),
            ("query-a", "query", &[]),
            ("query-b", "query", &[]),
            ("operations-1", "operations", &[]),
            ("workflow-1", "workflow", &[]),
            ("projector-1", "projector", &[]),
            ("relay-1", "relay", &[]),
        ],
    )
    .await;
    let http = c.http.clone();

    // /health names each process and its role.
    let mut instances = HashSet::new();
    for (name, role) in [
        ("command-a", "command"),
        ("command-b", "command"),
        ("query-a", "query"),
        ("query-b", "query"),
        ("operations-1", "operations"),
        ("workflow-1", "workflow"),
    ] {
        let (s, v) = get_json(&http, &format!("{}/health", c.base(name)), None)
            .await
            .unwrap();
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["instance"], name, "{v}");
        assert_eq!(v["role"], role, "{v}");
        instances.insert(v["instance"].as_str().unwrap().to_owned());
        let (s, v) = get_json(&http, &format!("{}/ready", c.base(name)), None)
            .await
            .unwrap();
        assert_eq!(s, StatusCode::OK, "{name} not ready: {v}");
    }
    assert_eq!(instances.len(), 6, "instance ids are not distinct");

    let (cmd_a, cmd_b, q_a, q_b) = (
        c.base("command-a"),
        c.base("command-b"),
        c.base("query-a"),
        c.base("query-b"),
    );
    // Tokens from one instance work on every other (one shared secret).
    let c1 = login(&http, &cmd_a, "citizen1").await;
    let c2 = login(&http, &cmd_b, "citizen2").await;
    let officer = login(&http, &q_a, "officer1").await;

    // The first report: written through A, read through query B.
    let first = create_report(&http, &cmd_a, &c1, "Jalan berlubang 0", "infrastruktur")
        .await
        .unwrap();
    assert_eq!(first["instance"], "command-a");
    let first_id = first["report_id"].as_str().unwrap().to_owned();
    let t = Instant::now();
    eventually(
        "first report visible through query-b",
        Duration::from_secs(20),
        || async {
            let (s, v) = get_json(&http, &format!("{q_b}/reports/{first_id}"), Some(&c1))
                .await
                .ok()?;
            (s == StatusCode::OK && v["data"]["id"] == first_id.as_str()).then_some(())
        },
    )
    .await;
    let visible_after = t.elapsed();

    let mut mine: HashMap<&str, HashSet<String>> = HashMap::new();
    mine.entry("citizen1").or_default().insert(first_id.clone());
    let mut via_instance: HashMap<String, usize> = HashMap::new();
    for i in 1..=10 {
        for (base, name, tok, user) in [
            (&cmd_a, "command-a", &c1, "citizen1"),
            (&cmd_b, "command-b", &c2, "citizen2"),
            (&cmd_b, "command-b", &c1, "citizen1"),
            (&cmd_a, "command-a", &c2, "citizen2"),
        ] {
            let v = create_report(
                &http,
                base,
                tok,
                &format!("Jalan berlubang {i}"),
                "infrastruktur",
            )
            .await
            .unwrap();
            assert_eq!(
                v["instance"], name,
                "the create was answered by another instance: {v}"
            );
            *via_instance.entry(name.to_owned()).or_default() += 1;
            mine.entry(user)
                .or_default()
                .insert(v["report_id"].as_str().unwrap().to_owned());
        }
    }
    let all: HashSet<String> = mine.values().flatten().cloned().collect();
    assert_eq!(all.len(), 41);

    // Each citizen's reports (written through both A and B) through both
    // query instances; every single report through both.
    for q in [&q_a, &q_b] {
        for (user, tok) in [("citizen1", &c1), ("citizen2", &c2)] {
            let want = &mine[user];
            eventually(
                &format!("{user}'s reports through {q}"),
                Duration::from_secs(20),
                || async {
                    let got = all_ids(&http, q, "/reports/me", tok).await.ok()?;
                    (&got == want).then_some(())
                },
            )
            .await;
            for id in want {
                let (s, v) = get_json(&http, &format!("{q}/reports/{id}"), Some(tok))
                    .await
                    .unwrap();
                assert_eq!(s, StatusCode::OK, "{id} through {q}: {v}");
                assert_eq!(v["data"]["id"], id.as_str());
            }
        }
    }
    // The officer's inbox (operations) has every case, once.
    let ops = c.base("operations-1");
    eventually(
        "every case in officer1's inbox",
        Duration::from_secs(20),
        || async {
            let got = all_ids(&http, &ops, "/cases/inbox", &officer).await.ok()?;
            (got == all).then_some(())
        },
    )
    .await;

    let in_sync = c.wait_in_sync(Duration::from_secs(60)).await;
    let summary = c.assert_exactly_once(&all).await;
    report(
        "1 two command + two query",
        format!(
            "instances {instances:?}; creates per command instance {via_instance:?}; first report visible through \
             the other query instance after {visible_after:?}; in sync after {in_sync:?}; {summary}; total {:?}",
            t0.elapsed()
        ),
    );
}

// ------------------------------------------------------------------ 2

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workflow_instances_escalate_each_overdue_report_once() {
    const N: usize = 30;
    let t0 = Instant::now();
    let Some(mut c) = Cluster::new(0).await else {
        return;
    };
    c.common_env
        .insert("LAPOR_MIN_SLA_SECONDS".into(), "1".into());
    c.common_env
        .insert("LAPOR_SLA_TICK_MS".into(), "100".into());
    c.start("command-1", "command", &["--demo"], &[]).await;
    start_all(
        &mut c,
        &[
            ("query-1", "query", &[]),
            ("operations-1", "operations", &[]),
            ("projector-1", "projector", &[]),
            ("relay-1", "relay", &[]),
            ("workflow-a", "workflow", &["--sla-workers", "2"]),
            ("workflow-b", "workflow", &["--sla-workers", "2"]),
        ],
    )
    .await;
    let http = c.http.clone();
    let (cmd, wf_a, wf_b) = (
        c.base("command-1"),
        c.base("workflow-a"),
        c.base("workflow-b"),
    );
    let admin = login(&http, &cmd, "admin").await;
    let c1 = login(&http, &cmd, "citizen1").await;
    let supervisor = login(&http, &cmd, "supervisor1").await;

    // A 2-second SLA, set through one workflow instance (default) and the
    // other (the category), read back through both.
    let (s, v) = post_json(
        &http,
        &format!("{wf_a}/sla/config"),
        Some(&admin),
        json!({"duration_seconds": 2}),
    )
    .await
    .unwrap();
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = post_json(
        &http,
        &format!("{wf_b}/sla/config"),
        Some(&admin),
        json!({"duration_seconds": 2, "category": "infrastruktur"}),
    )
    .await
    .unwrap();
    assert_eq!(s, StatusCode::OK, "{v}");
    for wf in [&wf_a, &wf_b] {
        let (_, v) = get_json(&http, &format!("{wf}/sla/config"), None)
            .await
            .unwrap();
        assert_eq!(v["sla_duration_sec"], 2, "{v}");
        assert_eq!(v["categories"]["infrastruktur"], 2, "{v}");
    }

    let mut created = HashSet::new();
    for i in 0..N {
        let v = create_report(
            &http,
            &cmd,
            &c1,
            &format!("Lampu jalan mati {i}"),
            "infrastruktur",
        )
        .await
        .unwrap();
        created.insert(v["report_id"].as_str().unwrap().to_owned());
    }
    let created_at = Instant::now();

    // Level 1 at the due time (supervisors), level 2 one period later (the
    // city head); nothing above. Wait for both levels everywhere.
    let escalations = |http: reqwest::Client, wf: String, admin: String| async move {
        let (s, v) = get_json(&http, &format!("{wf}/sla/escalations"), Some(&admin))
            .await
            .ok()?;
        (s == StatusCode::OK).then(|| v["data"].as_array().cloned().unwrap_or_default())
    };
    eventually(
        "every report escalated to level 1 and 2",
        Duration::from_secs(60),
        || {
            let f = escalations(http.clone(), wf_a.clone(), admin.clone());
            async move { (f.await?.len() >= 2 * N).then_some(()) }
        },
    )
    .await;
    let all_escalated_after = created_at.elapsed();
    // Give every worker a few more ticks to escalate anything twice.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rows = escalations(http.clone(), wf_b.clone(), admin.clone())
        .await
        .expect("escalations");
    let mut levels: HashMap<String, Vec<i64>> = HashMap::new();
    for r in &rows {
        levels
            .entry(r["report_id"].as_str().unwrap().to_owned())
            .or_default()
            .push(r["escalation_level"].as_i64().unwrap());
    }
    assert_eq!(
        levels.keys().cloned().collect::<HashSet<_>>(),
        created,
        "escalated reports"
    );
    for (id, l) in &mut levels {
        l.sort();
        assert_eq!(l, &vec![1, 2], "report {id} escalations by level");
    }

    // Notifications: the reporter once per escalation, the supervisor once
    // (level 1), the city head once (level 2).
    let escalation_notes = |v: &serde_json::Value| -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for n in v["data"].as_array().unwrap() {
            if n["kind"]
                .as_str()
                .is_some_and(|k| k.starts_with("escalated_"))
            {
                *m.entry(n["report_id"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
        }
        m
    };
    for (who, tok, per_report) in [
        ("citizen1", &c1, 2),
        ("supervisor1", &supervisor, 1),
        ("admin", &admin, 1),
    ] {
        let (s, v) = get_json(
            &http,
            &format!("{wf_a}/notifications/me?limit=100"),
            Some(tok),
        )
        .await
        .unwrap();
        assert_eq!(s, StatusCode::OK);
        let notes = escalation_notes(&v);
        assert_eq!(
            notes.keys().cloned().collect::<HashSet<_>>(),
            created,
            "{who}'s escalation notifications"
        );
        for (id, n) in notes {
            assert_eq!(
                n, per_report,
                "{who}: escalation notifications of report {id}"
            );
        }
    }

    // Each escalation is one event, projected once.
    let write = c.database_url_direct();
    let read = c.read_dbs()[0].clone();
    let events = int(
        &write,
        "SELECT count(*) FROM workflow.outbox WHERE event_type = 'report.escalated'",
    )
    .await;
    assert_eq!(events, 2 * N as i64, "report.escalated events");
    let in_sync = c.wait_in_sync(Duration::from_secs(60)).await;
    let summary = c.assert_exactly_once(&created).await;
    let timeline = strings(
        &read,
        "SELECT report_id || ':' || escalation_level FROM reporting_read.report_timeline WHERE kind = 'escalation'",
    )
    .await;
    assert_eq!(timeline.len(), 2 * N, "escalation timeline entries");
    assert_eq!(
        timeline.iter().collect::<HashSet<_>>().len(),
        2 * N,
        "escalation timeline entries doubled"
    );

    // Which instance escalated what (each success is logged with its count).
    let escalated_by = |name: &str| -> usize {
        std::fs::read_to_string(&c.proc(name).log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("SLA escalations"))
            .filter_map(|l| {
                l.split("escalated=")
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .sum()
    };
    let (by_a, by_b) = (escalated_by("workflow-a"), escalated_by("workflow-b"));
    assert_eq!(
        by_a + by_b,
        2 * N,
        "successful escalations logged by the workers"
    );
    report(
        "2 two workflow instances",
        format!(
            "{N} reports, SLA 2 s, 2 instances x 2 SLA workers: {} escalations (each report level 1 and 2 once), \
             done by workflow-a {by_a} / workflow-b {by_b}; all escalated {all_escalated_after:?} after the last create; \
             reporter 2, supervisor 1, city head 1 notification(s) per report; in sync after {in_sync:?}; {summary}; total {:?}",
            rows.len(),
            t0.elapsed()
        ),
    );
}

// ------------------------------------------------------------------ 3

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_relays_publish_every_event_once() {
    let t0 = Instant::now();
    let Some(mut c) = Cluster::new(0).await else {
        return;
    };
    c.start("command-a", "command", &["--demo"], &[]).await;
    start_all(
        &mut c,
        &[
            ("command-b", "command", &[]),
            ("query-1", "query", &[]),
            ("operations-1", "operations", &[]),
            ("workflow-1", "workflow", &[]),
            ("projector-1", "projector", &[]),
            ("relay-a", "relay", &[]),
            ("relay-b", "relay", &[]),
        ],
    )
    .await;
    let http = c.http.clone();
    let c1 = login(&http, &c.base("command-a"), "citizen1").await;
    let burst_start = Instant::now();
    // A burst over a few of the relays' polling intervals, so both relays
    // find rows to publish.
    let targets = vec![c.base("command-a"), c.base("command-b")];
    let burst = Burst::start(
        &http,
        targets,
        &c1,
        200,
        4,
        Duration::from_millis(40),
        "relays",
    );
    let (acked, failures) = burst.finish().await;
    let burst_took = burst_start.elapsed();
    assert!(
        failures.is_empty(),
        "creates failed: {:?}",
        &failures[..failures.len().min(5)]
    );
    assert_eq!(acked.len(), 200);
    let acked = ids(&acked);

    let in_sync = c.wait_in_sync(Duration::from_secs(60)).await;
    let summary = c.assert_exactly_once(&acked).await;
    let got = all_ids(&http, &c.base("query-1"), "/reports/me", &c1)
        .await
        .unwrap();
    assert_eq!(got, acked, "/reports/me");
    // Which relay published what (the outboxes record the claimant).
    let split = strings(
        &c.database_url_direct(),
        "SELECT coalesce(claimed_by, '-') || '=' || count(*) FROM (SELECT claimed_by FROM reporting.outbox \
         UNION ALL SELECT claimed_by FROM operations.outbox UNION ALL SELECT claimed_by FROM workflow.outbox) o \
         GROUP BY claimed_by ORDER BY 1",
    )
    .await;
    report(
        "3 two relays",
        format!(
            "200 creates in {burst_took:?} through 2 command instances; outbox rows by relay {split:?}; \
             in sync after {in_sync:?}; {summary}; total {:?}",
            t0.elapsed()
        ),
    );
}

// ------------------------------------------------------------------ 4

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_the_projector_in_a_burst_of_1000_creates_loses_and_doubles_nothing() {
    const N: usize = 1000;
    let t0 = Instant::now();
    let Some(mut c) = Cluster::new(0).await else {
        return;
    };
    c.start("command-a", "command", &["--demo"], &[]).await;
    start_all(
        &mut c,
        &[
            ("command-b", "command", &[]),
            ("query-1", "query", &[]),
            ("operations-1", "operations", &[]),
            ("workflow-1", "workflow", &[]),
            ("projector-1", "projector", &[]),
            ("relay-1", "relay", &[]),
        ],
    )
    .await;
    let http = c.http.clone();
    let c1 = login(&http, &c.base("command-a"), "citizen1").await;
    let read = c.read_dbs()[0].clone();
    let burst_start = Instant::now();
    let burst = Burst::start(
        &http,
        vec![c.base("command-a"), c.base("command-b")],
        &c1,
        N,
        8,
        Duration::ZERO,
        "kill9",
    );

    burst.wait_acked(300).await;
    c.kill("projector-1"); // SIGKILL
    let killed_at = Instant::now();
    let acked_at_kill = burst.acked_len();
    let projected_at_kill = int(&read, "SELECT count(*) FROM reporting_read.report_views").await;
    let mut redis = c.redis().await;
    let pending: Vec<redis::Value> = redis::cmd("XPENDING")
        .arg(format!("{}:events", c.prefix()))
        .arg("projector:read")
        .query_async(&mut redis)
        .await
        .unwrap_or_default();
    let pending_at_kill = match pending.first() {
        Some(redis::Value::Int(n)) => *n,
        _ => -1,
    };

    // Writes go on without a projector; then a new projector process (a new
    // consumer name: it must claim what the dead one left pending).
    burst.wait_acked(600).await;
    let acked_at_restart = burst.acked_len();
    let projected_while_dead = int(&read, "SELECT count(*) FROM reporting_read.report_views").await;
    c.start_like("projector-1", "projector-2").await;
    let restarted_after = killed_at.elapsed();

    let (acked, failures) = burst.finish().await;
    let burst_took = burst_start.elapsed();
    assert!(
        failures.is_empty(),
        "creates failed: {:?}",
        &failures[..failures.len().min(5)]
    );
    assert_eq!(acked.len(), N);
    let acked = ids(&acked);
    assert_eq!(acked.len(), N, "duplicate report ids acknowledged");
    let finished = Instant::now();

    let in_sync = c.wait_in_sync(Duration::from_secs(120)).await;
    let summary = c.assert_exactly_once(&acked).await;
    let got = all_ids(&http, &c.base("query-1"), "/reports/me", &c1)
        .await
        .unwrap();
    assert_eq!(got, acked, "/reports/me after the restart");
    let claimed = c.log_count(
        "projector-2",
        "claimed entries left pending by another consumer",
    );
    report(
        "4 kill -9 projector",
        format!(
            "{N} creates by 8 writers in {burst_took:?}, all 201; projector killed at {acked_at_kill} acked \
             ({projected_at_kill} projected, {pending_at_kill} entries pending in projector:read); \
             {projected_while_dead} projected while it was dead; projector-2 started {restarted_after:?} after the kill \
             at {acked_at_restart} acked, claimed pending entries {claimed} time(s); in sync {in_sync:?} after the \
             burst ended ({:?} after it ended incl. checks); {summary}; total {:?}",
            finished.elapsed(),
            t0.elapsed()
        ),
    );
}

// ------------------------------------------------------------------ 5

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_down_during_writes_loses_nothing_and_everything_flows_after() {
    let t0 = Instant::now();
    let Some(mut c) = Cluster::new(0).await else {
        return;
    };
    let proxy = Proxy::start(&host_port(&c.bus_url)).await;
    c.bus_url = via(&c.bus_url, &proxy.addr());
    c.start("command-1", "command", &["--demo"], &[]).await;
    start_all(
        &mut c,
        &[
            ("query-1", "query", &[]),
            ("operations-1", "operations", &[]),
            ("workflow-1", "workflow", &[]),
            ("projector-1", "projector", &[]),
            ("relay-1", "relay", &[]),
        ],
    )
    .await;
    let http = c.http.clone();
    let cmd = c.base("command-1");
    let c1 = login(&http, &cmd, "citizen1").await;
    let read = c.read_dbs()[0].clone();

    // ~30 creates a second for ~8 s; Redis is away for 4 s in the middle.
    let burst = Burst::start(
        &http,
        vec![cmd.clone()],
        &c1,
        240,
        4,
        Duration::from_millis(120),
        "redis-down",
    );
    burst.wait_acked(40).await;
    let down_at = Instant::now();
    proxy.down().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (ready_status, ready) = get_json(&http, &format!("{cmd}/ready"), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let projected_at_up = int(&read, "SELECT count(*) FROM reporting_read.report_views").await;
    let up_at = Instant::now();
    proxy.up().await;
    let (acked, failures) = burst.finish().await;
    assert!(
        failures.is_empty(),
        "creates failed while Redis was down: {:?}",
        &failures[..failures.len().min(5)]
    );
    assert_eq!(acked.len(), 240);
    let during = acked
        .iter()
        .filter(|a| a.at >= down_at && a.at <= up_at)
        .count();
    assert!(during >= 20, "only {during} creates while Redis was down");
    assert_eq!(
        ready_status,
        StatusCode::SERVICE_UNAVAILABLE,
        "/ready with Redis down: {ready}"
    );
    let acked_ids = ids(&acked);
    eventually("every report projected", Duration::from_secs(60), || {
        let read = read.clone();
        async move {
            (int(&read, "SELECT count(*) FROM reporting_read.report_views").await == 240)
                .then_some(())
        }
    })
    .await;
    let projected_after = up_at.elapsed();

    let in_sync = c.wait_in_sync(Duration::from_secs(60)).await;
    let since_up = up_at.elapsed();
    let summary = c.assert_exactly_once(&acked_ids).await;
    let got = all_ids(&http, &c.base("query-1"), "/reports/me", &c1)
        .await
        .unwrap();
    assert_eq!(got, acked_ids);
    report(
        "5 Redis down",
        format!(
            "Redis away for {:?}: {during} creates answered 201 meanwhile (0 failures of 240), /ready said {ready_status}; \
             {projected_at_up} projected when it returned, all 240 {projected_after:?} after; check-sync IN SYNC {in_sync:?} after the burst ended \
             ({since_up:?} after Redis returned); {summary}; total {:?}",
            up_at - down_at,
            t0.elapsed()
        ),
    );
}

// ------------------------------------------------------------------ 6

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_database_down_during_writes_fails_over_and_catches_up_alone() {
    const N: usize = 240;
    let t0 = Instant::now();
    let Some(mut c) = Cluster::new(2).await else {
        return;
    };
    let (read1, read2) = (c.direct_read_urls[0].clone(), c.direct_read_urls[1].clone());
    let proxy = Proxy::start(&host_port(&read2)).await;
    let read2_proxied = via(&read2, &proxy.addr());
    // The projector keeps read1 (group projector:read) and read2 (group
    // projector:read:2); query-a prefers read2, query-b read1.
    c.read_urls = vec![read1.clone(), read2_proxied.clone()];
    c.start("command-1", "command", &["--demo"], &[]).await;
    c.spawn(
        "query-a",
        "query",
        &[],
        &[(
            "LAPOR_READ_DATABASE_URLS",
            format!("{read2_proxied},{read1}"),
        )],
    );
    start_all(
        &mut c,
        &[
            ("query-b", "query", &[]),
            ("operations-1", "operations", &[]),
            ("workflow-1", "workflow", &[]),
            ("projector-1", "projector", &[]),
            ("relay-1", "relay", &[]),
        ],
    )
    .await;
    c.ready("query-a").await;
    let http = c.http.clone();
    let cmd = c.base("command-1");
    let c1 = login(&http, &cmd, "citizen1").await;
    let count = |url: String| async move {
        int(&url, "SELECT count(*) FROM reporting_read.report_views").await
    };

    // Readers through both query instances for the whole test.
    let stop = Arc::new(AtomicBool::new(false));
    type Read = (String, Result<Duration, String>);
    let reads: Arc<Mutex<Vec<Read>>> = Arc::default();
    let mut readers = vec![];
    for q in ["query-a", "query-b"] {
        for _ in 0..2 {
            let (http, base, tok, stop, reads, q) = (
                http.clone(),
                c.base(q),
                c1.clone(),
                stop.clone(),
                reads.clone(),
                q.to_owned(),
            );
            readers.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let path = if i % 2 == 0 {
                        "/reports?per_page=5"
                    } else {
                        "/reports/me?limit=5"
                    };
                    i += 1;
                    let t = Instant::now();
                    let r = match get_json(&http, &format!("{base}{path}"), Some(&tok)).await {
                        Ok((StatusCode::OK, _)) => Ok(t.elapsed()),
                        Ok((s, v)) => Err(format!("{s} {v}")),
                        Err(e) => Err(e),
                    };
                    reads.lock().unwrap().push((q.clone(), r));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }));
        }
    }

    // ~35 creates a second for ~7 s; read2 is away for 4 s in the middle.
    let burst = Burst::start(
        &http,
        vec![cmd.clone()],
        &c1,
        N,
        4,
        Duration::from_millis(100),
        "read-down",
    );
    burst.wait_acked(40).await;
    let down_at = Instant::now();
    proxy.down().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let read2_at_down = count(read2.clone()).await;
    tokio::time::sleep(Duration::from_millis(3700)).await;
    let (read1_at_up, read2_at_up) = (count(read1.clone()).await, count(read2.clone()).await);
    let acked_at_up = burst.acked_len();
    let up_at = Instant::now();
    proxy.up().await;
    let (acked, failures) = burst.finish().await;
    assert!(
        failures.is_empty(),
        "creates failed: {:?}",
        &failures[..failures.len().min(5)]
    );
    assert_eq!(acked.len(), N);
    let acked_ids = ids(&acked);

    // read2 was behind and catches up on its own.
    assert!(
        read2_at_up < acked_at_up as i64,
        "read2 was not behind while down ({read2_at_up} of {acked_at_up})"
    );
    assert_eq!(
        read2_at_up, read2_at_down,
        "read2 changed while it was down"
    );
    eventually("read2 caught up", Duration::from_secs(60), || {
        let read2 = read2.clone();
        async move { (count(read2).await == N as i64).then_some(()) }
    })
    .await;
    let caught_up = up_at.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    let reads = reads.lock().unwrap().clone();
    let errors: Vec<_> = reads
        .iter()
        .filter_map(|(q, r)| r.as_ref().err().map(|e| format!("{q}: {e}")))
        .collect();
    let mut per_instance: BTreeMap<String, (usize, Duration)> = BTreeMap::new();
    for (q, r) in &reads {
        if let Ok(d) = r {
            let e = per_instance.entry(q.clone()).or_default();
            e.0 += 1;
            e.1 = e.1.max(*d);
        }
    }
    assert!(
        errors.is_empty(),
        "{} reads failed: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert!(
        per_instance.values().all(|(n, _)| *n > 10),
        "too few reads: {per_instance:?}"
    );

    let in_sync = c.wait_in_sync(Duration::from_secs(60)).await;
    let summary = c.assert_exactly_once(&acked_ids).await;
    let (end1, end2) = (count(read1.clone()).await, count(read2.clone()).await);
    assert_eq!((end1, end2), (N as i64, N as i64));
    report(
        "6 read database down",
        format!(
            "read2 away for {:?} while {acked_at_up} of {N} creates were acknowledged: read1 had {read1_at_up}, read2 \
             {read2_at_up} (frozen from {read2_at_down}); read2 caught up {caught_up:?} after it returned; \
             reads (ok, slowest) {per_instance:?}, 0 errors of {}; end counts read1 {end1}, read2 {end2}; \
             in sync after {in_sync:?}; {summary}; total {:?}",
            up_at - down_at,
            reads.len(),
            t0.elapsed()
        ),
    );
}

// ------------------------------------------------------------------ 7

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_a_query_instance_behind_nginx_costs_at_most_the_requests_in_flight() {
    let t0 = Instant::now();
    let Some(mut c) = Cluster::new(0).await else {
        return;
    };
    c.start("command-1", "command", &["--demo"], &[]).await;
    start_all(
        &mut c,
        &[
            ("query-a", "query", &[]),
            ("query-b", "query", &[]),
            ("operations-1", "operations", &[]),
            ("workflow-1", "workflow", &[]),
            ("projector-1", "projector", &[]),
            ("relay-1", "relay", &[]),
        ],
    )
    .await;
    let port = c
        .start_nginx(
            &["command-1"],
            &["query-a", "query-b"],
            &["operations-1"],
            &["workflow-1"],
        )
        .await;
    let base = format!("http://127.0.0.1:{port}");
    let http = c.http.clone();
    let c1 = login(&http, &base, "citizen1").await;
    let mut created = HashSet::new();
    for i in 0..20 {
        let v = create_report(&http, &base, &c1, &format!("Lewat nginx {i}"), "kebersihan")
            .await
            .unwrap();
        assert_eq!(v["instance"], "command-1");
        created.insert(v["report_id"].as_str().unwrap().to_owned());
    }

    // Readers through nginx: /health (which instance answered) and listings.
    let stop = Arc::new(AtomicBool::new(false));
    type Read = (Instant, Result<Option<String>, String>);
    let reads: Arc<Mutex<Vec<Read>>> = Arc::default();
    let mut readers = vec![];
    for w in 0..6 {
        let (http, base, tok, stop, reads) = (
            http.clone(),
            base.clone(),
            c1.clone(),
            stop.clone(),
            reads.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let (path, token) = match i % 3 {
                    0 => ("/health".to_owned(), None),
                    1 => ("/reports/public?limit=10".to_owned(), None),
                    _ => ("/reports/me?limit=10".to_owned(), Some(tok.as_str())),
                };
                i += 1;
                let r = match get_json(&http, &format!("{base}{path}"), token).await {
                    Ok((StatusCode::OK, v)) => Ok(v["instance"].as_str().map(str::to_owned)),
                    Ok((s, v)) => Err(format!("{path}: {s} {v}")),
                    Err(e) => Err(e),
                };
                reads.lock().unwrap().push((Instant::now(), r));
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = c.proc("query-b").pid();
    c.kill("query-b"); // SIGKILL
    let killed_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    let reads = reads.lock().unwrap().clone();
    let before: Vec<_> = reads.iter().filter(|(t, _)| *t < killed_at).collect();
    let after: Vec<_> = reads.iter().filter(|(t, _)| *t >= killed_at).collect();
    let instances = |rs: &[&Read]| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for (_, r) in rs {
            if let Ok(Some(i)) = r {
                *m.entry(i.clone()).or_default() += 1;
            }
        }
        m
    };
    let (inst_before, inst_after) = (instances(&before), instances(&after));
    let errors: Vec<String> = reads
        .iter()
        .filter_map(|(t, r)| {
            let ms = if *t >= killed_at {
                t.duration_since(killed_at).as_millis() as i64
            } else {
                -(killed_at.duration_since(*t).as_millis() as i64)
            };
            r.as_ref()
                .err()
                .map(|e| format!("{ms:+} ms after the kill: {e}"))
        })
        .collect();
    assert!(reads.len() >= 300, "only {} reads", reads.len());
    assert_eq!(
        inst_before.keys().cloned().collect::<Vec<_>>(),
        vec!["query-a".to_owned(), "query-b".to_owned()],
        "answers before the kill came from {inst_before:?}"
    );
    assert!(
        errors.len() <= 5,
        "{} client errors at the kill (of {}): {errors:?}",
        errors.len(),
        reads.len()
    );
    // A second after the kill only the survivor answers.
    let late = instances(
        &after
            .iter()
            .filter(|(t, _)| *t > killed_at + Duration::from_secs(1))
            .copied()
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        late.keys().cloned().collect::<Vec<_>>(),
        vec!["query-a".to_owned()],
        "answers after the kill: {late:?}"
    );

    let in_sync = c.wait_in_sync(Duration::from_secs(60)).await;
    let summary = c.assert_exactly_once(&created).await;
    report(
        "7 nginx, query instance killed",
        format!(
            "{} reads through nginx ({} before the kill of query-b (pid {pid:?}), {} after); /health answers before \
             {inst_before:?}, after {inst_after:?}; client errors {} {errors:?}; in sync after {in_sync:?}; {summary}; total {:?}",
            reads.len(),
            before.len(),
            after.len(),
            errors.len(),
            t0.elapsed()
        ),
    );
}
