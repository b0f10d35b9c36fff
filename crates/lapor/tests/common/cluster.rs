//! A scaled-out Lapor for tests: real `lapor serve --role ...` processes
//! (the binary cargo built for this test) on free loopback ports, against a
//! fresh PostgreSQL database (plus extra read databases) and a fresh Redis
//! key prefix, optionally nginx in front. Everything is stopped and removed
//! when the [`Cluster`] is dropped, also when the test fails (then the tail
//! of every process's log is printed).

#![allow(dead_code)]

use super::TestEngine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub const SKIPPED: &str = "skipped: set LAPOR_TEST_DATABASE_URL and LAPOR_TEST_REDIS_URL";

/// Whether PostgreSQL and Redis are configured for tests; prints the skip
/// message when not.
pub fn services_configured() -> bool {
    let set = |k: &str| std::env::var(k).map(|v| !v.is_empty()).unwrap_or(false);
    if set("LAPOR_TEST_DATABASE_URL") && set("LAPOR_TEST_REDIS_URL") {
        true
    } else {
        println!("{SKIPPED}");
        false
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// host:port of a postgres:// or redis:// URL.
pub fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let hp = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if hp.contains(':') {
        hp.to_owned()
    } else if url.starts_with("redis") {
        format!("{hp}:6379")
    } else {
        format!("{hp}:5432")
    }
}

/// The same URL with host:port replaced (to go through a proxy).
pub fn via(url: &str, addr: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let userinfo = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{userinfo}{addr}{tail}")
}

/// One `lapor serve` process.
pub struct Proc {
    pub name: String,
    pub role: String,
    pub port: u16,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Proc {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
    fn serves_http(&self) -> bool {
        self.role
            .split(',')
            .any(|r| matches!(r, "all" | "command" | "query" | "operations" | "workflow"))
    }
}

pub struct Cluster {
    /// The write database and the Redis key prefix (dropped last).
    pub engine: TestEngine,
    /// Extra read databases (each a fresh database, dropped at the end).
    pub extra_reads: Vec<TestEngine>,
    pub dir: TempDir,
    pub secret: String,
    pub http: reqwest::Client,
    /// What processes are given unless a test overrides it per process.
    pub database_url: String,
    pub bus_url: String,
    /// Read databases as the processes see them (possibly through a proxy);
    /// empty = the write database.
    pub read_urls: Vec<String>,
    /// The same databases, direct, in the same order (for checks).
    pub direct_read_urls: Vec<String>,
    /// Extra environment for every process.
    pub common_env: BTreeMap<String, String>,
    pub procs: Vec<Proc>,
    nginx: Option<Child>,
}

impl Cluster {
    /// A fresh database (and `extra_read_dbs` read databases) and Redis
    /// prefix, migrated; `None` (after printing why) when PostgreSQL and
    /// Redis are not configured.
    pub async fn new(extra_read_dbs: usize) -> Option<Self> {
        if !services_configured() {
            return None;
        }
        let engine = TestEngine::new().await;
        let mut extra_reads = vec![];
        for _ in 0..extra_read_dbs {
            extra_reads.push(TestEngine::new().await);
        }
        let database_url = engine.database_url.clone().expect("database");
        let bus_url = engine.redis_url.clone().expect("redis");
        let direct_read_urls: Vec<String> = extra_reads
            .iter()
            .map(|e| e.database_url.clone().expect("database"))
            .collect();
        let c = Self {
            engine,
            extra_reads,
            dir: tempfile::tempdir().expect("temp dir"),
            secret: lapor_app::security::JwtSecret::generate().to_hex(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            database_url,
            bus_url,
            read_urls: direct_read_urls.clone(),
            direct_read_urls,
            common_env: BTreeMap::new(),
            procs: vec![],
            nginx: None,
        };
        // Once, before any instance starts (they run with --skip-migrations).
        let out = c.lapor_cli(&["migrate"], &c.direct_env()).await;
        assert!(out.0, "lapor migrate failed:\n{}", out.1);
        Some(c)
    }

    pub fn bin() -> &'static str {
        env!("CARGO_BIN_EXE_lapor")
    }

    pub fn prefix(&self) -> &str {
        &self.engine.prefix
    }

    /// Every read database, direct (the write database if none was added).
    pub fn read_dbs(&self) -> Vec<String> {
        if self.direct_read_urls.is_empty() {
            vec![self.database_url_direct()]
        } else {
            self.direct_read_urls.clone()
        }
    }

    pub fn database_url_direct(&self) -> String {
        self.engine.database_url.clone().unwrap()
    }

    /// Engine settings without any proxy (for the CLI and checks).
    pub fn direct_env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        env.insert("LAPOR_DATABASE_URL".into(), self.database_url_direct());
        if !self.direct_read_urls.is_empty() {
            env.insert(
                "LAPOR_READ_DATABASE_URLS".into(),
                self.direct_read_urls.join(","),
            );
        }
        env.insert(
            "LAPOR_BUS_URL".into(),
            self.engine.redis_url.clone().unwrap(),
        );
        env.insert("LAPOR_BUS_PREFIX".into(), self.engine.prefix.clone());
        env.insert("LAPOR_BUS_CLAIM_AFTER_MS".into(), "1000".into());
        // The exactly-once checks read the whole stream: no trimming.
        env.insert("LAPOR_BUS_TRIM_SECS".into(), "86400".into());
        env.insert("LAPOR_LOG".into(), "error".into());
        env
    }

    /// Runs a `lapor` subcommand; returns (success, stdout + stderr).
    pub async fn lapor_cli(&self, args: &[&str], env: &BTreeMap<String, String>) -> (bool, String) {
        let out = tokio::process::Command::new(Self::bin())
            .args(args)
            .arg("--data-dir")
            .arg(self.dir.path().join("cli"))
            .envs(env)
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

    /// `lapor check-sync` with the same engine settings: (in sync, output).
    pub async fn check_sync(&self) -> (bool, String) {
        self.lapor_cli(&["check-sync"], &self.direct_env()).await
    }

    /// Polls `lapor check-sync` until it exits 0; returns how long it took.
    pub async fn wait_in_sync(&self, timeout: Duration) -> Duration {
        let t0 = Instant::now();
        loop {
            let (ok, out) = self.check_sync().await;
            if ok {
                return t0.elapsed();
            }
            assert!(
                t0.elapsed() < timeout,
                "check-sync never reported IN SYNC within {timeout:?}:\n{out}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn env_for(&self, name: &str) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        env.insert("LAPOR_DATABASE_URL".into(), self.database_url.clone());
        if !self.read_urls.is_empty() {
            env.insert("LAPOR_READ_DATABASE_URLS".into(), self.read_urls.join(","));
        }
        env.insert("LAPOR_BUS_URL".into(), self.bus_url.clone());
        env.insert("LAPOR_BUS_PREFIX".into(), self.engine.prefix.clone());
        // A dead consumer's entries are taken over after a second.
        env.insert("LAPOR_BUS_CLAIM_AFTER_MS".into(), "1000".into());
        // The exactly-once checks read the whole stream: no trimming.
        env.insert("LAPOR_BUS_TRIM_SECS".into(), "86400".into());
        env.insert("LAPOR_JWT_SECRET".into(), self.secret.clone());
        env.insert("LAPOR_SKIP_MIGRATIONS".into(), "true".into());
        env.insert("LAPOR_HASH_MEMORY_KIB".into(), "64".into());
        env.insert("LAPOR_HASH_PASSES".into(), "1".into());
        // Several processes (and maybe another test's) share one server.
        env.insert("LAPOR_DB_MAX_CONNECTIONS".into(), "3".into());
        env.insert("LAPOR_LOG".into(), "warn,lapor=info,lapor_app=info".into());
        env.insert("LAPOR_INSTANCE_ID".into(), name.into());
        env.insert("NO_COLOR".into(), "1".into());
        env.extend(self.common_env.clone());
        env
    }

    /// Starts `lapor serve --role <role>` named `name` (its instance id) on
    /// a free port; `args` are extra flags (e.g. `--demo`), `env` overrides.
    /// Does not wait; see [`Cluster::ready`].
    pub fn spawn(&mut self, name: &str, role: &str, args: &[&str], env: &[(&str, String)]) {
        let mut e = self.env_for(name);
        for (k, v) in env {
            e.insert((*k).to_owned(), v.clone());
        }
        let p = Proc {
            name: name.to_owned(),
            role: role.to_owned(),
            port: free_port(),
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            env: e,
            log: self.dir.path().join(format!("{name}.log")),
            child: None,
        };
        self.procs.push(p);
        let i = self.procs.len() - 1;
        self.launch(i);
    }

    /// Like [`Cluster::spawn`], and waits until the process runs.
    pub async fn start(&mut self, name: &str, role: &str, args: &[&str], env: &[(&str, String)]) {
        self.spawn(name, role, args, env);
        self.ready(name).await;
    }

    fn launch(&mut self, i: usize) {
        let data = self.dir.path().join(&self.procs[i].name);
        let p = &mut self.procs[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p.log)
            .expect("log file");
        let child = Command::new(Self::bin())
            .args([
                "serve",
                "--role",
                &p.role,
                "--listen",
                &format!("127.0.0.1:{}", p.port),
            ])
            .arg("--data-dir")
            .arg(&data)
            .args(&p.args)
            .envs(&p.env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start lapor");
        p.child = Some(child);
    }

    pub fn proc(&self, name: &str) -> &Proc {
        self.procs
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no process {name}"))
    }

    fn index(&self, name: &str) -> usize {
        self.procs
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("no process {name}"))
    }

    pub fn base(&self, name: &str) -> String {
        self.proc(name).base()
    }

    /// Waits until the process logged that it runs (and, for HTTP roles,
    /// answers /health); panics with its log if it exits first.
    pub async fn ready(&mut self, name: &str) {
        let i = self.index(name);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.procs[i]
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "{name} exited ({status}):\n{}",
                    tail(&self.procs[i].log, 40)
                );
            }
            let log = std::fs::read_to_string(&self.procs[i].log).unwrap_or_default();
            if log.contains("lapor is running") {
                if !self.procs[i].serves_http() {
                    return;
                }
                if let Ok(r) = self
                    .http
                    .get(format!("{}/health", self.procs[i].base()))
                    .send()
                    .await
                    && r.status().is_success()
                {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not start:\n{}",
                tail(&self.procs[i].log, 40)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, and reaps it.
    pub fn kill(&mut self, name: &str) {
        let i = self.index(name);
        if let Some(mut c) = self.procs[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts a process like `like` (same role, flags and settings) under a
    /// new name (instance id, hence Redis consumer name) and port.
    pub async fn start_like(&mut self, like: &str, name: &str) {
        let p = self.proc(like);
        let (role, args) = (p.role.clone(), p.args.clone());
        let mut env = p.env.clone();
        env.insert("LAPOR_INSTANCE_ID".into(), name.into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.start(name, &role, &args, &env).await;
    }

    // ------------------------------------------------------------ nginx

    /// Starts nginx with deploy/nginx.conf.template (as deploy/cluster.sh
    /// fills it in) on a free port, with these instances in each upstream;
    /// returns the port.
    pub async fn start_nginx(
        &mut self,
        command: &[&str],
        query: &[&str],
        operations: &[&str],
        workflow: &[&str],
    ) -> u16 {
        let nginx = nginx_binary();
        let template = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/nginx.conf.template"
        ))
        .expect("deploy/nginx.conf.template");
        let run = self.dir.path().join("nginx");
        std::fs::create_dir_all(&run).unwrap();
        // nginx workers may run as another user (root starts them as nobody).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for d in [self.dir.path(), run.as_path()] {
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        let servers = |names: &[&str]| -> String {
            names
                .iter()
                .map(|n| {
                    format!(
                        "server 127.0.0.1:{} max_fails=2 fail_timeout=5s; ",
                        self.proc(n).port
                    )
                })
                .collect()
        };
        let port = free_port();
        let conf = template
            .replace("@RUN@", run.to_str().unwrap())
            .replace("@COMMAND_SERVERS@", &servers(command))
            .replace("@QUERY_SERVERS@", &servers(query))
            .replace("@OPERATIONS_SERVERS@", &servers(operations))
            .replace("@WORKFLOW_SERVERS@", &servers(workflow))
            .replace("@LISTEN@", &format!("listen 127.0.0.1:{port} reuseport; "));
        let conf_path = run.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(self.dir.path().join("nginx.log")).unwrap();
        let child = Command::new(&nginx)
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(&run)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start nginx");
        self.nginx = Some(child);
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self
                .nginx
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "nginx exited ({status}):\n{}\n{}",
                    tail(&self.dir.path().join("nginx.log"), 20),
                    tail(&run.join("nginx-error.log"), 20)
                );
            }
            if let Ok(r) = self.http.get(format!("{base}/health")).send().await
                && r.status().is_success()
            {
                return port;
            }
            assert!(Instant::now() < deadline, "nginx did not answer on {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stop_nginx(&mut self) {
        if let Some(mut c) = self.nginx.take() {
            // TERM: the master stops its workers (SIGKILL would orphan them).
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// How often a log line containing `needle` appears in a process's log.
    pub fn log_count(&self, name: &str, needle: &str) -> usize {
        std::fs::read_to_string(&self.proc(name).log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }

    // ------------------------------------------------------------ checks

    /// Checks that the write side, operations, workflow and every read
    /// database hold exactly `expected` (each once, each projected once),
    /// and that every outbox row is in the Redis stream exactly once.
    /// Returns a one-line summary.
    pub async fn assert_exactly_once(&self, expected: &HashSet<String>) -> String {
        let n = expected.len();
        let write = self.database_url_direct();
        let check = |what: &str, ids: Vec<String>| {
            let set: HashSet<String> = ids.iter().cloned().collect();
            assert_eq!(set.len(), ids.len(), "{what}: duplicate rows");
            let missing: Vec<_> = expected.difference(&set).take(5).collect();
            let extra: Vec<_> = set.difference(expected).take(5).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{what}: {} of {n} acknowledged reports missing (e.g. {missing:?}), {} unexpected (e.g. {extra:?})",
                expected.difference(&set).count(),
                set.difference(expected).count()
            );
        };
        check(
            "reporting.reports (write side)",
            strings(&write, "SELECT id FROM reporting.reports").await,
        );
        check(
            "operations.cases",
            strings(&write, "SELECT report_id FROM operations.cases").await,
        );
        check(
            "workflow.sla_jobs",
            strings(&write, "SELECT report_id FROM workflow.sla_jobs").await,
        );
        for (i, url) in self.read_dbs().iter().enumerate() {
            let what = format!("read database {}", i + 1);
            check(
                &format!("{what}: report_views"),
                strings(url, "SELECT id FROM reporting_read.report_views").await,
            );
            // Applied twice would show as a second timeline entry or a
            // counter past the number of reports.
            let created = strings(
                url,
                "SELECT report_id FROM reporting_read.report_timeline WHERE kind = 'created'",
            )
            .await;
            check(&format!("{what}: 'created' timeline entries"), created);
            let total = int(
                url,
                "SELECT COALESCE(SUM(total), 0)::BIGINT FROM reporting_read.category_stats",
            )
            .await;
            assert_eq!(total, n as i64, "{what}: category counters");
        }
        let outbox = int(
            &write,
            "SELECT (SELECT count(*) FROM reporting.outbox) + (SELECT count(*) FROM operations.outbox) \
             + (SELECT count(*) FROM workflow.outbox)",
        )
        .await;
        let stream = self.stream_event_ids().await;
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for id in &stream {
            *counts.entry(id.as_str()).or_default() += 1;
        }
        let dup: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).take(5).collect();
        assert!(
            dup.is_empty(),
            "events in the stream more than once: {dup:?}"
        );
        let published = self
            .redis_int(&format!("{}:counters:published", self.prefix()))
            .await;
        assert_eq!(
            counts.len() as i64,
            outbox,
            "distinct events in the stream vs outbox rows"
        );
        assert_eq!(
            published, outbox,
            "events ever added to the stream vs outbox rows"
        );
        format!(
            "{n} reports once in write side, cases, SLA jobs and {} read database(s); {outbox} outbox rows = {} stream entries, {} duplicate publishes skipped",
            self.read_dbs().len(),
            stream.len(),
            self.redis_int(&format!("{}:counters:duplicates", self.prefix()))
                .await
        )
    }

    /// The `event_id` of every entry in `<prefix>:events`.
    pub async fn stream_event_ids(&self) -> Vec<String> {
        let mut c = self.redis().await;
        let key = format!("{}:events", self.prefix());
        let mut out = vec![];
        let mut start = "-".to_owned();
        loop {
            let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
                .arg(&key)
                .arg(&start)
                .arg("+")
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut c)
                .await
                .expect("XRANGE");
            let Some(last) = entries.last().map(|(id, _)| id.clone()) else {
                break;
            };
            for (_, fields) in &entries {
                if let Some((_, v)) = fields.iter().find(|(k, _)| k == "event_id") {
                    out.push(v.clone());
                }
            }
            start = format!("({last}");
        }
        out
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.engine.redis_url.clone().unwrap().as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect("redis")
    }

    pub async fn redis_int(&self, key: &str) -> i64 {
        let mut c = self.redis().await;
        let v: Option<i64> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut c)
            .await
            .expect("GET");
        v.unwrap_or(0)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_nginx();
        for p in &mut self.procs {
            if let Some(mut c) = p.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if std::thread::panicking() {
            for p in &self.procs {
                eprintln!(
                    "---- {} ({}) log tail ----\n{}",
                    p.name,
                    p.role,
                    tail(&p.log, 15)
                );
            }
        }
        // LAPOR_TEST_KEEP_LOGS=dir keeps every process's log.
        if let Ok(keep) = std::env::var("LAPOR_TEST_KEEP_LOGS")
            && !keep.is_empty()
        {
            let to = Path::new(&keep).join(self.prefix());
            if std::fs::create_dir_all(&to).is_ok() {
                for p in &self.procs {
                    let _ = std::fs::copy(&p.log, to.join(format!("{}.log", p.name)));
                }
                eprintln!("logs kept in {}", to.display());
            }
        }
        // Then the fields: the databases and Redis keys go.
    }
}

pub fn nginx_binary() -> String {
    if let Ok(n) = std::env::var("LAPOR_TEST_NGINX")
        && !n.is_empty()
    {
        return n;
    }
    let in_path = Command::new("sh")
        .args(["-c", "command -v nginx"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(o) = in_path {
        return String::from_utf8_lossy(&o.stdout).trim().to_owned();
    }
    for p in [
        "/usr/sbin/nginx",
        "/usr/local/sbin/nginx",
        "/usr/local/nginx/sbin/nginx",
    ] {
        if Path::new(p).exists() {
            return p.to_owned();
        }
    }
    panic!("nginx not found: install it (apt-get install nginx-light) or set LAPOR_TEST_NGINX");
}

pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub async fn strings(url: &str, sql: &str) -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect for checks");
    let v: Vec<String> = sqlx::query_scalar(sql)
        .fetch_all(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
    v
}

pub async fn int(url: &str, sql: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect for checks");
    let v: i64 = sqlx::query_scalar(sql)
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
    v
}

// ---------------------------------------------------------------- HTTP

pub async fn get_json(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> Result<(StatusCode, Value), String> {
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.map_err(|e| format!("GET {url}: {e}"))?;
    let status = res.status();
    let text = res
        .text()
        .await
        .map_err(|e| format!("GET {url}: body: {e}"))?;
    let v =
        serde_json::from_str(&text).map_err(|_| format!("GET {url}: {status} non-JSON: {text}"))?;
    Ok((status, v))
}

pub async fn post_json(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Value,
) -> Result<(StatusCode, Value), String> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.map_err(|e| format!("POST {url}: {e}"))?;
    let status = res.status();
    let text = res
        .text()
        .await
        .map_err(|e| format!("POST {url}: body: {e}"))?;
    let v = serde_json::from_str(&text)
        .map_err(|_| format!("POST {url}: {status} non-JSON: {text}"))?;
    Ok((status, v))
}

pub async fn login(http: &reqwest::Client, base: &str, user: &str) -> String {
    let (s, v) = post_json(
        http,
        &format!("{base}/auth/login"),
        None,
        json!({"username": user, "password": "password"}),
    )
    .await
    .unwrap();
    assert_eq!(s, StatusCode::OK, "login {user}: {v}");
    v["token"].as_str().expect("token").to_owned()
}

/// Files a report; returns the 201 body (`report_id`, `instance`, ...).
pub async fn create_report(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    content: &str,
    category: &str,
) -> Result<Value, String> {
    let body = json!({"content": content, "visibility": "PUBLIC", "category": category});
    match post_json(http, &format!("{base}/reports"), Some(token), body).await? {
        (StatusCode::CREATED, v) => Ok(v),
        (s, v) => Err(format!("{s}: {v}")),
    }
}

/// Every report id of a keyset listing (`/reports/me`, `/cases/inbox`),
/// following `next_cursor`; panics on duplicates.
pub async fn all_ids(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
) -> Result<HashSet<String>, String> {
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let (s, v) = get_json(
            http,
            &format!("{base}{path}{sep}limit=100{cursor}"),
            Some(token),
        )
        .await?;
        if s != StatusCode::OK {
            return Err(format!("{path}: {s} {v}"));
        }
        for r in v["data"].as_array().ok_or("no data")? {
            let id = r["report_id"]
                .as_str()
                .or(r["id"].as_str())
                .ok_or("no id")?
                .to_owned();
            assert!(seen.insert(id.clone()), "{path} lists {id} twice");
        }
        match v["meta"]["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return Ok(seen),
        }
    }
}

/// Polls `f` until it returns Some, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------- writers

/// An acknowledged create: when, which report, which instance answered.
#[derive(Debug, Clone)]
pub struct Ack {
    pub at: Instant,
    pub id: String,
    pub instance: String,
}

/// Concurrent writers filing `total` reports through `targets` (round
/// robin), each pausing `pause` between requests.
pub struct Burst {
    pub acked: Arc<Mutex<Vec<Ack>>>,
    pub failures: Arc<Mutex<Vec<String>>>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl Burst {
    pub fn start(
        http: &reqwest::Client,
        targets: Vec<String>,
        token: &str,
        total: usize,
        writers: usize,
        pause: Duration,
        tag: &str,
    ) -> Self {
        let acked = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let next = Arc::new(AtomicUsize::new(0));
        let targets = Arc::new(targets);
        let handles = (0..writers)
            .map(|_| {
                let (http, targets, token, acked, failures, next) = (
                    http.clone(),
                    targets.clone(),
                    token.to_owned(),
                    acked.clone(),
                    failures.clone(),
                    next.clone(),
                );
                let tag = tag.to_owned();
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            return;
                        }
                        let base = &targets[i % targets.len()];
                        match create_report(
                            &http,
                            base,
                            &token,
                            &format!("{tag} {i}"),
                            "kebersihan",
                        )
                        .await
                        {
                            Ok(v) => acked.lock().unwrap().push(Ack {
                                at: Instant::now(),
                                id: v["report_id"].as_str().unwrap().to_owned(),
                                instance: v["instance"].as_str().unwrap_or("").to_owned(),
                            }),
                            Err(e) => failures.lock().unwrap().push(e),
                        }
                        if !pause.is_zero() {
                            tokio::time::sleep(pause).await;
                        }
                    }
                })
            })
            .collect();
        Self {
            acked,
            failures,
            handles,
        }
    }

    pub fn acked_len(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Waits until at least `n` creates were acknowledged.
    pub async fn wait_acked(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.acked_len() < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} creates acknowledged",
                self.acked_len()
            );
            assert!(
                self.handles.iter().any(|h| !h.is_finished()),
                "writers stopped at {} of {n}",
                self.acked_len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits for the writers; returns what was acknowledged and the failures.
    pub async fn finish(self) -> (Vec<Ack>, Vec<String>) {
        for h in self.handles {
            h.await.expect("writer");
        }
        let acked = self.acked.lock().unwrap().clone();
        let failures = self.failures.lock().unwrap().clone();
        (acked, failures)
    }
}
