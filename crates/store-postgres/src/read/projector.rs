//! The projector on PostgreSQL: for each new event, load the report's
//! projected state (locking its row), ask [`read_model::react`] what to
//! write, and write it in the batch's transaction.
//!
//! Several projector instances may apply one group's events at once. The
//! row lock serialises the events of one existing report, so counters
//! cannot drift; votes and escalation levels only ever rise (`GREATEST`),
//! whatever the order; and a view inserted by another instance between our
//! read and our insert drops the rest of our `report.created` writes, as
//! the reaction would have decided had it seen the view.

use super::{COLS, PgRead, SCHEMA};
use crate::db::{Exec, Tx, parse};
use crate::outbox;
use async_trait::async_trait;
use lapor_app::clock::millis;
use lapor_app::ports::{EventConsumer, StoreResult};
use lapor_app::reactions::read_model::{self, ProjectedReport, ReadWrite};
use lapor_domain::Timestamp;
use lapor_domain::catalog::CategorySlug;
use lapor_domain::events::EventEnvelope;
use lapor_domain::ids::ReportId;
use lapor_domain::lifecycle::Status;
use lapor_domain::report::Location;
use sqlx::Row;

/// The projected state of a report, if it has a view, locking its row until
/// the applying transaction ends: two projector instances applying events
/// of one report at once are serialised here, as the single writer
/// serialises them on SQLite.
async fn projected(tx: &mut Tx, id: ReportId) -> StoreResult<Option<ProjectedReport>> {
    let row = sqlx::query(
        "SELECT category, status, withdrawn, owner, visibility, agency FROM reporting_read.report_views WHERE id = $1 FOR UPDATE",
    )
    .bind(id.to_string())
    .fetch_optional_in(tx)
    .await?;
    row.map(|r| {
        Ok(ProjectedReport {
            category: parse::<CategorySlug>(r.get::<&str, _>(0), "category")?,
            status: parse(r.get::<&str, _>(1), "status")?,
            withdrawn: r.get::<i64, _>(2) != 0,
            owner: parse(r.get::<&str, _>(3), "owner")?,
            visibility: parse(r.get::<&str, _>(4), "visibility")?,
            agency: parse(r.get::<&str, _>(5), "agency")?,
        })
    })
    .transpose()
}

/// Applies one event (not applied before) in the caller's transaction.
async fn project(tx: &mut Tx, e: &EventEnvelope, now: Timestamp) -> StoreResult<()> {
    // Ignored events need no state (and no row lock).
    let state = if !read_model::reacts_to(&e.event_type) {
        None
    } else {
        projected(tx, e.report_id).await?
    };
    for w in read_model::react(e, state.as_ref(), now).into_writes(e)? {
        if !execute(tx, &w).await? {
            break;
        }
    }
    Ok(())
}

fn status_column(s: Status) -> &'static str {
    match s {
        Status::Received => "received",
        Status::InProgress => "in_progress",
        Status::Resolved => "resolved",
        Status::Rejected => "rejected",
    }
}

