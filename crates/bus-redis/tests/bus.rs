//! The Redis Streams bus against a real Redis. Runs only when
//! `LAPOR_TEST_REDIS_URL` is set (for example `redis://127.0.0.1:6379`);
//! each test works under its own uuid key prefix and deletes its keys.

use lapor_app::ports::{BusError, Delivery, EventBus};
use lapor_bus_redis::{RedisBus, RedisBusSettings};
use lapor_domain::events::{DomainEvent, EventEnvelope, ReportUpvoted};
use lapor_domain::ids::{EventId, ReportId, UserId};
use redis::Value;
use std::time::{Duration, Instant};

fn redis_url() -> Option<String> {
    std::env::var("LAPOR_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// One test's key space; its keys are deleted when it is dropped, even if
/// the test failed.
struct Ctx {
    url: String,
    prefix: String,
}

macro_rules! ctx_or_skip {
    () => {
        match redis_url() {
            Some(url) => Ctx::new(url),
            None => {
                println!("skipped: set LAPOR_TEST_REDIS_URL");
                return;
            }
        }
    };
}

impl Ctx {
    fn new(url: String) -> Self {
        Self {
            url,
            prefix: format!("lapor-test-{}", uuid::Uuid::new_v4()),
        }
    }

    async fn bus(&self, consumer: &str) -> RedisBus {
        self.bus_with(consumer, RedisBusSettings::default()).await
    }

    async fn bus_with(&self, consumer: &str, settings: RedisBusSettings) -> RedisBus {
        RedisBus::connect(&self.url, &self.prefix, consumer, settings)
            .await
            .expect("connect")
    }

    fn stream(&self) -> String {
        format!("{}:events", self.prefix)
    }

    async fn raw<T: redis::FromRedisValue>(&self, c: &redis::Cmd) -> T {
        let client = redis::Client::open(self.url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        c.query_async(&mut conn).await.unwrap()
    }

    async fn xlen(&self) -> i64 {
        self.raw(redis::cmd("XLEN").arg(self.stream())).await
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(2)) else {
            return;
        };
        let mut cursor: u64 = 0;
        loop {
            let Ok((next, keys)): redis::RedisResult<(u64, Vec<String>)> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}:*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query(&mut conn)
            else {
                return;
            };
            if !keys.is_empty() {
                let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&keys).query(&mut conn);
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
}

fn events(n: usize) -> Vec<EventEnvelope> {
    let now = time::OffsetDateTime::now_utc();
    let report = ReportId::new_v7();
    (1..=n)
        .map(|i| {
            DomainEvent::ReportUpvoted(ReportUpvoted {
                report_id: report,
                voter_user_id: UserId::new_v7(),
                vote_count: i as i64,
                created_at: now,
            })
            .into_envelope(now)
        })
        .collect()
}

fn ids(ds: &[Delivery]) -> Vec<EventId> {
    ds.iter().map(|d| d.event.event_id).collect()
}

fn env_ids(es: &[EventEnvelope]) -> Vec<EventId> {
    es.iter().map(|e| e.event_id).collect()
}

fn claim_fast() -> RedisBusSettings {
    RedisBusSettings {
        claim_after: Duration::from_millis(100),
        ..RedisBusSettings::default()
    }
}

#[tokio::test]
async fn publish_then_fetch_and_ack_in_order() {
    let ctx = ctx_or_skip!();
    let bus = ctx.bus("c1").await;
    let evs = events(5);
    bus.publish(&evs[..2]).await.unwrap();
    bus.publish(&evs[2..]).await.unwrap();

    let got = bus.fetch("projector:read", 10).await.unwrap();
    assert_eq!(ids(&got), env_ids(&evs));
    assert_eq!(got[0].event, evs[0], "the envelope round-trips");
    bus.ack("projector:read", &got).await.unwrap();

    assert!(bus.fetch("projector:read", 10).await.unwrap().is_empty());
    assert_eq!(bus.published().await.unwrap(), 5);

    // A small batch size is honoured.
    bus.publish(&events(3)).await.unwrap();
    assert_eq!(bus.fetch("projector:read", 2).await.unwrap().len(), 2);
}

#[tokio::test]
async fn republished_and_concurrently_published_events_land_once() {
    let ctx = ctx_or_skip!();
    let a = ctx.bus("relay-a").await;
    let b = ctx.bus("relay-b").await;

    // A relay that crashed after publishing 3 republishes them with 2 more.
    let evs = events(5);
    a.publish(&evs[..3]).await.unwrap();
    a.publish(&evs).await.unwrap();
    a.publish(&evs).await.unwrap();

    // Two relays publishing the same batch at the same time, repeatedly.
    let more = events(20);
    for _ in 0..10 {
        let (x, y) = tokio::join!(a.publish(&more), b.publish(&more));
        x.unwrap();
        y.unwrap();
    }

    assert_eq!(ctx.xlen().await, 25);
    let got = a.fetch("operations", 100).await.unwrap();
    let expected: Vec<_> = env_ids(&evs).into_iter().chain(env_ids(&more)).collect();
    assert_eq!(ids(&got), expected);
    assert_eq!(a.published().await.unwrap(), 25);
    let dups: i64 = ctx
        .raw(redis::cmd("GET").arg(format!("{}:counters:duplicates", ctx.prefix)))
        .await;
    assert_eq!(dups, 3 + 5 + (20 * 20 - 20));
    let ttl: i64 = ctx
        .raw(redis::cmd("TTL").arg(format!("{}:published:{}", ctx.prefix, evs[0].event_id)))
        .await;
    assert!(
        ttl > 6 * 24 * 3600,
        "dedupe marker expires after ~7 days, got {ttl}"
    );
}

#[tokio::test]
async fn every_group_gets_every_event() {
    let ctx = ctx_or_skip!();
    let bus = ctx.bus("c1").await;
    let evs = events(4);
    bus.publish(&evs).await.unwrap();

    let read = bus.fetch("projector:read", 10).await.unwrap();
    bus.ack("projector:read", &read).await.unwrap();
    let wf = bus.fetch("workflow", 10).await.unwrap();
    assert_eq!(ids(&read), env_ids(&evs));
    assert_eq!(ids(&wf), env_ids(&evs));
    // One group's ack does not move the other.
    assert!(bus.fetch("projector:read", 10).await.unwrap().is_empty());
    let again = ctx.bus("c1").await.fetch("workflow", 10).await.unwrap();
    assert_eq!(ids(&again), env_ids(&evs), "still pending for workflow");
}

#[tokio::test]
async fn entries_left_by_a_dead_consumer_are_claimed() {
    let ctx = ctx_or_skip!();
    let dead = ctx.bus_with("dead", claim_fast()).await;
    let live = ctx.bus_with("live", claim_fast()).await;
    let evs = events(4);
    dead.publish(&evs).await.unwrap();

    let taken = dead.fetch("workflow", 3).await.unwrap();
    assert_eq!(ids(&taken), env_ids(&evs[..3]));
    // Not idle long enough yet: the live consumer only gets the new one.
    let first = live.fetch("workflow", 10).await.unwrap();
    assert_eq!(ids(&first), env_ids(&evs[3..]));
    live.ack("workflow", &first).await.unwrap();

    tokio::time::sleep(Duration::from_millis(150)).await;
    let claimed = live.fetch("workflow", 10).await.unwrap();
    assert_eq!(ids(&claimed), env_ids(&evs[..3]));
    assert_eq!(
        claimed.iter().map(|d| &d.tag).collect::<Vec<_>>(),
        taken.iter().map(|d| &d.tag).collect::<Vec<_>>(),
        "same stream entries"
    );
    live.ack("workflow", &claimed).await.unwrap();
    assert!(live.fetch("workflow", 10).await.unwrap().is_empty());
    assert_eq!(live.lag().await.unwrap()[0].pending, 0);

    // The dead consumer owns nothing any more and can be forgotten.
    assert_eq!(live.prune_consumers(Duration::ZERO).await.unwrap(), 1);
    let consumers: Value = ctx
        .raw(
            redis::cmd("XINFO")
                .arg("CONSUMERS")
                .arg(ctx.stream())
                .arg("workflow"),
        )
        .await;
    assert!(matches!(consumers, Value::Array(ref c) if c.len() == 1));
}

#[tokio::test]
async fn a_restarted_consumer_gets_its_own_pending_entries_first() {
    let ctx = ctx_or_skip!();
    let evs = events(6);
    let first_run = ctx.bus("instance-1").await;
    first_run.publish(&evs[..4]).await.unwrap();
    let before = first_run.fetch("operations", 2).await.unwrap();
    assert_eq!(ids(&before), env_ids(&evs[..2]));
    drop(first_run); // "crashed" before acknowledging

    let restarted = ctx.bus("instance-1").await;
    restarted.publish(&evs[4..]).await.unwrap();
    let got = restarted.fetch("operations", 3).await.unwrap();
    assert_eq!(
        ids(&got),
        env_ids(&evs[..3]),
        "own pending entries, then new"
    );
    assert_eq!(got[0].tag, before[0].tag);
    restarted.ack("operations", &got).await.unwrap();
    let rest = restarted.fetch("operations", 10).await.unwrap();
    assert_eq!(ids(&rest), env_ids(&evs[3..]));
}

#[tokio::test]
async fn reset_group_redelivers_everything() {
    let ctx = ctx_or_skip!();
    let bus = ctx.bus("c1").await;
    let evs = events(3);
    bus.publish(&evs).await.unwrap();
    let got = bus.fetch("projector:read", 10).await.unwrap();
    bus.ack("projector:read", &got).await.unwrap();
    assert!(bus.fetch("projector:read", 10).await.unwrap().is_empty());

    bus.reset_group("projector:read").await.unwrap();
    let again = bus.fetch("projector:read", 10).await.unwrap();
    assert_eq!(ids(&again), env_ids(&evs));
    let lag = bus.lag().await.unwrap();
    assert_eq!(lag[0].pending, 3);

    // Resetting a group that never existed creates it at the start.
    bus.reset_group("fresh").await.unwrap();
    assert_eq!(bus.fetch("fresh", 10).await.unwrap().len(), 3);
}

#[tokio::test]
async fn wait_wakes_on_publish_and_otherwise_times_out() {
    let ctx = ctx_or_skip!();
    let bus = ctx.bus("consumer").await;
    let publisher = ctx.bus("relay").await;
    assert!(bus.fetch("workflow", 10).await.unwrap().is_empty());

    // Nothing to do: about the timeout.
    let t = Instant::now();
    bus.wait("workflow", Duration::from_millis(400)).await;
    let idle = t.elapsed();
    assert!(
        idle >= Duration::from_millis(350) && idle < Duration::from_millis(1500),
        "idle wait took {idle:?}"
    );

    // A publish from another task wakes it promptly.
    let evs = events(2);
    let task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        publisher.publish(&evs).await.unwrap();
        Instant::now()
    });
    let t = Instant::now();
    bus.wait("workflow", Duration::from_secs(5)).await;
    let woke = Instant::now();
    let published = task.await.unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "waited {:?}",
        t.elapsed()
    );
    let delay = woke.saturating_duration_since(published);
    assert!(
        delay < Duration::from_millis(100),
        "woke {delay:?} after publish"
    );

    // Unread entries: returns at once.
    let t = Instant::now();
    bus.wait("workflow", Duration::from_secs(5)).await;
    assert!(t.elapsed() < Duration::from_millis(200));

    // Fetched but not acknowledged (own pending): returns at once too.
    let got = bus.fetch("workflow", 10).await.unwrap();
    assert_eq!(got.len(), 2);
    let t = Instant::now();
    bus.wait("workflow", Duration::from_secs(5)).await;
    assert!(t.elapsed() < Duration::from_millis(200));

    // Acknowledged: back to waiting the timeout.
    bus.ack("workflow", &got).await.unwrap();
    let t = Instant::now();
    bus.wait("workflow", Duration::from_millis(300)).await;
    assert!(t.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn lag_reports_position_and_backlog() {
    let ctx = ctx_or_skip!();
    let bus = ctx.bus("c1").await;
    assert!(bus.lag().await.unwrap().is_empty(), "no stream, no groups");
    bus.publish(&events(5)).await.unwrap();

    let two = bus.fetch("projector:read", 2).await.unwrap();
    let one = bus.fetch("workflow", 1).await.unwrap();
    let lag = bus.lag().await.unwrap();
    assert_eq!(lag.len(), 2);
    assert_eq!(lag[0].group, "projector:read");
    assert_eq!(lag[0].position, two[1].tag);
    assert_eq!(lag[0].pending, 5, "3 undelivered + 2 unacknowledged");
    assert_eq!(lag[1].group, "workflow");
    assert_eq!(lag[1].pending, 5);

    bus.ack("projector:read", &two).await.unwrap();
    bus.ack("workflow", &one).await.unwrap();
    let lag = bus.lag().await.unwrap();
    assert_eq!(lag[0].pending, 3);
    assert_eq!(lag[1].pending, 4);

    let rest = bus.fetch("projector:read", 10).await.unwrap();
    bus.ack("projector:read", &rest).await.unwrap();
    let lag = bus.lag().await.unwrap();
    assert_eq!(lag[0].pending, 0);
    assert_eq!(lag[0].position, rest.last().unwrap().tag);

    // An entry deleted by hand in the middle of workflow's backlog: Redis
    // no longer knows the lag, and the bus counts it instead.
    let _: i64 = ctx
        .raw(redis::cmd("XDEL").arg(ctx.stream()).arg(&rest[1].tag))
        .await;
    let lag = bus.lag().await.unwrap();
    assert_eq!(lag[1].pending, 3, "of 4 undelivered, one was deleted");

    // After a trim and a reset, the backlog is what is left in the stream.
    let wf = bus.fetch("workflow", 10).await.unwrap();
    bus.ack("workflow", &wf).await.unwrap();
    assert_eq!(bus.trim().await.unwrap(), 4);
    bus.publish(&events(2)).await.unwrap();
    bus.reset_group("workflow").await.unwrap();
    let lag = bus.lag().await.unwrap();
    assert_eq!(lag[1].pending, 2);
    assert_eq!(bus.fetch("workflow", 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn trim_keeps_unacknowledged_entries_and_removes_acknowledged_ones() {
    let ctx = ctx_or_skip!();
    let bus = ctx.bus("c1").await;
    let evs = events(6);
    bus.publish(&evs).await.unwrap();
    assert_eq!(bus.trim().await.unwrap(), 0, "no groups: nothing trimmed");
    assert_eq!(ctx.xlen().await, 6);

    let a = bus.fetch("projector:read", 10).await.unwrap();
    bus.ack("projector:read", &a).await.unwrap();
    let b = bus.fetch("workflow", 4).await.unwrap();
    bus.ack("workflow", &b[..2]).await.unwrap();

    // workflow still needs entries 3 and 4 (pending) and 5, 6 (undelivered).
    assert_eq!(bus.trim().await.unwrap(), 2);
    assert_eq!(ctx.xlen().await, 4);
    let pending = ctx.bus("c1").await.fetch("workflow", 10).await.unwrap();
    assert_eq!(ids(&pending), env_ids(&evs[2..]));

    bus.ack("workflow", &pending).await.unwrap();
    assert_eq!(bus.trim().await.unwrap(), 4);
    assert_eq!(ctx.xlen().await, 0);
    assert_eq!(bus.trim().await.unwrap(), 0);

    // A group reset to the start pins everything from its pending entries.
    bus.publish(&events(2)).await.unwrap();
    let x = bus.fetch("projector:read", 10).await.unwrap();
    assert_eq!(x.len(), 2);
    bus.reset_group("workflow").await.unwrap();
    assert_eq!(bus.trim().await.unwrap(), 0);
    assert_eq!(ctx.xlen().await, 2);
}

#[tokio::test]
async fn max_len_hint_trims_only_acknowledged_entries() {
    let ctx = ctx_or_skip!();
    let settings = RedisBusSettings {
        max_len_hint: Some(3),
        ..RedisBusSettings::default()
    };
    let bus = ctx.bus_with("c1", settings).await;
    bus.publish(&events(5)).await.unwrap();
    assert_eq!(ctx.xlen().await, 5, "no group has acknowledged anything");
    let got = bus.fetch("reporting", 10).await.unwrap();
    bus.ack("reporting", &got[..4]).await.unwrap();
    bus.publish(&events(1)).await.unwrap();
    assert_eq!(
        ctx.xlen().await,
        2,
        "the unacknowledged 5th and the new one"
    );
}

#[tokio::test]
async fn undeliverable_entries_are_acknowledged_and_skipped() {
    let ctx = ctx_or_skip!();
    let bus = ctx.bus("c1").await;
    let evs = events(2);
    bus.publish(&evs[..1]).await.unwrap();
    let _: String = ctx
        .raw(
            redis::cmd("XADD")
                .arg(ctx.stream())
                .arg("*")
                .arg("event_id")
                .arg("x")
                .arg("envelope")
                .arg("{not json"),
        )
        .await;
    bus.publish(&evs[1..]).await.unwrap();

    let got = bus.fetch("operations", 10).await.unwrap();
    assert_eq!(ids(&got), env_ids(&evs));
    bus.ack("operations", &got).await.unwrap();
    let lag = bus.lag().await.unwrap();
    assert_eq!(lag[0].pending, 0, "the bad entry was acknowledged");
    assert!(bus.fetch("operations", 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn unreachable_redis_is_unavailable_quickly() {
    // Gated like the others so a plain `cargo test` stays quiet.
    let Some(_) = redis_url() else {
        println!("skipped: set LAPOR_TEST_REDIS_URL");
        return;
    };
    let t = Instant::now();
    let bus = RedisBus::connect(
        "redis://127.0.0.1:1",
        "lapor-test-unreachable",
        "c1",
        RedisBusSettings::default(),
    )
    .await
    .expect("connecting does not need Redis up");
    let unavailable = |r: Result<(), BusError>| {
        assert!(matches!(r, Err(BusError::Unavailable(_))), "{r:?}");
    };
    unavailable(bus.publish(&events(1)).await);
    unavailable(bus.fetch("g", 10).await.map(|_| ()));
    let delivery = Delivery {
        tag: "1-0".to_owned(),
        event: events(1).remove(0),
    };
    unavailable(bus.ack("g", &[delivery]).await);
    unavailable(bus.reset_group("g").await);
    unavailable(bus.lag().await.map(|_| ()));
    unavailable(bus.published().await.map(|_| ()));
    unavailable(bus.trim().await.map(|_| ()));
    unavailable(bus.ping().await);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );

    let t = Instant::now();
    bus.wait("g", Duration::from_millis(200)).await;
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(3),
        "wait with Redis down took {waited:?}"
    );
}

#[tokio::test]
async fn a_hung_redis_times_out_instead_of_hanging_callers() {
    let Some(_) = redis_url() else {
        println!("skipped: set LAPOR_TEST_REDIS_URL");
        return;
    };
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let settings = RedisBusSettings {
        command_timeout: Duration::from_millis(300),
        ..RedisBusSettings::default()
    };
    let url = format!("redis://127.0.0.1:{port}");
    let bus = RedisBus::connect(&url, "lapor-test-hung", "c1", settings)
        .await
        .unwrap();
    let t = Instant::now();
    let r = bus.publish(&events(1)).await;
    assert!(matches!(r, Err(BusError::Unavailable(_))), "{r:?}");
    let r = bus.fetch("g", 10).await;
    assert!(matches!(r, Err(BusError::Unavailable(_))), "{r:?}");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    let t = Instant::now();
    bus.wait("g", Duration::from_millis(500)).await;
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "wait took {:?}",
        t.elapsed()
    );
    silent.abort();
}

/// Stops and restarts a private `redis-server` (if installed) to show the
/// bus reports the outage and recovers without being rebuilt.
#[tokio::test]
async fn recovers_when_redis_comes_back() {
    let Some(_) = redis_url() else {
        println!("skipped: set LAPOR_TEST_REDIS_URL");
        return;
    };
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("skipped: no redis-server binary to restart");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let start = || {
        std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start redis-server")
    };
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    async fn until_ok(bus: &RedisBus) {
        let t = Instant::now();
        while bus.ping().await.is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "Redis did not come back"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let server = Server(start());
    let url = format!("redis://127.0.0.1:{port}");
    let bus = RedisBus::connect(&url, "lapor-restart", "c1", RedisBusSettings::default())
        .await
        .unwrap();
    until_ok(&bus).await;
    bus.publish(&events(1)).await.unwrap();
    assert_eq!(bus.fetch("g", 10).await.unwrap().len(), 1);

    drop(server);
    let t = Instant::now();
    let r = bus.publish(&events(1)).await;
    assert!(matches!(r, Err(BusError::Unavailable(_))), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(5));

    let _server = Server(start());
    until_ok(&bus).await;
    // The server came back empty; the bus recreates its group by itself.
    bus.publish(&events(2)).await.unwrap();
    assert_eq!(bus.fetch("g", 10).await.unwrap().len(), 2);
}
