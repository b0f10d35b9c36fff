//! Real browsers for the web app's tests: Debian's headless Chromium driven
//! over WebDriver (`chromedriver`) with `fantoccini`.
//!
//! [`Driver::start`] runs `chromedriver` on a free port (killed on drop, after
//! the sessions it opened are ended, so no Chromium outlives a test, even a
//! failing one). Each [`Browser`] is one WebDriver session with its own fresh
//! profile directory: one person (a citizen, an officer ...) per browser.
//!
//! Without Chromium the tests print `SKIPPED: no chromium` and pass, unless
//! `LAPOR_REQUIRE_BROWSER=1` (CI) makes that a failure. `LAPOR_SKIP_BROWSER=1`
//! skips them on purpose (CI's second pass over the same suites on
//! PostgreSQL). `LAPOR_CHROMIUM` and `LAPOR_CHROMEDRIVER` point at other
//! binaries.

#![allow(dead_code)]

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long any wait in a browser test may take before it fails.
pub const WAIT: Duration = Duration::from_secs(10);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The binaries to use, or None (after saying so loudly) when the tests
/// should be skipped. Panics when they are missing and required.
pub fn binaries() -> Option<(PathBuf, PathBuf)> {
    if std::env::var("LAPOR_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: browser tests (LAPOR_SKIP_BROWSER=1)");
        return None;
    }
    let chromium =
        PathBuf::from(std::env::var("LAPOR_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into()));
    let driver =
        PathBuf::from(std::env::var("LAPOR_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into()));
    let missing: Vec<String> = [&chromium, &driver]
        .iter()
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Some((chromium, driver));
    }
    let required = std::env::var("LAPOR_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "LAPOR_REQUIRE_BROWSER=1 but {} missing (apt-get install chromium chromium-driver)",
        missing.join(", ")
    );
    eprintln!(
        "\n==================== SKIPPED: no chromium ====================\n\
         browser tests need {} (apt-get install chromium chromium-driver);\n\
         set LAPOR_REQUIRE_BROWSER=1 to make this a failure\n\
         ==============================================================\n",
        missing.join(" and ")
    );
    None
}

/// A running `chromedriver`.
pub struct Driver {
    child: Child,
    port: u16,
    chromium: PathBuf,
    sessions: Arc<Mutex<Vec<String>>>,
    pub screenshots: PathBuf,
}

impl Driver {
    /// Starts chromedriver, or returns None when browser tests are skipped.
    pub async fn start() -> Option<Self> {
        let (chromium, driver) = binaries()?;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().unwrap().port()
        };
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver.display()));
        let screenshots =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&screenshots).expect("target/screenshots");
        let d = Self {
            child,
            port,
            chromium,
            sessions: Arc::default(),
            screenshots,
        };
        let deadline = Instant::now() + WAIT;
        while http_get(port, "/status").is_none_or(|s| !s.contains("\"ready\":true")) {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(d)
    }

    /// A desktop browser (1280 x 900) for `base` (the server's URL), in
    /// English.
    pub async fn browser(&self, base: &str) -> Browser {
        self.open(base, "en-US,en", None).await
    }

    /// A phone-sized browser (390 x 844, touch) in Indonesian.
    pub async fn phone(&self, base: &str) -> Browser {
        let metrics = json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0, "touch": true}});
        self.open(base, "id-ID,id", Some(metrics)).await
    }

    async fn open(&self, base: &str, lang: &str, mobile: Option<Value>) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut options = json!({
            "binary": self.chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
                format!("--lang={lang}"),
            ],
            "prefs": {"intl.accept_languages": lang},
        });
        if let Some(m) = mobile {
            options["mobileEmulation"] = m;
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        caps.insert("pageLoadStrategy".into(), json!("normal"));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let url = format!("http://127.0.0.1:{}", self.port);
        let mut last = None;
        // A new session very rarely fails while another Chromium starts on
        // a busy machine: try again once.
        for _ in 0..2 {
            match ClientBuilder::new(connector.clone())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => {
                    if let Ok(Some(id)) = c.session_id().await {
                        self.sessions.lock().unwrap().push(id);
                    }
                    return Browser {
                        c,
                        base: base.trim_end_matches('/').to_owned(),
                        screenshots: self.screenshots.clone(),
                        _profile: profile,
                    };
                }
                Err(e) => last = Some(e),
            }
        }
        panic!("no WebDriver session: {:?}", last.unwrap());
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Ending each session makes chromedriver quit its Chromium.
        for id in self.sessions.lock().unwrap().drain(..) {
            http_delete(self.port, &format!("/session/{id}"));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal blocking HTTP request to chromedriver (usable in `Drop`):
/// reads the head and `Content-Length` bytes of body (chromedriver keeps
/// connections open).
fn http(port: u16, method: &str, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(WAIT)).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out);
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            if out.len() >= end + 4 + len {
                break;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn http_get(port: u16, path: &str) -> Option<String> {
    http(port, "GET", path)
}

fn http_delete(port: u16, path: &str) {
    let _ = http(port, "DELETE", path);
}

/// One person's browser.
pub struct Browser {
    pub c: Client,
    pub base: String,
    screenshots: PathBuf,
    _profile: TempDir,
}

/// Polls `f` every 50 ms until it yields Some; panics after [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens a page of the server and waits until it has loaded.
    pub async fn goto(&self, path: &str) {
        self.c
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("goto {path}: {e}"));
    }

    /// The current path (and query).
    pub async fn path(&self) -> String {
        let u = self.c.current_url().await.expect("current url");
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// Runs a script (a function body: use `return`) and gives its value;
    /// a returned promise is awaited.
    pub async fn js(&self, script: &str) -> Value {
        self.c
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    pub async fn find(&self, css: &str) -> Option<Element> {
        self.c.find(Locator::Css(css)).await.ok()
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.c.find_all(Locator::Css(css)).await.unwrap_or_default()
    }

    /// Waits for an element to be on the page.
    pub async fn wait_for(&self, css: &str) -> Element {
        eventually(&format!("`{css}` on {}", self.base), || self.find(css)).await
    }

    /// Waits until a JavaScript expression is true.
    pub async fn wait_until(&self, what: &str, expr: &str) {
        let script = format!("return !!({expr});");
        eventually(what, || async {
            (self.js(&script).await == Value::Bool(true)).then_some(())
        })
        .await
    }

    /// The text of the first element matching `css` ("" if none).
    pub async fn text(&self, css: &str) -> String {
        match self.find(css).await {
            Some(e) => e.text().await.unwrap_or_default(),
            None => String::new(),
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.wait_for(css).await;
        e.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        e.send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.wait_for(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Submits the form that holds `css` by clicking its submit button, and
    /// waits for the next page.
    pub async fn submit(&self, form_css: &str) {
        let before = self.js("return performance.timeOrigin;").await;
        self.click(&format!("{form_css} button[type=submit]")).await;
        self.wait_new_document(&before).await;
    }

    /// Waits until another document than the one with `time_origin` has
    /// finished loading.
    pub async fn wait_new_document(&self, time_origin: &Value) {
        eventually("the next page", || async {
            let v = self
                .c
                .execute(
                    "return [performance.timeOrigin, document.readyState];",
                    vec![],
                )
                .await
                .ok()?;
            (v[0] != *time_origin && v[1] == "complete").then_some(())
        })
        .await
    }

    /// Logs in through the login page.
    pub async fn login(&self, username: &str, password: &str) {
        self.goto("/app/login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.submit("form[action='/app/login']").await;
        let who = self.text("[data-testid=who]").await;
        assert!(
            who.contains(username),
            "{username} is not logged in: {who:?} on {}",
            self.path().await
        );
    }

    /// Marks the current document; [`Browser::still_marked`] tells whether
    /// the page is still the same (not reloaded, not navigated away).
    pub async fn mark(&self) {
        self.js("window.__marker = 1; return true;").await;
    }

    pub async fn still_marked(&self) -> bool {
        self.js("return window.__marker === 1;").await == Value::Bool(true)
    }

    /// Subscribes a second `EventSource` to the live stream that counts
    /// the events of each kind in `window.__live`, and waits until it is
    /// open (so nothing sent later can be missed).
    pub async fn watch_live(&self) {
        self.js("window.__live = {inbox: 0, unread: 0};\
             window.__es = new EventSource('/app/live');\
             __es.addEventListener('inbox', function () { __live.inbox++; });\
             __es.addEventListener('unread', function () { __live.unread++; });\
             return true;")
            .await;
        self.wait_until(
            "the live stream is open",
            "window.__es && __es.readyState === 1",
        )
        .await;
    }

    pub async fn live_count(&self, kind: &str) -> i64 {
        self.js(&format!("return window.__live ? __live.{kind} : -1;"))
            .await
            .as_i64()
            .unwrap_or(-1)
    }

    /// The page's source as the browser has it now.
    pub async fn source(&self) -> String {
        self.c.source().await.expect("page source")
    }

    /// Writes a PNG of the whole page (up to 2400 px tall) to
    /// `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // Let lazy images and the map settle, then grow the window to the
        // page's height so the picture shows all of it.
        let dims = self
            .js("return [window.outerWidth, window.outerHeight, window.innerHeight, document.documentElement.scrollHeight, window.innerWidth];")
            .await;
        let n = |i: usize| dims[i].as_u64().unwrap_or(0) as u32;
        let (ow, oh, ih, sh) = (n(0), n(1), n(2), n(3));
        let mobile = n(4) < 600;
        if !mobile && sh > ih {
            let _ = self.c.set_window_size(ow, (oh + sh - ih).min(2400)).await;
        }
        let _ = self
            .js("return Promise.all(Array.from(document.images).map(function (i) { i.loading = 'eager'; return i.complete ? 1 : new Promise(function (r) { i.onload = i.onerror = r; setTimeout(r, 2000); }); }));")
            .await;
        let png = self.c.screenshot().await.expect("screenshot");
        if !mobile && sh > ih {
            let _ = self.c.set_window_size(ow, oh).await;
        }
        let path = self.screenshots.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Bytes of HTML, CSS and JS this page's load took (compressed, as
    /// transferred; the Leaflet bundle included where the page has a map),
    /// without photos and other images, and the same per file for messages.
    pub async fn page_weight(&self) -> (u64, String) {
        let v = self
            .js(
                "var nav = performance.getEntriesByType('navigation')[0];\
                 var parts = [[location.pathname, nav.encodedBodySize, nav.decodedBodySize]];\
                 performance.getEntriesByType('resource').forEach(function (r) {\
                   if (r.initiatorType === 'img' || /\\/photos\\/|\\/app\\/live/.test(r.name)) return;\
                   if (!/\\.(css|js)(\\?|$)/.test(r.name) && r.initiatorType !== 'fetch') return;\
                   parts.push([r.name.replace(location.origin, ''), r.encodedBodySize || r.transferSize, r.decodedBodySize]);\
                 });\
                 return parts;",
            )
            .await;
        let mut total = 0;
        let mut lines = vec![];
        for p in v.as_array().expect("parts") {
            let enc = p[1].as_u64().unwrap_or(0);
            total += enc;
            lines.push(format!(
                "{} {enc} B ({} B decoded)",
                p[0].as_str().unwrap_or("?"),
                p[2]
            ));
        }
        (total, lines.join("; "))
    }

    /// The cumulative layout shift of the current page since it loaded.
    pub async fn layout_shift(&self) -> f64 {
        self.js(
            "if (!PerformanceObserver.supportedEntryTypes.includes('layout-shift')) return -1;\
             return new Promise(function (done) {\
               var sum = 0;\
               new PerformanceObserver(function (list) {\
                 list.getEntries().forEach(function (e) { if (!e.hadRecentInput) sum += e.value; });\
               }).observe({type: 'layout-shift', buffered: true});\
               setTimeout(function () { done(sum); }, 300);\
             });",
        )
        .await
        .as_f64()
        .filter(|cls| *cls >= 0.0)
        .expect("the browser measures layout shifts")
    }

    /// Form controls (not hidden) without a label, as "tag#id" strings.
    pub async fn unlabelled_controls(&self, scope: &str) -> Vec<String> {
        let v = self
            .js(&format!(
                "return Array.from(document.querySelectorAll({scope:?} + ' input:not([type=hidden]), ' + {scope:?} + ' select, ' + {scope:?} + ' textarea'))\
                 .filter(function (e) {{ return !e.labels || e.labels.length === 0; }})\
                 .map(function (e) {{ return e.tagName.toLowerCase() + '#' + e.id + '[name=' + e.name + ']'; }});"
            ))
            .await;
        serde_json::from_value(v).unwrap_or_default()
    }

    /// Ends the WebDriver session (Chromium quits).
    pub async fn close(self) {
        let _ = self.c.close().await;
    }
}

/// A temporary file with `bytes`, named `name`, for a file input.
pub fn temp_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}