/// Makes one write; false when the event's remaining writes must be
/// dropped (its view was inserted concurrently, see the module doc).
async fn execute(tx: &mut Tx, w: &ReadWrite) -> StoreResult<bool> {
    match w {
        ReadWrite::InsertView(v) => {
            let loc = v.location.as_ref();
            let inserted = sqlx::query(&format!(
                "INSERT INTO reporting_read.report_views ({COLS}, withdrawn) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, $12, $12, $12, 0) \
                 ON CONFLICT (id) DO NOTHING"
            ))
            .bind(v.report_id.to_string())
            .bind(v.owner.to_string())
            .bind(v.visibility.as_str())
            .bind(&v.title)
            .bind(&v.content)
            .bind(v.category.as_str())
            .bind(v.agency.as_str())
            .bind(loc.map(|l| l.lat))
            .bind(loc.map(|l| l.lon))
            .bind(loc.and_then(|l| l.address.clone()))
            .bind(v.status.as_str())
            .bind(millis(v.at))
            .execute_in(tx)
            .await?;
            return Ok(inserted.rows_affected() == 1);
        }
        ReadWrite::UpdateContent {
            report_id,
            title,
            content,
            category,
            agency,
            location,
            at,
        } => {
            let loc: Option<&Location> = location.as_ref();
            sqlx::query(
                "UPDATE reporting_read.report_views SET title = $1, content = $2, category = $3, agency = $4, lat = $5, lon = $6, address = $7, \
                 updated_at = $8 WHERE id = $9",
            )
            .bind(title)
            .bind(content)
            .bind(category.as_str())
            .bind(agency.as_str())
            .bind(loc.map(|l| l.lat))
            .bind(loc.map(|l| l.lon))
            .bind(loc.and_then(|l| l.address.clone()))
            .bind(millis(*at))
            .bind(report_id.to_string())
            .execute_in(tx)
            .await?;
        }
        ReadWrite::MarkWithdrawn { report_id, at } => {
            sqlx::query("UPDATE reporting_read.report_views SET withdrawn = 1, updated_at = $1 WHERE id = $2")
                .bind(millis(*at))
                .bind(report_id.to_string())
                .execute_in(tx)
                .await?;
        }
        ReadWrite::RaiseVotes {
            report_id,
            vote_count,
        } => {
            sqlx::query("UPDATE reporting_read.report_views SET vote_count = GREATEST(vote_count, $1) WHERE id = $2")
                .bind(vote_count)
                .bind(report_id.to_string())
                .execute_in(tx)
                .await?;
        }
        ReadWrite::SetStatus {
            report_id,
            status,
            at,
        } => {
            sqlx::query("UPDATE reporting_read.report_views SET status = $1, last_status_at = $2, updated_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(millis(*at))
                .bind(report_id.to_string())
                .execute_in(tx)
                .await?;
        }
        ReadWrite::RaiseEscalation { report_id, level } => {
            sqlx::query("UPDATE reporting_read.report_views SET escalation_level = GREATEST(escalation_level, $1) WHERE id = $2")
                .bind(level)
                .bind(report_id.to_string())
                .execute_in(tx)
                .await?;
        }
        ReadWrite::AddPhotos {
            report_id,
            photos,
            at,
        } => {
            for photo in photos {
                sqlx::query("INSERT INTO reporting_read.report_photos (report_id, photo_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(report_id.to_string())
                    .bind(photo.to_string())
                    .bind(millis(*at))
                    .execute_in(tx)
                    .await?;
            }
            // Listings look photos up only for views that count some.
            sqlx::query(
                "UPDATE reporting_read.report_views SET photo_count = \
                 (SELECT count(*) FROM reporting_read.report_photos WHERE report_id = $1) WHERE id = $1",
            )
            .bind(report_id.to_string())
            .execute_in(tx)
            .await?;
        }
        ReadWrite::BumpStats {
            category,
            status,
            total_delta,
            status_delta,
            at,
        } => {
            let col = status_column(*status);
            sqlx::query(&format!(
                "INSERT INTO reporting_read.category_stats AS s (category, total, {col}, last_updated) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (category) DO UPDATE SET total = s.total + $2, {col} = s.{col} + $3, last_updated = GREATEST(s.last_updated, $4)"
            ))
            .bind(category.as_str())
            .bind(total_delta)
            .bind(status_delta)
            .bind(millis(*at))
            .execute_in(tx)
            .await?;
        }
        // Kept as on SQLite (migration 3003), so both engines hold the same
        // counters whichever reads them.
        ReadWrite::Count { key, delta } => {
            let owner = key.owner.to_string();
            sqlx::query(
                "INSERT INTO reporting_read.report_counts AS c (public, agency, category, status, n) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (public, agency, category, status) DO UPDATE SET n = c.n + $5",
            )
            .bind(key.public)
            .bind(key.agency.as_str())
            .bind(key.category.as_str())
            .bind(key.status.as_str())
            .bind(delta)
            .execute_in(tx)
            .await?;
            sqlx::query(
                "INSERT INTO reporting_read.report_owner_counts AS c (owner, public, agency, category, status, n) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (owner, public, agency, category, status) DO UPDATE SET n = c.n + $6",
            )
            .bind(owner)
            .bind(key.public)
            .bind(key.agency.as_str())
            .bind(key.category.as_str())
            .bind(key.status.as_str())
            .bind(delta)
            .execute_in(tx)
            .await?;
        }
        ReadWrite::Timeline {
            report_id,
            kind,
            status,
            message,
            escalation_level,
            at,
        } => {
            sqlx::query("INSERT INTO reporting_read.report_timeline (report_id, kind, status, message, escalation_level, at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(report_id.to_string())
                .bind(kind.as_str())
                .bind(status.map(Status::as_str))
                .bind(message)
                .bind(escalation_level)
                .bind(millis(*at))
                .execute_in(tx)
                .await?;
        }
    }
    Ok(true)
}

#[async_trait]
impl EventConsumer for PgRead {
    fn group(&self) -> String {
        self.group.clone()
    }

    async fn apply(&self, events: &[EventEnvelope], now: Timestamp) -> StoreResult<usize> {
        // As on SQLite: events this consumer ignores are not even recorded.
        let events: Vec<_> = events
            .iter()
            .filter(|e| read_model::reacts_to(&e.event_type))
            .collect();
        if events.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        let mut applied = 0;
        for e in events {
            if outbox::first_time(&mut tx, SCHEMA, e).await? {
                project(&mut tx, e, now).await?;
                applied += 1;
            }
        }
        tx.commit().await?;
        Ok(applied)
    }

    async fn reset(&self) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        for t in [
            "report_views",
            "report_timeline",
            "category_stats",
            "report_photos",
            "report_counts",
            "report_owner_counts",
            "applied_events",
        ] {
            sqlx::query(&format!("DELETE FROM {SCHEMA}.{t}"))
                .execute_in(&mut tx)
                .await?;
        }
        tx.commit().await
    }
}
