//! Routing isolation: every category reaches exactly its agency, and no
//! other agency can see or act on the case.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The seed categories and the officer of the agency each routes to.
const ROUTES: &[(&str, &str, &str)] = &[
    ("infrastruktur", "AGENCY_INFRA", "officer1"),
    ("kebersihan", "AGENCY_INFRA", "officer1"),
    ("lainnya", "AGENCY_INFRA", "officer1"),
    ("kesehatan", "AGENCY_HEALTH", "officer2"),
    ("keamanan", "AGENCY_SAFETY", "officer3"),
    ("kriminalitas", "AGENCY_SAFETY", "officer3"),
];

const OFFICERS: &[&str] = &["officer1", "officer2", "officer3"];

fn ids_of(listing: &Value) -> Vec<String> {
    listing["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array: {listing}"))
        .iter()
        .map(|r| r["report_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn inbox_ids(app: &TestApp, token: &str) -> Vec<String> {
    let (s, v) = app.get("/cases/inbox?limit=100", Some(token)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    ids_of(&v)
}

#[tokio::test]
async fn every_category_reaches_exactly_its_agencys_inbox() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let mut tokens = std::collections::HashMap::new();
    for o in OFFICERS {
        tokens.insert(*o, app.login(o).await);
    }

    let mut filed = Vec::new();
    for (i, (category, agency, officer)) in ROUTES.iter().enumerate() {
        // Every visibility must be routed the same way.
        let visibility = ["PUBLIC", "PRIVATE", "ANONYMOUS"][i % 3];
        let id = app
            .create_report(
                &citizen,
                &format!("Laporan {category} nomor {i}"),
                visibility,
                category,
            )
            .await;
        let case = app
            .wait_listed("/cases/inbox?limit=100", Some(&tokens[officer]), &id)
            .await;
        assert_eq!(case["owner_agency"], *agency, "{category}: {case}");
        assert_eq!(case["category"], *category);
        assert_eq!(case["status"], "RECEIVED");
        assert_eq!(case["visibility"], visibility);
        filed.push((id, *category, *agency, *officer));
    }
    // Everything that will be projected has been: absence now means absence.
    app.settle().await;

    let mut inboxes = std::collections::HashMap::new();
    for o in OFFICERS {
        let (s, v) = app.get("/cases/inbox?limit=100", Some(&tokens[o])).await;
        assert_eq!(s, StatusCode::OK);
        // Every case in an officer's inbox is of the officer's agency.
        let agency = v["agency"].as_str().unwrap().to_owned();
        for c in v["data"].as_array().unwrap() {
            assert_eq!(c["owner_agency"], agency.as_str(), "{o} sees {c}");
        }
        inboxes.insert(*o, ids_of(&v));
    }
    for (id, category, _, officer) in &filed {
        for o in OFFICERS {
            let n = inboxes[o].iter().filter(|x| *x == id).count();
            if o == officer {
                assert_eq!(n, 1, "{category} must be once in {o}'s inbox");
            } else {
                assert_eq!(n, 0, "{category} leaked into {o}'s inbox");
            }
        }
    }
    // Exactly the expected number per agency (3 INFRA, 1 HEALTH, 2 SAFETY).
    assert_eq!(inboxes["officer1"].len(), 3);
    assert_eq!(inboxes["officer2"].len(), 1);
    assert_eq!(inboxes["officer3"].len(), 2);

    // Supervisors see their own agency's cases as well, and no other.
    for (sup, officer) in [
        ("supervisor1", "officer1"),
        ("supervisor2", "officer2"),
        ("supervisor3", "officer3"),
    ] {
        let t = app.login(sup).await;
        let mut got = inbox_ids(&app, &t).await;
        let mut want = inboxes[officer].clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{sup}'s inbox");
    }

    // The city head sees every agency's cases.
    let admin = app.login("admin").await;
    let (s, v) = app.get("/cases/inbox?limit=100", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    let all = ids_of(&v);
    for (id, category, agency, _) in &filed {
        assert_eq!(
            all.iter().filter(|x| *x == id).count(),
            1,
            "admin misses {category}"
        );
        let c = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["report_id"] == id.as_str())
            .unwrap();
        assert_eq!(c["owner_agency"], *agency);
    }
    // ...and may narrow to one agency.
    let (s, v) = app
        .get("/cases/inbox?agency=AGENCY_SAFETY&limit=100", Some(&admin))
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut got = ids_of(&v);
    let mut want = inboxes["officer3"].clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // An officer cannot ask for another agency's inbox.
    let (s, v) = app
        .get(
            "/cases/inbox?agency=AGENCY_HEALTH",
            Some(&tokens["officer1"]),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["success"], false);
}

#[tokio::test]
async fn another_agencys_officer_can_neither_read_nor_change_nor_answer_a_case() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let mut tokens = std::collections::HashMap::new();
    for o in OFFICERS {
        tokens.insert(*o, app.login(o).await);
    }

    let mut filed = Vec::new();
    for (category, _, officer) in ROUTES {
        let id = app
            .create_report(
                &citizen,
                &format!("Masalah {category} di RT 05"),
                "PRIVATE",
                category,
            )
            .await;
        app.wait_listed("/cases/inbox?limit=100", Some(&tokens[officer]), &id)
            .await;
        filed.push((id, *category, *officer));
    }

    for (id, category, officer) in &filed {
        for o in OFFICERS.iter().filter(|o| *o != officer) {
            let t = &tokens[o];
            for status in ["IN_PROGRESS", "in_progress", "REJECTED"] {
                let (s, v) = app
                    .patch(
                        &format!("/cases/{id}/status"),
                        Some(t),
                        json!({"status": status, "reason": "bukan urusan kami"}),
                    )
                    .await;
                assert_eq!(
                    s,
                    StatusCode::FORBIDDEN,
                    "{o} changed a {category} case: {v}"
                );
                assert_eq!(v["success"], false);
                assert!(v["error"].is_string());
            }
            let (s, v) = app.get(&format!("/cases/{id}"), Some(t)).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{o} read a {category} case: {v}");
            assert_eq!(v["success"], false);
            assert!(v["data"].is_null(), "a refusal carries no case data: {v}");
            let (s, v) = app
                .post(
                    &format!("/cases/{id}/answers"),
                    Some(t),
                    json!({"message": "Kami akan tangani"}),
                )
                .await;
            assert_eq!(
                s,
                StatusCode::FORBIDDEN,
                "{o} answered a {category} case: {v}"
            );
            // The seed 2 status route is guarded the same way.
            let (s, v) = app
                .put(
                    &format!("/reports/{id}"),
                    Some(t),
                    json!({"status": "in_progress"}),
                )
                .await;
            assert!(
                s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
                "{o} changed a {category} case via PUT: {s} {v}"
            );
        }
    }

    // Nothing changed anywhere.
    app.settle().await;
    for (id, category, officer) in &filed {
        let t = &tokens[officer];
        let (_, inbox) = app.get("/cases/inbox?limit=100", Some(t)).await;
        let case = inbox["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["report_id"] == id.as_str())
            .unwrap_or_else(|| panic!("{category} case gone from {officer}'s inbox"));
        assert_eq!(case["status"], "RECEIVED", "{category}");
        let (s, detail) = app.get(&format!("/cases/{id}"), Some(t)).await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        assert_eq!(detail["data"]["status"], "RECEIVED");
        assert_eq!(detail["data"]["history"].as_array().unwrap().len(), 0);
        assert_eq!(detail["data"]["answers"].as_array().unwrap().len(), 0);
        let (s, r) = app.get(&format!("/reports/{id}"), Some(&citizen)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["data"]["status"], "RECEIVED", "{category}");
        let kinds: Vec<&str> = r["data"]["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["created"], "{category}");
    }
    let (_, mine) = app.get("/reports/me", Some(&citizen)).await;
    for r in mine["data"].as_array().unwrap() {
        assert_eq!(r["current_status"], "RECEIVED");
    }
    let (s, notes) = app.get("/notifications/me", Some(&citizen)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        notes["data"].as_array().unwrap().len(),
        0,
        "refused actions must not notify the reporter: {notes}"
    );
    assert_eq!(notes["meta"]["unread_count"], 0);

    // The responsible officer still can act (so the 403s above were about
    // the agency, not a broken endpoint).
    let (id, _, officer) = &filed[0];
    let (s, v) = app
        .patch(
            &format!("/cases/{id}/status"),
            Some(&tokens[officer]),
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn the_inbox_is_for_staff_only_and_unknown_cases_are_404() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let officer = app.login("officer1").await;

    let (s, v) = app.get("/cases/inbox", Some(&citizen)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["success"], false);
    assert!(v["data"].is_null());
    let (s, v) = app.get("/cases/inbox", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["success"], false);

    let id = app
        .create_report(&citizen, "Jalan berlubang", "PUBLIC", "infrastruktur")
        .await;
    app.wait_listed("/cases/inbox", Some(&officer), &id).await;
    // A citizen, even the reporter, cannot work the case.
    let (s, _) = app.get(&format!("/cases/{id}"), Some(&citizen)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .patch(
            &format!("/cases/{id}/status"),
            Some(&citizen),
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .patch(
            &format!("/cases/{id}/status"),
            None,
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Unknown case ids are 404 for the staff who would own them.
    let unknown = uuid::Uuid::new_v4();
    let (s, v) = app
        .patch(
            &format!("/cases/{unknown}/status"),
            Some(&officer),
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["success"], false);
    let (s, _) = app.get(&format!("/cases/{unknown}"), Some(&officer)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .post(
            &format!("/cases/{unknown}/answers"),
            Some(&officer),
            json!({"message": "halo"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A malformed id is a 400, not a 404.
    let (s, _) = app.get("/cases/not-a-uuid", Some(&officer)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // The case is untouched by all of that.
    app.settle().await;
    let (_, v) = app.get(&format!("/cases/{id}"), Some(&officer)).await;
    assert_eq!(v["data"]["status"], "RECEIVED");
}

#[tokio::test]
async fn a_case_being_worked_cannot_be_rerouted_or_withdrawn_by_its_reporter() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let officer1 = app.login("officer1").await;
    let officer2 = app.login("officer2").await;

    // Straight after the officer acts, before the reporting side has heard
    // of it through the event flow (this raced in 18 of 20 tries before
    // the reporting commands consulted the case status).
    let mut moved = Vec::new();
    let mut resolved = Vec::new();
    for i in 0..10 {
        let id = app
            .create_report(
                &citizen,
                &format!("Jembatan retak {i}"),
                "PRIVATE",
                "infrastruktur",
            )
            .await;
        app.wait_listed("/cases/inbox", Some(&officer1), &id).await;
        let (s, _) = app
            .patch(
                &format!("/cases/{id}/status"),
                Some(&officer1),
                json!({"status": "IN_PROGRESS"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app
            .put(
                &format!("/reports/{id}"),
                Some(&citizen),
                json!({"category": "kesehatan"}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "re-routed a case in progress: {v}");
        if i % 2 == 0 {
            let (s, _) = app
                .patch(
                    &format!("/cases/{id}/status"),
                    Some(&officer1),
                    json!({"status": "RESOLVED"}),
                )
                .await;
            assert_eq!(s, StatusCode::OK);
            let (s, v) = app.delete(&format!("/reports/{id}"), Some(&citizen)).await;
            assert_eq!(s, StatusCode::CONFLICT, "withdrew a resolved report: {v}");
            resolved.push(id.clone());
        }
        moved.push(id);
    }
    app.settle().await;
    let (_, health) = app.get("/cases/inbox?limit=100", Some(&officer2)).await;
    assert_eq!(health["data"].as_array().unwrap().len(), 0, "{health}");
    for id in &moved {
        let (s, c) = app.get(&format!("/cases/{id}"), Some(&officer1)).await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["data"]["owner_agency"], "AGENCY_INFRA");
        assert_eq!(c["data"]["category"], "infrastruktur");
        let (_, r) = app.get(&format!("/reports/{id}"), Some(&citizen)).await;
        assert_eq!(r["data"]["category"], "infrastruktur");
        let want = if resolved.contains(id) {
            "RESOLVED"
        } else {
            "IN_PROGRESS"
        };
        assert_eq!(r["data"]["status"], want);
    }
}

/// The escalations an officer may see are the same on the API and in the
/// web app: their own agency's.
#[tokio::test]
async fn officers_see_their_agencys_escalations_in_the_api_and_the_web_app() {
    let app = TestApp::spawn_with_manual_clock().await;
    let admin = app.login("admin").await;
    let citizen = app.login("citizen1").await;
    let officer = app.login("officer1").await;
    let (s, v) = app
        .post("/sla/config", Some(&admin), json!({"duration_seconds": 60}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ours = app
        .create_report(&citizen, "Jalan berlubang", "PRIVATE", "infrastruktur")
        .await;
    let theirs = app
        .create_report(&citizen, "Puskesmas tutup", "PRIVATE", "kesehatan")
        .await;
    app.settle().await;
    app.advance(std::time::Duration::from_secs(61));
    app.eventually("both escalated", || async {
        let (_, v) = app.get("/sla/escalations", Some(&admin)).await;
        (v["data"].as_array()?.len() == 2).then_some(())
    })
    .await;

    let (s, v) = app.get("/sla/escalations", Some(&officer)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let api: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["report_id"].as_str().unwrap())
        .collect();
    assert_eq!(api, vec![ours.as_str()], "{v}");

    // The web page, with the same token as the session cookie.
    let res = app
        .http
        .get(format!("{}/app/escalations", app.base))
        .header(reqwest::header::COOKIE, format!("lapor_session={officer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(&format!("data-report-id=\"{ours}\"")),
        "{page}"
    );
    assert!(!page.contains(&theirs), "another agency's escalation shown");
    // Citizens still may not.
    let res = app
        .http
        .get(format!("{}/app/escalations", app.base))
        .header(reqwest::header::COOKIE, format!("lapor_session={citizen}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
