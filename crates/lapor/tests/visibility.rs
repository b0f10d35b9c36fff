//! Visibility: PRIVATE and ANONYMOUS reports stay with the reporter and the
//! responsible agency; an ANONYMOUS reporter is never named to anyone; only
//! the owner edits (while RECEIVED) and withdraws.

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn contains(listing: &Value, id: &str) -> bool {
    listing["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array: {listing}"))
        .iter()
        .any(|r| r["report_id"] == id || r["id"] == id)
}

#[tokio::test]
async fn private_and_anonymous_reports_stay_out_of_public_listings_and_other_citizens_reach() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let other = app.login("citizen2").await;
    let officer = app.login("officer1").await;

    let public = app
        .create_report(&owner, "Trotoar rusak", "PUBLIC", "infrastruktur")
        .await;
    let private = app
        .create_report(&owner, "Saluran air tersumbat", "PRIVATE", "infrastruktur")
        .await;
    let anonymous = app
        .create_report(&owner, "Pungli di kantor", "ANONYMOUS", "lainnya")
        .await;

    // The PUBLIC one shows in the public feeds (so the projection has run
    // past the others too once settled).
    app.wait_listed("/reports/public", None, &public).await;
    app.wait_listed("/cases/inbox", Some(&officer), &anonymous)
        .await;
    app.settle().await;

    for hidden in [&private, &anonymous] {
        let (_, v) = app.get("/reports/public?limit=100", None).await;
        assert!(!contains(&v, hidden), "/reports/public shows {hidden}");
        let (s, v) = app.get("/reports?per_page=100", None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!contains(&v, hidden), "anonymous GET /reports shows it");
        let (_, v) = app.get("/reports?limit=100", None).await;
        assert!(!contains(&v, hidden), "keyset GET /reports shows it");
        let (_, v) = app.get("/sla/status?per_page=100", None).await;
        assert!(
            !contains(&v, hidden),
            "/sla/status without a token shows it"
        );
        let (_, v) = app
            .get(&format!("/sla/status?report_id={hidden}"), None)
            .await;
        assert_eq!(v["data"].as_array().unwrap().len(), 0);

        // Another citizen: as if it did not exist.
        let (s, v) = app.get(&format!("/reports/{hidden}"), Some(&other)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
        assert!(v["data"].is_null());
        let (s, _) = app.get(&format!("/reports/{hidden}"), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, v) = app.get("/reports?per_page=100", Some(&other)).await;
        assert!(!contains(&v, hidden), "citizen2 lists citizen1's {hidden}");
        let (_, v) = app.get("/reports/me", Some(&other)).await;
        assert!(!contains(&v, hidden));
        let (_, v) = app.get("/sla/status?per_page=100", Some(&other)).await;
        assert!(!contains(&v, hidden), "citizen2 sees its SLA job");

        // The owner sees it, in their list and directly.
        let (_, v) = app.get("/reports/me", Some(&owner)).await;
        assert!(contains(&v, hidden), "owner misses {hidden} in /reports/me");
        let (s, v) = app.get(&format!("/reports/{hidden}"), Some(&owner)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["data"]["report_id"], hidden.as_str());
        let (_, v) = app.get("/reports?per_page=100", Some(&owner)).await;
        assert!(contains(&v, hidden));
        // The responsible officer too.
        let (s, _) = app.get(&format!("/reports/{hidden}"), Some(&officer)).await;
        assert_eq!(s, StatusCode::OK);
    }
    // The PUBLIC one is visible everywhere (the checks above are not vacuous).
    let (_, v) = app.get("/reports?per_page=100", None).await;
    assert!(contains(&v, &public));
    let (_, v) = app.get("/sla/status?per_page=100", None).await;
    assert!(contains(&v, &public));
    let (s, _) = app.get(&format!("/reports/{public}"), Some(&other)).await;
    assert_eq!(s, StatusCode::OK);

    // /reports/me lists the ANONYMOUS one with its visibility.
    let (_, mine) = app.get("/reports/me", Some(&owner)).await;
    let a = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["report_id"] == anonymous.as_str())
        .unwrap();
    assert_eq!(a["visibility"], "ANONYMOUS");
    assert_eq!(mine["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_anonymous_reporter_is_named_in_no_response_to_staff() {
    let app = TestApp::spawn().await;
    let reporter = app.login("citizen1").await;
    let (_, me) = app.get("/auth/me", Some(&reporter)).await;
    let username = me["user"]["username"].as_str().unwrap().to_owned();
    assert_eq!(username, "citizen1");
    let user_id = me["user"]["id"].as_str().unwrap().to_owned();
    let officer = app.login("officer1").await;
    let supervisor = app.login("supervisor1").await;
    let admin = app.login("admin").await;

    // A short SLA for the category, so the case escalates to the supervisor
    // and the city head and every escalation view holds it too.
    let (s, v) = app
        .post(
            "/sla/config",
            Some(&admin),
            json!({"duration_seconds": 1, "category": "kebersihan"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let id = app
        .create_report(
            &reporter,
            "Kepala dinas menerima suap untuk izin pembuangan sampah",
            "ANONYMOUS",
            "kebersihan",
        )
        .await;
    let case = app.wait_listed("/cases/inbox", Some(&officer), &id).await;
    assert!(case["reporter_user_id"].is_null(), "{case}");
    assert_eq!(case["visibility"], "ANONYMOUS");

    // The officer works the case: a status change and an answer.
    let (s, _) = app
        .patch(
            &format!("/cases/{id}/status"),
            Some(&officer),
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .post(
            &format!("/cases/{id}/answers"),
            Some(&officer),
            json!({"message": "Kami selidiki"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // It breaches its SLA and goes up to the city head.
    app.eventually("escalated to the city head", || async {
        let (_, v) = app.get("/sla/escalations", Some(&admin)).await;
        v["data"]
            .as_array()?
            .iter()
            .find(|e| e["report_id"] == id.as_str() && e["escalation_level"] == 2)
            .map(|_| ())
    })
    .await;
    // The reporter is still told about all of it (under the pseudonym).
    app.eventually(
        "reporter notified of status, answer, escalations",
        || async {
            let (_, v) = app.get("/notifications/me", Some(&reporter)).await;
            (v["data"].as_array()?.len() >= 4).then_some(())
        },
    )
    .await;
    app.settle().await;

    // The staff do get the case in each of these responses (so the checks
    // below look at a body that is about the report)...
    let (_, v) = app.get("/notifications/me", Some(&supervisor)).await;
    assert!(contains(&v, &id), "supervisor notified of the escalation");
    let (_, v) = app.get("/notifications/me", Some(&admin)).await;
    assert!(contains(&v, &id), "city head notified of the escalation");
    let (_, v) = app.get("/sla/escalations", Some(&supervisor)).await;
    assert!(contains(&v, &id));

    // ...and none of them names the reporter.
    let paths = [
        "/cases/inbox".to_owned(),
        format!("/cases/{id}"),
        format!("/reports/{id}"),
        "/reports?per_page=100".to_owned(),
        "/reports?limit=100".to_owned(),
        "/sla/status".to_owned(),
        format!("/sla/status?report_id={id}"),
        "/sla/escalations".to_owned(),
        "/notifications/me".to_owned(),
    ];
    for (who, token) in [
        ("officer1", &officer),
        ("supervisor1", &supervisor),
        ("admin", &admin),
    ] {
        for path in &paths {
            let (s, body) = app.send_raw(Method::GET, path, Some(token), None).await;
            assert_eq!(s, StatusCode::OK, "{who} {path}: {body}");
            assert!(
                !body.contains(&username),
                "{who} {path} names the anonymous reporter: {body}"
            );
            assert!(
                !body.contains(&user_id),
                "{who} {path} carries the anonymous reporter's id: {body}"
            );
        }
    }
    // The reporter's own view names no one either.
    let (_, body) = app
        .send_raw(
            Method::GET,
            &format!("/reports/{id}"),
            Some(&reporter),
            None,
        )
        .await;
    assert!(!body.contains(&user_id), "{body}");
}

#[tokio::test]
async fn reporter_ids_are_shown_only_to_those_who_may_know_them() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let owner_id = app.user_id(&owner).await;
    let officer = app.login("officer2").await;
    let other = app.login("citizen2").await;

    let public = app
        .create_report(&owner, "Posyandu tutup", "PUBLIC", "kesehatan")
        .await;
    let private = app
        .create_report(&owner, "Apotek jual obat keras", "PRIVATE", "kesehatan")
        .await;
    app.wait_listed("/reports/public", None, &public).await;
    app.wait_listed("/cases/inbox", Some(&officer), &private)
        .await;

    // An unauthenticated caller (or another citizen) never learns who filed
    // the PUBLIC report.
    for token in [None, Some(other.as_str())] {
        let (s, v) = app.get(&format!("/reports/{public}"), token).await;
        assert_eq!(s, StatusCode::OK);
        assert!(v["data"].get("reporter_user_id").is_none(), "{v}");
        let (_, body) = app
            .send_raw(Method::GET, "/reports/public", token, None)
            .await;
        assert!(!body.contains(&owner_id), "{body}");
        let (_, body) = app
            .send_raw(Method::GET, "/reports?per_page=100", token, None)
            .await;
        assert!(!body.contains(&owner_id), "{body}");
    }

    // The responsible officer sees the PRIVATE report's reporter.
    let (s, v) = app
        .get(&format!("/reports/{private}"), Some(&officer))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["data"]["reporter_user_id"], owner_id.as_str(), "{v}");
    let case = app
        .wait_listed("/cases/inbox", Some(&officer), &private)
        .await;
    assert_eq!(case["reporter_user_id"], owner_id.as_str());
    let (_, v) = app.get(&format!("/cases/{private}"), Some(&officer)).await;
    assert_eq!(v["data"]["reporter_user_id"], owner_id.as_str());
}

#[tokio::test]
async fn only_the_owner_edits_and_only_while_received() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let other = app.login("citizen2").await;
    let officer = app.login("officer3").await;

    for visibility in ["PUBLIC", "PRIVATE", "ANONYMOUS"] {
        let id = app
            .create_report(
                &owner,
                "Maling motor di parkiran",
                visibility,
                "kriminalitas",
            )
            .await;
        app.wait_listed("/cases/inbox", Some(&officer), &id).await;
        let path = format!("/reports/{id}");

        let (s, v) = app
            .put(
                &path,
                Some(&owner),
                json!({"description": "Maling motor, dua orang"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{visibility}: {v}");
        app.eventually("the edit is visible", || async {
            let (_, v) = app.get(&path, Some(&owner)).await;
            (v["data"]["content"] == "Maling motor, dua orang").then_some(())
        })
        .await;

        // Another citizen may not.
        let (s, v) = app
            .put(&path, Some(&other), json!({"description": "dibajak"}))
            .await;
        assert!(
            s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
            "{visibility}: another citizen edited: {s} {v}"
        );
        // Nor may the officer edit the citizen's text.
        let (s, _) = app
            .put(&path, Some(&officer), json!({"description": "dibajak"}))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{visibility}");
        app.settle().await;
        let (_, v) = app.get(&path, Some(&owner)).await;
        assert_eq!(v["data"]["content"], "Maling motor, dua orang");
        let (_, v) = app.get(&format!("/cases/{id}"), Some(&officer)).await;
        assert_eq!(v["data"]["content"], "Maling motor, dua orang");

        // Once the agency works it, the owner can no longer edit.
        let (s, _) = app
            .patch(
                &format!("/cases/{id}/status"),
                Some(&officer),
                json!({"status": "IN_PROGRESS"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        // Refused at once, even before the reporting side has heard of the
        // status change through the event flow.
        let (s, v) = app
            .put(&path, Some(&owner), json!({"description": "terlambat"}))
            .await;
        assert_eq!(
            s,
            StatusCode::CONFLICT,
            "{visibility}: edited after IN_PROGRESS: {v}"
        );
        assert_eq!(v["success"], false);
        app.settle().await;
        let (_, v) = app.get(&path, Some(&owner)).await;
        assert_eq!(v["data"]["content"], "Maling motor, dua orang");
        assert_eq!(v["data"]["status"], "IN_PROGRESS");
    }
}

#[tokio::test]
async fn the_owner_withdraws_and_the_report_disappears_everywhere() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let other = app.login("citizen2").await;
    let officer = app.login("officer1").await;

    for visibility in ["PUBLIC", "PRIVATE", "ANONYMOUS"] {
        let id = app
            .create_report(&owner, "Pohon tumbang", visibility, "infrastruktur")
            .await;
        app.wait_listed("/cases/inbox", Some(&officer), &id).await;
        app.wait_listed("/reports/me", Some(&owner), &id).await;
        if visibility == "PUBLIC" {
            app.wait_listed("/reports/public", None, &id).await;
        }
        let path = format!("/reports/{id}");

        // Not by someone else.
        let (s, v) = app.delete(&path, Some(&other)).await;
        assert!(
            s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
            "{visibility}: another citizen withdrew: {s} {v}"
        );
        let (s, _) = app.delete(&path, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        app.settle().await;
        let (s, _) = app.get(&path, Some(&owner)).await;
        assert_eq!(
            s,
            StatusCode::OK,
            "{visibility}: still there after refusals"
        );

        let (s, v) = app.delete(&path, Some(&owner)).await;
        assert_eq!(s, StatusCode::OK, "{visibility}: {v}");
        assert_eq!(v["success"], true);

        app.eventually("withdrawn everywhere", || async {
            let (_, mine) = app.get("/reports/me", Some(&owner)).await;
            let (_, public) = app.get("/reports/public?limit=100", None).await;
            let (_, inbox) = app.get("/cases/inbox", Some(&officer)).await;
            let (s, _) = app.get(&path, Some(&owner)).await;
            (!contains(&mine, &id)
                && !contains(&public, &id)
                && !contains(&inbox, &id)
                && s == StatusCode::NOT_FOUND)
                .then_some(())
        })
        .await;
        app.settle().await;
        let (s, _) = app.get(&path, Some(&officer)).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, v) = app.get("/reports?per_page=100", Some(&owner)).await;
        assert!(!contains(&v, &id));
        // Withdrawn is final.
        let (s, _) = app.delete(&path, Some(&owner)).await;
        assert!(
            s == StatusCode::CONFLICT || s == StatusCode::NOT_FOUND,
            "{visibility}: second withdrawal {s}"
        );
        let (s, _) = app
            .patch(
                &format!("/cases/{id}/status"),
                Some(&officer),
                json!({"status": "IN_PROGRESS"}),
            )
            .await;
        assert_ne!(s, StatusCode::OK, "a withdrawn case cannot be worked");
    }
}
