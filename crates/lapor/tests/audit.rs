//! The audit trail (issue 13 §4): staff actions appear in `GET /admin/audit`
//! with the staff id as actor and never the reporter; only the city head
//! reads it; `lapor audit verify` passes, then fails after any single row
//! is edited, or one is deleted, through SQL.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

fn entries(v: &Value) -> Vec<Value> {
    v["data"].as_array().expect("data").clone()
}

fn actions(v: &Value) -> Vec<String> {
    entries(v)
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs one SQL statement on the audit table of the test's engine (`{t}`
/// is replaced by the table's name there).
async fn sql(app: &TestApp, statement: &str) {
    match &app.engine.database_url {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(&statement.replace("{t}", "identity.audit_log"))
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        }
        None => {
            let file = app.data_dir().join("identity.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            sqlx::query(&statement.replace("{t}", "audit_log"))
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        }
    }
}

/// `lapor audit verify` as an operator runs it: (exit success, output).
async fn verify_cli(app: &TestApp) -> (bool, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_lapor"))
        .args(["audit", "verify", "--data-dir"])
        .arg(app.data_dir())
        .envs(app.engine.env())
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run lapor");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The same check through the library function the CLI calls.
async fn verify(app: &TestApp) -> Result<i64, i64> {
    lapor::server::verify_audit(&app.engine_args())
        .await
        .expect("read the audit trail")
        .map_err(|b| b.seq)
}

#[tokio::test]
async fn staff_actions_are_audited_by_staff_id_and_the_chain_detects_any_edit() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let officer = app.login("officer1").await;
    let citizen = app.login("citizen1").await;
    let (admin_id, officer_id, citizen_id) = (
        app.user_id(&admin).await,
        app.user_id(&officer).await,
        app.user_id(&citizen).await,
    );

    // An ANONYMOUS report, worked by the officer.
    let id = app
        .create_report(
            &citizen,
            "Jembatan retak di Jl. Sudirman",
            "ANONYMOUS",
            "infrastruktur",
        )
        .await;
    app.wait_listed("/cases/inbox", Some(&officer), &id).await;
    let (s, v) = app
        .patch(
            &format!("/cases/{id}/status"),
            Some(&officer),
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app
        .post(
            &format!("/cases/{id}/answers"),
            Some(&officer),
            json!({"message": "Tim kami menuju lokasi"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app
        .post(
            "/sla/config",
            Some(&admin),
            json!({"duration_seconds": 7200}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let (s, log) = app.get("/admin/audit", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK, "{log}");
    // Newest first; the citizen's login and report are not audited.
    assert_eq!(
        actions(&log),
        [
            "sla_changed",
            "answered",
            "status_changed",
            "staff_login",
            "staff_login"
        ]
    );
    let e = entries(&log);
    assert_eq!(e[0]["actor"], admin_id.as_str());
    assert_eq!(e[0]["details"], json!({"seconds": 7200}));
    assert_eq!(e[0]["target"], Value::Null, "the default SLA");
    assert_eq!(e[1]["actor"], officer_id.as_str());
    assert_eq!(e[1]["target"], id.as_str());
    assert_eq!(e[2]["actor"], officer_id.as_str());
    assert_eq!(e[2]["target"], id.as_str());
    assert_eq!(
        e[2]["details"],
        json!({"from": "RECEIVED", "to": "IN_PROGRESS"})
    );
    assert_eq!(e[3]["actor"], officer_id.as_str());
    assert_eq!(e[4]["actor"], admin_id.as_str());
    assert_eq!(e[4]["seq"], 1);
    assert_eq!(e[0]["prev_hash"], e[1]["hash"]);
    let text = log.to_string();
    assert!(
        !text.contains(&citizen_id) && !text.contains("citizen1"),
        "the reporter appears in the audit trail: {text}"
    );

    // Filters: actor, action, time; paging.
    let (_, v) = app
        .get(&format!("/admin/audit?actor={officer_id}"), Some(&admin))
        .await;
    assert_eq!(actions(&v), ["answered", "status_changed", "staff_login"]);
    let (_, v) = app
        .get("/admin/audit?action=staff_login", Some(&admin))
        .await;
    assert_eq!(entries(&v).len(), 2);
    let (_, v) = app.get("/admin/audit?from=2999-01-01", Some(&admin)).await;
    assert!(entries(&v).is_empty());
    let (_, v) = app.get("/admin/audit?to=2000-01-01", Some(&admin)).await;
    assert!(entries(&v).is_empty());
    let (_, v) = app.get("/admin/audit?limit=2", Some(&admin)).await;
    assert_eq!(actions(&v), ["sla_changed", "answered"]);
    let next = v["meta"]["next_before_seq"].as_i64().expect("a next page");
    let (_, v) = app
        .get(
            &format!("/admin/audit?limit=2&before_seq={next}"),
            Some(&admin),
        )
        .await;
    assert_eq!(actions(&v), ["status_changed", "staff_login"]);
    let (s, v) = app
        .get("/admin/audit?action=dropped_table", Some(&admin))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], "audit_action_invalid", "{v}");

    // Only the city head reads it.
    for token in [&citizen, &officer] {
        let (s, _) = app.get("/admin/audit", Some(token)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, _) = app.get("/admin/audit", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Intact: the CLI exits 0. (The reads above logged nobody in, so the
    // trail still has these five entries.)
    let (ok, out) = verify_cli(&app).await;
    assert!(ok, "{out}");
    assert!(out.contains("5 entries"), "{out}");

    // Editing any single row is detected at that row, and undoing the edit
    // heals the chain.
    for seq in 1..=5 {
        sql(
            &app,
            &format!("UPDATE {{t}} SET at = at + 1 WHERE seq = {seq}"),
        )
        .await;
        assert_eq!(verify(&app).await, Err(seq), "edited time of {seq}");
        sql(
            &app,
            &format!("UPDATE {{t}} SET at = at - 1 WHERE seq = {seq}"),
        )
        .await;
        assert_eq!(verify(&app).await, Ok(5));
    }
    sql(
        &app,
        "UPDATE {t} SET details = '{\"seconds\":60}' WHERE seq = 5",
    )
    .await;
    let (ok, out) = verify_cli(&app).await;
    assert!(!ok, "an edited row passed: {out}");
    assert!(out.contains("seq 5"), "{out}");
    sql(
        &app,
        "UPDATE {t} SET details = '{\"seconds\":7200}' WHERE seq = 5",
    )
    .await;
    assert_eq!(verify(&app).await, Ok(5));

    // A deleted row.
    sql(&app, "DELETE FROM {t} WHERE seq = 3").await;
    let (ok, out) = verify_cli(&app).await;
    assert!(!ok, "a deleted row passed: {out}");
    assert!(out.contains("seq 4"), "{out}");
}

#[tokio::test]
async fn catalogue_and_account_changes_are_audited() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let (s, v) = app
        .post(
            "/admin/agencies",
            Some(&admin),
            json!({"code": "AGENCY_WATER", "name": "Dinas Air"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app
        .post(
            "/admin/categories",
            Some(&admin),
            json!({"slug": "banjir", "name": "Banjir", "agency": "AGENCY_WATER"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app
        .post(
            "/admin/users",
            Some(&admin),
            json!({"username": "officer9", "password": "password9", "role": "officer", "agency": "AGENCY_WATER"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // A citizen registering themself is not a privileged action.
    let (s, v) = app
        .post(
            "/auth/register",
            None,
            json!({"username": "warga9", "password": "password9"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    let (_, log) = app.get("/admin/audit", Some(&admin)).await;
    assert_eq!(
        actions(&log),
        [
            "user_added",
            "category_changed",
            "agency_changed",
            "staff_login"
        ]
    );
    let e = entries(&log);
    assert_eq!(e[0]["target"], "officer9");
    assert_eq!(
        e[0]["details"],
        json!({"role": "officer", "agency": "AGENCY_WATER"})
    );
    assert_eq!(e[1]["target"], "banjir");
    assert_eq!(
        e[1]["details"],
        json!({"name": "Banjir", "agency": "AGENCY_WATER"})
    );
    assert_eq!(e[2]["target"], "AGENCY_WATER");
    assert_eq!(verify(&app).await, Ok(4));
}

/// The city head's web page shows the same trail, filtered; others are refused.
#[tokio::test]
async fn the_city_head_reads_the_trail_on_the_web_page() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let officer = app.login("officer1").await;
    let citizen = app.login("citizen1").await;
    let officer_id = app.user_id(&officer).await;
    let (s, _) = app
        .post(
            "/sla/config",
            Some(&admin),
            json!({"duration_seconds": 5400}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let page = |path: String, token: String| {
        let req = app
            .http
            .get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, format!("lapor_session={token}"))
            .header(reqwest::header::ACCEPT_LANGUAGE, "en");
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = page("/app/admin/audit".into(), admin.clone()).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("SLA changed"), "{html}");
    assert!(html.contains("{&#34;seconds&#34;:5400}"), "{html}");
    assert!(html.contains("<td>officer1</td>"), "{html}");
    assert!(!html.contains("citizen1"), "{html}");

    let (s, html) = page(
        format!("/app/admin/audit?actor={officer_id}&action=staff_login"),
        admin.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<td>officer1</td>"), "{html}");
    assert!(!html.contains("SLA changed</td>"), "{html}");
    let (s, html) = page("/app/admin/audit?from=2999-01-01".into(), admin.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("No entries."), "{html}");

    for token in [citizen, officer] {
        let (s, _) = page("/app/admin/audit".into(), token).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}
