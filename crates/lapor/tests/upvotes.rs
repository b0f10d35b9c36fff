//! Upvotes: one per user per PUBLIC report, also under concurrent requests.

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn public_vote_count(app: &TestApp, id: &str) -> Option<i64> {
    let (_, v) = app.get("/reports/public?limit=100", None).await;
    v["data"]
        .as_array()?
        .iter()
        .find(|r| r["report_id"] == id)?["vote_count"]
        .as_i64()
}

async fn wait_vote_count(app: &TestApp, id: &str, want: i64) {
    app.eventually(&format!("vote_count {want}"), || async {
        (public_vote_count(app, id).await == Some(want)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_upvotes_by_one_user_count_once() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let voter = app.login("citizen2").await;
    let id = app
        .create_report(&owner, "Lampu lalu lintas mati", "PUBLIC", "infrastruktur")
        .await;
    app.wait_listed("/reports/public", None, &id).await;
    assert_eq!(public_vote_count(&app, &id).await, Some(0));

    let path = format!("/reports/{id}/upvote");
    let results: Vec<(StatusCode, String)> = futures::future::join_all(
        (0..20).map(|_| app.send_raw(Method::POST, &path, Some(&voter), None)),
    )
    .await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let conflict = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .count();
    assert_eq!(ok, 1, "exactly one upvote succeeds: {results:?}");
    assert_eq!(conflict, 19, "the others are 409: {results:?}");
    for (s, body) in &results {
        let v: Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(v["success"], *s == StatusCode::OK, "{body}");
        if *s == StatusCode::OK {
            assert_eq!(v["vote_count"], 1, "{body}");
        } else {
            assert!(v["error"].is_string());
        }
    }

    wait_vote_count(&app, &id, 1).await;
    app.settle().await;
    assert_eq!(public_vote_count(&app, &id).await, Some(1));
    let (_, v) = app.get(&format!("/reports/{id}"), None).await;
    assert_eq!(v["data"]["vote_count"], 1);
    let mine = app.wait_listed("/reports/me", Some(&owner), &id).await;
    assert_eq!(mine["vote_count"], 1);

    // A later retry by the same user is still refused.
    let (s, _) = app.send_raw(Method::POST, &path, Some(&voter), None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    app.settle().await;
    assert_eq!(public_vote_count(&app, &id).await, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn different_users_each_add_one_vote() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let id = app
        .create_report(&owner, "Banjir di underpass", "PUBLIC", "infrastruktur")
        .await;
    app.wait_listed("/reports/public", None, &id).await;
    let path = format!("/reports/{id}/upvote");

    let mut expected = 0;
    for user in ["citizen2", "citizen3", "officer1"] {
        let t = app.login(user).await;
        let (s, v) = app.post(&path, Some(&t), serde_json::json!({})).await;
        assert_eq!(s, StatusCode::OK, "{user}: {v}");
        expected += 1;
        assert_eq!(v["vote_count"], expected, "{user}: {v}");
    }
    wait_vote_count(&app, &id, 3).await;
    app.settle().await;
    assert_eq!(public_vote_count(&app, &id).await, Some(3));

    // Concurrent votes of different users all count.
    let id2 = app
        .create_report(&owner, "Halte rusak", "PUBLIC", "infrastruktur")
        .await;
    app.wait_listed("/reports/public", None, &id2).await;
    let mut tokens = Vec::new();
    for user in ["citizen2", "citizen3", "officer1", "officer2", "admin"] {
        tokens.push(app.login(user).await);
    }
    let path2 = format!("/reports/{id2}/upvote");
    let results = futures::future::join_all(
        tokens
            .iter()
            .map(|t| app.send_raw(Method::POST, &path2, Some(t), None)),
    )
    .await;
    assert!(
        results.iter().all(|(s, _)| *s == StatusCode::OK),
        "{results:?}"
    );
    wait_vote_count(&app, &id2, 5).await;
    // The first report is unaffected.
    assert_eq!(public_vote_count(&app, &id).await, Some(3));

    // sort=top puts the most upvoted first.
    let (_, v) = app.get("/reports/public?sort=top", None).await;
    assert_eq!(v["data"][0]["report_id"], id2.as_str(), "{v}");
    assert_eq!(v["data"][1]["report_id"], id.as_str(), "{v}");
}

#[tokio::test]
async fn only_public_reports_can_be_upvoted() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let officer = app.login("officer2").await;
    let admin = app.login("admin").await;
    let private = app
        .create_report(&owner, "Klinik tanpa izin", "PRIVATE", "kesehatan")
        .await;
    let anonymous = app
        .create_report(&owner, "Dokter palsu", "ANONYMOUS", "kesehatan")
        .await;
    app.wait_listed("/cases/inbox", Some(&officer), &private)
        .await;
    app.wait_listed("/cases/inbox", Some(&officer), &anonymous)
        .await;

    // Those who can see the report get 400 (not 404: it exists for them).
    for (who, token) in [("owner", &owner), ("officer", &officer), ("admin", &admin)] {
        for id in [&private, &anonymous] {
            let (s, v) = app
                .post(
                    &format!("/reports/{id}/upvote"),
                    Some(token),
                    serde_json::json!({}),
                )
                .await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{who} upvoting {id}: {v}");
            assert_eq!(v["success"], false);
            assert!(v["error"].is_string());
        }
    }
    // Someone who cannot see it learns nothing: 404.
    let other = app.login("citizen2").await;
    let (s, _) = app
        .post(
            &format!("/reports/{private}/upvote"),
            Some(&other),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    app.settle().await;
    for id in [&private, &anonymous] {
        let (_, v) = app.get(&format!("/reports/{id}"), Some(&owner)).await;
        assert_eq!(v["data"]["vote_count"], 0, "{v}");
    }
}

#[tokio::test]
async fn bad_upvote_requests() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let id = app
        .create_report(&owner, "Sampah menumpuk", "PUBLIC", "kebersihan")
        .await;
    app.wait_listed("/reports/public", None, &id).await;

    let unknown = uuid::Uuid::new_v4();
    let (s, v) = app
        .post(
            &format!("/reports/{unknown}/upvote"),
            Some(&owner),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["success"], false);
    let (s, v) = app
        .post(
            "/reports/not-a-uuid/upvote",
            Some(&owner),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["success"], false);
    let (s, v) = app
        .post(
            &format!("/reports/{id}/upvote"),
            None,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["success"], false);
    let (s, _) = app
        .post(
            &format!("/reports/{id}/upvote"),
            Some("not-a-token"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    app.settle().await;
    assert_eq!(public_vote_count(&app, &id).await, Some(0));
    // A withdrawn report cannot be upvoted.
    let (s, _) = app.delete(&format!("/reports/{id}"), Some(&owner)).await;
    assert_eq!(s, StatusCode::OK);
    let other = app.login("citizen2").await;
    let (s, _) = app
        .post(
            &format!("/reports/{id}/upvote"),
            Some(&other),
            serde_json::json!({}),
        )
        .await;
    assert!(s.is_client_error(), "upvoting a withdrawn report: {s}");
    assert_ne!(s, StatusCode::OK);
}

/// A reporter cannot upvote their own report (it would only inflate its
/// rank); the refusal is a clear error and changes no count.
#[tokio::test]
async fn a_reporter_cannot_upvote_their_own_report() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let id = app
        .create_report(&owner, "Trotoar rusak", "PUBLIC", "infrastruktur")
        .await;
    app.wait_listed("/reports/public", None, &id).await;
    let path = format!("/reports/{id}/upvote");
    let (s, body) = app.send_raw(Method::POST, &path, Some(&owner), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["success"], false, "{body}");
    assert!(
        v["error"].as_str().unwrap().contains("your own report"),
        "{body}"
    );
    // Someone else still can; the refused vote was not counted.
    let other = app.login("citizen2").await;
    let (s, body) = app.send_raw(Method::POST, &path, Some(&other), None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    wait_vote_count(&app, &id, 1).await;
    app.settle().await;
    assert_eq!(public_vote_count(&app, &id).await, Some(1));

    // The web app offers no upvote the API would refuse: the feed and the
    // report's page show the owner no button for their own report, yet one
    // for another citizen's public report; the other citizen sees one.
    let theirs = app
        .create_report(&other, "Lampu jalan mati", "PUBLIC", "infrastruktur")
        .await;
    app.wait_listed("/reports/public", None, &theirs).await;
    let button = |r: &str| format!("data-upvote=\"{r}\"");
    let feed = app_page(&app, "/app/feed", &owner).await;
    assert!(feed.contains(&format!("data-report-id=\"{id}\"")), "{feed}");
    assert!(!feed.contains(&button(&id)), "own report offered: {feed}");
    assert!(feed.contains(&button(&theirs)), "{feed}");
    let page = app_page(&app, &format!("/app/reports/{id}"), &owner).await;
    assert!(page.contains("data-testid=\"vote-count\""), "{page}");
    assert!(!page.contains(&button(&id)), "own report offered: {page}");
    let page = app_page(&app, &format!("/app/reports/{theirs}"), &owner).await;
    assert!(page.contains(&button(&theirs)), "{page}");
    let feed = app_page(&app, "/app/feed", &other).await;
    assert!(feed.contains(&button(&id)), "{feed}");
    assert!(
        !feed.contains(&button(&theirs)),
        "own report offered: {feed}"
    );
}

/// A web app page as the user of this token sees it (the token doubles as
/// the session cookie).
async fn app_page(app: &TestApp, path: &str, token: &str) -> String {
    let res = app
        .http
        .get(format!("{}{path}", app.base))
        .header(reqwest::header::COOKIE, format!("lapor_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}
