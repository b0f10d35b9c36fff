//! The outbox and applied-events helpers every context shares.

use crate::db::{Db, SqlxResultExt};
use lapor_app::clock::millis;
use lapor_app::ports::{OutboxEvent, StoreError, StoreResult};
use lapor_domain::events::EventEnvelope;
use sqlx::{Row, SqliteConnection};

/// Appends an event inside the caller's transaction.
pub async fn append(conn: &mut SqliteConnection, event: &EventEnvelope) -> StoreResult<()> {
    let json = serde_json::to_string(event).map_err(|e| StoreError::Other(e.into()))?;
    sqlx::query("INSERT INTO outbox (event_id, event_type, report_id, envelope, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(event.event_id.to_string())
        .bind(&event.event_type)
        .bind(event.report_id.to_string())
        .bind(json)
        .bind(millis(event.timestamp))
        .execute(conn)
        .await
        .store()?;
    Ok(())
}

pub async fn after(db: &Db, after_seq: i64, limit: i64) -> StoreResult<Vec<OutboxEvent>> {
    let rows = sqlx::query("SELECT seq, envelope FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&db.reader)
        .await
        .store()?;
    rows.into_iter()
        .map(|r| {
            let env: String = r.get(1);
            let event = serde_json::from_str(&env).map_err(|e| StoreError::Other(e.into()))?;
            Ok(OutboxEvent {
                seq: r.get(0),
                event,
            })
        })
        .collect()
}

pub async fn position(db: &Db) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT seq FROM relay_position WHERE id = 1")
        .fetch_one(&db.reader)
        .await
        .store()
}

pub async fn set_position(db: &Db, seq: i64) -> StoreResult<()> {
    // Never move backwards (two relays racing, or a stale one).
    sqlx::query("UPDATE relay_position SET seq = max(seq, $1) WHERE id = 1")
        .bind(seq)
        .execute(&db.writer)
        .await
        .store()?;
    Ok(())
}

/// Records that `event` is being applied; false if it already was (then the
/// caller skips it). Must run inside the applying transaction.
pub async fn first_time(conn: &mut SqliteConnection, event: &EventEnvelope) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO applied_events (event_id, applied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(event.event_id.to_string())
    .bind(millis(event.timestamp))
    .execute(conn)
    .await
    .store()?;
    Ok(done.rows_affected() == 1)
}

macro_rules! impl_outbox {
    ($ty:ty, $name:literal) => {
        #[async_trait::async_trait]
        impl lapor_app::ports::Outbox for $ty {
            fn source(&self) -> &'static str {
                $name
            }
            async fn outbox_after(
                &self,
                after_seq: i64,
                limit: i64,
            ) -> lapor_app::ports::StoreResult<Vec<lapor_app::ports::OutboxEvent>> {
                crate::outbox::after(&self.db, after_seq, limit).await
            }
            async fn relay_position(&self) -> lapor_app::ports::StoreResult<i64> {
                crate::outbox::position(&self.db).await
            }
            async fn set_relay_position(&self, seq: i64) -> lapor_app::ports::StoreResult<()> {
                crate::outbox::set_position(&self.db, seq).await
            }
        }
    };
}
pub(crate) use impl_outbox;
