//! What both modes share: the deployment's base URLs, one timed request
//! that records itself, and the seed's accounts, categories and visibilities.

use crate::client::{Base, Client, Resp};
use crate::stats::{Class, Outcome, Recorder};
use bytes::Bytes;
use hyper::Method;
use rand::Rng;
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const CITIZENS: [&str; 3] = ["citizen1", "citizen2", "citizen3"];
pub const OFFICERS: [&str; 3] = ["officer1", "officer2", "officer3"];
pub const VISIBILITIES: [&str; 3] = ["PUBLIC", "PRIVATE", "ANONYMOUS"];
pub const CATEGORIES: [&str; 6] = [
    "infrastruktur",
    "kebersihan",
    "lainnya",
    "kesehatan",
    "keamanan",
    "kriminalitas",
];
const PROBLEMS: [&str; 8] = [
    "Jalan berlubang di depan sekolah",
    "Sampah menumpuk di pinggir kali",
    "Lampu jalan mati sejak seminggu",
    "Saluran air tersumbat, banjir saat hujan",
    "Pedagang liar menutup trotoar",
    "Puskesmas kehabisan obat demam",
    "Pencurian motor di parkiran pasar",
    "Pohon tumbang menghalangi jalan",
];

/// Where each seed service lives. Lapor serves every route on one port, so
/// by default all three are the same.
#[derive(Clone)]
pub struct Targets {
    /// Reporting (seed 1 :8080): login, reports, feeds, upvotes.
    pub base: Arc<Base>,
    /// Operations (seed 1 :8081): inbox, status changes.
    pub ops: Arc<Base>,
    /// Workflow (seed 1 :8082): SLA status.
    pub workflow: Arc<Base>,
}

impl Targets {
    pub fn new(base: &str, ops: Option<&str>, workflow: Option<&str>) -> anyhow::Result<Self> {
        let b = Base::parse(base)?;
        let ops = match ops {
            Some(u) => Base::parse(u)?,
            None => b.clone(),
        };
        let workflow = match workflow {
            Some(u) => Base::parse(u)?,
            None => b.clone(),
        };
        Ok(Self {
            base: b,
            ops,
            workflow,
        })
    }
}

/// One request, timed and recorded. `ok` is the expected status;
/// `expected` lists statuses that are normal for the workload (counted
/// apart, not as errors). `started` is when the latency clock starts (the
/// intended send time in rate mode).
pub struct Call<'a> {
    pub endpoint: &'static str,
    pub class: Class,
    pub base: &'a Base,
    pub method: Method,
    pub path: &'a str,
    pub token: Option<&'a str>,
    pub body: Option<Bytes>,
    pub ok: u16,
    pub expected: &'a [u16],
}

impl Call<'_> {
    pub async fn run(self, client: &Client, rec: &mut Recorder) -> Option<Resp> {
        self.run_from(client, rec, Instant::now()).await.0
    }

    /// Returns the response (if the status was `ok` or expected) and the
    /// latency recorded.
    pub async fn run_from(
        self,
        client: &Client,
        rec: &mut Recorder,
        started: Instant,
    ) -> (Option<Resp>, Duration) {
        let r = client
            .send(self.base, self.method, self.path, self.token, self.body)
            .await;
        let latency = started.elapsed();
        match r {
            Ok(resp) if resp.status == self.ok => {
                rec.record(self.endpoint, self.class, latency, Outcome::Ok);
                (Some(resp), latency)
            }
            Ok(resp) if self.expected.contains(&resp.status) => {
                rec.record(
                    self.endpoint,
                    self.class,
                    latency,
                    Outcome::Expected(resp.status.to_string()),
                );
                (Some(resp), latency)
            }
            Ok(resp) => {
                rec.record(
                    self.endpoint,
                    self.class,
                    latency,
                    Outcome::Error(resp.status.to_string()),
                );
                (None, latency)
            }
            Err(f) => {
                rec.record(
                    self.endpoint,
                    self.class,
                    latency,
                    Outcome::Error(f.kind().to_owned()),
                );
                (None, latency)
            }
        }
    }
}

