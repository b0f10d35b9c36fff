//! `rate`: an open-loop constant arrival rate. Request `i` is due at
//! `start + i / rate` whatever happened to the earlier ones; its latency is
//! measured from that intended time, so a server (or generator) that falls
//! behind shows its queueing instead of hiding it (no coordinated
//! omission).
//!
//! A pacer thread releases one permit per due request (sleeping until the
//! next one is due, at least 200 µs: finer than tokio's 1 ms timer); `connections` workers, each
//! holding at most one request in flight, take permits in order. If every
//! worker is busy, due requests wait and that wait counts in their latency
//! (and in "schedule lag").

use crate::client::Client;
use crate::common::{CITIZENS, Call, Targets, created_id, list_items, login, report_body};
use crate::stats::{Class, Recorder};
use anyhow::{Context, bail};
use hyper::Method;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Seed 2's load levels: total requests per second (20% writes).
pub const LEVELS: [(&str, f64); 5] = [
    ("light", 50.0),
    ("medium", 100.0),
    ("heavy", 250.0),
    ("extreme", 500.0),
    ("stress", 1000.0),
];

#[derive(Debug, Clone, Serialize)]
pub struct RateOpts {
    pub rate: f64,
    pub duration: Duration,
    pub write_ratio: f64,
    pub connections: usize,
    pub reads: Vec<Read>,
    /// After `duration`, how long requests still due may be sent before
    /// the rest are counted as not sent.
    pub grace: Duration,
}

/// The reads rate mode can draw from (uniformly, among those chosen with
/// `--reads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Read {
    /// `GET /reports/public` (newest PUBLIC reports).
    Public,
    /// `GET /reports?page=1..5&per_page=20` (seed 2's listing).
    Page,
    /// `GET /reports/{id}` of a PUBLIC report.
    Id,
    /// `GET /statistics`.
    Statistics,
    /// `GET /reports/me` as a citizen.
    Me,
    /// `GET /cases/inbox` as an officer.
    Inbox,
    /// `GET /sla/status` (no token).
    Sla,
    /// `GET /health`: nearly free for the server, to calibrate what the
    /// generator itself can do.
    Health,
}

impl Read {
    fn endpoint(self) -> &'static str {
        match self {
            Read::Public => "GET /reports/public",
            Read::Page => "GET /reports?page=N",
            Read::Id => "GET /reports/{id}",
            Read::Statistics => "GET /statistics",
            Read::Me => "GET /reports/me",
            Read::Inbox => "GET /cases/inbox",
            Read::Sla => "GET /sla/status",
            Read::Health => "GET /health",
        }
    }
}

/// Recent PUBLIC report ids, for `GET /reports/{id}` without a token. A
/// report created during the run is only read once it is a second old (as
/// the seed's sync check): the read side is eventually consistent, and a
/// 404 after that second is a real error.
struct Ids {
    inner: Mutex<IdsInner>,
}

#[derive(Default)]
struct IdsInner {
    ready: Vec<String>,
    fresh: std::collections::VecDeque<(Instant, String)>,
}

impl Ids {
    const CAP: usize = 4096;
    const SETTLE: Duration = Duration::from_secs(1);

    fn add_ready(&self, id: String, rng: &mut impl Rng) {
        let mut g = self.inner.lock().expect("ids lock");
        Self::insert(&mut g.ready, id, rng);
    }

    fn insert(v: &mut Vec<String>, id: String, rng: &mut impl Rng) {
        if v.len() < Self::CAP {
            v.push(id);
        } else {
            let i = rng.gen_range(0..v.len());
            v[i] = id;
        }
    }

    fn add_fresh(&self, id: String) {
        let mut g = self.inner.lock().expect("ids lock");
        if g.fresh.len() < Self::CAP {
            g.fresh.push_back((Instant::now(), id));
        }
    }

