//! The outbox and applied-events helpers every context shares.

use crate::db::{Db, SqlResultExt};
use lapor_app::clock::millis;
use lapor_app::ports::{OutboxEvent, StoreError, StoreResult};
use lapor_domain::events::EventEnvelope;
use rusqlite::{Connection, params};

/// Appends an event inside the caller's transaction.
pub fn append(conn: &Connection, event: &EventEnvelope) -> StoreResult<()> {
    let json = serde_json::to_string(event).map_err(|e| StoreError::Other(e.into()))?;
    conn.prepare_cached("INSERT INTO outbox (event_id, event_type, report_id, envelope, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
        .store()?
        .execute(params![
            event.event_id.to_string(),
            event.event_type,
            event.report_id.to_string(),
            json,
            millis(event.timestamp)
        ])
        .store()?;
    Ok(())
}

fn rows(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> StoreResult<Vec<OutboxEvent>> {
    crate::db::collect(conn, sql, p, |r| {
        let env: String = r.get(1).store()?;
        Ok(OutboxEvent {
            seq: r.get(0).store()?,
            event: serde_json::from_str(&env).map_err(|e| StoreError::Other(e.into()))?,
        })
    })
}

pub async fn unrelayed(db: &Db, limit: i64) -> StoreResult<Vec<OutboxEvent>> {
    db.read(|c| {
        rows(
            c,
            "SELECT seq, envelope FROM outbox WHERE relayed = 0 ORDER BY seq LIMIT ?1",
            [limit],
        )
    })
}

pub async fn mark_relayed(db: &Db, seqs: &[i64]) -> StoreResult<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let seqs = seqs.to_vec();
    db.write(move |c| {
        let mut st = c
            .prepare_cached("UPDATE outbox SET relayed = 1 WHERE seq = ?1")
            .store()?;
        for s in seqs {
            st.execute([s]).store()?;
        }
        Ok(())
    })
    .await
}

pub async fn replay(db: &Db, after_seq: i64, limit: i64) -> StoreResult<Vec<OutboxEvent>> {
    db.read_blocking(move |c| {
        rows(
            c,
            "SELECT seq, envelope FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            [after_seq, limit],
        )
    })
    .await
}

pub async fn unrelayed_count(db: &Db) -> StoreResult<i64> {
    db.read(|c| {
        c.prepare_cached("SELECT count(*) FROM outbox WHERE relayed = 0")
            .store()?
            .query_row([], |r| r.get(0))
            .store()
    })
}

/// The events a consumer acts on (its reaction's `reacts_to`): the others
/// are left out before any transaction, so a batch of only those costs no
/// write at all (they would only have been recorded as applied).
pub fn relevant(events: &[EventEnvelope], reacts_to: fn(&str) -> bool) -> Vec<EventEnvelope> {
    events
        .iter()
        .filter(|e| reacts_to(&e.event_type))
        .cloned()
        .collect()
}

/// Records that `event` is being applied; false if it already was (then the
/// caller skips it). Must run inside the applying transaction.
/// Applies the events this consumer has not applied yet (by `event_id`, in
/// the same transaction); returns how many were new.
pub fn apply_new(
    conn: &Connection,
    events: &[EventEnvelope],
    apply: impl Fn(&Connection, &EventEnvelope) -> StoreResult<()>,
) -> StoreResult<usize> {
    let mut applied = 0;
    for e in events {
        if first_time(conn, e)? {
            apply(conn, e)?;
            applied += 1;
        }
    }
    Ok(applied)
}

pub fn first_time(conn: &Connection, event: &EventEnvelope) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO applied_events (event_id, applied_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )
        .store()?
        .execute(params![
            event.event_id.to_string(),
            millis(time::OffsetDateTime::now_utc())
        ])
        .store()?;
    Ok(n == 1)
}

macro_rules! impl_outbox {
    ($ty:ty, $name:literal) => {
        #[async_trait::async_trait]
        impl lapor_app::ports::Outbox for $ty {
            fn source(&self) -> &'static str {
                $name
            }
            async fn unrelayed(
                &self,
                limit: i64,
            ) -> lapor_app::ports::StoreResult<Vec<lapor_app::ports::OutboxEvent>> {
                crate::outbox::unrelayed(&self.db, limit).await
            }
            async fn mark_relayed(&self, seqs: &[i64]) -> lapor_app::ports::StoreResult<()> {
                crate::outbox::mark_relayed(&self.db, seqs).await
            }
            async fn unrelayed_count(&self) -> lapor_app::ports::StoreResult<i64> {
                crate::outbox::unrelayed_count(&self.db).await
            }
            async fn replay(
                &self,
                after_seq: i64,
                limit: i64,
            ) -> lapor_app::ports::StoreResult<Vec<lapor_app::ports::OutboxEvent>> {
                crate::outbox::replay(&self.db, after_seq, limit).await
            }
        }
    };
}
pub(crate) use impl_outbox;
