//! The OpenAPI document the server publishes: every response of every
//! operation says what its body looks like, errors included, so generated
//! clients get typed bodies.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

/// Statuses whose answers carry no body.
const EMPTY: [&str; 2] = ["204", "304"];

/// Failures that answer with their own body instead of the error envelope
/// (readiness reports which dependency is down).
const OWN_ERROR_BODY: [(&str, &str, &str); 1] = [("get", "/ready", "503")];

#[tokio::test]
async fn every_response_has_a_schema() {
    let app = TestApp::spawn().await;
    let (s, doc) = app.get("/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    let schemas = doc["components"]["schemas"]
        .as_object()
        .expect("components.schemas");
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    let mut missing = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{method} {path} has no responses");
            for (status, response) in responses {
                if EMPTY.contains(&status.as_str()) {
                    continue;
                }
                checked += 1;
                let content = response["content"].as_object();
                let ok = content.is_some_and(|c| {
                    !c.is_empty()
                        && c.values()
                            .all(|m| m["schema"].is_object() && resolves(&m["schema"], schemas))
                });
                if !ok {
                    missing.push(format!("{method} {path} {status}"));
                }
                // Errors are the one error envelope.
                let own =
                    OWN_ERROR_BODY.contains(&(method.as_str(), path.as_str(), status.as_str()));
                if (status.starts_with('4') || status.starts_with('5')) && !own {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert_eq!(
                        schema["$ref"], "#/components/schemas/ErrorBody",
                        "{method} {path} {status}: {response}"
                    );
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "responses without a schema: {missing:#?}"
    );
    // The document is not empty: every route group is described.
    assert!(checked > 100, "only {checked} responses");
    let error = &schemas["ErrorBody"]["properties"];
    for field in ["success", "error", "code"] {
        assert!(error[field].is_object(), "ErrorBody.{field}: {error}");
    }
}

/// A `$ref` names a schema the document defines.
fn resolves(schema: &Value, schemas: &serde_json::Map<String, Value>) -> bool {
    match schema["$ref"].as_str() {
        Some(r) => r
            .strip_prefix("#/components/schemas/")
            .is_some_and(|name| schemas.contains_key(name)),
        None => true,
    }
}

/// The documented report shape is what the server writes: both seeds'
/// names, and nothing the schema does not list.
#[tokio::test]
async fn a_report_has_the_documented_fields() {
    let app = TestApp::spawn().await;
    let citizen = app.login("citizen1").await;
    let id = app
        .create_report(&citizen, "Lampu jalan mati", "PUBLIC", "infrastruktur")
        .await;
    let listed = app.wait_listed("/reports", None, &id).await;
    let (_, doc) = app.get("/openapi.json", None).await;
    let schema = &doc["components"]["schemas"]["Report"];
    let props = schema["properties"].as_object().expect("Report.properties");
    let fields = listed.as_object().expect("a report");
    for name in fields.keys() {
        assert!(props.contains_key(name), "{name} is not documented");
    }
    for required in schema["required"].as_array().expect("required") {
        let name = required.as_str().unwrap();
        assert!(fields.contains_key(name), "{name} is missing: {listed}");
    }
    assert_eq!(listed["id"], listed["report_id"]);
    assert_eq!(listed["content"], listed["description"]);
    assert_eq!(listed["status"], listed["current_status"]);
}
