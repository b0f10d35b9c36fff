//! `scenario`: seed 1's k6 script, iteration by iteration, with ramping
//! virtual users (closed loop: each VU waits for its answers).

use crate::client::Client;
use crate::common::{
    CITIZENS, Call, OFFICERS, Targets, body_mentions, created_id, list_items, login, report_body,
};
use crate::stats::{Class, Recorder};
use bytes::Bytes;
use hyper::Method;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::time::Duration;
use tokio::time::{Instant, sleep, sleep_until};

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioOpts {
    pub vus: usize,
    pub ramp_up: Duration,
    pub duration: Duration,
    pub no_think: bool,
    pub think_min: Duration,
    pub think_max: Duration,
    pub sync_delay: Duration,
    pub sync_timeout: Duration,
    pub login_once: bool,
    pub graceful_stop: Duration,
}

const SYNC_CHECK: &str = "GET /reports/me (sync check)";
const SYNC_MISS: &str = "sync: new report in /reports/me";

/// Runs the scenario; returns what every VU recorded and the wall time.
pub async fn run(client: Client, t: Targets, o: ScenarioOpts) -> (Recorder, Duration) {
    let start = Instant::now();
    let deadline = start + o.duration;
    let hard = deadline + o.graceful_stop;
    let mut tasks = Vec::with_capacity(o.vus);
    for id in 0..o.vus {
        let (client, t, o) = (client.clone(), t.clone(), o.clone());
        let begin = start + o.ramp_up.mul_f64(id as f64 / o.vus as f64);
        tasks.push(tokio::spawn(async move {
            sleep_until(begin).await;
            vu(id, &client, &t, &o, deadline, hard).await
        }));
    }
    let mut all = Recorder::default();
    for task in tasks {
        if let Ok(rec) = task.await {
            all.merge(rec);
        }
    }
    (all, start.elapsed())
}

struct Vu<'a> {
    client: &'a Client,
    t: &'a Targets,
    o: &'a ScenarioOpts,
    rec: Recorder,
    rng: StdRng,
    hard: Instant,
    /// With `--login-once`: tokens kept per account index.
    citizen_tokens: [Option<String>; 3],
    officer_tokens: [Option<String>; 3],
}

async fn vu(
    id: usize,
    client: &Client,
    t: &Targets,
    o: &ScenarioOpts,
    deadline: Instant,
    hard: Instant,
) -> Recorder {
    let mut v = Vu {
        client,
        t,
        o,
        rec: Recorder::default(),
        rng: StdRng::from_entropy(),
        hard,
        citizen_tokens: Default::default(),
        officer_tokens: Default::default(),
    };
    let mut iter = 0usize;
    while Instant::now() < deadline {
        let who = (id + iter) % 3;
        let finished = v.iteration(who, id, iter).await;
        iter += 1;
        if finished {
            v.rec.iterations += 1;
        } else if Instant::now() < deadline {
            // A failed step (already counted as an error): back off a
            // little so a broken server is not hammered in a hot loop.
            sleep(Duration::from_millis(100)).await;
        }
        if !o.no_think && Instant::now() < deadline {
            let think = v.rng.gen_range(o.think_min..=o.think_max.max(o.think_min));
            sleep_until((Instant::now() + think).min(deadline)).await;
        }
    }
    v.rec
}

