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

pub async fn unrelayed(db: &Db, limit: i64) -> StoreResult<Vec<OutboxEvent>> {
    let rows =
        sqlx::query("SELECT seq, envelope FROM outbox WHERE relayed = 0 ORDER BY seq LIMIT $1")
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

pub async fn mark_relayed(db: &Db, seqs: &[i64]) -> StoreResult<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let mut qb =
        sqlx::QueryBuilder::<sqlx::Sqlite>::new("UPDATE outbox SET relayed = 1 WHERE seq IN (");
    let mut sep = qb.separated(", ");
    for s in seqs {
        sep.push_bind(*s);
    }
    qb.push(")");
    qb.build().execute(&db.writer).await.store()?;
    Ok(())
}

pub async fn replay(db: &Db, after_seq: i64, limit: i64) -> StoreResult<Vec<OutboxEvent>> {
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

pub async fn unrelayed_count(db: &Db) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE relayed = 0")
        .fetch_one(&db.reader)
        .await
        .store()
}

/// Records that `event` is being applied; false if it already was (then the
/// caller skips it). Must run inside the applying transaction.
pub async fn first_time(conn: &mut SqliteConnection, event: &EventEnvelope) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO applied_events (event_id, applied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(event.event_id.to_string())
    .bind(millis(time::OffsetDateTime::now_utc()))
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
