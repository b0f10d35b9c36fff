//! `TestApp`: the real server on an ephemeral port with a temporary data
//! directory, driven over HTTP like any client. Helpers per endpoint keep
//! the tests reading like the user stories they check.

#![allow(dead_code)]

pub mod cluster;
pub mod engine;
pub mod proxy;

pub use engine::TestEngine;

use lapor::config::ServeArgs;
use lapor::server::{Running, start};
use lapor_app::clock::{Clock, ManualClock, SystemClock};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub running: Option<Running>,
    pub dir: Arc<TempDir>,
    pub clock: Option<Arc<ManualClock>>,
    pub engine: Arc<TestEngine>,
    tweak: Arc<dyn Fn(&mut ServeArgs) + Send + Sync>,
}

/// Settings every test server shares: loopback port 0, demo accounts,
/// cheap password hashing (tests log in a lot), quick SLA ticks.
fn test_args(dir: &std::path::Path) -> ServeArgs {
    let mut a = ServeArgs::for_dir(dir);
    a.listen = "127.0.0.1:0".parse().unwrap();
    a.demo = true;
    a.hash_memory_kib = 64;
    a.hash_passes = 1;
    a.sla_tick_ms = 20;
    a.min_sla_seconds = 1;
    a
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}, false).await
    }

    /// A server whose clock only moves when the test says so.
    pub async fn spawn_with_manual_clock() -> Self {
        Self::spawn_with(|_| {}, true).await
    }

    pub async fn spawn_with(
        tweak: impl Fn(&mut ServeArgs) + Send + Sync + 'static,
        manual_clock: bool,
    ) -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let clock =
            manual_clock.then(|| Arc::new(ManualClock::new(time::OffsetDateTime::now_utc())));
        let engine = Arc::new(TestEngine::new().await);
        Self::boot(dir, clock, engine, Arc::new(tweak)).await
    }

    async fn boot(
        dir: Arc<TempDir>,
        clock: Option<Arc<ManualClock>>,
        engine: Arc<TestEngine>,
        tweak: Arc<dyn Fn(&mut ServeArgs) + Send + Sync>,
    ) -> Self {
        let mut args = test_args(dir.path());
        engine.apply(&mut args.engine);
        tweak(&mut args);
        let c: Arc<dyn Clock> = match &clock {
            Some(m) => m.clone(),
            None => Arc::new(SystemClock),
        };
        let running = start(args, c).await.expect("server starts");
        let base = format!("http://{}", running.addr());
        Self {
            base,
            http: reqwest::Client::new(),
            running: Some(running),
            dir,
            clock,
            engine,
            tweak,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Every file under the data directory's photos/ (the default photo
    /// directory).
    pub fn stored_photos(&self) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = vec![];
        walk(&self.data_dir().join("photos"), &mut out);
        out
    }

    /// The engine settings this test's servers use (for CLI functions).
    pub fn engine_args(&self) -> lapor::config::EngineArgs {
        let mut e = lapor::config::EngineArgs::for_dir(self.dir.path());
        self.engine.apply(&mut e);
        e
    }

    /// Stops the server gracefully and starts a new one on the same data
    /// directory (and clock).
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        Self::boot(
            self.dir.clone(),
            self.clock.clone(),
            self.engine.clone(),
            self.tweak.clone(),
        )
        .await
    }

    /// Restarts with different settings on the same data directory.
    pub async fn restart_with(
        mut self,
        tweak: impl Fn(&mut ServeArgs) + Send + Sync + 'static,
    ) -> Self {
        self.stop().await;
        Self::boot(
            self.dir.clone(),
            self.clock.clone(),
            self.engine.clone(),
            Arc::new(tweak),
        )
        .await
    }

    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }

    pub fn advance(&self, by: Duration) {
        self.clock
            .as_ref()
            .expect("spawned with a manual clock")
            .advance(time::Duration::try_from(by).unwrap());
    }

    // ------------------------------------------------------------ raw HTTP

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, text) = self.send_raw(method, path, token, body).await;
        let v = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{path} answered non-JSON ({status}): {text}"));
        (status, v)
    }

    /// The raw body, for tests that search it for what must not be there.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        (status, res.text().await.expect("body"))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(Method::GET, path, token, None).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, token, Some(body)).await
    }
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, token, Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(Method::PATCH, path, token, Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, token, None).await
    }

    // ------------------------------------------------------------ stories

    pub async fn login(&self, username: &str) -> String {
        let (s, v) = self
            .post(
                "/auth/login",
                None,
                json!({"username": username, "password": "password"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "login {username}: {v}");
        v["token"].as_str().expect("token").to_owned()
    }

    pub async fn user_id(&self, token: &str) -> String {
        let (_, v) = self.get("/auth/me", Some(token)).await;
        v["user"]["id"].as_str().unwrap().to_owned()
    }

    /// Files a report in seed 1's shape and returns its id.
    pub async fn create_report(
        &self,
        token: &str,
        content: &str,
        visibility: &str,
        category: &str,
    ) -> String {
        let (s, v) = self
            .post(
                "/reports",
                Some(token),
                json!({"content": content, "visibility": visibility, "category": category}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "create report: {v}");
        v["report_id"].as_str().expect("report_id").to_owned()
    }

    /// Polls `f` until it returns Some (the read side is eventually
    /// consistent, within milliseconds); panics after 10 s.
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for: {what}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until a listing at `path` contains the report.
    pub async fn wait_listed(&self, path: &str, token: Option<&str>, id: &str) -> Value {
        self.eventually(&format!("{id} in {path}"), || async {
            let (_, v) = self.get(path, token).await;
            v["data"]
                .as_array()?
                .iter()
                .find(|r| r["report_id"] == id || r["id"] == id)
                .cloned()
        })
        .await
    }

    /// Waits until every consumer group has applied everything published
    /// and every outbox is relayed.
    pub async fn settle(&self) {
        let app = self.running.as_ref().expect("running").app.clone();
        self.eventually("consumers caught up", || {
            let app = app.clone();
            async move {
                let outboxes: [&dyn lapor_app::ports::Outbox; 3] = [
                    app.stores().reporting.as_ref(),
                    app.stores().operations.as_ref(),
                    app.stores().workflow.as_ref(),
                ];
                for o in outboxes {
                    if o.unrelayed_count().await.ok()? > 0 {
                        return None;
                    }
                }
                let lag = app.bus().lag().await.ok()?;
                (lag.len() >= 4 && lag.iter().all(|g| g.pending == 0)).then_some(())
            }
        })
        .await
    }
}
