//! The reporting write side on PostgreSQL (schema `reporting`).
//!
//! What events cause here is decided by `lapor_app::reactions::reporting`:
//! this adapter loads the state a reaction reads, executes the writes it
//! returns and records the event as applied, in one transaction.

use crate::db::{Db, Exec, ExecScalar, parse};
use crate::outbox::{self, impl_outbox};
use async_trait::async_trait;
use lapor_app::clock::{from_millis, millis};
use lapor_app::ports::{
    EventConsumer, NewPhoto, ReportingStore, StoreError, StoreResult, UpvoteEvent,
};
use lapor_app::reactions::reporting::{self, ReportingWrite};
use lapor_domain::Timestamp;
use lapor_domain::events::EventEnvelope;
use lapor_domain::ids::{PhotoId, ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_domain::report::{Location, Report};
use sqlx::Row;
use sqlx::postgres::PgRow;

const SCHEMA: &str = "reporting";

pub struct PgReporting {
    pub(crate) db: Db,
    /// This instance's id as a relay of the outbox.
    pub(crate) relay: String,
}

impl PgReporting {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            relay: outbox::relay_id(),
        }
    }
}

impl_outbox!(PgReporting, "reporting", "reporting");

const COLS: &str = "id, owner, visibility, title, content, category, agency, lat, lon, address, status, withdrawn, vote_count, created_at, updated_at";

fn report(r: &PgRow) -> StoreResult<Report> {
    let lat: Option<f64> = r.get(7);
    let lon: Option<f64> = r.get(8);
    Ok(Report {
        id: parse(r.get::<&str, _>(0), "report id")?,
        owner: parse(r.get::<&str, _>(1), "owner")?,
        visibility: parse(r.get::<&str, _>(2), "visibility")?,
        title: r.get(3),
        content: r.get(4),
        category: lapor_domain::catalog::CategorySlug::parse(r.get::<&str, _>(5))
            .map_err(|e| StoreError::Other(e.into()))?,
        agency: parse(r.get::<&str, _>(6), "agency")?,
        location: match (lat, lon) {
            (Some(lat), Some(lon)) => Some(Location {
                lat,
                lon,
                address: r.get(9),
            }),
            _ => None,
        },
        status: parse(r.get::<&str, _>(10), "status")?,
        withdrawn: r.get::<i64, _>(11) != 0,
        vote_count: r.get(12),
        created_at: from_millis(r.get(13)),
        updated_at: from_millis(r.get(14)),
    })
}

