//! The officers' inbox with SLA facts (sort orders, overdue filter, due
//! times) and performance analytics per agency and officer, on a manual
//! clock so every duration is known.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn ts(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        v.as_str().unwrap_or_else(|| panic!("not a time: {v}")),
        &Rfc3339,
    )
    .unwrap()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {v}"))
        .iter()
        .map(|c| c["report_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn set_sla(app: &TestApp, admin: &str, seconds: i64, category: Option<&str>) {
    let (s, v) = app
        .post(
            "/sla/config",
            Some(admin),
            json!({"duration_seconds": seconds, "category": category}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn move_case(app: &TestApp, token: &str, id: &str, status: &str) {
    let (s, v) = app
        .patch(
            &format!("/cases/{id}/status"),
            Some(token),
            json!({"status": status, "reason": "duplikat laporan lain"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{status}: {v}");
}

async fn answer(app: &TestApp, token: &str, id: &str) {
    let (s, v) = app
        .post(
            &format!("/cases/{id}/answers"),
            Some(token),
            json!({"message": "Petugas kami sedang menuju lokasi"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn the_inbox_sorts_by_age_upvotes_and_sla_due_and_filters_overdue_cases() {
    let app = TestApp::spawn_with_manual_clock().await;
    let admin = app.login("admin").await;
    // Three categories of AGENCY_INFRA with different SLAs.
    set_sla(&app, &admin, 3600, None).await;
    set_sla(&app, &admin, 600, Some("kebersihan")).await;
    set_sla(&app, &admin, 1800, Some("lainnya")).await;

    let citizen = app.login("citizen1").await;
    let slow = app
        .create_report(&citizen, "Jembatan retak", "PUBLIC", "infrastruktur")
        .await;
    app.advance(Duration::from_secs(1));
    let fast = app
        .create_report(&citizen, "Sampah menumpuk", "PUBLIC", "kebersihan")
        .await;
    app.advance(Duration::from_secs(1));
    let middle = app
        .create_report(&citizen, "Pohon tumbang", "PUBLIC", "lainnya")
        .await;
    for (voter, id) in [
        ("citizen2", &fast),
        ("citizen3", &fast),
        ("citizen2", &middle),
    ] {
        let token = app.login(voter).await;
        let (s, v) = app
            .post(&format!("/reports/{id}/upvote"), Some(&token), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    app.settle().await;

    let officer = app.login("officer1").await;
    let inbox = |query: &'static str| {
        let (app, officer) = (&app, officer.clone());
        async move {
            let (s, v) = app
                .get(&format!("/cases/inbox{query}"), Some(&officer))
                .await;
            assert_eq!(s, StatusCode::OK, "{query}: {v}");
            v
        }
    };

    // Every case carries its due time: filing time plus its category's SLA.
    let newest = inbox("").await;
    assert_eq!(
        ids(&newest),
        [middle.as_str(), fast.as_str(), slow.as_str()]
    );
    assert!(newest["meta"]["next_cursor"].is_null());
    // One case per page by cursor walks the same order.
    let mut walked: Vec<String> = vec![];
    let mut query = "/cases/inbox?limit=1".to_owned();
    loop {
        let (s, v) = app.get(&query, Some(&officer)).await;
        assert_eq!(s, StatusCode::OK, "{query}: {v}");
        walked.extend(ids(&v));
        match v["meta"]["next_cursor"].as_str() {
            Some(c) => query = format!("/cases/inbox?limit=1&cursor={c}"),
            None => break,
        }
        assert!(walked.len() <= 3, "the walk does not end: {walked:?}");
    }
    assert_eq!(walked, ids(&newest));
    for (case, seconds) in newest["data"]
        .as_array()
        .unwrap()
        .iter()
        .zip([1800, 600, 3600])
    {
        let due = ts(&case["due_at"]) - ts(&case["created_at"]);
        assert_eq!(due.whole_seconds(), seconds, "{case}");
        assert_eq!(case["is_overdue"], false);
    }

    let v = inbox("?sort=oldest").await;
    assert_eq!(ids(&v), [slow.as_str(), fast.as_str(), middle.as_str()]);
    assert_eq!(
        (&v["meta"]["total"], &v["meta"]["page"]),
        (&json!(3), &json!(1))
    );
    assert_eq!(
        ids(&inbox("?sort=upvotes").await),
        [fast.as_str(), middle.as_str(), slow.as_str()]
    );
    assert_eq!(
        ids(&inbox("?sort=sla_due").await),
        [fast.as_str(), middle.as_str(), slow.as_str()]
    );
    let v = inbox("?sort=sla_due&page=2&per_page=2").await;
    assert_eq!(
        (ids(&v), &v["meta"]["total"]),
        (vec![slow.clone()], &json!(3))
    );
    assert_eq!(ids(&inbox("?sort=newest&limit=1").await), [middle.as_str()]);
    assert!(
        inbox("?overdue=true").await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Bad values are 400 JSON errors.
    for q in [
        "?sort=priority",
        "?overdue=perhaps",
        "?sort=upvotes&cursor=1_0191e0a2-0000-7000-8000-000000000000",
        "?sort=oldest&page=0",
    ] {
        let (s, v) = app.get(&format!("/cases/inbox{q}"), Some(&officer)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_eq!(v["success"], false);
        assert!(v["error"].is_string());
    }

    // Eleven minutes on, the 10-minute case is overdue (and escalated); its
    // due time stays where it was.
    let fast_due = ts(&newest["data"][1]["due_at"]);
    app.advance(Duration::from_secs(660));
    let v = inbox("?overdue=true").await;
    assert_eq!(ids(&v), [fast.as_str()]);
    assert_eq!(v["data"][0]["is_overdue"], true);
    app.eventually("the overdue case is escalated", || async {
        let v = inbox("?sort=sla_due").await;
        (v["data"][0]["escalation_level"] == 1).then_some(v)
    })
    .await;
    let v = inbox("?sort=sla_due").await;
    assert_eq!(ts(&v["data"][0]["due_at"]), fast_due);
    assert_eq!(
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["is_overdue"].as_bool().unwrap())
            .collect::<Vec<_>>(),
        [true, false, false]
    );
    let (_, detail) = app.get(&format!("/cases/{fast}"), Some(&officer)).await;
    assert_eq!(detail["data"]["is_overdue"], true);
    assert_eq!(ts(&detail["data"]["due_at"]), fast_due);

    // A resolved case is not overdue any more.
    move_case(&app, &officer, &fast, "IN_PROGRESS").await;
    let v = inbox("?overdue=true&status=IN_PROGRESS").await;
    assert_eq!(ids(&v), [fast.as_str()]);
    move_case(&app, &officer, &fast, "RESOLVED").await;
    assert!(
        inbox("?overdue=true").await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let v = inbox("?sort=sla_due").await;
    assert_eq!(v["data"][0]["is_overdue"], false);

    // Another agency's inbox shows none of it.
    let other = app.login("officer2").await;
    let (_, v) = app.get("/cases/inbox?sort=sla_due", Some(&other)).await;
    assert!(v["data"].as_array().unwrap().is_empty(), "{v}");
}

#[tokio::test]
async fn performance_shows_response_and_resolution_times_breaches_and_officers() {
    let app = TestApp::spawn_with_manual_clock().await;
    let admin = app.login("admin").await;
    set_sla(&app, &admin, 600, None).await;
    let (s, v) = app
        .post(
            "/admin/users",
            Some(&admin),
            json!({"username": "officer1b", "password": "password", "role": "officer", "agency": "AGENCY_INFRA"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    let start = app.running.as_ref().unwrap().app.now();
    let citizen = app.login("citizen1").await;
    let mut cases = vec![];
    for (i, vis) in ["PUBLIC", "PRIVATE", "ANONYMOUS", "PUBLIC"]
        .iter()
        .enumerate()
    {
        cases.push(
            app.create_report(&citizen, &format!("Jalan rusak {i}"), vis, "infrastruktur")
                .await,
        );
    }
    // cases[3] stays untouched.
    let (c1, c2, c3) = (&cases[0], &cases[1], &cases[2]);
    app.settle().await;

    let alice = app.login("officer1").await;
    let bob = app.login("officer1b").await;
    let at = |secs: u64| {
        let now = app.running.as_ref().unwrap().app.now();
        let target = start + time::Duration::seconds(secs as i64);
        assert!(target >= now);
        app.advance(Duration::try_from(target - now).unwrap());
    };
    at(60);
    move_case(&app, &alice, c1, "IN_PROGRESS").await;
    at(120);
    answer(&app, &bob, c2).await;
    at(180);
    move_case(&app, &bob, c3, "IN_PROGRESS").await;
    at(300);
    move_case(&app, &alice, c1, "RESOLVED").await;
    at(400);
    move_case(&app, &alice, c2, "REJECTED").await;
    // Workflow has completed the SLA jobs of c1 and c2 before the clock
    // jumps (in real time it takes milliseconds, not minutes).
    app.settle().await;
    // c3 (in progress) and c4 (untouched) breach their 10-minute SLA.
    at(700);
    let supervisor = app.login("supervisor1").await;
    app.eventually("two escalations", || async {
        let (_, v) = app.get("/sla/escalations", Some(&supervisor)).await;
        (v["data"].as_array()?.len() == 2).then_some(())
    })
    .await;
    app.settle().await;

    let period = format!(
        "from={}&to={}",
        rfc3339(start - time::Duration::seconds(1)).replace('+', "%2B"),
        rfc3339(start + time::Duration::hours(1)).replace('+', "%2B"),
    );
    let (s, raw) = app
        .send_raw(
            reqwest::Method::GET,
            &format!("/analytics/performance?{period}"),
            Some(&supervisor),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{raw}");
    let citizen_id = app.user_id(&citizen).await;
    assert!(!raw.contains(&citizen_id), "no reporter identity: {raw}");
    let v: Value = serde_json::from_str(&raw).unwrap();
    let d = &v["data"];
    assert_eq!(d["agency"], "AGENCY_INFRA");
    assert_eq!(d["agencies"].as_array().unwrap().len(), 1);
    let infra = &d["agencies"][0];
    assert_eq!(infra["agency"], "AGENCY_INFRA");
    assert_eq!(
        infra["backlog"],
        json!({"open": 2, "received": 1, "in_progress": 1})
    );
    let st = &infra["stats"];
    assert_eq!(
        (
            &st["cases"],
            &st["responded"],
            &st["resolved"],
            &st["rejected"],
            &st["escalated"]
        ),
        (&json!(4), &json!(3), &json!(1), &json!(1), &json!(2))
    );
    assert_eq!(st["breach_rate"], 0.5);
    // first responses 60, 120, 180 s; closings 300, 400 s (nearest rank)
    assert_eq!(
        st["first_response"],
        json!({"samples": 3, "median_seconds": 120, "p90_seconds": 180})
    );
    assert_eq!(
        st["resolution"],
        json!({"samples": 2, "median_seconds": 300, "p90_seconds": 400})
    );
    assert_eq!(d["overall"], *st);
    assert_eq!(d["backlog"], infra["backlog"]);
    let daily = d["daily"].as_array().unwrap();
    assert!(!daily.is_empty() && daily.len() <= 2, "{daily:?}");
    let sum = |f: &str| daily.iter().map(|x| x[f].as_i64().unwrap()).sum::<i64>();
    assert_eq!((sum("created"), sum("resolved")), (4, 2));

    let officers = d["officers"].as_array().unwrap();
    let names: Vec<_> = officers
        .iter()
        .map(|o| o["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["officer1", "officer1b"]);
    let (a, b) = (&officers[0], &officers[1]);
    assert_eq!(a["user_id"], app.user_id(&alice).await);
    assert_eq!(
        (&a["agency"], &a["open_in_progress"]),
        (&json!("AGENCY_INFRA"), &json!(0))
    );
    assert_eq!(
        (
            &a["stats"]["cases"],
            &a["stats"]["responded"],
            &a["stats"]["resolved"],
            &a["stats"]["rejected"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(a["stats"]["breach_rate"], 0.0);
    assert_eq!(a["stats"]["first_response"]["median_seconds"], 60);
    assert_eq!(
        a["stats"]["resolution"],
        json!({"samples": 2, "median_seconds": 300, "p90_seconds": 400})
    );
    assert_eq!(b["open_in_progress"], 1);
    assert_eq!(
        (
            &b["stats"]["cases"],
            &b["stats"]["responded"],
            &b["stats"]["escalated"]
        ),
        (&json!(2), &json!(2), &json!(1))
    );
    assert_eq!(b["stats"]["breach_rate"], 0.5);
    assert_eq!(
        b["stats"]["first_response"],
        json!({"samples": 2, "median_seconds": 120, "p90_seconds": 180})
    );
    assert_eq!(b["stats"]["resolution"]["median_seconds"], Value::Null);

    // The default period (the last 30 days) and whole days give the same.
    let (s, v) = app.get("/analytics/performance", Some(&supervisor)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["overall"]["cases"], 4);
    let day = start.date().to_string();
    let (s, v) = app
        .get(
            &format!("/analytics/performance?from={day}&to={day}&agency=AGENCY_INFRA"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["daily"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"]["daily"][0]["date"], day);

    // The city head sees every agency, or any one.
    let (s, v) = app
        .get(&format!("/analytics/performance?{period}"), Some(&admin))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["data"]["agency"].is_null());
    let agencies: Vec<_> = v["data"]["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agency"].as_str().unwrap())
        .collect();
    assert_eq!(agencies, ["AGENCY_HEALTH", "AGENCY_INFRA", "AGENCY_SAFETY"]);
    assert_eq!(v["data"]["agencies"][1]["stats"], *st);
    assert_eq!(
        v["data"]["agencies"][0]["stats"]["breach_rate"],
        Value::Null
    );
    assert_eq!(v["data"]["overall"]["cases"], 4);
    let (s, v) = app
        .get(
            &format!("/analytics/performance?{period}&agency=AGENCY_HEALTH"),
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["overall"]["cases"], 0);

    // Another agency's supervisor, officers and citizens may not.
    let other = app.login("supervisor2").await;
    let (s, v) = app
        .get("/analytics/performance?agency=AGENCY_INFRA", Some(&other))
        .await;
    assert_eq!(
        (s, &v["success"]),
        (StatusCode::FORBIDDEN, &json!(false)),
        "{v}"
    );
    let (s, v) = app.get("/analytics/performance", Some(&other)).await;
    assert_eq!(s, StatusCode::OK, "their own agency: {v}");
    assert_eq!(v["data"]["agency"], "AGENCY_HEALTH");
    for token in [&citizen, &alice] {
        let (s, _) = app.get("/analytics/performance", Some(token)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, _) = app.get("/analytics/performance", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Bad periods and agencies are 400.
    for q in [
        "from=2026-03-02&to=2026-03-01",
        "from=2024-01-01&to=2026-01-01",
        "from=yesterday",
        "agency=AGENCY_NOPE",
        "agency=not%20a%20code",
    ] {
        let (s, v) = app
            .get(&format!("/analytics/performance?{q}"), Some(&admin))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_eq!(v["success"], false);
    }
}
