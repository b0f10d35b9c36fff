//! The seed 1 lifecycle, end to end over HTTP.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_report_goes_from_received_to_resolved_with_notifications_and_sla() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let officer = app.login("officer1").await;

    // Login answers in seed 1's shape.
    let (s, v) = app
        .post(
            "/auth/login",
            None,
            json!({"username": "officer1", "password": "password"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["success"], true);
    assert_eq!(v["user"]["role"], "officer");
    assert_eq!(v["user"]["agency"], "AGENCY_INFRA");
    let (s, v) = app
        .post(
            "/auth/login",
            None,
            json!({"username": "officer1", "password": "wrong"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["success"], false);
    assert!(v["error"].is_string());

    let id = app
        .create_report(
            &citizen,
            "Lampu jalan mati di Jl. Merdeka",
            "PUBLIC",
            "infrastruktur",
        )
        .await;

    // Visible to the reporter as RECEIVED.
    let mine = app.wait_listed("/reports/me", Some(&citizen), &id).await;
    assert_eq!(mine["current_status"], "RECEIVED");
    assert_eq!(mine["visibility"], "PUBLIC");
    assert_eq!(mine["vote_count"], 0);
    for f in ["report_id", "content", "last_status_at", "created_at"] {
        assert!(!mine[f].is_null(), "/reports/me lacks {f}");
    }

    // A case in the right inbox.
    let case = app.wait_listed("/cases/inbox", Some(&officer), &id).await;
    assert_eq!(case["owner_agency"], "AGENCY_INFRA");
    assert_eq!(case["status"], "RECEIVED");
    let (_, inbox) = app.get("/cases/inbox", Some(&officer)).await;
    assert_eq!(inbox["agency"], "AGENCY_INFRA");

    // An SLA job, PENDING.
    let path = format!("/sla/status?report_id={id}");
    let job = app.wait_listed(&path, None, &id).await;
    assert_eq!(job["sla_status"], "PENDING");
    assert_eq!(job["escalation_level"], 0);
    assert_eq!(job["is_overdue"], false);

    // IN_PROGRESS, seen by the reporter, who is notified.
    let (s, v) = app
        .patch(
            &format!("/cases/{id}/status"),
            Some(&officer),
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["old_status"].as_str(), v["new_status"].as_str()),
        (Some("RECEIVED"), Some("IN_PROGRESS"))
    );
    assert_eq!(v["report_id"], id.as_str());
    app.eventually("reporter sees IN_PROGRESS", || async {
        let (_, v) = app.get("/reports/me", Some(&citizen)).await;
        (v["data"][0]["current_status"] == "IN_PROGRESS").then_some(())
    })
    .await;
    let note = app
        .eventually("status notification", || async {
            let (_, v) = app.get("/notifications/me", Some(&citizen)).await;
            v["data"]
                .as_array()?
                .iter()
                .find(|n| n["report_id"] == id.as_str())
                .cloned()
        })
        .await;
    assert_eq!(note["is_read"], false);
    assert!(note["message"].as_str().unwrap().contains("IN_PROGRESS"));

    // The officer answers; the reporter sees it in the timeline.
    let (s, _) = app
        .post(
            &format!("/cases/{id}/answers"),
            Some(&officer),
            json!({"message": "Tim kami sedang menuju lokasi"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // RESOLVED completes the SLA job.
    let (s, _) = app
        .patch(
            &format!("/cases/{id}/status"),
            Some(&officer),
            json!({"status": "RESOLVED"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.eventually("SLA COMPLETED", || async {
        let (_, v) = app.get(&path, None).await;
        (v["data"][0]["sla_status"] == "COMPLETED" && v["data"][0]["current_status"] == "RESOLVED")
            .then_some(())
    })
    .await;
    // The read model applies the same events on its own schedule (the
    // SLA's completion above is workflow's).
    let kinds: Vec<String> = app
        .eventually(
            "the timeline shows the answer and the resolution",
            || async {
                let (_, detail) = app.get(&format!("/reports/{id}"), Some(&citizen)).await;
                let kinds: Vec<String> = detail["data"]["timeline"]
                    .as_array()?
                    .iter()
                    .filter_map(|t| t["kind"].as_str().map(str::to_owned))
                    .collect();
                (kinds.len() >= 4).then_some(kinds)
            },
        )
        .await;
    assert_eq!(kinds, ["created", "status", "answer", "status"]);
    // Notifications are made by another consumer, also on its own schedule.
    let notes = app
        .eventually("three notifications", || async {
            let (_, notes) = app.get("/notifications/me", Some(&citizen)).await;
            (notes["data"].as_array()?.len() >= 3).then_some(notes)
        })
        .await;
    assert_eq!(
        notes["data"].as_array().unwrap().len(),
        3,
        "two status changes and one answer: {notes}"
    );
    assert_eq!(notes["meta"]["unread_count"], 3);

    // Marking read.
    let nid = notes["data"][0]["id"].as_str().unwrap();
    let (s, _) = app
        .post(
            &format!("/notifications/{nid}/read"),
            Some(&citizen),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, notes) = app.get("/notifications/me", Some(&citizen)).await;
    assert_eq!(notes["meta"]["unread_count"], 2);
    // Someone else cannot mark it.
    let other = app.login("citizen2").await;
    let (s, _) = app
        .post(
            &format!("/notifications/{nid}/read"),
            Some(&other),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The case history records the acting officer.
    let (_, case) = app.get(&format!("/cases/{id}"), Some(&officer)).await;
    let officer_id = app.user_id(&officer).await;
    let history = case["data"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history
            .iter()
            .all(|h| h["actor_user_id"] == officer_id.as_str())
    );
    assert_eq!(
        case["data"]["answers"][0]["message"],
        "Tim kami sedang menuju lokasi"
    );
}

#[tokio::test]
async fn the_lifecycle_refuses_skips_reopening_and_rejection_without_reason() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let officer = app.login("officer2").await;
    let id = app
        .create_report(
            &citizen,
            "Sampah medis dibuang di sungai",
            "PRIVATE",
            "kesehatan",
        )
        .await;
    app.wait_listed("/cases/inbox", Some(&officer), &id).await;
    let status = |s: &'static str| json!({ "status": s });
    let path = format!("/cases/{id}/status");

    let (s, v) = app.patch(&path, Some(&officer), status("RESOLVED")).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "RECEIVED -> RESOLVED skips a step: {v}"
    );
    let (s, _) = app.patch(&path, Some(&officer), status("DONE")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = app.patch(&path, Some(&officer), status("REJECTED")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "rejecting needs a reason: {v}");
    // Seed 2's lower-case alias works.
    let (s, v) = app
        .patch(&path, Some(&officer), status("in_progress"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["new_status"], "IN_PROGRESS");
    let (s, v) = app
        .patch(
            &path,
            Some(&officer),
            json!({"status": "rejected", "reason": "Bukan wewenang dinas"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = app
        .patch(&path, Some(&officer), status("IN_PROGRESS"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "REJECTED is final");

    let (_, case) = app.get(&format!("/cases/{id}"), Some(&officer)).await;
    assert_eq!(case["data"]["status"], "REJECTED");
    assert_eq!(case["data"]["history"][1]["reason"], "Bukan wewenang dinas");
    app.eventually("rejection completes the SLA job", || async {
        let (_, v) = app
            .get(&format!("/sla/status?report_id={id}"), Some(&citizen))
            .await;
        (v["data"][0]["sla_status"] == "COMPLETED").then_some(())
    })
    .await;
}
