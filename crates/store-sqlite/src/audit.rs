//! The audit trail on SQLite (`audit_log` in `identity.db`). Appending reads
//! the head and inserts on the file's single writer, so entries chain one
//! after another without a fork.

use crate::db::{Sql, SqlResultExt, collect, parse, text};
use crate::identity::SqliteIdentity;
use async_trait::async_trait;
use lapor_app::clock::{from_millis, millis};
use lapor_app::ports::{AuditFilter, AuditLog, StoreError, StoreResult};
use lapor_domain::audit::{AuditEntry, NewAuditEntry, canonical_json, link};
use rusqlite::{OptionalExtension, Row, params};

const COLS: &str = "seq, at, actor, action, target, details, prev_hash, hash";

fn entry(r: &Row<'_>) -> StoreResult<AuditEntry> {
    let seq: i64 = r.get(0).store()?;
    let what = |w: &str| format!("audit entry {seq}: {w}");
    let details = text(r, 5)?;
    Ok(AuditEntry {
        seq,
        at: from_millis(r.get(1).store()?),
        actor: parse(&text(r, 2)?, &what("actor"))?,
        action: parse(&text(r, 3)?, &what("action"))?,
        target: r.get(4).store()?,
        details: serde_json::from_str(&details)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("{}: {e}", what("details"))))?,
        prev_hash: text(r, 6)?,
        hash: text(r, 7)?,
    })
}

#[async_trait]
impl AuditLog for SqliteIdentity {
    async fn append(&self, new: &NewAuditEntry) -> StoreResult<AuditEntry> {
        let new = new.clone();
        self.db
            .write(move |c| {
                let head: Option<(i64, String)> = c
                    .query_row(
                        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .store()?;
                let e = link(head.as_ref().map(|(s, h)| (*s, h.as_str())), new);
                c.prepare_cached(&format!(
                    "INSERT INTO audit_log ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ))
                .store()?
                .execute(params![
                    e.seq,
                    millis(e.at),
                    e.actor.to_string(),
                    e.action.as_str(),
                    e.target,
                    canonical_json(&e.details),
                    e.prev_hash,
                    e.hash
                ])
                .store()?;
                Ok(e)
            })
            .await
    }

    async fn list(&self, f: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let mut q = Sql::new(&format!("SELECT {COLS} FROM audit_log WHERE 1 = 1"));
        if let Some(a) = f.actor {
            q.push(" AND actor = ").bind(a.to_string());
        }
        if let Some(a) = f.action {
            q.push(" AND action = ").bind(a.as_str().to_owned());
        }
        if let Some(t) = f.from {
            q.push(" AND at >= ").bind(millis(t));
        }
        if let Some(t) = f.to {
            q.push(" AND at < ").bind(millis(t));
        }
        if let Some(s) = f.before_seq {
            q.push(" AND seq < ").bind(s);
        }
        q.push(" ORDER BY seq DESC LIMIT ").bind(f.limit);
        self.db.read(|c| collect(c, &q.sql, q.params(), entry))
    }

    async fn all_in_order(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        self.db.read(|c| {
            collect(
                c,
                &format!("SELECT {COLS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
                params![after_seq, limit],
                entry,
            )
        })
    }
}
