//! Recording and summarising: every request's latency is kept (as
//! microseconds in a `Vec<u32>`, a few MB even for millions of requests), so
//! percentiles are exact, not estimated from buckets. Each virtual user or
//! worker records into its own [`Recorder`]; they are merged once at the end.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// What a request counts as in the summary's aggregate lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// `POST /auth/login`.
    Login,
    /// Report creation (`POST /reports`): the seed's "write latency".
    Write,
    /// Feed and listing reads (GETs): the seed's "read latency".
    Read,
    /// The read-your-write check of a new report in `/reports/me`.
    Sync,
    /// Other commands (status changes, upvotes).
    Command,
}

/// How a response is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// An answer the workload expects now and then and is not a failure
    /// (e.g. 409 when another virtual user moved the case first).
    Expected(String),
    /// A failure: an unexpected status (`"500"`), or a transport problem
    /// (`"timeout"`, `"connect"`, ...).
    Error(String),
}

#[derive(Debug, Default, Clone)]
struct Endpoint {
    class: Option<Class>,
    latencies_us: Vec<u32>,
    expected: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
}

/// Per-worker recorder; cheap to record into, merged at the end.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    endpoints: BTreeMap<&'static str, Endpoint>,
    /// Sync checks: new report found in `/reports/me` / not found.
    pub sync_found: u64,
    pub sync_missed: u64,
    /// Sync times (ms in summaries), separate from request latencies: in
    /// no-think mode a sync time spans several polls.
    sync_us: Vec<u32>,
    /// Rate mode: how late a request left compared with its intended time.
    schedule_lag_us: Vec<u32>,
    pub iterations: u64,
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u32::MAX as u128) as u32
}

impl Recorder {
    pub fn record(
        &mut self,
        endpoint: &'static str,
        class: Class,
        latency: Duration,
        outcome: Outcome,
    ) {
        let e = self.endpoints.entry(endpoint).or_default();
        e.class = Some(class);
        e.latencies_us.push(micros(latency));
        match outcome {
            Outcome::Ok => {}
            Outcome::Expected(k) => *e.expected.entry(k).or_default() += 1,
            Outcome::Error(k) => *e.errors.entry(k).or_default() += 1,
        }
    }

    /// A failure that is not a request of its own (e.g. a report that never
    /// became visible): counted as an error of `endpoint`, no latency.
    pub fn error_only(&mut self, endpoint: &'static str, class: Class, kind: &str) {
        let e = self.endpoints.entry(endpoint).or_default();
        e.class.get_or_insert(class);
        *e.errors.entry(kind.to_owned()).or_default() += 1;
    }

    pub fn sync(&mut self, elapsed: Duration, found: bool) {
        if found {
            self.sync_found += 1;
            self.sync_us.push(micros(elapsed));
        } else {
            self.sync_missed += 1;
        }
    }

    pub fn schedule_lag(&mut self, lag: Duration) {
        self.schedule_lag_us.push(micros(lag));
    }

    pub fn merge(&mut self, other: Recorder) {
        for (name, o) in other.endpoints {
            let e = self.endpoints.entry(name).or_default();
            if e.class.is_none() {
                e.class = o.class;
            }
            e.latencies_us.extend(o.latencies_us);
            for (k, n) in o.expected {
                *e.expected.entry(k).or_default() += n;
            }
            for (k, n) in o.errors {
                *e.errors.entry(k).or_default() += n;
            }
        }
        self.sync_found += other.sync_found;
        self.sync_missed += other.sync_missed;
        self.sync_us.extend(other.sync_us);
        self.schedule_lag_us.extend(other.schedule_lag_us);
        self.iterations += other.iterations;
    }

    /// Total errors (unexpected statuses, transport failures, reports that
    /// never became visible).
    pub fn error_count(&self) -> u64 {
        self.endpoints
            .values()
            .flat_map(|e| e.errors.values())
            .sum()
    }

    #[cfg(test)]
    pub fn request_count(&self) -> u64 {
        self.endpoints
            .values()
            .map(|e| e.latencies_us.len() as u64)
            .sum()
    }

