//! Bad input: every mistake gets the JSON error envelope with the right 4xx
//! (never a 5xx) and changes nothing; forged and expired tokens are refused.

mod common;

use common::TestApp;
use jsonwebtoken::{EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Sends `body` as-is with an optional Content-Type.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .request(method, format!("{}{}", app.base, path))
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header(reqwest::header::CONTENT_TYPE, ct);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let text = res.text().await.expect("body");
    let v = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{path} answered non-JSON ({status}): {text}"));
    (status, v)
}

/// Asserts the error envelope and the exact status.
#[track_caller]
fn refused(what: &str, got: (StatusCode, Value), want: StatusCode) {
    let (s, v) = got;
    assert!(!s.is_server_error(), "{what}: a 5xx: {s} {v}");
    assert_eq!(s, want, "{what}: {v}");
    assert_eq!(v["success"], false, "{what}: {v}");
    assert!(
        v["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: no error message: {v}"
    );
}

/// What a refused request must not have changed.
async fn snapshot(app: &TestApp, citizen: &str) -> (Value, Value, Value, Value) {
    app.settle().await;
    let (_, mine) = app.get("/reports/me", Some(citizen)).await;
    let (_, stats) = app.get("/statistics", None).await;
    let (_, sla) = app.get("/sla/config", None).await;
    let (_, all) = app.get("/reports?per_page=100", None).await;
    (
        mine["data"].clone(),
        stats,
        sla,
        all["meta"]["total"].clone(),
    )
}

fn secret(app: &TestApp) -> Vec<u8> {
    let text = std::fs::read_to_string(app.data_dir().join("secrets").join("jwt.key"))
        .expect("the server keeps its JWT secret in DATA_DIR/secrets/jwt.key");
    hex(text.trim())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn sign(key: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(&Header::default(), claims, &EncodingKey::from_secret(key)).unwrap()
}

#[tokio::test]
async fn malformed_bodies_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let admin = app.login("admin").await;
    app.create_report(&citizen, "Laporan awal", "PUBLIC", "infrastruktur")
        .await;
    let before = snapshot(&app, &citizen).await;
    let json_ct = Some("application/json");

    let deep = "[".repeat(5000);
    let bad_bodies: Vec<(&str, &str)> = vec![
        ("nested 5000 deep", &deep),
        ("malformed JSON", "{\"content\": \"x\", "),
        ("not JSON at all", "content=x&category=infrastruktur"),
        (
            "an array",
            "[{\"content\": \"x\", \"category\": \"infrastruktur\"}]",
        ),
        ("a string", "\"content\""),
        ("a number", "42"),
        ("null", "null"),
        ("empty", ""),
        (
            "content is a number",
            "{\"content\": 123, \"category\": \"infrastruktur\"}",
        ),
        (
            "category is an object",
            "{\"content\": \"x\", \"category\": {\"slug\": \"infrastruktur\"}}",
        ),
        (
            "lat is a string",
            "{\"content\": \"x\", \"category\": \"infrastruktur\", \"lat\": \"north\", \"lon\": 106.8}",
        ),
    ];
    for (what, body) in bad_bodies {
        refused(
            what,
            raw(
                &app,
                Method::POST,
                "/reports",
                Some(&citizen),
                json_ct,
                body.to_owned(),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
    }

    // Missing or wrong Content-Type: 415.
    let good = r#"{"content": "Lampu mati", "category": "infrastruktur"}"#;
    refused(
        "no Content-Type",
        raw(&app, Method::POST, "/reports", Some(&citizen), None, good).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );
    refused(
        "text/plain",
        raw(
            &app,
            Method::POST,
            "/reports",
            Some(&citizen),
            Some("text/plain"),
            good,
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );

    // Over 64 KiB: 413.
    let huge = json!({"content": "a".repeat(70 * 1024), "category": "infrastruktur"}).to_string();
    refused(
        "a 70 KiB body",
        raw(
            &app,
            Method::POST,
            "/reports",
            Some(&citizen),
            json_ct,
            huge,
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );

    // Field values the domain refuses: 400.
    for (what, body) in [
        (
            "unknown category",
            json!({"content": "x", "category": "astrologi"}),
        ),
        (
            "category with odd characters",
            json!({"content": "x", "category": "infra'; DROP TABLE reports;--"}),
        ),
        (
            "bad visibility",
            json!({"content": "x", "category": "infrastruktur", "visibility": "SECRET"}),
        ),
        (
            "lat without lon",
            json!({"content": "x", "category": "infrastruktur", "lat": -6.2}),
        ),
        (
            "lon without lat",
            json!({"content": "x", "category": "infrastruktur", "lon": 106.8}),
        ),
        (
            "lat 200",
            json!({"content": "x", "category": "infrastruktur", "lat": 200.0, "lon": 106.8}),
        ),
        (
            "lon 500",
            json!({"content": "x", "category": "infrastruktur", "lat": -6.2, "lon": 500.0}),
        ),
        (
            "nested location out of range",
            json!({"content": "x", "category": "infrastruktur", "location": {"lat": -91.0, "lon": 0.0}}),
        ),
        (
            "address without coordinates",
            json!({"content": "x", "category": "infrastruktur", "address": "Jl. Thamrin 1"}),
        ),
        (
            "empty content",
            json!({"content": "", "category": "infrastruktur"}),
        ),
        (
            "content far too long",
            json!({"content": "b".repeat(60 * 1024), "category": "infrastruktur"}),
        ),
    ] {
        refused(
            what,
            app.post("/reports", Some(&citizen), body).await,
            StatusCode::BAD_REQUEST,
        );
    }

    // The same on other endpoints.
    refused(
        "SLA duration as a word",
        app.post(
            "/sla/config",
            Some(&admin),
            json!({"duration_seconds": "x"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    refused(
        "SLA body is an array",
        raw(
            &app,
            Method::POST,
            "/sla/config",
            Some(&admin),
            json_ct,
            "[60]",
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    refused(
        "login with malformed JSON",
        raw(
            &app,
            Method::POST,
            "/auth/login",
            None,
            json_ct,
            "{\"username\":",
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    refused(
        "login as a string",
        raw(
            &app,
            Method::POST,
            "/auth/login",
            None,
            json_ct,
            "\"citizen1\"",
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    let officer = app.login("officer1").await;
    let (_, mine) = app.get("/reports/me", Some(&citizen)).await;
    let id = mine["data"][0]["report_id"].as_str().unwrap().to_owned();
    refused(
        "status as a number",
        app.patch(
            &format!("/cases/{id}/status"),
            Some(&officer),
            json!({"status": 2}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    refused(
        "status body malformed",
        raw(
            &app,
            Method::PATCH,
            &format!("/cases/{id}/status"),
            Some(&officer),
            json_ct,
            "{status: IN_PROGRESS}",
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    refused(
        "an edit as an array",
        raw(
            &app,
            Method::PUT,
            &format!("/reports/{id}"),
            Some(&citizen),
            json_ct,
            "[]",
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    refused(
        "an edit with a bad location",
        app.put(
            &format!("/reports/{id}"),
            Some(&citizen),
            json!({"location": {"lat": 200.0, "lon": 0.0}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    refused(
        "an empty answer",
        app.post(
            &format!("/cases/{id}/answers"),
            Some(&officer),
            json!({"message": "   "}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );

    let after = snapshot(&app, &citizen).await;
    assert_eq!(before, after, "refused requests changed state");
    let (_, case) = app.get(&format!("/cases/{id}"), Some(&officer)).await;
    assert_eq!(case["data"]["status"], "RECEIVED");
    assert_eq!(case["data"]["answers"].as_array().unwrap().len(), 0);
    assert_eq!(case["data"]["content"], "Laporan awal");
}

#[tokio::test]
async fn bad_and_unknown_ids_routes_and_methods() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let officer = app.login("officer1").await;
    let before = snapshot(&app, &citizen).await;

    // Malformed ids: 400.
    for bad in ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"] {
        refused(
            &format!("GET /reports/{bad}"),
            app.get(&format!("/reports/{bad}"), Some(&citizen)).await,
            StatusCode::BAD_REQUEST,
        );
        refused(
            &format!("PUT /reports/{bad}"),
            app.put(
                &format!("/reports/{bad}"),
                Some(&citizen),
                json!({"title": "x"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
        refused(
            &format!("DELETE /reports/{bad}"),
            app.delete(&format!("/reports/{bad}"), Some(&citizen)).await,
            StatusCode::BAD_REQUEST,
        );
        refused(
            &format!("upvote {bad}"),
            app.post(&format!("/reports/{bad}/upvote"), Some(&citizen), json!({}))
                .await,
            StatusCode::BAD_REQUEST,
        );
        refused(
            &format!("GET /cases/{bad}"),
            app.get(&format!("/cases/{bad}"), Some(&officer)).await,
            StatusCode::BAD_REQUEST,
        );
        refused(
            &format!("PATCH /cases/{bad}/status"),
            app.patch(
                &format!("/cases/{bad}/status"),
                Some(&officer),
                json!({"status": "IN_PROGRESS"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
        refused(
            &format!("answer {bad}"),
            app.post(
                &format!("/cases/{bad}/answers"),
                Some(&officer),
                json!({"message": "x"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
        refused(
            &format!("read notification {bad}"),
            app.post(
                &format!("/notifications/{bad}/read"),
                Some(&citizen),
                json!({}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
    }
    refused(
        "sla status with a bad report id",
        app.get("/sla/status?report_id=nope", None).await,
        StatusCode::BAD_REQUEST,
    );
    // Paging far past the end must not overflow the offset (was a 500).
    for q in [
        "/sla/status?page=9223372036854775807",
        "/sla/status?page=9223372036854775807&per_page=100",
        "/reports?page=9223372036854775807",
        "/reports?page=99999999999999999999",
    ] {
        refused(q, app.get(q, Some(&citizen)).await, StatusCode::BAD_REQUEST);
    }
    let (s, v) = app.get("/sla/status?page=1000&per_page=100", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 0);
    refused(
        "sla status with a bad sla_status",
        app.get("/sla/status?sla_status=LATE", None).await,
        StatusCode::BAD_REQUEST,
    );

    // Unknown ids: 404.
    let unknown = uuid::Uuid::new_v4();
    for (what, got) in [
        (
            "GET report",
            app.get(&format!("/reports/{unknown}"), Some(&citizen))
                .await,
        ),
        (
            "PUT report",
            app.put(
                &format!("/reports/{unknown}"),
                Some(&citizen),
                json!({"title": "x"}),
            )
            .await,
        ),
        (
            "DELETE report",
            app.delete(&format!("/reports/{unknown}"), Some(&citizen))
                .await,
        ),
        (
            "upvote",
            app.post(
                &format!("/reports/{unknown}/upvote"),
                Some(&citizen),
                json!({}),
            )
            .await,
        ),
        (
            "GET case",
            app.get(&format!("/cases/{unknown}"), Some(&officer)).await,
        ),
        (
            "PATCH case",
            app.patch(
                &format!("/cases/{unknown}/status"),
                Some(&officer),
                json!({"status": "IN_PROGRESS"}),
            )
            .await,
        ),
        (
            "answer",
            app.post(
                &format!("/cases/{unknown}/answers"),
                Some(&officer),
                json!({"message": "x"}),
            )
            .await,
        ),
        (
            "read notification",
            app.post(
                &format!("/notifications/{unknown}/read"),
                Some(&citizen),
                json!({}),
            )
            .await,
        ),
    ] {
        refused(what, got, StatusCode::NOT_FOUND);
    }

    // Unknown routes: 404 JSON; wrong methods: 405 JSON.
    for path in ["/nope", "/reports/me/extra", "/api/v2/reports", "/cases"] {
        refused(
            path,
            app.get(path, Some(&citizen)).await,
            StatusCode::NOT_FOUND,
        );
    }
    for (method, path) in [
        (Method::DELETE, "/health"),
        (Method::PATCH, "/reports"),
        (Method::POST, "/reports/public"),
        (Method::PUT, "/cases/inbox"),
        (Method::GET, "/auth/login"),
        (Method::DELETE, "/sla/config"),
    ] {
        let what = format!("{method} {path}");
        refused(
            &what,
            app.send(method, path, Some(&citizen), None).await,
            StatusCode::METHOD_NOT_ALLOWED,
        );
    }

    let after = snapshot(&app, &citizen).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_are_401() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let me = app.get("/auth/me", Some(&citizen)).await.1;
    let user_id = me["user"]["id"].as_str().unwrap().to_owned();
    let key = secret(&app);
    assert!(key.len() >= 32);

    // Our signing works: a fresh token signed with the server's secret is
    // accepted (so the refusals below are about what we changed).
    let claims = |exp: i64, role: &str, iss: &str| json!({"sub": user_id, "usr": "citizen1", "role": role, "iat": now() - 7200, "exp": exp, "iss": iss});
    let valid = sign(&key, &claims(now() + 600, "citizen", "lapor"));
    let (s, v) = app.get("/auth/me", Some(&valid)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["user"]["id"], user_id.as_str());

    let expired = sign(&key, &claims(now() - 3600, "citizen", "lapor"));
    let other_issuer = sign(&key, &claims(now() + 600, "citizen", "someone-else"));
    let other_key = sign(&[7u8; 64], &claims(now() + 600, "admin", "lapor"));
    // A real token whose payload was swapped for one claiming admin.
    let parts: Vec<&str> = citizen.split('.').collect();
    let forged_payload = other_key.split('.').nth(1).unwrap();
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    // The same claims with no signature at all.
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{forged_payload}.");
    let truncated = citizen[..citizen.len() - 4].to_owned();

    let tokens = [
        ("expired", expired.as_str()),
        ("another issuer", other_issuer.as_str()),
        ("another secret", other_key.as_str()),
        ("tampered payload", tampered.as_str()),
        ("alg none", unsigned.as_str()),
        ("truncated signature", truncated.as_str()),
        ("random string", "qwertyuiopasdfghjkl"),
        ("three dots", "a.b.c"),
    ];
    let protected = [
        (Method::GET, "/auth/me"),
        (Method::GET, "/reports/me"),
        (Method::GET, "/notifications/me"),
        (Method::GET, "/cases/inbox"),
        (Method::GET, "/admin/users"),
        // Endpoints open without a token still refuse a bad one.
        (Method::GET, "/reports"),
        (Method::GET, "/sla/status"),
    ];
    for (what, token) in tokens {
        for (method, path) in &protected {
            refused(
                &format!("{what} token on {method} {path}"),
                app.send(method.clone(), path, Some(token), None).await,
                StatusCode::UNAUTHORIZED,
            );
        }
        refused(
            &format!("{what} token creating a report"),
            app.post(
                "/reports",
                Some(token),
                json!({"content": "palsu", "category": "infrastruktur"}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
        );
    }
    let (_, v) = app.get("/auth/me", Some(&expired)).await;
    assert!(
        v["error"].as_str().unwrap().contains("expired"),
        "the expired token is told apart: {v}"
    );

    // No token, or not a bearer token.
    for (method, path) in &protected[..5] {
        refused(
            &format!("no token on {method} {path}"),
            app.send(method.clone(), path, None, None).await,
            StatusCode::UNAUTHORIZED,
        );
    }
    refused(
        "no token creating a report",
        app.post(
            "/reports",
            None,
            json!({"content": "x", "category": "infrastruktur"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    );
    for header in [
        format!("Basic {citizen}"),
        citizen.clone(),
        "Bearer ".to_owned(),
        "Bearer".to_owned(),
    ] {
        let res = app
            .http
            .get(format!("{}/auth/me", app.base))
            .header(reqwest::header::AUTHORIZATION, &header)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "Authorization: {header}"
        );
    }

    // Nothing was filed by any forged request.
    app.settle().await;
    let (_, v) = app.get("/reports?per_page=100", None).await;
    assert_eq!(v["meta"]["total"], 0, "{v}");
}

#[tokio::test]
async fn roles_are_enforced_with_403() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let officer = app.login("officer1").await;
    let supervisor = app.login("supervisor1").await;

    refused(
        "citizen on the inbox",
        app.get("/cases/inbox", Some(&citizen)).await,
        StatusCode::FORBIDDEN,
    );
    refused(
        "citizen on escalations",
        app.get("/sla/escalations", Some(&citizen)).await,
        StatusCode::FORBIDDEN,
    );
    for (who, token) in [("citizen", &citizen), ("officer", &officer)] {
        refused(
            &format!("{who} setting the SLA"),
            app.post("/sla/config", Some(token), json!({"duration_seconds": 60}))
                .await,
            StatusCode::FORBIDDEN,
        );
        refused(
            &format!("{who} setting a category SLA"),
            app.post(
                "/sla/config",
                Some(token),
                json!({"duration_seconds": 60, "category": "infrastruktur"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        );
    }
    refused(
        "no token setting the SLA",
        app.post("/sla/config", None, json!({"duration_seconds": 60}))
            .await,
        StatusCode::UNAUTHORIZED,
    );
    for (who, token) in [("citizen", &citizen), ("officer", &officer)] {
        refused(
            &format!("{who} listing users"),
            app.get("/admin/users", Some(token)).await,
            StatusCode::FORBIDDEN,
        );
    }
    for (who, token) in [
        ("citizen", &citizen),
        ("officer", &officer),
        ("supervisor", &supervisor),
    ] {
        refused(
            &format!("{who} creating a user"),
            app.post(
                "/admin/users",
                Some(token),
                json!({"username": "mallory", "password": "password123", "role": "admin"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        );
        refused(
            &format!("{who} adding a category"),
            app.post(
                "/admin/categories",
                Some(token),
                json!({"slug": "banjir", "name": "Banjir", "agency": "AGENCY_INFRA"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        );
    }
    // None of that created anything.
    let (s, _) = app
        .post(
            "/auth/login",
            None,
            json!({"username": "mallory", "password": "password123"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, cats) = app.get("/categories", None).await;
    assert!(
        !cats["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["slug"] == "banjir")
    );
    let (_, sla) = app.get("/sla/config", None).await;
    assert_ne!(sla["sla_duration_sec"], 60);
    assert!(sla["categories"].get("infrastruktur").is_none(), "{sla}");
}

#[tokio::test]
async fn sla_configuration_is_validated_and_scoped() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let supervisor = app.login("supervisor1").await;
    let (_, before) = app.get("/sla/config", None).await;
    assert!(before["sla_duration_sec"].as_i64().unwrap() > 60);

    // Not positive, absurdly long, or not a number: 400.
    for (what, body) in [
        ("zero", json!({"duration_seconds": 0})),
        ("negative", json!({"duration_seconds": -5})),
        ("over a year", json!({"duration_seconds": 400 * 24 * 3600})),
        ("a string", json!({"duration_seconds": "60"})),
        ("a fraction", json!({"duration_seconds": 60.5})),
        ("missing", json!({})),
        ("null", json!({"duration_seconds": null})),
        (
            "an unknown category",
            json!({"duration_seconds": 60, "category": "astrologi"}),
        ),
    ] {
        refused(
            what,
            app.post("/sla/config", Some(&admin), body).await,
            StatusCode::BAD_REQUEST,
        );
    }
    let (_, v) = app.get("/sla/config", None).await;
    assert_eq!(v, before, "refused SLA changes changed the configuration");

    // A valid default change by the city head.
    let (s, v) = app
        .post("/sla/config", Some(&admin), json!({"duration_seconds": 60}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["sla_duration_sec"], 60);
    assert_eq!(v["sla_duration_str"], "1m0s");
    let (s, v) = app.get("/sla/config", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["sla_duration_sec"], 60);
    assert_eq!(v["sla_duration_str"], "1m0s");

    // A supervisor sets their own agency's category only.
    let (s, v) = app
        .post(
            "/sla/config",
            Some(&supervisor),
            json!({"duration_seconds": 7200, "category": "infrastruktur"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["categories"]["infrastruktur"], 7200);
    refused(
        "supervisor1 on kesehatan",
        app.post(
            "/sla/config",
            Some(&supervisor),
            json!({"duration_seconds": 60, "category": "kesehatan"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    refused(
        "supervisor1 on the default",
        app.post(
            "/sla/config",
            Some(&supervisor),
            json!({"duration_seconds": 120}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    let (_, v) = app.get("/sla/config", None).await;
    assert_eq!(v["sla_duration_sec"], 60, "the default is unchanged: {v}");
    assert_eq!(v["categories"]["infrastruktur"], 7200);
    assert!(v["categories"].get("kesehatan").is_none(), "{v}");
}

#[tokio::test]
async fn a_burst_of_bad_requests_leaves_the_server_healthy() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let json_ct = Some("application/json");
    let huge = "x".repeat(100 * 1024);
    let unknown = uuid::Uuid::new_v4().to_string();
    let mut codes = Vec::new();
    for i in 0..20 {
        let (s, v) = match i % 10 {
            0 => raw(&app, Method::POST, "/reports", Some(&citizen), json_ct, "{").await,
            1 => raw(&app, Method::POST, "/reports", Some(&citizen), None, "{}").await,
            2 => {
                raw(
                    &app,
                    Method::POST,
                    "/reports",
                    Some(&citizen),
                    json_ct,
                    huge.clone(),
                )
                .await
            }
            3 => app.get("/reports/%00%ff", Some(&citizen)).await,
            4 => app.get(&format!("/reports/{unknown}"), None).await,
            5 => app.get("/reports/me", Some("garbage")).await,
            6 => app.get("/cases/inbox", Some(&citizen)).await,
            7 => app.get("/does/not/exist", None).await,
            8 => app.send(Method::DELETE, "/statistics", None, None).await,
            _ => app.get("/reports?page=0&per_page=-3", None).await,
        };
        assert!(s.is_client_error(), "request {i}: {s} {v}");
        assert_eq!(v["success"], false, "request {i}: {v}");
        codes.push(s.as_u16());
    }
    codes.sort();
    codes.dedup();
    assert_eq!(codes, [400, 401, 403, 404, 405, 413, 415]);

    let (s, v) = app.get("/health", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "healthy");
    // And it still does real work.
    let id = app
        .create_report(&citizen, "Masih berfungsi", "PUBLIC", "lainnya")
        .await;
    app.wait_listed("/reports/public", None, &id).await;
}

// ------------------------------------------------------------- typed refusals

/// Asserts the status and the error code of a refusal.
#[track_caller]
fn refused_with(what: &str, got: (StatusCode, Value), want: StatusCode, code: &str) {
    let v = got.1.clone();
    refused(what, got, want);
    assert_eq!(v["code"], code, "{what}: {v}");
}

/// A NUL character in any text field is refused with the same 400 on every
/// engine (PostgreSQL cannot store one, SQLite could) and stores nothing.
#[tokio::test]
async fn text_with_a_nul_byte_is_refused_on_every_engine() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let officer = app.login("officer1").await;
    let admin = app.login("admin").await;
    let id = app
        .create_report(&citizen, "Lampu jalan mati", "PUBLIC", "infrastruktur")
        .await;
    app.settle().await;
    let before = snapshot(&app, &citizen).await;
    let nul = "ada\u{0}nul";
    let report = |extra: Value| {
        let mut body = json!({"content": "Isi laporan", "category": "infrastruktur"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(&str, Method, String, &str, Value)> = vec![
        (
            "content",
            Method::POST,
            "/reports".into(),
            &citizen,
            report(json!({"content": nul})),
        ),
        (
            "description (seed 2)",
            Method::POST,
            "/reports".into(),
            &citizen,
            json!({"title": "Judul", "description": nul, "category": "infrastruktur"}),
        ),
        (
            "title",
            Method::POST,
            "/reports".into(),
            &citizen,
            report(json!({"title": nul})),
        ),
        (
            "edited title",
            Method::PUT,
            format!("/reports/{id}"),
            &citizen,
            json!({"title": nul}),
        ),
        (
            "edited content",
            Method::PUT,
            format!("/reports/{id}"),
            &citizen,
            json!({"content": nul}),
        ),
        (
            "answer",
            Method::POST,
            format!("/cases/{id}/answers"),
            &officer,
            json!({"message": nul}),
        ),
        (
            "reject reason",
            Method::PATCH,
            format!("/cases/{id}/status"),
            &officer,
            json!({"status": "REJECTED", "reason": nul}),
        ),
        (
            "agency name",
            Method::POST,
            "/admin/agencies".into(),
            &admin,
            json!({"code": "AGENCY_WATER", "name": nul}),
        ),
        (
            "category name",
            Method::POST,
            "/admin/categories".into(),
            &admin,
            json!({"slug": "air_bersih", "name": nul, "agency": "AGENCY_INFRA"}),
        ),
        (
            "staff username",
            Method::POST,
            "/admin/users".into(),
            &admin,
            json!({"username": "petugas\u{0}", "password": "password123", "role": "officer", "agency": "AGENCY_INFRA"}),
        ),
    ];
    for (what, method, path, token, body) in cases {
        refused_with(
            what,
            app.send(method, &path, Some(token), Some(body)).await,
            StatusCode::BAD_REQUEST,
            "text_has_nul",
        );
    }
    for (what, path, body) in [
        (
            "registering",
            "/auth/register",
            json!({"username": "warga\u{0}baru", "password": "password123"}),
        ),
        (
            "logging in",
            "/auth/login",
            json!({"username": "citizen1\u{0}", "password": "password"}),
        ),
    ] {
        refused_with(
            what,
            app.post(path, None, body).await,
            StatusCode::BAD_REQUEST,
            "text_has_nul",
        );
    }
    // The address is parsed by the HTTP layer: the same 400.
    refused(
        "address",
        app.post(
            "/reports",
            Some(&citizen),
            report(json!({"location": {"lat": -6.2, "lon": 106.8, "address": nul}})),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    // The web app's search box.
    let res = app
        .http
        .get(format!("{}/app/feed?q=ada%00nul", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "web search with NUL");

    // Nothing was stored.
    assert_eq!(snapshot(&app, &citizen).await, before);
    let (_, case) = app.get(&format!("/cases/{id}"), Some(&officer)).await;
    assert_eq!(case["data"]["status"], "RECEIVED", "{case}");
    assert_eq!(
        case["data"]["answers"].as_array().map(Vec::len),
        Some(0),
        "{case}"
    );
    let (_, cats) = app.get("/categories", None).await;
    assert!(!cats.to_string().contains("air_bersih"), "{cats}");
    let (s, _) = app
        .post(
            "/auth/login",
            None,
            json!({"username": "wargabaru", "password": "password123"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// Each cause of a refusal has its own stable code beside the English
/// sentence; the statuses are those of the seeds.
#[tokio::test]
async fn refusals_carry_a_code_per_cause() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let other = app.login("citizen2").await;
    let officer = app.login("officer1").await;
    let public = app
        .create_report(&citizen, "Trotoar rusak", "PUBLIC", "infrastruktur")
        .await;
    let private = app
        .create_report(&citizen, "Pipa bocor", "PRIVATE", "infrastruktur")
        .await;
    app.settle().await;
    let unknown = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    refused_with(
        "unknown category",
        app.post(
            "/reports",
            Some(&citizen),
            json!({"content": "x", "category": "astrologi"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "category_unknown",
    );
    refused_with(
        "empty content",
        app.post(
            "/reports",
            Some(&citizen),
            json!({"content": "  ", "category": "infrastruktur"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "text_empty",
    );
    refused_with(
        "unknown report",
        app.get(&format!("/reports/{unknown}"), Some(&citizen))
            .await,
        StatusCode::NOT_FOUND,
        "report_not_found",
    );
    refused_with(
        "someone else's private report",
        app.get(&format!("/reports/{private}"), Some(&other)).await,
        StatusCode::NOT_FOUND,
        "report_not_found",
    );
    refused_with(
        "skipping IN_PROGRESS",
        app.patch(
            &format!("/cases/{public}/status"),
            Some(&officer),
            json!({"status": "RESOLVED"}),
        )
        .await,
        StatusCode::CONFLICT,
        "invalid_status_transition",
    );
    refused_with(
        "rejecting without a reason",
        app.patch(
            &format!("/cases/{public}/status"),
            Some(&officer),
            json!({"status": "REJECTED"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "reason_required",
    );
    let (s, v) = app
        .post(
            &format!("/reports/{public}/upvote"),
            Some(&other),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    refused_with(
        "a second upvote",
        app.post(
            &format!("/reports/{public}/upvote"),
            Some(&other),
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_upvoted",
    );
    refused_with(
        "a citizen in the inbox",
        app.get("/cases/inbox", Some(&citizen)).await,
        StatusCode::FORBIDDEN,
        "staff_only",
    );
    refused_with(
        "a wrong password",
        app.post(
            "/auth/login",
            None,
            json!({"username": "citizen1", "password": "wrong-password"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "login_failed",
    );
    // Found by the HTTP layer itself, with a cause of its own.
    refused_with(
        "malformed JSON",
        raw(
            &app,
            Method::POST,
            "/reports",
            Some(&citizen),
            Some("application/json"),
            "{",
        )
        .await,
        StatusCode::BAD_REQUEST,
        "json_malformed",
    );
}

/// The city head naming an agency the catalog does not know gets a 400 from
/// the inbox, as from analytics, not an empty inbox.
#[tokio::test]
async fn an_unknown_agency_in_the_inbox_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    refused_with(
        "analytics",
        app.get("/analytics/performance?agency=bogus", Some(&admin))
            .await,
        StatusCode::BAD_REQUEST,
        "agency_unknown",
    );
    refused_with(
        "inbox",
        app.get("/cases/inbox?agency=bogus", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
        "agency_unknown",
    );
    // Known agencies and no agency still list.
    for path in ["/cases/inbox?agency=AGENCY_HEALTH", "/cases/inbox"] {
        let (s, v) = app.get(path, Some(&admin)).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
    }
}

/// `air-bersih` and `air_bersih` are one category, saved as `air_bersih`:
/// once it exists, saving it under another spelling is a conflict (its own
/// slug re-routes it), and the category shows up once.
#[tokio::test]
async fn another_spelling_of_a_category_slug_is_a_conflict() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let citizen = app.login("citizen1").await;
    let (s, v) = app
        .post(
            "/admin/categories",
            Some(&admin),
            json!({"slug": "air-bersih", "name": "Air bersih", "agency": "AGENCY_INFRA"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for spelling in ["air-bersih", "Air-Bersih"] {
        refused_with(
            spelling,
            app.post(
                "/admin/categories",
                Some(&admin),
                json!({"slug": spelling, "name": "Air bersih", "agency": "AGENCY_HEALTH"}),
            )
            .await,
            StatusCode::CONFLICT,
            "category_exists",
        );
    }
    let (_, cats) = app.get("/categories", None).await;
    let water: Vec<&Value> = cats["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "Air bersih")
        .collect();
    assert_eq!(water.len(), 1, "{cats}");
    // Saved in the one canonical form, still routed where it was saved.
    assert_eq!(water[0]["slug"], "air_bersih", "{cats}");
    assert_eq!(water[0]["agency"], "AGENCY_INFRA", "{cats}");
    // The canonical slug as it is re-routes the category (the documented
    // upsert), and reports may name it either way.
    let (s, v) = app
        .post(
            "/admin/categories",
            Some(&admin),
            json!({"slug": "air_bersih", "name": "Air bersih", "agency": "AGENCY_HEALTH"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = app
        .create_report(&citizen, "Air keruh", "PUBLIC", "air-bersih")
        .await;
    app.settle().await;
    let (_, r) = app.get(&format!("/reports/{id}"), Some(&citizen)).await;
    assert_eq!(r["data"]["category"], "air_bersih", "{r}");
    assert_eq!(r["data"]["owner_agency"], "AGENCY_HEALTH", "{r}");
}

// ------------------------------------------------ codes of the HTTP layer

/// What the HTTP layer refuses before the application sees the request
/// (ids, paging, tokens, bodies, query values) has a code per cause too;
/// statuses and sentences stay those the seeds' clients know.
#[tokio::test]
async fn the_http_layer_names_the_cause_of_each_refusal() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let officer = app.login("officer1").await;
    let admin = app.login("admin").await;
    let id = app
        .create_report(&citizen, "Lampu jalan mati", "PUBLIC", "infrastruktur")
        .await;
    app.settle().await;
    let before = snapshot(&app, &citizen).await;
    let bad = StatusCode::BAD_REQUEST;

    // Routes and ids.
    refused_with(
        "unknown path",
        app.get("/no/such/thing", None).await,
        StatusCode::NOT_FOUND,
        "endpoint_not_found",
    );
    refused_with(
        "wrong method",
        app.send(Method::PATCH, "/reports", Some(&citizen), None)
            .await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    for path in [
        "/reports/not-a-uuid".to_owned(),
        format!("/reports/{id}/photos/not-a-uuid"),
        "/sla/status?report_id=42".to_owned(),
    ] {
        refused_with(
            &path,
            app.get(&path, Some(&citizen)).await,
            bad,
            "invalid_id",
        );
    }

    // Query values and paging.
    for (path, token, code) in [
        ("/reports?page=abc", None, "query_invalid"),
        ("/reports?page=0", None, "page_out_of_range"),
        ("/reports?page=2000000", None, "page_out_of_range"),
        ("/reports?per_page=0", None, "page_size_invalid"),
        ("/reports/me?limit=0", Some(&citizen), "page_size_invalid"),
        ("/reports?cursor=not-a-cursor", None, "cursor_invalid"),
        ("/reports?sort=top&cursor=abc", None, "cursor_with_sort"),
        ("/reports?sort=sideways", None, "sort_invalid"),
        ("/reports?status=DONE", None, "status_invalid"),
        ("/sla/status?page=0", None, "page_out_of_range"),
        ("/sla/status?per_page=0", None, "page_size_invalid"),
        ("/sla/status?sla_status=LATE", None, "sla_status_invalid"),
        ("/cases/inbox?sort=sideways", Some(&officer), "sort_invalid"),
        (
            "/cases/inbox?sort=oldest&cursor=abc",
            Some(&officer),
            "cursor_with_sort",
        ),
        (
            "/cases/inbox?page=1&cursor=abc",
            Some(&officer),
            "cursor_with_page",
        ),
        (
            "/analytics/performance?from=yesterday",
            Some(&admin),
            "date_invalid",
        ),
    ] {
        refused_with(
            path,
            app.get(path, token.map(String::as_str)).await,
            bad,
            code,
        );
    }

    // Tokens.
    let me = app.get("/auth/me", Some(&citizen)).await.1;
    let claims = json!({
        "sub": me["user"]["id"], "usr": "citizen1", "role": "citizen",
        "iat": now() - 7200, "exp": now() - 3600, "iss": "lapor",
    });
    let expired = sign(&secret(&app), &claims);
    refused_with(
        "no token",
        app.get("/auth/me", None).await,
        StatusCode::UNAUTHORIZED,
        "token_missing",
    );
    refused_with(
        "expired token",
        app.get("/auth/me", Some(&expired)).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    );
    refused_with(
        "malformed token",
        app.get("/reports", Some("a.b.c")).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    );
    let res = app
        .http
        .get(format!("{}/auth/me", app.base))
        .header(
            reqwest::header::AUTHORIZATION,
            "Basic Y2l0aXplbjE6cGFzc3dvcmQ=",
        )
        .send()
        .await
        .unwrap();
    let status = res.status();
    refused_with(
        "another scheme",
        (status, res.json().await.unwrap()),
        StatusCode::UNAUTHORIZED,
        "auth_header_invalid",
    );

    // JSON bodies.
    let json_ct = Some("application/json");
    let post_raw = |ct: Option<&'static str>, body: String| {
        raw(&app, Method::POST, "/reports", Some(&citizen), ct, body)
    };
    refused_with(
        "malformed JSON",
        post_raw(json_ct, "{\"content\": ".into()).await,
        bad,
        "json_malformed",
    );
    refused_with(
        "a number for a string",
        post_raw(
            json_ct,
            r#"{"content": 5, "category": "infrastruktur"}"#.into(),
        )
        .await,
        bad,
        "json_invalid",
    );
    refused_with(
        "no JSON content type",
        post_raw(
            Some("text/plain"),
            r#"{"content": "x", "category": "infrastruktur"}"#.into(),
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "json_required",
    );
    let huge = format!(
        r#"{{"content": "{}", "category": "infrastruktur"}}"#,
        "a".repeat(70 * 1024)
    );
    refused_with(
        "over 64 KiB",
        post_raw(json_ct, huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );

    // Report fields the HTTP layer reads: the location through the
    // domain's own rules, so a NUL in the address is the NUL of any text.
    let report = |extra: Value| {
        let mut body = json!({"content": "Isi laporan", "category": "infrastruktur"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (what, body, code) in [
        (
            "address with NUL",
            report(json!({"location": {"lat": -6.2, "lon": 106.8, "address": "Jl.\u{0}Merdeka"}})),
            "text_has_nul",
        ),
        (
            "address too long",
            report(json!({"lat": -6.2, "lon": 106.8, "address": "a".repeat(301)})),
            "text_too_long",
        ),
        (
            "latitude 100",
            report(json!({"lat": 100.0, "lon": 106.8})),
            "location_out_of_range",
        ),
        (
            "only lat",
            report(json!({"lat": -6.2})),
            "location_incomplete",
        ),
        (
            "address alone",
            report(json!({"address": "Jl. Merdeka"})),
            "location_incomplete",
        ),
        (
            "visibility",
            report(json!({"visibility": "SECRET"})),
            "visibility_invalid",
        ),
        (
            "no category",
            json!({"content": "Isi laporan"}),
            "field_missing",
        ),
    ] {
        refused_with(
            what,
            app.post("/reports", Some(&citizen), body).await,
            bad,
            code,
        );
    }
    refused_with(
        "status and edits together",
        app.put(
            &format!("/reports/{id}"),
            Some(&officer),
            json!({"status": "IN_PROGRESS", "title": "Baru"}),
        )
        .await,
        bad,
        "status_with_edits",
    );
    refused_with(
        "a citizen changing the status",
        app.put(
            &format!("/reports/{id}"),
            Some(&citizen),
            json!({"status": "RESOLVED"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "staff_only",
    );
    refused_with(
        "an unknown status",
        app.patch(
            &format!("/cases/{id}/status"),
            Some(&officer),
            json!({"status": "DONE"}),
        )
        .await,
        bad,
        "status_invalid",
    );
    refused_with(
        "an unknown role",
        app.post(
            "/admin/users",
            Some(&admin),
            json!({"username": "petugas9", "password": "password123", "role": "wizard"}),
        )
        .await,
        bad,
        "role_invalid",
    );

    // Photo uploads.
    let photos = format!("/reports/{id}/photos");
    refused_with(
        "photos as JSON",
        app.post(&photos, Some(&citizen), json!({"photo": "x"}))
            .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "multipart_required",
    );
    let upload = |form: reqwest::multipart::Form| {
        app.http
            .post(format!("{}{photos}", app.base))
            .bearer_auth(&citizen)
            .multipart(form)
            .send()
    };
    for (what, form, code) in [
        (
            "an unknown part",
            reqwest::multipart::Form::new().text("picture", "x"),
            "form_field_unknown",
        ),
        (
            "share_location=maybe",
            reqwest::multipart::Form::new().text("share_location", "maybe"),
            "form_field_invalid",
        ),
        (
            "no photo",
            reqwest::multipart::Form::new().text("share_location", "true"),
            "photos_missing",
        ),
    ] {
        let res = upload(form).await.unwrap();
        let status = res.status();
        refused_with(what, (status, res.json().await.unwrap()), bad, code);
    }

    // Nothing was changed by any of it.
    assert_eq!(snapshot(&app, &citizen).await, before);
}

/// Tokens and account data are never kept by a browser's or a proxy's
/// cache: every answer of /auth/* (successes and refusals) is `no-store`.
#[tokio::test]
async fn auth_answers_are_not_stored_by_caches() {
    let app = TestApp::spawn().await;
    let token = app.login("citizen1").await;
    let cases: Vec<(Method, &str, Option<&str>, &str, StatusCode)> = vec![
        (
            Method::POST,
            "/auth/login",
            None,
            r#"{"username":"citizen1","password":"password"}"#,
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/auth/login",
            None,
            r#"{"username":"citizen1","password":"wrong"}"#,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::POST,
            "/auth/register",
            None,
            r#"{"username":"nostore1","password":"a long enough password"}"#,
            StatusCode::CREATED,
        ),
        (Method::GET, "/auth/me", Some(&token), "", StatusCode::OK),
        (Method::GET, "/auth/me", None, "", StatusCode::UNAUTHORIZED),
    ];
    for (method, path, token, body, want) in cases {
        let mut req = app
            .http
            .request(method.clone(), format!("{}{}", app.base, path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request sent");
        assert_eq!(res.status(), want, "{method} {path}");
        assert_eq!(
            res.headers()
                .get(reqwest::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{method} {path} ({want})"
        );
    }
    // Not every answer: public listings stay cacheable by default.
    let res = app
        .http
        .get(format!("{}/reports/public", app.base))
        .send()
        .await
        .unwrap();
    assert_ne!(
        res.headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}

/// A client's request id is echoed only when it is a plain token; anything
/// else is replaced by a fresh UUID (it would otherwise reach logs and
/// responses unchecked).
#[tokio::test]
async fn only_plain_request_ids_are_echoed() {
    let app = TestApp::spawn().await;
    let echoed = |v: &'static str| {
        let app = &app;
        async move {
            let res = app
                .http
                .get(format!("{}/health", app.base))
                .header("x-request-id", v)
                .send()
                .await
                .expect("request sent");
            assert_eq!(res.status(), StatusCode::OK);
            res.headers()
                .get("x-request-id")
                .and_then(|h| h.to_str().ok())
                .expect("a request id")
                .to_owned()
        }
    };
    assert_eq!(echoed("lb-7f3a.1:2").await, "lb-7f3a.1:2");
    for bad in ["<script>alert(1)</script>", "a b", &*"x".repeat(65).leak()] {
        let got = echoed(bad).await;
        assert_ne!(got, bad);
        assert!(
            uuid::Uuid::parse_str(&got).is_ok(),
            "{bad:?} replaced by {got:?}"
        );
    }
}