#[async_trait]
impl ReportingStore for PgReporting {
    async fn insert_report(&self, r: &Report, event: &EventEnvelope) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO reporting.reports ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(r.id.to_string())
        .bind(r.owner.to_string())
        .bind(r.visibility.as_str())
        .bind(&r.title)
        .bind(&r.content)
        .bind(r.category.as_str())
        .bind(r.agency.as_str())
        .bind(r.location.as_ref().map(|l| l.lat))
        .bind(r.location.as_ref().map(|l| l.lon))
        .bind(r.location.as_ref().and_then(|l| l.address.clone()))
        .bind(r.status.as_str())
        .bind(r.withdrawn as i64)
        .bind(r.vote_count)
        .bind(millis(r.created_at))
        .bind(millis(r.updated_at))
        .execute_in(&mut tx)
        .await?;
        outbox::append(&mut tx, SCHEMA, event).await?;
        tx.commit().await
    }

    async fn report(&self, id: ReportId) -> StoreResult<Option<Report>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM reporting.reports WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional_on(&self.db)
        .await?;
        row.as_ref().map(report).transpose()
    }

    async fn update_report(
        &self,
        r: &Report,
        expected_updated_at: Timestamp,
        event: &EventEnvelope,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "UPDATE reporting.reports SET title = $1, content = $2, category = $3, agency = $4, lat = $5, lon = $6, address = $7, updated_at = $8 \
             WHERE id = $9 AND updated_at = $10 AND status = 'RECEIVED' AND withdrawn = 0",
        )
        .bind(&r.title)
        .bind(&r.content)
        .bind(r.category.as_str())
        .bind(r.agency.as_str())
        .bind(r.location.as_ref().map(|l| l.lat))
        .bind(r.location.as_ref().map(|l| l.lon))
        .bind(r.location.as_ref().and_then(|l| l.address.clone()))
        .bind(millis(r.updated_at))
        .bind(r.id.to_string())
        .bind(millis(expected_updated_at))
        .execute_in(&mut tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "the report changed meanwhile; reload and try again".into(),
            ));
        }
        outbox::append(&mut tx, SCHEMA, event).await?;
        tx.commit().await
    }

    async fn withdraw_report(&self, id: ReportId, event: &EventEnvelope) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "UPDATE reporting.reports SET withdrawn = 1, updated_at = $1 WHERE id = $2 AND withdrawn = 0 AND status IN ('RECEIVED', 'IN_PROGRESS')",
        )
        .bind(millis(event.timestamp))
        .bind(id.to_string())
        .execute_in(&mut tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "the report can no longer be withdrawn".into(),
            ));
        }
        outbox::append(&mut tx, SCHEMA, event).await?;
        tx.commit().await
    }

    async fn add_vote(
        &self,
        id: ReportId,
        voter: UserId,
        at: Timestamp,
        event: UpvoteEvent,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.db.begin().await?;
        let inserted = sqlx::query("INSERT INTO reporting.votes (report_id, voter_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(id.to_string())
            .bind(voter.to_string())
            .bind(millis(at))
            .execute_in(&mut tx)
            .await?;
        if inserted.rows_affected() == 0 {
            return Ok(None);
        }
        let count: i64 = sqlx::query_scalar(
            "UPDATE reporting.reports SET vote_count = vote_count + 1 WHERE id = $1 AND visibility = 'PUBLIC' AND withdrawn = 0 RETURNING vote_count",
        )
        .bind(id.to_string())
        .fetch_optional_in(&mut tx)
        .await?
        .ok_or_else(|| StoreError::Conflict("only live PUBLIC reports can be upvoted".into()))?;
        outbox::append(&mut tx, SCHEMA, &event(id, voter, count, at)).await?;
        tx.commit().await?;
        Ok(Some(count))
    }

    async fn count_reports(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT count(*) FROM reporting.reports")
            .fetch_one_on(&self.db)
            .await
    }

    async fn add_photos(
        &self,
        id: ReportId,
        photos: &[NewPhoto],
        max: usize,
        event: &EventEnvelope,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        // Locking the report serialises concurrent uploads to it, so the
        // count below cannot change before the commit.
        let editable: Option<i64> = sqlx::query_scalar(
            "SELECT 1::BIGINT FROM reporting.reports WHERE id = $1 AND status = 'RECEIVED' AND withdrawn = 0 FOR UPDATE",
        )
        .bind(id.to_string())
        .fetch_optional_in(&mut tx)
        .await?;
        if editable.is_none() {
            return Err(StoreError::Conflict(
                "photos can only be added while the report is RECEIVED".into(),
            ));
        }
        let existing: i64 =
            sqlx::query_scalar("SELECT count(*) FROM reporting.report_photos WHERE report_id = $1")
                .bind(id.to_string())
                .fetch_optional_in(&mut tx)
                .await?
                .unwrap_or(0);
        if existing as usize + photos.len() > max {
            return Err(StoreError::Conflict(format!(
                "a report has at most {max} photos: it has {existing}"
            )));
        }
        for p in photos {
            sqlx::query(
                "INSERT INTO reporting.report_photos (id, report_id, width, height, size_bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(p.id.to_string())
            .bind(id.to_string())
            .bind(i64::from(p.width))
            .bind(i64::from(p.height))
            .bind(p.bytes)
            .bind(millis(event.timestamp))
            .execute_in(&mut tx)
            .await?;
        }
        outbox::append(&mut tx, SCHEMA, event).await?;
        tx.commit().await
    }

    async fn photos(&self, id: ReportId) -> StoreResult<Vec<PhotoId>> {
        let rows =
            sqlx::query("SELECT id FROM reporting.report_photos WHERE report_id = $1 ORDER BY id")
                .bind(id.to_string())
                .fetch_all_on(&self.db)
                .await?;
        rows.iter()
            .map(|r| parse(r.get::<&str, _>(0), "photo id"))
            .collect()
    }
}

/// The reporting write side follows case status (owners may edit only while
/// RECEIVED, and withdraw only open reports).
#[async_trait]
impl EventConsumer for PgReporting {
    fn group(&self) -> String {
        "reporting".into()
    }

    async fn apply(&self, events: &[EventEnvelope], now: Timestamp) -> StoreResult<usize> {
        if !events.iter().any(|e| reporting::reacts_to(&e.event_type)) {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        let mut applied = 0;
        for e in events {
            if !reporting::reacts_to(&e.event_type)
                || !outbox::first_time(&mut tx, SCHEMA, e).await?
            {
                continue;
            }
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM reporting.reports WHERE id = $1")
                    .bind(e.report_id.to_string())
                    .fetch_optional_in(&mut tx)
                    .await?;
            let status: Option<Status> = status.map(|s| parse(&s, "status")).transpose()?;
            for w in reporting::react(e, status, now).into_writes(e)? {
                match w {
                    ReportingWrite::SetStatus(s) => {
                        sqlx::query("UPDATE reporting.reports SET status = $1 WHERE id = $2")
                            .bind(s.as_str())
                            .bind(e.report_id.to_string())
                            .execute_in(&mut tx)
                            .await?;
                    }
                }
            }
            applied += 1;
        }
        tx.commit().await?;
        Ok(applied)
    }
}
