//! Durability: restarts, crashes between a write and its projection,
//! redelivered events, and kill -9 of the real binary in a burst of writes.

mod common;

use common::{TestApp, TestEngine};
use lapor::config::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Everything a user can observe, in a comparable form.
async fn snapshot(app: &TestApp) -> Value {
    let admin = app.login("admin").await;
    let c1 = app.login("citizen1").await;
    let officer = app.login("officer1").await;
    let (_, reports) = app.get("/reports?per_page=100", Some(&admin)).await;
    let (_, mine) = app.get("/reports/me?limit=100", Some(&c1)).await;
    let (_, inbox) = app.get("/cases/inbox?limit=100", Some(&officer)).await;
    let (_, sla) = app.get("/sla/status?per_page=100", Some(&admin)).await;
    let (_, notes) = app.get("/notifications/me?limit=100", Some(&c1)).await;
    let (_, stats) = app.get("/statistics", None).await;
    let ids = |v: &Value, key: &str| -> Vec<String> {
        let mut ids: Vec<String> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[key].to_string())
            .collect();
        let unique: HashSet<_> = ids.iter().cloned().collect();
        assert_eq!(unique.len(), ids.len(), "duplicates in a listing: {v}");
        ids.sort();
        ids
    };
    let votes: Vec<Value> = reports["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!([r["id"], r["vote_count"], r["status"]]))
        .collect();
    let mut votes = votes;
    votes.sort_by_key(|v| v.to_string());
    json!({
        "reports": ids(&reports, "id"),
        "votes": votes,
        "mine": ids(&mine, "report_id"),
        "inbox": ids(&inbox, "report_id"),
        "sla": sla["data"].as_array().unwrap().iter().map(|j| json!([j["report_id"], j["sla_status"], j["current_status"]])).collect::<Vec<_>>(),
        "notifications": ids(&notes, "id"),
        "stats": stats["data"].as_array().unwrap().iter().map(|s| json!([s["category"], s["total_count"], s["pending_count"], s["in_progress_count"]])).collect::<Vec<_>>(),
    })
}

