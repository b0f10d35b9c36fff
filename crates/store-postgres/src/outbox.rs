//! The outbox and applied-events helpers every context shares.
//!
//! Several relays may run against one outbox (one per `lapor` instance with
//! the relay role). A relay *claims* the rows it is about to publish: in a
//! short transaction, serialised per outbox by a transaction-level advisory
//! lock (safe under PgBouncer transaction pooling), it reads the oldest
//! unrelayed rows and stamps them `claimed_by = <this relay>`,
//! `claimed_until = <server time + lease>`. It takes only the leading run of
//! rows that are unclaimed, claimed by itself or whose claim expired, and
//! stops at the first row another relay holds. So:
//!
//! * two relays do not publish the same rows at the same time (the second
//!   gets nothing until the first marks its rows relayed);
//! * events reach the bus in outbox order: no relay jumps ahead of a batch
//!   another relay is still publishing;
//! * nothing is lost: rows are marked relayed only after publishing; a relay
//!   that dies leaves a claim that expires after [`CLAIM_LEASE_MS`], and the
//!   next relay publishes the rows again. A relay slower than the lease may
//!   publish rows another relay has taken over: a duplicate the bus and the
//!   consumers' `applied_events` make invisible.
//!
//! Sequence numbers are taken at insert and become visible at commit, so a
//! lower `seq` can appear after a higher one. Rows are marked, not tracked
//! by position, so the relay simply publishes such a row on a later pass.
//! [`replay`] reads by position and therefore first waits for in-flight
//! writers (a `SHARE` lock on the outbox, held for one read).

use crate::db::{Db, Exec, ExecScalar, Tx};
use lapor_app::clock::millis;
use lapor_app::ports::{OutboxEvent, StoreError, StoreResult};
use lapor_domain::events::EventEnvelope;
use sqlx::Row;
use sqlx::postgres::PgRow;

/// How long a relay's claim on the rows it is publishing lasts. A relay
/// renews its claim each time it reads the rows again (after a failed
/// publish); another relay takes over only once it has expired.
pub const CLAIM_LEASE_MS: i64 = 15_000;

/// The database server's clock in unix milliseconds, so relays on machines
/// whose clocks differ agree on when a claim expires.
const NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// Appends an event inside the caller's transaction.
/// The PostgreSQL notification channel on which outbox appends are
/// announced (see `lapor serve`'s relay role).
pub const OUTBOX_CHANNEL: &str = "lapor_outbox";

pub async fn append(conn: &mut Tx, schema: &str, event: &EventEnvelope) -> StoreResult<()> {
    let json = serde_json::to_string(event).map_err(|e| StoreError::Other(e.into()))?;
    // The notification (delivered at commit) wakes relays in other
    // processes at once instead of at their next poll.
    sqlx::query(&format!(
        "WITH ins AS (INSERT INTO {schema}.outbox (event_id, event_type, report_id, envelope, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING seq) SELECT pg_notify('{OUTBOX_CHANNEL}', '{schema}') FROM ins"
    ))
        .bind(event.event_id.to_string())
        .bind(&event.event_type)
        .bind(event.report_id.to_string())
        .bind(json)
        .bind(millis(event.timestamp))
        .execute_in(conn)
        .await?;
    Ok(())
}

fn outbox_event(r: &PgRow) -> StoreResult<OutboxEvent> {
    let env: String = r.get("envelope");
    let event = serde_json::from_str(&env).map_err(|e| StoreError::Other(e.into()))?;
    Ok(OutboxEvent {
        seq: r.get("seq"),
        event,
    })
}

