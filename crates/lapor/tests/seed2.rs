//! Seed 2's contract: create/read/update/delete reports, paged and filtered
//! listings, statistics and health, in seed 2's shapes.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;

fn ids(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array: {v}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Files a report in seed 2's shape and returns its id.
async fn create2(app: &TestApp, token: &str, title: &str, category: &str) -> String {
    let (s, v) = app
        .post(
            "/reports",
            Some(token),
            json!({"title": title, "description": format!("{title}: detailnya"), "category": category}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn creating_a_report_in_seed_2s_shape() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;

    let (s, v) = app
        .post(
            "/reports",
            Some(&citizen),
            json!({"title": "Jalan rusak", "description": "Lubang besar di Jl. Sudirman", "category": "infrastruktur"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["success"], true);
    assert!(v["message"].is_string());
    assert!(v["instance"].is_string() && !v["instance"].as_str().unwrap().is_empty());
    let d = &v["data"];
    let id = d["id"].as_str().expect("data.id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(d["title"], "Jalan rusak");
    assert_eq!(d["description"], "Lubang besar di Jl. Sudirman");
    assert_eq!(d["category"], "infrastruktur");
    assert_eq!(d["status"], "RECEIVED");
    for f in ["created_at", "updated_at"] {
        let t = d[f].as_str().unwrap_or_else(|| panic!("data.{f}: {v}"));
        assert!(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_ok(),
            "{f} is not RFC 3339: {t}"
        );
    }
    // Seed 1 clients find their field too.
    assert_eq!(v["report_id"], id);

    // And it can be read back in the same shape.
    let r = app.wait_listed("/reports", None, id).await;
    assert_eq!(r["title"], "Jalan rusak");
    assert_eq!(r["description"], "Lubang besar di Jl. Sudirman");
    assert_eq!(r["status"], "RECEIVED");

    // A category given in upper case is accepted and stored normalised.
    let (s, v) = app
        .post(
            "/reports",
            Some(&citizen),
            json!({"title": "Demam berdarah", "description": "Banyak kasus DBD", "category": "KESEHATAN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["category"], "kesehatan");

    app.settle().await;
    let (_, before) = app.get("/statistics", None).await;
    // Without a token: 401 (the seed allowed it; Lapor needs a reporter).
    let (s, v) = app
        .post(
            "/reports",
            None,
            json!({"title": "x", "description": "y", "category": "infrastruktur"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["success"], false);
    // Missing description, missing category, unknown category: 400.
    for body in [
        json!({"title": "Tanpa isi", "category": "infrastruktur"}),
        json!({"title": "Tanpa kategori", "description": "isi"}),
        json!({"title": "Kategori aneh", "description": "isi", "category": "astrologi"}),
        json!({"title": "Kategori kosong", "description": "isi", "category": ""}),
        json!({"title": "Isi kosong", "description": "   ", "category": "infrastruktur"}),
    ] {
        let (s, v) = app.post("/reports", Some(&citizen), body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body} -> {v}");
        assert_eq!(v["success"], false);
        assert!(v["error"].is_string());
    }
    app.settle().await;
    let (_, after) = app.get("/statistics", None).await;
    assert_eq!(before, after, "refused creates changed the statistics");
    let (_, mine) = app.get("/reports/me", Some(&citizen)).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn offset_pages_filters_and_limits() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let categories = [
        "infrastruktur",
        "kesehatan",
        "kebersihan",
        "keamanan",
        "lainnya",
    ];
    let mut created = Vec::new();
    for i in 0..25 {
        let cat = categories[i % categories.len()];
        created.push(create2(&app, &citizen, &format!("Laporan nomor {i}"), cat).await);
    }
    app.wait_listed("/reports?per_page=100", None, created.last().unwrap())
        .await;
    app.settle().await;

    let (s, p1) = app.get("/reports?page=1&per_page=10", None).await;
    assert_eq!(s, StatusCode::OK, "{p1}");
    assert_eq!(p1["success"], true);
    assert_eq!(ids(&p1).len(), 10);
    let total = p1["meta"]["total"].as_i64().unwrap();
    assert!(total >= 25, "{p1}");
    assert_eq!(p1["meta"]["page"], 1);
    assert_eq!(p1["meta"]["per_page"], 10);
    let (_, p2) = app.get("/reports?page=2&per_page=10", None).await;
    let (_, p3) = app.get("/reports?page=3&per_page=10", None).await;
    assert_eq!(p3["meta"]["page"], 3);
    assert_eq!(ids(&p3).len() as i64, total - 20, "page 3 has the rest");
    let (_, p4) = app.get("/reports?page=4&per_page=10", None).await;
    assert_eq!(ids(&p4).len() as i64, (total - 30).max(0));
    // The pages partition the listing: no overlaps, every report once.
    let mut seen = HashSet::new();
    for p in [&p1, &p2, &p3] {
        for id in ids(p) {
            assert!(seen.insert(id.clone()), "{id} on two pages");
        }
    }
    for id in &created {
        assert!(seen.contains(id), "{id} on no page");
    }
    // Newest first: the last one filed leads page 1.
    assert_eq!(ids(&p1)[0], *created.last().unwrap());

    // per_page is capped at 100; it defaults to 20.
    let (s, v) = app.get("/reports?per_page=500", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["meta"]["per_page"], 100);
    assert_eq!(ids(&v).len() as i64, total.min(100));
    let (_, v) = app.get("/reports", None).await;
    assert_eq!(v["meta"]["per_page"], 20);
    assert_eq!(v["meta"]["page"], 1);
    assert_eq!(ids(&v).len(), 20);
    // Bad paging: 400 with the error envelope.
    for q in [
        "page=0",
        "page=-1",
        "per_page=abc",
        "per_page=0",
        "page=abc",
    ] {
        let (s, v) = app.get(&format!("/reports?{q}"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_eq!(v["success"], false);
        assert!(v["error"].is_string());
    }

    // The category filter is case-insensitive and exact.
    let (s, upper) = app
        .get("/reports?category=KESEHATAN&per_page=100", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, lower) = app
        .get("/reports?category=kesehatan&per_page=100", None)
        .await;
    assert_eq!(ids(&upper), ids(&lower));
    assert_eq!(ids(&upper).len(), 5);
    assert_eq!(upper["meta"]["total"], 5);
    assert!(
        upper["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["category"] == "kesehatan")
    );
    let (s, v) = app.get("/reports?category=astrologi", None).await;
    assert!(
        s == StatusCode::OK && ids(&v).is_empty() || s == StatusCode::BAD_REQUEST,
        "unknown category filter: {s} {v}"
    );

    // Status filter, in both spellings.
    let officer = app.login("officer1").await;
    let moved = &created[0]; // infrastruktur
    let (s, _) = app
        .patch(
            &format!("/cases/{moved}/status"),
            Some(&officer),
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.eventually("status projected", || async {
        let (_, v) = app.get(&format!("/reports/{moved}"), None).await;
        (v["data"]["status"] == "IN_PROGRESS").then_some(())
    })
    .await;
    let (_, received) = app.get("/reports?status=RECEIVED&per_page=100", None).await;
    let (_, pending) = app.get("/reports?status=pending&per_page=100", None).await;
    assert_eq!(ids(&received), ids(&pending));
    assert_eq!(ids(&received).len(), 24);
    assert!(!ids(&received).contains(moved));
    assert!(
        received["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "RECEIVED")
    );
    let (_, in_progress) = app
        .get("/reports?status=in_progress&per_page=100", None)
        .await;
    assert_eq!(ids(&in_progress), vec![moved.clone()]);
    let (_, both) = app
        .get("/reports?status=IN_PROGRESS&category=Infrastruktur", None)
        .await;
    assert_eq!(ids(&both), vec![moved.clone()]);
    let (s, _) = app.get("/reports?status=DONE", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn keyset_paging_walks_every_report_once_newest_first() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen2").await;
    let mut created = Vec::new();
    for i in 0..23 {
        let cat = if i % 2 == 0 { "kebersihan" } else { "keamanan" };
        created.push(create2(&app, &citizen, &format!("Keyset {i}"), cat).await);
    }
    app.wait_listed("/reports?per_page=100", None, created.last().unwrap())
        .await;
    app.settle().await;

    let mut walked: Vec<String> = Vec::new();
    let mut stamps: Vec<time::OffsetDateTime> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/reports?limit=10&cursor={c}"),
            None => "/reports?limit=10".to_owned(),
        };
        let (s, v) = app.get(&path, None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["meta"]["limit"], 10);
        let page = ids(&v);
        assert!(page.len() <= 10);
        for r in v["data"].as_array().unwrap() {
            let t = r["created_at"].as_str().unwrap();
            stamps.push(
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .unwrap(),
            );
        }
        walked.extend(page);
        pages += 1;
        assert!(pages <= 10, "the cursor walk does not end");
        match v["meta"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(pages >= 3, "23 reports in pages of 10");
    let unique: HashSet<_> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "duplicates in the walk");
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(walked, newest_first, "every report once, newest first");
    let mut sorted = stamps.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "created_at descending");

    // The cursor is opaque but checked.
    for bad in ["garbage", "!!!", "eyJub3QiOiJhIGN1cnNvciJ9"] {
        let (s, v) = app
            .get(&format!("/reports?limit=10&cursor={bad}"), None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["success"], false);
    }
    let (s, _) = app.get("/reports?limit=0", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = app.get("/reports?limit=1000", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["meta"]["limit"], 100);
}

#[tokio::test]
async fn read_update_and_delete_one_report() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let other = app.login("citizen2").await;
    let id = create2(&app, &owner, "Got mampet", "kebersihan").await;
    let path = format!("/reports/{id}");

    let r = app.eventually("readable", || async {
        let (s, v) = app.get(&path, None).await;
        (s == StatusCode::OK).then_some(v)
    });
    let r = r.await;
    assert_eq!(r["success"], true);
    assert_eq!(r["data"]["id"], id.as_str());
    assert_eq!(r["data"]["title"], "Got mampet");
    assert_eq!(r["data"]["category"], "kebersihan");
    let (s, v) = app.get("/reports/not-a-uuid", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["success"], false);
    let (s, v) = app
        .get(&format!("/reports/{}", uuid::Uuid::new_v4()), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["success"], false);

    // The owner edits the title.
    let (s, v) = app
        .put(&path, Some(&owner), json!({"title": "Got mampet parah"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["data"]["title"], "Got mampet parah");
    assert_eq!(v["data"]["id"], id.as_str());
    app.eventually("the new title is read back", || async {
        let (_, v) = app.get(&path, None).await;
        (v["data"]["title"] == "Got mampet parah").then_some(())
    })
    .await;
    // A category change re-routes it.
    let (s, v) = app
        .put(&path, Some(&owner), json!({"category": "Kesehatan"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["category"], "kesehatan");
    assert_eq!(v["data"]["owner_agency"], "AGENCY_HEALTH");
    let officer2 = app.login("officer2").await;
    app.wait_listed("/cases/inbox", Some(&officer2), &id).await;

    // Seed 2 let anyone set the status; Lapor does not let the owner.
    let (s, v) = app
        .put(&path, Some(&owner), json!({"status": "resolved"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["success"], false);
    // Nor another citizen edit it.
    let (s, _) = app
        .put(&path, Some(&other), json!({"title": "dibajak"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Bad edits.
    let (s, _) = app
        .put("/reports/not-a-uuid", Some(&owner), json!({"title": "x"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app
        .put(
            &format!("/reports/{}", uuid::Uuid::new_v4()),
            Some(&owner),
            json!({"title": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .put(&path, Some(&owner), json!({"category": "astrologi"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app.put(&path, None, json!({"title": "x"})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    app.settle().await;
    let (_, v) = app.get(&path, None).await;
    assert_eq!(v["data"]["title"], "Got mampet parah");
    assert_eq!(v["data"]["status"], "RECEIVED");
    assert_eq!(v["data"]["category"], "kesehatan");

    // The responsible staff may set the status through seed 2's PUT.
    let (s, v) = app
        .put(&path, Some(&officer2), json!({"status": "in_progress"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["new_status"], "IN_PROGRESS");
    app.eventually("status read back", || async {
        let (_, v) = app.get(&path, None).await;
        (v["data"]["status"] == "IN_PROGRESS").then_some(())
    })
    .await;

    // Delete by the owner.
    let id2 = create2(&app, &owner, "Sampah liar", "kebersihan").await;
    let path2 = format!("/reports/{id2}");
    app.wait_listed("/reports", None, &id2).await;
    let (s, v) = app.delete(&path2, Some(&other)).await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
        "{s} {v}"
    );
    let (s, v) = app.delete(&path2, Some(&owner)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["success"], true);
    app.eventually("deleted report is gone", || async {
        let (s, _) = app.get(&path2, None).await;
        (s == StatusCode::NOT_FOUND).then_some(())
    })
    .await;
    let (s, _) = app.get(&path2, Some(&owner)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.delete("/reports/not-a-uuid", Some(&owner)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app
        .delete(&format!("/reports/{}", uuid::Uuid::new_v4()), Some(&owner))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

fn stats_row<'a>(v: &'a Value, category: &str) -> Option<&'a Value> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == category)
}

fn counts(row: &Value) -> [i64; 5] {
    [
        "total_count",
        "pending_count",
        "in_progress_count",
        "resolved_count",
        "rejected_count",
    ]
    .map(|f| {
        row[f]
            .as_i64()
            .unwrap_or_else(|| panic!("{f} missing: {row}"))
    })
}

#[tokio::test]
async fn statistics_count_each_category_by_status() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let officer1 = app.login("officer1").await;
    let officer2 = app.login("officer2").await;

    let infra: Vec<String> = file_many(&app, &citizen, "infrastruktur", 3).await;
    let health: Vec<String> = file_many(&app, &citizen, "kesehatan", 2).await;
    for id in &infra {
        app.wait_listed("/cases/inbox", Some(&officer1), id).await;
    }
    for id in &health {
        app.wait_listed("/cases/inbox", Some(&officer2), id).await;
    }

    // infra[0]: IN_PROGRESS then RESOLVED.
    for status in ["IN_PROGRESS", "RESOLVED"] {
        let (s, v) = app
            .patch(
                &format!("/cases/{}/status", infra[0]),
                Some(&officer1),
                json!({"status": status}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // health[0]: REJECTED with a reason.
    let (s, v) = app
        .patch(
            &format!("/cases/{}/status", health[0]),
            Some(&officer2),
            json!({"status": "REJECTED", "reason": "Bukan kewenangan dinas kesehatan"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // infra[1]: withdrawn by the reporter.
    let (s, v) = app
        .delete(&format!("/reports/{}", infra[1]), Some(&citizen))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.settle().await;

    let (s, v) = app.get("/statistics", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["success"], true);
    // [total, pending, in_progress, resolved, rejected]
    let i = stats_row(&v, "infrastruktur").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(counts(i), [2, 1, 0, 1, 0], "infrastruktur: {i}");
    assert!(i["last_updated"].is_string());
    let h = stats_row(&v, "kesehatan").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(counts(h), [2, 1, 0, 0, 1], "kesehatan: {h}");
    // No other category has reports.
    for row in v["data"].as_array().unwrap() {
        let c = row["category"].as_str().unwrap();
        if c != "infrastruktur" && c != "kesehatan" {
            assert_eq!(counts(row)[0], 0, "{c}: {row}");
        }
    }

    // One category, case-insensitively.
    let (s, v) = app.get("/statistics?category=Kesehatan", None).await;
    assert_eq!(s, StatusCode::OK);
    let rows = v["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["category"], "kesehatan");
    assert_eq!(counts(&rows[0]), [2, 1, 0, 0, 1]);

    // An in-progress case counts as in progress.
    let (s, _) = app
        .patch(
            &format!("/cases/{}/status", infra[2]),
            Some(&officer1),
            json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.settle().await;
    let (_, v) = app.get("/statistics?category=infrastruktur", None).await;
    assert_eq!(counts(&v["data"][0]), [2, 0, 1, 1, 0], "{v}");
}

/// Files `n` reports of one category (seed 2's shape), oldest first.
async fn file_many(app: &TestApp, token: &str, category: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(create2(app, token, &format!("Statistik {category} {i}"), category).await);
    }
    out
}

#[tokio::test]
async fn health_answers_in_seed_shape() {
    let app = TestApp::spawn().await;
    let (s, v) = app.get("/health", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "healthy");
    assert!(v["service"].is_string() && !v["service"].as_str().unwrap().is_empty());
    assert!(v["instance"].is_string() && !v["instance"].as_str().unwrap().is_empty());
    assert_eq!(v["cqrs"], "enabled");
    // The instance id is stable across requests of one process.
    let (_, w) = app.get("/health", None).await;
    assert_eq!(v["instance"], w["instance"]);
}

/// `q` keeps the reports whose title or text has every word (the listing
/// used to ignore it and answer every report).
#[tokio::test]
async fn the_listing_searches_titles_and_text() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let tree = create2(&app, &citizen, "Pohon tumbang di taman", "infrastruktur").await;
    let lamp = create2(&app, &citizen, "Lampu jalan mati", "infrastruktur").await;
    app.wait_listed("/reports", None, &tree).await;
    app.wait_listed("/reports", None, &lamp).await;

    for path in [
        "/reports?q=tumbang",
        "/reports?q=pohon%20taman&page=1&per_page=5",
        "/reports?q=tumbang&limit=10",
    ] {
        let (s, v) = app.get(path, Some(&citizen)).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        assert_eq!(ids(&v), vec![tree.clone()], "{path}: {v}");
    }
    // Words of the text count too (seed 2's `description`).
    let (_, v) = app.get("/reports?q=detailnya", None).await;
    let found: HashSet<String> = ids(&v).into_iter().collect();
    assert_eq!(found, HashSet::from([tree.clone(), lamp.clone()]), "{v}");
    let (_, v) = app.get("/reports?q=banjir", None).await;
    assert!(ids(&v).is_empty(), "{v}");
    // An empty term is no filter; an oversized one is refused.
    let (_, v) = app.get("/reports?q=", None).await;
    assert_eq!(ids(&v).len(), 2, "{v}");
    let (s, v) = app
        .get(&format!("/reports?q={}", "a".repeat(201)), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}
