//! The embedded event bus: a durable, ordered SQLite log (`eventlog.db`).
//!
//! * `events(seq, event_id UNIQUE, ...)`: every published event once;
//!   publishing an `event_id` again is ignored, so a relay that crashed
//!   after publishing but before marking its rows relayed creates no duplicate.
//! * `consumer_groups(name, acked_seq)`: each group's acknowledged position;
//!   a group fetches the events after it.
//!
//! New events wake waiting consumers through a `watch` channel (so delivery
//! takes microseconds, not a poll interval). Rebuilds replay the outboxes,
//! which keep every event, so this log may be pruned in the future.

use crate::db::{Db, SqlxResultExt};
use async_trait::async_trait;
use lapor_app::clock::millis;
use lapor_app::ports::{BusError, Delivery, EventBus, GroupLag, StoreError};
use lapor_domain::events::EventEnvelope;
use sqlx::Row;
use std::time::Duration;
use tokio::sync::watch;

pub struct SqliteBus {
    db: Db,
    head: watch::Sender<i64>,
}

fn bus_err(e: StoreError) -> BusError {
    match e {
        StoreError::Unavailable(m) => BusError::Unavailable(m),
        other => BusError::Other(anyhow::Error::new(other)),
    }
}

impl SqliteBus {
    pub async fn new(db: Db) -> anyhow::Result<Self> {
        let head: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM events")
            .fetch_one(&db.writer)
            .await?;
        Ok(Self {
            db,
            head: watch::channel(head).0,
        })
    }

    pub async fn close(&self) {
        self.db.close().await;
    }

    async fn acked(&self, group: &str) -> Result<i64, BusError> {
        let pos: Option<i64> =
            sqlx::query_scalar("SELECT acked_seq FROM consumer_groups WHERE name = $1")
                .bind(group)
                .fetch_optional(&self.db.writer)
                .await
                .store()
                .map_err(bus_err)?;
        match pos {
            Some(p) => Ok(p),
            None => {
                sqlx::query("INSERT INTO consumer_groups (name, acked_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING")
                    .bind(group)
                    .execute(&self.db.writer)
                    .await
                    .store()
                    .map_err(bus_err)?;
                Ok(0)
            }
        }
    }
}

#[async_trait]
impl EventBus for SqliteBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.writer.begin().await.store().map_err(bus_err)?;
        for e in events {
            let json = serde_json::to_string(e).map_err(|e| BusError::Other(e.into()))?;
            sqlx::query(
                "INSERT INTO events (event_id, event_type, report_id, envelope, published_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(e.event_id.to_string())
            .bind(&e.event_type)
            .bind(e.report_id.to_string())
            .bind(json)
            .bind(millis(time::OffsetDateTime::now_utc()))
            .execute(&mut *tx)
            .await
            .store()
            .map_err(bus_err)?;
        }
        let head: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM events")
            .fetch_one(&mut *tx)
            .await
            .store()
            .map_err(bus_err)?;
        tx.commit().await.store().map_err(bus_err)?;
        self.head.send_replace(head);
        Ok(())
    }

    async fn fetch(&self, group: &str, max: usize) -> Result<Vec<Delivery>, BusError> {
        let after = self.acked(group).await?;
        if after >= *self.head.borrow() {
            return Ok(vec![]);
        }
        let rows =
            sqlx::query("SELECT seq, envelope FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after)
                .bind(max as i64)
                .fetch_all(&self.db.reader)
                .await
                .store()
                .map_err(bus_err)?;
        rows.into_iter()
            .map(|r| {
                let seq: i64 = r.get(0);
                let env: String = r.get(1);
                let event = serde_json::from_str(&env).map_err(|e| BusError::Other(e.into()))?;
                Ok(Delivery {
                    tag: seq.to_string(),
                    event,
                })
            })
            .collect()
    }

    async fn ack(&self, group: &str, deliveries: &[Delivery]) -> Result<(), BusError> {
        let Some(last) = deliveries
            .iter()
            .filter_map(|d| d.tag.parse::<i64>().ok())
            .max()
        else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO consumer_groups (name, acked_seq) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET acked_seq = max(acked_seq, excluded.acked_seq)",
        )
        .bind(group)
        .bind(last)
        .execute(&self.db.writer)
        .await
        .store()
        .map_err(bus_err)?;
        Ok(())
    }

    async fn wait(&self, group: &str, timeout: Duration) {
        let Ok(acked) = self.acked(group).await else {
            tokio::time::sleep(timeout).await;
            return;
        };
        let mut rx = self.head.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|head| *head > acked)).await;
    }

    async fn reset_group(&self, group: &str) -> Result<(), BusError> {
        sqlx::query(
            "INSERT INTO consumer_groups (name, acked_seq) VALUES ($1, 0) ON CONFLICT (name) DO UPDATE SET acked_seq = 0",
        )
        .bind(group)
        .execute(&self.db.writer)
        .await
        .store()
        .map_err(bus_err)?;
        Ok(())
    }

    async fn lag(&self) -> Result<Vec<GroupLag>, BusError> {
        let head = *self.head.borrow();
        let rows = sqlx::query("SELECT name, acked_seq FROM consumer_groups ORDER BY name")
            .fetch_all(&self.db.writer)
            .await
            .store()
            .map_err(bus_err)?;
        Ok(rows
            .iter()
            .map(|r| {
                let pos: i64 = r.get(1);
                GroupLag {
                    group: r.get(0),
                    position: pos.to_string(),
                    pending: head - pos,
                }
            })
            .collect())
    }

    async fn published(&self) -> Result<i64, BusError> {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.db.reader)
            .await
            .store()
            .map_err(bus_err)
    }
}