/// Some of everything: reports of each visibility, votes, status changes,
/// answers, notifications.
async fn activity(app: &TestApp) -> Vec<String> {
    let c1 = app.login("citizen1").await;
    let c2 = app.login("citizen2").await;
    let officer = app.login("officer1").await;
    let mut ids = vec![];
    for (i, vis) in ["PUBLIC", "PRIVATE", "ANONYMOUS", "PUBLIC"]
        .iter()
        .enumerate()
    {
        ids.push(
            app.create_report(&c1, &format!("Laporan {i}"), vis, "infrastruktur")
                .await,
        );
    }
    app.settle().await;
    for id in [&ids[0], &ids[3]] {
        let (s, _) = app
            .post(&format!("/reports/{id}/upvote"), Some(&c2), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, _) = app
        .patch(
            &format!("/cases/{}/status", ids[1]),
            Some(&officer),
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .post(
            &format!("/cases/{}/answers", ids[2]),
            Some(&officer),
            json!({"message": "Diterima"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    app.settle().await;
    ids
}

#[tokio::test]
async fn a_restart_keeps_everything_exactly_once_and_writes_keep_working() {
    let app = TestApp::spawn().await;
    activity(&app).await;
    let before = snapshot(&app).await;
    assert_eq!(before["reports"].as_array().unwrap().len(), 4);
    assert_eq!(
        before["notifications"].as_array().unwrap().len(),
        2,
        "a status change and an answer"
    );

    let app = app.restart().await;
    app.settle().await;
    assert_eq!(snapshot(&app).await, before, "state after restart differs");

    // New writes keep working.
    let c3 = app.login("citizen3").await;
    let id = app
        .create_report(&c3, "Setelah restart", "PUBLIC", "kebersihan")
        .await;
    app.wait_listed("/reports/public", None, &id).await;
}

#[tokio::test]
async fn a_crash_between_write_and_projection_is_healed_on_restart() {
    // Only the API runs: writes commit with their events in the outbox, but
    // nothing relays or projects them, as if the process died right after.
    let app = TestApp::spawn_with(|a| a.role = vec![Role::Command, Role::Query], false).await;
    let c1 = app.login("citizen1").await;
    let mut ids = vec![];
    for i in 0..5 {
        ids.push(
            app.create_report(
                &c1,
                &format!("Belum diproyeksikan {i}"),
                "PUBLIC",
                "lainnya",
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, mine) = app.get("/reports/me", Some(&c1)).await;
    assert_eq!(
        mine["data"].as_array().unwrap().len(),
        0,
        "nothing is projected without the projector"
    );

    // Relayed but not consumed: the events sit in the log.
    let app = app
        .restart_with(|a| a.role = vec![Role::Command, Role::Query, Role::Relay])
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, mine) = app.get("/reports/me", Some(&c1)).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 0);

    // Everything running: healed, each report once.
    let app = app.restart_with(|_| {}).await;
    app.settle().await;
    let (_, mine) = app.get("/reports/me", Some(&c1)).await;
    let got: HashSet<String> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["report_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, ids.iter().cloned().collect::<HashSet<_>>());
    assert_eq!(mine["data"].as_array().unwrap().len(), 5);
    let officer = app.login("officer1").await;
    let (_, inbox) = app.get("/cases/inbox", Some(&officer)).await;
    assert_eq!(inbox["data"].as_array().unwrap().len(), 5);
    let (_, sla) = app.get("/sla/status", None).await;
    assert_eq!(sla["meta"]["total"], 5);
}

#[tokio::test]
async fn redelivered_events_change_nothing() {
    let app = TestApp::spawn().await;
    activity(&app).await;
    let before = snapshot(&app).await;
    // Every consumer group sees the whole log again (as after a crash
    // between applying and acknowledging).
    let running = app.running.as_ref().unwrap();
    for g in ["projector:read", "operations", "workflow", "reporting"] {
        running.app.bus().reset_group(g).await.unwrap();
    }
    // The consumers re-read everything on their next poll.
    app.settle().await;
    let after = snapshot(&app).await;
    assert_eq!(after, before, "redelivery changed state");
    let c1 = app.login("citizen1").await;
    let (_, mine) = app.get("/reports/me", Some(&c1)).await;
    for r in mine["data"].as_array().unwrap() {
        let (_, v) = app
            .get(
                &format!("/reports/{}", r["report_id"].as_str().unwrap()),
                Some(&c1),
            )
            .await;
        let created = v["data"]["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == "created")
            .count();
        assert_eq!(created, 1, "timeline entries doubled: {v}");
    }
}

#[tokio::test]
async fn rebuilding_the_read_models_from_the_log_reproduces_them() {
    let app = TestApp::spawn().await;
    activity(&app).await;
    let before = snapshot(&app).await;
    let mut app = app;
    app.stop().await;
    let n = lapor::server::rebuild_projections(&app.engine_args())
        .await
        .unwrap();
    assert!(n >= 8, "replayed {n} events");
    let app = app.restart().await;
    app.settle().await;
    assert_eq!(snapshot(&app).await, before);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_binary(dir: &std::path::Path, port: u16, engine: &TestEngine) -> Child {
    spawn_binary_with(dir, port, engine, &[])
}

fn spawn_binary_with(
    dir: &std::path::Path,
    port: u16,
    engine: &TestEngine,
    env: &[(&str, &str)],
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_lapor"))
        .envs(engine.env())
        .envs(env.iter().copied())
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir)
        .env("LAPOR_HASH_MEMORY_KIB", "64")
        .env("LAPOR_HASH_PASSES", "1")
        .env("LAPOR_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lapor")
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    for _ in 0..500 {
        if let Ok(r) = http.get(format!("{base}/health")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("lapor did not start");
}

async fn token(http: &reqwest::Client, base: &str, user: &str) -> String {
    let v: Value = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"username": user, "password": "password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn kill_9_in_a_burst_of_writes_loses_no_acknowledged_report() {
    let dir = tempfile::tempdir().unwrap();
    let engine = TestEngine::new().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut child = spawn_binary(dir.path(), port, &engine);
    wait_healthy(&http, &base).await;
    let tok = token(&http, &base, "citizen1").await;

    // 32 writers create reports as fast as they can, so the embedded
    // writer commits many of them per transaction (group commit, each in
    // its own savepoint); the process is killed under them. A 201 is sent
    // only after its batch committed, so every acknowledged report must
    // survive.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut writers = vec![];
    for w in 0..32 {
        let (http, base, tok, acked) = (http.clone(), base.clone(), tok.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let res = http
                    .post(format!("{base}/reports"))
                    .bearer_auth(&tok)
                    .json(&json!({"content": format!("burst {w}-{i}"), "visibility": "PUBLIC", "category": "kebersihan"}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        let v: Value = match r.json().await {
                            Ok(v) => v,
                            Err(_) => return,
                        };
                        acked.lock().unwrap().push(v["report_id"].as_str().unwrap().to_owned());
                    }
                    _ => return,
                }
            }
        }));
    }
    while acked.lock().unwrap().len() < 600 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for w in writers {
        let _ = w.await;
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();
    assert!(acked.len() >= 600);

    let mut child = spawn_binary(dir.path(), port, &engine);
    wait_healthy(&http, &base).await;
    let tok = token(&http, &base, "citizen1").await;
    let officer = token(&http, &base, "officer1").await;
    // Every acknowledged report reaches the read side and the inbox, once.
    let seen = wait_listed_mine(&http, &base, &tok, &acked).await;
    let missing: Vec<_> = acked.iter().filter(|id| !seen.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged reports lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let v: Value = http
        .get(format!("{base}/cases/inbox?limit=1"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["success"], true);
    // A withdrawn report still counts on both sides of the sync check.
    let r = http
        .delete(format!("{base}/reports/{}", acked[0]))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Write side, every read store, operations, workflow and the bus agree
    // once the consumers have caught up (check-sync exits 0).
    // On PostgreSQL the killed relay's claim on the rows it was publishing
    // expires only after its lease (15 s): wait well beyond that.
    let mut last = String::new();
    let mut in_sync = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(45);
    while std::time::Instant::now() < deadline {
        let out = Command::new(env!("CARGO_BIN_EXE_lapor"))
            .envs(engine.env())
            .arg("check-sync")
            .arg("--data-dir")
            .arg(dir.path())
            .env("LAPOR_LOG", "error")
            .output()
            .unwrap();
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            in_sync = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(in_sync, "check-sync never reported IN SYNC:\n{last}");
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests_and_keeps_their_writes() {
    let mut app = TestApp::spawn().await;
    let tok = app.login("citizen2").await;
    let http = app.http.clone();
    let base = app.base.clone();
    let mut writers = vec![];
    for i in 0..40 {
        let (http, base, tok) = (http.clone(), base.clone(), tok.clone());
        writers.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/reports"))
                .bearer_auth(&tok)
                .json(&json!({"content": format!("graceful {i}"), "category": "lainnya"}))
                .send()
                .await
                .ok()?;
            if r.status() != StatusCode::CREATED {
                return None;
            }
            let v: Value = r.json().await.ok()?;
            Some(v["report_id"].as_str()?.to_owned())
        }));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    app.stop().await;
    let mut acked = vec![];
    for w in writers {
        if let Ok(Some(id)) = w.await {
            acked.push(id);
        }
    }
    assert!(!acked.is_empty(), "no request completed before shutdown");
    let app = app.restart().await;
    app.settle().await;
    let (_, mine) = app.get("/reports/me?limit=100", Some(&tok)).await;
    let have: HashSet<String> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["report_id"].as_str().unwrap().to_owned())
        .collect();
    for id in &acked {
        assert!(
            have.contains(id),
            "acknowledged report {id} lost in shutdown"
        );
    }
}

/// Overload: past `--max-in-flight` Lapor answers 503 with Retry-After at
/// once (load shedding), and a 201 still means the report is stored and
/// reaches the read side: no acknowledged report goes missing.
#[tokio::test]
async fn overload_is_shed_with_503_and_every_201_reaches_the_read_side() {
    let dir = tempfile::tempdir().unwrap();
    let engine = TestEngine::new().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut child = spawn_binary_with(dir.path(), port, &engine, &[("LAPOR_MAX_IN_FLIGHT", "2")]);
    wait_healthy(&http, &base).await;
    let tok = token(&http, &base, "citizen1").await;
    let mut tasks = vec![];
    for i in 0..64 {
        // One connection each, so the requests really are concurrent.
        let http = reqwest::Client::new();
        let (base, tok) = (base.clone(), tok.clone());
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/reports"))
                .bearer_auth(&tok)
                .json(&json!({"content": format!("overload {i}"), "visibility": "PRIVATE", "category": "kebersihan"}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let body: Value = r.json().await.unwrap();
            (status, retry, body)
        }));
    }
    let mut created = vec![];
    let mut shed = 0;
    for t in tasks {
        let (status, retry, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created.push(body["report_id"].as_str().unwrap().to_owned()),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(
                    retry.as_deref(),
                    Some("1"),
                    "503 without Retry-After: {body}"
                );
                assert_eq!(body["success"], false);
                shed += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(shed > 0, "64 concurrent creates with 2 slots shed nothing");
    assert!(!created.is_empty());
    // /health is never shed, and every acknowledged report is readable.
    let seen = wait_listed_mine(&http, &base, &tok, &created).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let missing: Vec<_> = created.iter().filter(|id| !seen.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged reports missing: {missing:?}"
    );
}

/// The ids in /reports/me (every page, each once), polled until `expected`
/// are all there or 10 s have passed.
async fn wait_listed_mine(
    http: &reqwest::Client,
    base: &str,
    tok: &str,
    expected: &[String],
) -> HashSet<String> {
    let mut seen = HashSet::new();
    for _ in 0..500 {
        seen.clear();
        let mut cursor = String::new();
        loop {
            let v: Value = http
                .get(format!("{base}/reports/me?limit=100{cursor}"))
                .bearer_auth(tok)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for r in v["data"].as_array().unwrap() {
                assert!(
                    seen.insert(r["report_id"].as_str().unwrap().to_owned()),
                    "duplicate report in /reports/me"
                );
            }
            match v["meta"]["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        if expected.iter().all(|id| seen.contains(id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}