impl Vu<'_> {
    fn past_hard_stop(&self) -> bool {
        Instant::now() >= self.hard
    }

    async fn token(&mut self, officer: bool, who: usize) -> Option<String> {
        let (user, cached) = if officer {
            (OFFICERS[who], &self.officer_tokens[who])
        } else {
            (CITIZENS[who], &self.citizen_tokens[who])
        };
        if self.o.login_once
            && let Some(t) = cached
        {
            return Some(t.clone());
        }
        let token = login(self.client, self.t, user, &mut self.rec).await?;
        if self.o.login_once {
            let slot = if officer {
                &mut self.officer_tokens[who]
            } else {
                &mut self.citizen_tokens[who]
            };
            *slot = Some(token.clone());
        }
        Some(token)
    }

    async fn get(
        &mut self,
        endpoint: &'static str,
        officer_side: bool,
        workflow: bool,
        path: &str,
        token: Option<&str>,
    ) -> Option<crate::client::Resp> {
        let base = if workflow {
            &self.t.workflow
        } else if officer_side {
            &self.t.ops
        } else {
            &self.t.base
        };
        Call {
            endpoint,
            class: Class::Read,
            base,
            method: Method::GET,
            path,
            token,
            body: None,
            ok: 200,
            expected: &[],
        }
        .run(self.client, &mut self.rec)
        .await
    }

    /// One k6 iteration. Returns false if a step failed (the rest of the
    /// iteration is skipped, as a k6 script that lost its token would).
    async fn iteration(&mut self, who: usize, vu: usize, iter: usize) -> bool {
        // 1. log in as a citizen and as an officer
        let Some(citizen) = self.token(false, who).await else {
            return false;
        };
        let Some(officer) = self.token(true, who).await else {
            return false;
        };

        // 2. create a report with a random visibility and category
        let (body, _) = report_body(&mut self.rng, &format!("vu{vu}-{iter}"));
        let created = Call {
            endpoint: "POST /reports",
            class: Class::Write,
            base: &self.t.base,
            method: Method::POST,
            path: "/reports",
            token: Some(&citizen),
            body: Some(body),
            ok: 201,
            expected: &[],
        }
        .run(self.client, &mut self.rec)
        .await;
        let Some(report_id) = created.as_ref().and_then(created_id) else {
            return false;
        };
        let acked = Instant::now();

        // 3. the CQRS sync check
        if self.o.no_think {
            loop {
                let r = Call {
                    endpoint: SYNC_CHECK,
                    class: Class::Sync,
                    base: &self.t.base,
                    method: Method::GET,
                    path: "/reports/me",
                    token: Some(&citizen),
                    body: None,
                    ok: 200,
                    expected: &[],
                }
                .run(self.client, &mut self.rec)
                .await;
                if r.as_ref().is_some_and(|r| body_mentions(r, &report_id)) {
                    self.rec.sync(acked.elapsed(), true);
                    break;
                }
                if acked.elapsed() >= self.o.sync_timeout || self.past_hard_stop() {
                    self.rec.sync(acked.elapsed(), false);
                    self.rec.error_only(SYNC_MISS, Class::Sync, "not-visible");
                    break;
                }
                sleep(Duration::from_millis(1)).await;
            }
        } else {
            sleep(self.o.sync_delay).await;
            let started = std::time::Instant::now();
            let (r, latency) = Call {
                endpoint: SYNC_CHECK,
                class: Class::Sync,
                base: &self.t.base,
                method: Method::GET,
                path: "/reports/me",
                token: Some(&citizen),
                body: None,
                ok: 200,
                expected: &[],
            }
            .run_from(self.client, &mut self.rec, started)
            .await;
            match r {
                Some(r) if body_mentions(&r, &report_id) => self.rec.sync(latency, true),
                Some(_) => {
                    self.rec.sync(latency, false);
                    self.rec.error_only(SYNC_MISS, Class::Sync, "not-visible");
                }
                None => {}
            }
        }
        if self.past_hard_stop() {
            return false;
        }

        // 4. the reads
        self.get(
            "GET /reports/me",
            false,
            false,
            "/reports/me",
            Some(&citizen),
        )
        .await;
        let public = self
            .get("GET /reports/public", false, false, "/reports/public", None)
            .await;
        let inbox = self
            .get(
                "GET /cases/inbox",
                true,
                false,
                "/cases/inbox",
                Some(&officer),
            )
            .await;
        self.get("GET /sla/status", false, true, "/sla/status", None)
            .await;
        if self.past_hard_stop() {
            return false;
        }

        // 5. move one RECEIVED case of the inbox to IN_PROGRESS
        let received: Vec<String> = inbox
            .map(|r| list_items(&r))
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.status.as_deref() == Some("RECEIVED"))
            .map(|c| c.report_id)
            .collect();
        if !received.is_empty() {
            let id = &received[self.rng.gen_range(0..received.len())];
            let path = format!("/cases/{id}/status");
            Call {
                endpoint: "PATCH /cases/{id}/status",
                class: Class::Command,
                base: &self.t.ops,
                method: Method::PATCH,
                path: &path,
                token: Some(&officer),
                body: Some(Bytes::from_static(br#"{"status":"IN_PROGRESS"}"#)),
                ok: 200,
                // another VU moved it first
                expected: &[409],
            }
            .run(self.client, &mut self.rec)
            .await;
        }

        // 6. upvote a random public report
        let public: Vec<String> = public
            .map(|r| list_items(&r))
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.report_id)
            .collect();
        if !public.is_empty() {
            let id = &public[self.rng.gen_range(0..public.len())];
            let path = format!("/reports/{id}/upvote");
            Call {
                endpoint: "POST /reports/{id}/upvote",
                class: Class::Command,
                base: &self.t.base,
                method: Method::POST,
                path: &path,
                token: Some(&citizen),
                body: None,
                ok: 200,
                // already upvoted by this citizen (409), or their own
                // report (400)
                expected: &[409, 400],
            }
            .run(self.client, &mut self.rec)
            .await;
        }
        true
    }
}