    /// Builds the summary; `elapsed` is the wall time the load ran.
    pub fn summarize(&self, mode: &str, elapsed: Duration, config: serde_json::Value) -> Summary {
        let mut all = vec![];
        let mut by_class: BTreeMap<Class, Vec<u32>> = BTreeMap::new();
        let mut endpoints = vec![];
        let mut errors = vec![];
        let mut expected = vec![];
        for (name, e) in &self.endpoints {
            all.extend_from_slice(&e.latencies_us);
            if let Some(c) = e.class {
                by_class
                    .entry(c)
                    .or_default()
                    .extend_from_slice(&e.latencies_us);
            }
            let mut sorted = e.latencies_us.clone();
            sorted.sort_unstable();
            endpoints.push(EndpointSummary {
                endpoint: (*name).to_owned(),
                class: e.class,
                latency_ms: Percentiles::of_sorted(&sorted),
                errors: e.errors.values().sum(),
                expected: e.expected.values().sum(),
            });
            for (k, n) in &e.errors {
                errors.push(Count {
                    endpoint: (*name).to_owned(),
                    status: k.clone(),
                    count: *n,
                });
            }
            for (k, n) in &e.expected {
                expected.push(Count {
                    endpoint: (*name).to_owned(),
                    status: k.clone(),
                    count: *n,
                });
            }
        }
        let pct = |mut v: Vec<u32>| {
            v.sort_unstable();
            Percentiles::of_sorted(&v)
        };
        let requests = all.len() as u64;
        let secs = elapsed.as_secs_f64().max(1e-9);
        let error_total = self.error_count();
        Summary {
            mode: mode.to_owned(),
            duration_s: round3(elapsed.as_secs_f64()),
            requests,
            throughput_rps: round3(requests as f64 / secs),
            iterations: self.iterations,
            errors: error_total,
            error_rate: if requests == 0 {
                0.0
            } else {
                round6(error_total as f64 / requests as f64)
            },
            latency_ms: pct(all),
            write_ms: pct(by_class.remove(&Class::Write).unwrap_or_default()),
            read_ms: pct(by_class.remove(&Class::Read).unwrap_or_default()),
            sync_request_ms: pct(by_class.remove(&Class::Sync).unwrap_or_default()),
            sync_ms: pct(self.sync_us.clone()),
            sync_found: self.sync_found,
            sync_missed: self.sync_missed,
            login_ms: pct(by_class.remove(&Class::Login).unwrap_or_default()),
            command_ms: pct(by_class.remove(&Class::Command).unwrap_or_default()),
            schedule_lag_ms: pct(self.schedule_lag_us.clone()),
            endpoints,
            errors_by_endpoint: errors,
            expected_by_endpoint: expected,
            config,
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Nearest-rank percentile of sorted samples: the smallest value such that
/// at least `p` percent of the samples are at most it (`None` if empty).
pub fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Latency figures in milliseconds (microsecond resolution).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of_sorted(sorted: &[u32]) -> Self {
        if sorted.is_empty() {
            return Self::default();
        }
        let ms = |us: u32| round3(us as f64 / 1000.0);
        let p = |q| ms(percentile(sorted, q).unwrap_or(0));
        let sum: u64 = sorted.iter().map(|&v| v as u64).sum();
        Self {
            count: sorted.len() as u64,
            mean: round3(sum as f64 / sorted.len() as f64 / 1000.0),
            p50: p(50.0),
            p90: p(90.0),
            p95: p(95.0),
            p99: p(99.0),
            max: ms(*sorted.last().expect("not empty")),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EndpointSummary {
    pub endpoint: String,
    pub class: Option<Class>,
    pub latency_ms: Percentiles,
    pub errors: u64,
    pub expected: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub endpoint: String,
    pub status: String,
    pub count: u64,
}

/// What a run prints and writes with `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub mode: String,
    pub duration_s: f64,
    pub requests: u64,
    pub throughput_rps: f64,
    pub iterations: u64,
    pub errors: u64,
    pub error_rate: f64,
    /// Every request.
    pub latency_ms: Percentiles,
    /// Report creation.
    pub write_ms: Percentiles,
    /// Feed and listing reads.
    pub read_ms: Percentiles,
    /// The `/reports/me` requests that checked for the new report.
    pub sync_request_ms: Percentiles,
    /// Sync time: with think time, the latency of the check made 1 s after
    /// the 201 (as the seed's k6 script); without, the time from the 201
    /// until the report was first seen in `/reports/me`.
    pub sync_ms: Percentiles,
    pub sync_found: u64,
    pub sync_missed: u64,
    pub login_ms: Percentiles,
    /// Status changes and upvotes.
    pub command_ms: Percentiles,
    /// Rate mode: how late requests left compared with their intended
    /// send time (generator saturation; included in every latency above).
    pub schedule_lag_ms: Percentiles,
    pub endpoints: Vec<EndpointSummary>,
    pub errors_by_endpoint: Vec<Count>,
    pub expected_by_endpoint: Vec<Count>,
    pub config: serde_json::Value,
}

fn row(out: &mut String, name: &str, p: &Percentiles) {
    if p.count == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "    {name:<34} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        p.count, p.p50, p.p90, p.p95, p.p99, p.max
    );
}

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Summary {
    /// A k6-like text summary.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "\n  lapor-bench {}", self.mode);
        let _ = writeln!(o, "\n  Overview:");
        let _ = writeln!(o, "    Total requests:  {}", group(self.requests));
        let _ = writeln!(o, "    Duration:        {:.1} s", self.duration_s);
        let _ = writeln!(o, "    Throughput:      {:.1} req/s", self.throughput_rps);
        if self.iterations > 0 {
            let _ = writeln!(o, "    Iterations:      {}", group(self.iterations));
        }
        let _ = writeln!(
            o,
            "    Errors:          {} ({:.3}%)",
            group(self.errors),
            self.error_rate * 100.0
        );
        let _ = writeln!(
            o,
            "\n  Response times (ms)                       count       p50       p90       p95       p99       max"
        );
        row(&mut o, "all requests", &self.latency_ms);
        row(&mut o, "write (POST /reports)", &self.write_ms);
        row(&mut o, "read (feeds, listings)", &self.read_ms);
        row(&mut o, "sync check requests", &self.sync_request_ms);
        row(&mut o, "sync time", &self.sync_ms);
        row(&mut o, "login", &self.login_ms);
        row(&mut o, "commands (status, upvote)", &self.command_ms);
        row(&mut o, "schedule lag (generator)", &self.schedule_lag_ms);
        if self.sync_found + self.sync_missed > 0 {
            let _ = writeln!(
                o,
                "\n  Sync: {} of {} new reports seen in /reports/me ({} missed)",
                group(self.sync_found),
                group(self.sync_found + self.sync_missed),
                group(self.sync_missed)
            );
        }
        let _ = writeln!(o, "\n  Per endpoint (ms)");
        for e in &self.endpoints {
            row(&mut o, &e.endpoint, &e.latency_ms);
        }
        if !self.expected_by_endpoint.is_empty() {
            let _ = writeln!(o, "\n  Expected conflicts (not errors)");
            for c in &self.expected_by_endpoint {
                let _ = writeln!(
                    o,
                    "    {:<40} {:<14} {:>9}",
                    c.endpoint,
                    c.status,
                    group(c.count)
                );
            }
        }
        if self.errors_by_endpoint.is_empty() {
            let _ = writeln!(o, "\n  Errors: none");
        } else {
            let _ = writeln!(o, "\n  Errors by endpoint and status");
            for c in &self.errors_by_endpoint {
                let _ = writeln!(
                    o,
                    "    {:<40} {:<14} {:>9}",
                    c.endpoint,
                    c.status,
                    group(c.count)
                );
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 99.9), Some(7));
        // 10 samples: p95 is the 10th (ceil(9.5)), p90 the 9th.
        let v: Vec<u32> = (1..=10).map(|x| x * 10).collect();
        assert_eq!(percentile(&v, 90.0), Some(90));
        assert_eq!(percentile(&v, 95.0), Some(100));
    }

    #[test]
    fn percentiles_in_milliseconds() {
        let mut v: Vec<u32> = (1..=1000).map(|x| x * 1000).collect();
        v.sort_unstable();
        let p = Percentiles::of_sorted(&v);
        assert_eq!(p.count, 1000);
        assert_eq!(p.p50, 500.0);
        assert_eq!(p.p99, 990.0);
        assert_eq!(p.max, 1000.0);
        assert_eq!(p.mean, 500.5);
        assert_eq!(Percentiles::of_sorted(&[]), Percentiles::default());
    }

    #[test]
    fn errors_and_expected_conflicts_are_counted_apart() {
        let ms = Duration::from_millis;
        let mut a = Recorder::default();
        a.record("POST /reports", Class::Write, ms(2), Outcome::Ok);
        a.record(
            "POST /reports",
            Class::Write,
            ms(4),
            Outcome::Error("500".into()),
        );
        a.record(
            "PATCH /cases/{id}/status",
            Class::Command,
            ms(1),
            Outcome::Expected("409".into()),
        );
        let mut b = Recorder::default();
        b.record(
            "POST /reports",
            Class::Write,
            ms(3),
            Outcome::Error("500".into()),
        );
        b.record(
            "GET /reports/public",
            Class::Read,
            ms(1),
            Outcome::Error("timeout".into()),
        );
        b.error_only("sync (GET /reports/me)", Class::Sync, "not-visible");
        b.sync(ms(1), true);
        b.sync(ms(0), false);
        a.merge(b);

        assert_eq!(a.request_count(), 5);
        assert_eq!(a.error_count(), 4);
        let s = a.summarize("test", Duration::from_secs(1), serde_json::Value::Null);
        assert_eq!(s.requests, 5);
        assert_eq!(s.errors, 4);
        assert_eq!(s.throughput_rps, 5.0);
        assert_eq!(s.write_ms.count, 3);
        assert_eq!(s.write_ms.max, 4.0);
        assert_eq!(s.read_ms.count, 1);
        assert_eq!((s.sync_found, s.sync_missed), (1, 1));
        assert_eq!(
            s.errors_by_endpoint,
            vec![
                Count {
                    endpoint: "GET /reports/public".into(),
                    status: "timeout".into(),
                    count: 1
                },
                Count {
                    endpoint: "POST /reports".into(),
                    status: "500".into(),
                    count: 2
                },
                Count {
                    endpoint: "sync (GET /reports/me)".into(),
                    status: "not-visible".into(),
                    count: 1
                },
            ]
        );
        assert_eq!(
            s.expected_by_endpoint,
            vec![Count {
                endpoint: "PATCH /cases/{id}/status".into(),
                status: "409".into(),
                count: 1
            }]
        );
        let text = s.render();
        assert!(text.contains("POST /reports"));
        assert!(text.contains("not-visible"));
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(109_630), "109,630");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