    fn pick(&self, rng: &mut impl Rng) -> Option<String> {
        let mut g = self.inner.lock().expect("ids lock");
        while g
            .fresh
            .front()
            .is_some_and(|(t, _)| t.elapsed() >= Self::SETTLE)
        {
            let (_, id) = g.fresh.pop_front().expect("front");
            Self::insert(&mut g.ready, id, rng);
        }
        (!g.ready.is_empty()).then(|| g.ready[rng.gen_range(0..g.ready.len())].clone())
    }

    fn len(&self) -> usize {
        self.inner.lock().expect("ids lock").ready.len()
    }
}

/// Logs in once (tokens reused), makes sure some public reports exist, then
/// runs the constant-rate load.
pub async fn run(client: Client, t: Targets, o: RateOpts) -> anyhow::Result<(Recorder, Duration)> {
    if o.rate <= 0.0 || !o.rate.is_finite() {
        bail!("--rate must be positive");
    }
    if !(0.0..=1.0).contains(&o.write_ratio) {
        bail!("--write-ratio must be between 0 and 1");
    }
    let mut setup = Recorder::default();
    let mut tokens = vec![];
    for user in CITIZENS {
        let tok = login(&client, &t, user, &mut setup)
            .await
            .with_context(|| {
                format!(
                    "logging in as {user} at {} (demo accounts needed: `lapor serve --demo`)",
                    t.base.url
                )
            })?;
        tokens.push(tok);
    }
    let mut officer_tokens = vec![];
    if o.reads.contains(&Read::Inbox) {
        for user in crate::common::OFFICERS {
            let tok = login(&client, &t, user, &mut setup)
                .await
                .with_context(|| format!("logging in as {user} at {}", t.base.url))?;
            officer_tokens.push(tok);
        }
    }
    let ids = Arc::new(Ids {
        inner: Mutex::new(IdsInner::default()),
    });
    let mut rng = StdRng::from_entropy();
    if let Some(r) = (Call {
        endpoint: "setup",
        class: Class::Read,
        base: &t.base,
        method: Method::GET,
        path: "/reports/public?limit=100",
        token: None,
        body: None,
        ok: 200,
        expected: &[],
    })
    .run(&client, &mut setup)
    .await
    {
        for item in list_items(&r) {
            ids.add_ready(item.report_id, &mut rng);
        }
    }
    let missing = 20usize.saturating_sub(ids.len());
    for i in 0..missing {
        let body = format!(
            r#"{{"content":"Laporan awal untuk uji beban {i}","visibility":"PUBLIC","category":"infrastruktur"}}"#
        );
        let r = Call {
            endpoint: "setup",
            class: Class::Write,
            base: &t.base,
            method: Method::POST,
            path: "/reports",
            token: Some(&tokens[0]),
            body: Some(body.into()),
            ok: 201,
            expected: &[],
        }
        .run(&client, &mut setup)
        .await
        .and_then(|r| created_id(&r));
        if let Some(id) = r {
            ids.add_fresh(id);
        }
    }
    if setup.error_count() > 0 {
        bail!("setup requests failed against {}", t.base.url);
    }
    if missing > 0 {
        // let the new reports reach the read side before they are read
        tokio::time::sleep(Ids::SETTLE + Duration::from_millis(100)).await;
        let _ = ids.pick(&mut rng);
    }

    let total = (o.rate * o.duration.as_secs_f64()).round() as u64;
    let tokens = Arc::new(tokens);
    let officer_tokens = Arc::new(officer_tokens);
    if o.reads.is_empty() && o.write_ratio < 1.0 {
        bail!("--reads must name at least one read");
    }
    let permits = Arc::new(Semaphore::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let stop_sending = start + o.duration + o.grace;

    let pacer = {
        let permits = permits.clone();
        let (rate, workers) = (o.rate, o.connections);
        std::thread::spawn(move || {
            let mut released = 0u64;
            while released < total {
                let due = ((start.elapsed().as_secs_f64() * rate).floor() as u64 + 1).min(total);
                if due > released {
                    permits.add_permits((due - released) as usize);
                    released = due;
                }
                // Sleep until the next request is due, but at least 200 µs
                // (at high rates permits are released in small batches).
                let next_due = Duration::from_secs_f64(released as f64 / rate);
                let wait = next_due
                    .saturating_sub(start.elapsed())
                    .max(Duration::from_micros(200));
                std::thread::sleep(wait);
            }
            // one more per worker, so each wakes up, sees the end and stops
            permits.add_permits(workers);
        })
    };

    let mut tasks = vec![];
    for w in 0..o.connections {
        let (client, t, o) = (client.clone(), t.clone(), o.clone());
        let (permits, next, tokens, officer_tokens, ids) = (
            permits.clone(),
            next.clone(),
            tokens.clone(),
            officer_tokens.clone(),
            ids.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rec = Recorder::default();
            let mut rng = StdRng::from_entropy();
            let mut n = 0usize;
            loop {
                match permits.acquire().await {
                    Ok(p) => p.forget(),
                    Err(_) => break,
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let intended = start + Duration::from_secs_f64(i as f64 / o.rate);
                let now = Instant::now();
                if now > stop_sending {
                    rec.error_only("(not sent: generator backlog)", Class::Read, "not-sent");
                    continue;
                }
                rec.schedule_lag(now.saturating_duration_since(intended));
                if rng.gen_bool(o.write_ratio) {
                    let token = &tokens[(w + n) % tokens.len()];
                    n += 1;
                    let (body, vis) = report_body(&mut rng, &format!("r{i}"));
                    let (resp, _) = Call {
                        endpoint: "POST /reports",
                        class: Class::Write,
                        base: &t.base,
                        method: Method::POST,
                        path: "/reports",
                        token: Some(token),
                        body: Some(body),
                        ok: 201,
                        expected: &[],
                    }
                    .run_from(&client, &mut rec, intended)
                    .await;
                    if vis == "PUBLIC"
                        && let Some(id) = resp.as_ref().and_then(created_id)
                    {
                        ids.add_fresh(id);
                    }
                } else {
                    let read = o.reads[rng.gen_range(0..o.reads.len())];
                    let mut token = None;
                    let path = match read {
                        Read::Public => "/reports/public".to_owned(),
                        Read::Page => {
                            format!("/reports?page={}&per_page=20", rng.gen_range(1..=5))
                        }
                        Read::Id => match ids.pick(&mut rng) {
                            Some(id) => format!("/reports/{id}"),
                            None => "/reports/public".to_owned(),
                        },
                        Read::Statistics => "/statistics".to_owned(),
                        Read::Me => {
                            token = Some(tokens[rng.gen_range(0..tokens.len())].as_str());
                            "/reports/me".to_owned()
                        }
                        Read::Inbox => {
                            token = Some(
                                officer_tokens[rng.gen_range(0..officer_tokens.len())].as_str(),
                            );
                            "/cases/inbox".to_owned()
                        }
                        Read::Sla => "/sla/status".to_owned(),
                        Read::Health => "/health".to_owned(),
                    };
                    let base = match read {
                        Read::Inbox => &t.ops,
                        Read::Sla => &t.workflow,
                        _ => &t.base,
                    };
                    Call {
                        endpoint: read.endpoint(),
                        class: Class::Read,
                        base,
                        method: Method::GET,
                        path: &path,
                        token,
                        body: None,
                        ok: 200,
                        expected: &[],
                    }
                    .run_from(&client, &mut rec, intended)
                    .await;
                }
            }
            rec
        }));
    }
    let mut all = Recorder::default();
    for task in tasks {
        if let Ok(rec) = task.await {
            all.merge(rec);
        }
    }
    let elapsed = start.elapsed();
    let _ = pacer.join();
    Ok((all, elapsed))
}

/// The rate of a named level (`light` .. `stress`).
pub fn level_rate(name: &str) -> Option<f64> {
    LEVELS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_levels() {
        assert_eq!(level_rate("light"), Some(50.0));
        assert_eq!(level_rate("STRESS"), Some(1000.0));
        assert_eq!(level_rate("nope"), None);
    }
}
