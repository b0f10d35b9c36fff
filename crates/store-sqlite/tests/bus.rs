//! The embedded event bus delivers every published event once per group, in
//! log order, whether it comes from the in-memory cache of recent events or
//! from the log itself (a lagging group, a rebuild, a restart).

use lapor_app::ports::EventBus;
use lapor_domain::events::EventEnvelope;
use lapor_domain::ids::{EventId, ReportId};
use lapor_store_sqlite::open_bus;
use std::collections::HashSet;
use std::sync::Arc;

fn event(n: u64) -> EventEnvelope {
    EventEnvelope {
        event_id: EventId::new_v7(),
        event_type: "report.upvoted".into(),
        report_id: ReportId(uuid::Uuid::from_u128(n as u128 + 1)),
        payload: serde_json::json!({ "n": n }),
        timestamp: time::OffsetDateTime::now_utc(),
        schema_version: 1,
        trace_id: None,
    }
}

fn n_of(e: &EventEnvelope) -> u64 {
    e.payload["n"].as_u64().unwrap()
}

/// Fetches and acknowledges everything a group can see; returns the events'
/// numbers and checks the delivery tags strictly increase.
async fn drain(bus: &dyn EventBus, group: &str, batch: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut last = 0i64;
    loop {
        let d = bus.fetch(group, batch).await.unwrap();
        if d.is_empty() {
            return out;
        }
        assert!(d.len() <= batch);
        for x in &d {
            let tag: i64 = x.tag.parse().unwrap();
            assert!(tag > last, "tags out of order: {tag} after {last}");
            last = tag;
            out.push(n_of(&x.event));
        }
        bus.ack(group, &d).await.unwrap();
    }
}

#[tokio::test]
async fn delivers_in_order_once_per_group_and_ignores_republished_events() {
    let dir = tempfile::tempdir().unwrap();
    let bus = open_bus(dir.path()).await.unwrap();
    let events: Vec<_> = (0..10).map(event).collect();
    bus.publish(&events[..6]).await.unwrap();
    // A relay that crashed before marking its rows relayed publishes again.
    bus.publish(&events[3..]).await.unwrap();
    assert_eq!(bus.published().await.unwrap(), 10);
    assert_eq!(
        drain(bus.as_ref(), "a", 4).await,
        (0..10).collect::<Vec<_>>()
    );
    assert_eq!(
        drain(bus.as_ref(), "b", 100).await,
        (0..10).collect::<Vec<_>>()
    );
    assert!(drain(bus.as_ref(), "a", 4).await.is_empty());
    // The payload arrives intact, whichever way it was read.
    let d = {
        bus.reset_group("a").await.unwrap();
        bus.fetch("a", 1).await.unwrap()
    };
    assert_eq!(d[0].event, events[0]);
    bus.close().await;
}

#[tokio::test]
async fn a_group_behind_the_cache_reads_the_log_and_positions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let bus = open_bus(dir.path()).await.unwrap();
    // More than the cache keeps (8,192), so the start is only in the log.
    let total = 9_000u64;
    for chunk in (0..total).collect::<Vec<_>>().chunks(500) {
        let events: Vec<_> = chunk.iter().map(|n| event(*n)).collect();
        bus.publish(&events).await.unwrap();
    }
    let got = drain(bus.as_ref(), "late", 700).await;
    assert_eq!(got, (0..total).collect::<Vec<_>>());
    // Half of another group's work, then a restart.
    let first = bus.fetch("half", 4_000).await.unwrap();
    bus.ack("half", &first).await.unwrap();
    bus.close().await;
    drop(bus);
    let bus = open_bus(dir.path()).await.unwrap();
    assert_eq!(
        drain(bus.as_ref(), "half", 1_000).await,
        (4_000..total).collect::<Vec<_>>()
    );
    assert!(drain(bus.as_ref(), "late", 10).await.is_empty());
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_publishers_lose_and_repeat_nothing_for_a_live_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let bus = open_bus(dir.path()).await.unwrap();
    let publishers = 8u64;
    let per = 300u64;
    let consumer = {
        let bus: Arc<dyn EventBus> = bus.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut last = 0i64;
            while (seen.len() as u64) < publishers * per {
                let d = bus.fetch("live", 17).await.unwrap();
                if d.is_empty() {
                    bus.wait("live", std::time::Duration::from_millis(20)).await;
                    continue;
                }
                for x in &d {
                    let tag: i64 = x.tag.parse().unwrap();
                    assert!(tag > last, "tags out of order: {tag} after {last}");
                    last = tag;
                    seen.push(n_of(&x.event));
                }
                bus.ack("live", &d).await.unwrap();
            }
            seen
        })
    };
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let bus = bus.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                // Batches of one to three, as relays publish them.
                if i % 3 == 0 {
                    let n = p * per + i;
                    let batch: Vec<_> = (n..(n + 3).min(p * per + per)).map(event).collect();
                    bus.publish(&batch).await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let seen = tokio::time::timeout(std::time::Duration::from_secs(30), consumer)
        .await
        .expect("the consumer saw every event")
        .unwrap();
    let unique: HashSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "an event was delivered twice");
    assert_eq!(unique, (0..publishers * per).collect::<HashSet<_>>());
    bus.close().await;
}
