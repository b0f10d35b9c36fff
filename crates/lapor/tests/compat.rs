//! `--compat-ports`: every route on the seeds' other ports too.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn compat_ports_serve_every_route() {
    let app = TestApp::spawn_with(|a| a.compat_ports = true, false).await;
    let addrs = app.running.as_ref().unwrap().addrs.clone();
    let ports: Vec<u16> = addrs.iter().map(|a| a.port()).collect();
    for p in [8081, 8082, 8090] {
        assert!(ports.contains(&p), "not listening on {p}: {ports:?}");
    }
    let token = app.login("officer3").await;
    for a in &addrs {
        let r = app
            .http
            .get(format!("http://{a}/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "healthy");
        // The officer routes (seed port 8081) and workflow routes (8082) answer everywhere.
        let r = app
            .http
            .get(format!("http://{a}/cases/inbox"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = app
            .http
            .get(format!("http://{a}/sla/config"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    // The API documentation is served too.
    let (s, doc) = app.get("/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/reports",
        "/cases/{id}/status",
        "/sla/config",
        "/notifications/me",
        "/auth/login",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    let r = app
        .http
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("swagger"));
}
