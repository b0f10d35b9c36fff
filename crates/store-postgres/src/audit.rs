//! The audit trail on PostgreSQL (`identity.audit_log`). Appending takes a
//! transaction-scoped advisory lock before reading the head, so instances
//! appending at once queue and each chains after the one before: the chain
//! never forks, and seq stays gapless (no sequence, whose values a rolled
//! back transaction would skip).

use crate::db::{Exec, parse};
use crate::identity::PgIdentity;
use async_trait::async_trait;
use lapor_app::clock::{from_millis, millis};
use lapor_app::ports::{AuditFilter, AuditLog, StoreError, StoreResult};
use lapor_domain::audit::{AuditEntry, NewAuditEntry, canonical_json, link};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

const COLS: &str = "seq, at, actor, action, target, details, prev_hash, hash";

fn entry(r: &PgRow) -> StoreResult<AuditEntry> {
    let seq: i64 = r.get(0);
    let what = |w: &str| format!("audit entry {seq}: {w}");
    let details: &str = r.get(5);
    Ok(AuditEntry {
        seq,
        at: from_millis(r.get(1)),
        actor: parse(r.get::<&str, _>(2), &what("actor"))?,
        action: parse(r.get::<&str, _>(3), &what("action"))?,
        target: r.get(4),
        details: serde_json::from_str(details)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("{}: {e}", what("details"))))?,
        prev_hash: r.get(6),
        hash: r.get(7),
    })
}

#[async_trait]
impl AuditLog for PgIdentity {
    async fn append(&self, new: &NewAuditEntry) -> StoreResult<AuditEntry> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended('lapor:identity.audit_log', 0))",
        )
        .execute_in(&mut tx)
        .await?;
        let head =
            sqlx::query("SELECT seq, hash FROM identity.audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional_in(&mut tx)
                .await?;
        let head = head.map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)));
        let e = link(head.as_ref().map(|(s, h)| (*s, h.as_str())), new.clone());
        sqlx::query(&format!(
            "INSERT INTO identity.audit_log ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(e.seq)
        .bind(millis(e.at))
        .bind(e.actor.to_string())
        .bind(e.action.as_str())
        .bind(&e.target)
        .bind(canonical_json(&e.details))
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .execute_in(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    async fn list(&self, f: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "SELECT {COLS} FROM identity.audit_log WHERE TRUE"
        ));
        if let Some(a) = f.actor {
            qb.push(" AND actor = ").push_bind(a.to_string());
        }
        if let Some(a) = f.action {
            qb.push(" AND action = ").push_bind(a.as_str());
        }
        if let Some(t) = f.from {
            qb.push(" AND at >= ").push_bind(millis(t));
        }
        if let Some(t) = f.to {
            qb.push(" AND at < ").push_bind(millis(t));
        }
        if let Some(s) = f.before_seq {
            qb.push(" AND seq < ").push_bind(s);
        }
        qb.push(" ORDER BY seq DESC LIMIT ").push_bind(f.limit);
        qb.build()
            .fetch_all_on(&self.db)
            .await?
            .iter()
            .map(entry)
            .collect()
    }

    async fn all_in_order(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        sqlx::query(&format!(
            "SELECT {COLS} FROM identity.audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after_seq)
        .bind(limit)
        .fetch_all_on(&self.db)
        .await?
        .iter()
        .map(entry)
        .collect()
    }
}
