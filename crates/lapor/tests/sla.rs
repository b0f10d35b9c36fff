//! SLA escalation on a controllable clock: level 1 to the agency's
//! supervisor, level 2 to the city head, never twice, completed on RESOLVED.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

async fn job(app: &TestApp, token: &str, id: &str) -> Value {
    let (_, v) = app
        .get(&format!("/sla/status?report_id={id}"), Some(token))
        .await;
    v["data"][0].clone()
}

async fn escalation_notes(app: &TestApp, token: &str, id: &str) -> usize {
    let (_, v) = app.get("/notifications/me?limit=100", Some(token)).await;
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["report_id"] == id
                && n["kind"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("escalated_"))
        })
        .count()
}

#[tokio::test]
async fn overdue_reports_escalate_to_supervisor_then_city_head_once_each() {
    // Four escalation workers race for the same jobs.
    let app = TestApp::spawn_with(|a| a.sla_workers = 4, true).await;
    let admin = app.login("admin").await;
    let (s, v) = app
        .post("/sla/config", Some(&admin), json!({"duration_seconds": 60}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let citizen = app.login("citizen1").await;
    let ids: Vec<String> = {
        let mut v = vec![];
        for i in 0..10 {
            v.push(
                app.create_report(
                    &citizen,
                    &format!("Jembatan retak {i}"),
                    "PRIVATE",
                    "infrastruktur",
                )
                .await,
            );
        }
        v
    };
    let resolved = app
        .create_report(
            &citizen,
            "Dikerjakan tepat waktu",
            "PUBLIC",
            "infrastruktur",
        )
        .await;
    app.settle().await;
    for id in &ids {
        let j = job(&app, &citizen, id).await;
        assert_eq!(j["sla_status"], "PENDING");
        assert_eq!(j["is_overdue"], false);
    }
    // One case is handled in time.
    let officer = app.login("officer1").await;
    for s in ["IN_PROGRESS", "RESOLVED"] {
        let (st, _) = app
            .patch(
                &format!("/cases/{resolved}/status"),
                Some(&officer),
                json!({ "status": s }),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
    }
    app.settle().await;

    // Not yet due: nothing happens.
    app.advance(Duration::from_secs(59));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(job(&app, &citizen, &ids[0]).await["escalation_level"], 0);

    // Breach: level 1, to the agency's supervisor.
    app.advance(Duration::from_secs(2));
    let supervisor = app.login("supervisor1").await;
    app.eventually("all escalated to level 1", || async {
        let (_, v) = app.get("/sla/escalations", Some(&supervisor)).await;
        (v["data"].as_array()?.len() == ids.len()).then_some(())
    })
    .await;
    app.settle().await;
    for id in &ids {
        let j = job(&app, &citizen, id).await;
        assert_eq!(
            (j["sla_status"].as_str(), j["escalation_level"].as_i64()),
            (Some("ESCALATED"), Some(1))
        );
        assert_eq!(j["is_overdue"], true);
        assert_eq!(
            escalation_notes(&app, &citizen, id).await,
            1,
            "reporter notified once"
        );
        assert_eq!(
            escalation_notes(&app, &supervisor, id).await,
            1,
            "supervisor notified once"
        );
    }
    // Other agencies' supervisors see none of it; the resolved case never escalated.
    let other = app.login("supervisor2").await;
    let (_, v) = app.get("/sla/escalations", Some(&other)).await;
    assert_eq!(v["data"].as_array().unwrap().len(), 0);
    assert_eq!(
        job(&app, &citizen, &resolved).await["sla_status"],
        "COMPLETED"
    );
    // Citizens cannot list escalations.
    let (s, _) = app.get("/sla/escalations", Some(&citizen)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The reporter's timeline and the read model show the level.
    let (_, r) = app
        .get(&format!("/reports/{}", ids[0]), Some(&citizen))
        .await;
    assert_eq!(r["data"]["escalation_level"], 1);

    // One more period: level 2, to the city head.
    app.advance(Duration::from_secs(61));
    app.eventually("all escalated to level 2", || async {
        let (_, v) = app.get("/sla/escalations", Some(&admin)).await;
        (v["data"].as_array()?.len() == 2 * ids.len()).then_some(())
    })
    .await;
    app.settle().await;
    for id in &ids {
        assert_eq!(job(&app, &citizen, id).await["escalation_level"], 2);
        assert_eq!(
            escalation_notes(&app, &admin, id).await,
            1,
            "city head notified once"
        );
        assert_eq!(escalation_notes(&app, &citizen, id).await, 2);
    }

    // The top of the chain: nothing more, however long it waits.
    app.advance(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, v) = app.get("/sla/escalations", Some(&admin)).await;
    assert_eq!(v["data"].as_array().unwrap().len(), 2 * ids.len());

    // Resolving an escalated case completes its job.
    for s in ["IN_PROGRESS", "RESOLVED"] {
        let (st, _) = app
            .patch(
                &format!("/cases/{}/status", ids[0]),
                Some(&officer),
                json!({ "status": s }),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
    }
    app.eventually("escalated job completes", || async {
        (job(&app, &citizen, &ids[0]).await["sla_status"] == "COMPLETED").then_some(())
    })
    .await;
    let (_, overdue) = app
        .get("/sla/status?overdue=true&per_page=100", Some(&admin))
        .await;
    assert_eq!(overdue["meta"]["total"], ids.len() as i64 - 1);
}

#[tokio::test]
async fn per_category_sla_applies_to_new_reports() {
    let app = TestApp::spawn_with_manual_clock().await;
    let supervisor = app.login("supervisor3").await;
    let (s, v) = app
        .post(
            "/sla/config",
            Some(&supervisor),
            json!({"duration_seconds": 30, "category": "kriminalitas"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["categories"]["kriminalitas"], 30);
    let citizen = app.login("citizen2").await;
    let fast = app
        .create_report(&citizen, "Pencurian motor", "PUBLIC", "kriminalitas")
        .await;
    let slow = app
        .create_report(&citizen, "Lampu taman mati", "PUBLIC", "keamanan")
        .await;
    app.settle().await;
    app.advance(Duration::from_secs(31));
    app.eventually("the 30 s category escalates", || async {
        (job(&app, &citizen, &fast).await["escalation_level"] == 1).then_some(())
    })
    .await;
    assert_eq!(
        job(&app, &citizen, &slow).await["escalation_level"],
        0,
        "the default (24 h) still applies elsewhere"
    );
}

/// A report escalated to its agency's supervisor, then re-routed by its
/// reporter (a new category, possible while RECEIVED): the escalation moves
/// with the case to the new agency's supervisor.
#[tokio::test]
async fn escalations_follow_a_rerouted_report() {
    let app = TestApp::spawn_with_manual_clock().await;
    let admin = app.login("admin").await;
    let (s, v) = app
        .post("/sla/config", Some(&admin), json!({"duration_seconds": 60}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let citizen = app.login("citizen1").await;
    let id = app
        .create_report(&citizen, "Jalan berlubang", "PUBLIC", "infrastruktur")
        .await;
    app.settle().await;
    app.advance(Duration::from_secs(61));
    let infra = app.login("supervisor1").await;
    let health = app.login("supervisor2").await;
    let listed = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            let (s, v) = app.get("/sla/escalations", Some(&token)).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["report_id"] == id.as_str())
                .cloned()
                .collect::<Vec<Value>>()
        }
    };
    app.eventually("escalated to level 1", || async {
        (listed(infra.clone()).await.len() == 1).then_some(())
    })
    .await;
    app.settle().await;
    assert_eq!(listed(health.clone()).await.len(), 0);

    // The reporter is told in data as well as in English.
    let (_, v) = app.get("/notifications/me", Some(&citizen)).await;
    let note = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["report_id"] == id.as_str())
        .cloned()
        .expect("the reporter's escalation notification");
    assert_eq!(note["kind"], "escalated_reporter", "{note}");
    assert_eq!(note["params"], json!({"escalation_level": 1}), "{note}");
    assert!(
        note["message"].as_str().unwrap().contains("supervisor"),
        "{note}"
    );

    // Still RECEIVED: the reporter moves it to health.
    let (s, v) = app
        .put(
            &format!("/reports/{id}"),
            Some(&citizen),
            json!({"category": "kesehatan"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.eventually("the job follows the report", || async {
        (job(&app, &citizen, &id).await["owner_agency"] == "AGENCY_HEALTH").then_some(())
    })
    .await;
    app.settle().await;
    let moved = listed(health.clone()).await;
    assert_eq!(moved.len(), 1, "the new agency's supervisor sees it");
    assert_eq!(moved[0]["owner_agency"], "AGENCY_HEALTH", "{moved:?}");
    assert_eq!(moved[0]["escalation_level"], 1);
    assert_eq!(
        listed(infra.clone()).await.len(),
        0,
        "the old agency's supervisor no longer does"
    );
    let (_, all) = app.get("/sla/escalations", Some(&admin)).await;
    let for_report: Vec<_> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["report_id"] == id.as_str())
        .collect();
    assert_eq!(for_report.len(), 1, "{all}");
    assert_eq!(for_report[0]["owner_agency"], "AGENCY_HEALTH");
}