/// Claims and returns the oldest unrelayed rows for relay `relay` (see the
/// module doc).
pub async fn unrelayed(
    db: &Db,
    schema: &str,
    relay: &str,
    limit: i64,
) -> StoreResult<Vec<OutboxEvent>> {
    let mut tx = db.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("lapor:{schema}.outbox"))
        .execute_in(&mut tx)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT seq, envelope, claimed_by, claimed_until, {NOW_MS} AS now FROM {schema}.outbox \
         WHERE relayed = 0 ORDER BY seq LIMIT $1"
    ))
    .bind(limit)
    .fetch_all_in(&mut tx)
    .await?;
    let free = rows
        .iter()
        .take_while(|r| {
            let by: Option<&str> = r.get("claimed_by");
            let until: Option<i64> = r.get("claimed_until");
            let now: i64 = r.get("now");
            match (by, until) {
                (Some(by), Some(until)) => by == relay || until < now,
                _ => true,
            }
        })
        .count();
    let events = rows[..free]
        .iter()
        .map(outbox_event)
        .collect::<StoreResult<Vec<_>>>()?;
    if !events.is_empty() {
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        sqlx::query(&format!(
            "UPDATE {schema}.outbox SET claimed_by = $1, claimed_until = {NOW_MS} + $2 WHERE seq = ANY($3)"
        ))
        .bind(relay)
        .bind(CLAIM_LEASE_MS)
        .bind(&seqs)
        .execute_in(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(events)
}

pub async fn mark_relayed(db: &Db, schema: &str, seqs: &[i64]) -> StoreResult<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "UPDATE {schema}.outbox SET relayed = 1 WHERE seq = ANY($1)"
    ))
    .bind(seqs)
    .execute_on(db)
    .await?;
    Ok(())
}

/// Every event after `after_seq`, relayed or not. The `SHARE` lock waits
/// for transactions still inserting into the outbox (and holds off new ones
/// for the length of one read), so no row with a lower `seq` can commit
/// after this read returned a higher one: paging by `seq` misses nothing.
pub async fn replay(
    db: &Db,
    schema: &str,
    after_seq: i64,
    limit: i64,
) -> StoreResult<Vec<OutboxEvent>> {
    let mut tx = db.begin().await?;
    sqlx::query(&format!("LOCK TABLE {schema}.outbox IN SHARE MODE"))
        .execute_in(&mut tx)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT seq, envelope FROM {schema}.outbox WHERE seq > $1 ORDER BY seq LIMIT $2"
    ))
    .bind(after_seq)
    .bind(limit)
    .fetch_all_in(&mut tx)
    .await?;
    tx.commit().await?;
    rows.iter().map(outbox_event).collect()
}

pub async fn unrelayed_count(db: &Db, schema: &str) -> StoreResult<i64> {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {schema}.outbox WHERE relayed = 0"
    ))
    .fetch_one_on(db)
    .await
}

/// Records that `event` is being applied; false if it already was (then the
/// caller skips it). Must run inside the applying transaction. A concurrent
/// transaction applying the same event waits here until the first commits
/// (then skips it) or rolls back (then applies it).
pub async fn first_time(conn: &mut Tx, schema: &str, event: &EventEnvelope) -> StoreResult<bool> {
    let done = sqlx::query(&format!(
        "INSERT INTO {schema}.applied_events (event_id, applied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    ))
    .bind(event.event_id.to_string())
    .bind(millis(time::OffsetDateTime::now_utc()))
    .execute_in(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Implements [`lapor_app::ports::Outbox`] for a store with fields `db` and
/// `relay` (this process's relay id), on the outbox in schema `$schema`.
macro_rules! impl_outbox {
    ($ty:ty, $name:literal, $schema:literal) => {
        #[async_trait::async_trait]
        impl lapor_app::ports::Outbox for $ty {
            fn source(&self) -> &'static str {
                $name
            }
            async fn unrelayed(
                &self,
                limit: i64,
            ) -> lapor_app::ports::StoreResult<Vec<lapor_app::ports::OutboxEvent>> {
                crate::outbox::unrelayed(&self.db, $schema, &self.relay, limit).await
            }
            async fn mark_relayed(&self, seqs: &[i64]) -> lapor_app::ports::StoreResult<()> {
                crate::outbox::mark_relayed(&self.db, $schema, seqs).await
            }
            async fn unrelayed_count(&self) -> lapor_app::ports::StoreResult<i64> {
                crate::outbox::unrelayed_count(&self.db, $schema).await
            }
            async fn replay(
                &self,
                after_seq: i64,
                limit: i64,
            ) -> lapor_app::ports::StoreResult<Vec<lapor_app::ports::OutboxEvent>> {
                crate::outbox::replay(&self.db, $schema, after_seq, limit).await
            }
        }
    };
}
pub(crate) use impl_outbox;

/// A fresh relay id for a store instance.
pub fn relay_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