#[derive(Deserialize)]
struct LoginResp {
    token: String,
}

#[derive(Deserialize)]
struct CreatedResp {
    report_id: String,
}

#[derive(Deserialize)]
pub struct IdItem {
    pub report_id: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Deserialize)]
pub struct ListResp {
    #[serde(default)]
    pub data: Vec<IdItem>,
}

pub fn login_body(user: &str) -> Bytes {
    Bytes::from(format!(r#"{{"username":"{user}","password":"password"}}"#))
}

/// Logs in (recorded as a request); the token, or `None` on failure.
pub async fn login(client: &Client, t: &Targets, user: &str, rec: &mut Recorder) -> Option<String> {
    let resp = Call {
        endpoint: "POST /auth/login",
        class: Class::Login,
        base: &t.base,
        method: Method::POST,
        path: "/auth/login",
        token: None,
        body: Some(login_body(user)),
        ok: 200,
        expected: &[],
    }
    .run(client, rec)
    .await?;
    serde_json::from_slice::<LoginResp>(&resp.body)
        .ok()
        .map(|l| l.token)
}

/// A realistic seed 1 report body with a random visibility and category;
/// returns the body and the visibility.
pub fn report_body(rng: &mut impl Rng, tag: &str) -> (Bytes, &'static str) {
    let visibility = VISIBILITIES[rng.gen_range(0..VISIBILITIES.len())];
    let category = CATEGORIES[rng.gen_range(0..CATEGORIES.len())];
    let problem = PROBLEMS[rng.gen_range(0..PROBLEMS.len())];
    let lat = -6.1 - rng.gen_range(0.0..0.2);
    let lon = 106.7 + rng.gen_range(0.0..0.25);
    let body = format!(
        r#"{{"content":"{problem} (uji beban {tag})","visibility":"{visibility}","category":"{category}","location":{{"lat":{lat:.5},"lon":{lon:.5}}}}}"#
    );
    (Bytes::from(body), visibility)
}

pub fn created_id(resp: &Resp) -> Option<String> {
    serde_json::from_slice::<CreatedResp>(&resp.body)
        .ok()
        .map(|c| c.report_id)
}

pub fn list_items(resp: &Resp) -> Vec<IdItem> {
    serde_json::from_slice::<ListResp>(&resp.body)
        .map(|l| l.data)
        .unwrap_or_default()
}

/// Whether a listing's body mentions the report (ids are UUIDs, so a byte
/// search is exact and cheaper than parsing).
pub fn body_mentions(resp: &Resp, id: &str) -> bool {
    let needle = id.as_bytes();
    resp.body.windows(needle.len()).any(|w| w == needle)
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num.parse().map_err(|_| format!("bad duration '{s}'"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("bad duration unit in '{s}' (use ms, s, m or h)")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("bad duration '{s}'"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("x").is_err());
    }

    #[test]
    fn report_bodies_are_valid_json() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for i in 0..50 {
            let (b, vis) = report_body(&mut rng, &i.to_string());
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            assert_eq!(v["visibility"], vis);
            assert!(CATEGORIES.contains(&v["category"].as_str().unwrap()));
            let lat = v["location"]["lat"].as_f64().unwrap();
            assert!((-6.3..=-6.1).contains(&lat));
        }
    }

    #[test]
    fn byte_search_for_ids() {
        let r = Resp {
            status: 200,
            body: Bytes::from_static(br#"{"data":[{"report_id":"0190-abc"}]}"#),
        };
        assert!(body_mentions(&r, "0190-abc"));
        assert!(!body_mentions(&r, "0190-abd"));
        assert_eq!(list_items(&r)[0].report_id, "0190-abc");
    }
}
