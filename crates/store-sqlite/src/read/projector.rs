//! The projector on SQLite: for each new event, load the report's
//! projected state, ask [`read_model::react`] what to write, and write it in
//! the batch's transaction (on the single writer, which serialises
//! projectors as PostgreSQL's row locks do).

use super::{COLS, SqliteRead, hot_lists};
use crate::db::{SqlResultExt, parse, text};
use crate::outbox;
use async_trait::async_trait;
use lapor_app::clock::millis;
use lapor_app::ports::{EventConsumer, StoreResult};
use lapor_app::reactions::read_model::{self, CountKey, ProjectedReport, ReadWrite};
use lapor_domain::Timestamp;
use lapor_domain::catalog::CategorySlug;
use lapor_domain::events::EventEnvelope;
use lapor_domain::ids::ReportId;
use lapor_domain::lifecycle::Status;
use lapor_domain::report::Location;
use rusqlite::{Connection, params};

/// The projected state of a report, if it has a view.
fn projected(conn: &Connection, id: ReportId) -> StoreResult<Option<ProjectedReport>> {
    let mut st = conn
        .prepare_cached(
            "SELECT category, status, withdrawn, owner, visibility, agency FROM report_views WHERE id = ?1",
        )
        .store()?;
    let mut rows = st.query([id.to_string()]).store()?;
    let Some(r) = rows.next().store()? else {
        return Ok(None);
    };
    Ok(Some(ProjectedReport {
        category: parse::<CategorySlug>(&text(r, 0)?, "category")?,
        status: parse(&text(r, 1)?, "status")?,
        withdrawn: r.get::<_, i64>(2).store()? != 0,
        owner: parse(&text(r, 3)?, "owner")?,
        visibility: parse(&text(r, 4)?, "visibility")?,
        agency: parse(&text(r, 5)?, "agency")?,
    }))
}

/// Applies one event (not applied before) in the caller's transaction.
fn project(conn: &Connection, e: &EventEnvelope, now: Timestamp) -> StoreResult<()> {
    let state = projected(conn, e.report_id)?;
    for w in read_model::react(e, state.as_ref(), now).into_writes(e)? {
        execute(conn, &w)?;
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

fn lat_lon_address(l: Option<&Location>) -> (Option<f64>, Option<f64>, Option<&str>) {
    (
        l.map(|l| l.lat),
        l.map(|l| l.lon),
        l.and_then(|l| l.address.as_deref()),
    )
}

fn execute(conn: &Connection, w: &ReadWrite) -> StoreResult<()> {
    match w {
        ReadWrite::InsertView(v) => {
            let (lat, lon, address) = lat_lon_address(v.location.as_ref());
            conn.prepare_cached(&format!(
                "INSERT INTO report_views ({COLS}, withdrawn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0, ?12, ?12, ?12, 0) \
                 ON CONFLICT (id) DO NOTHING"
            ))
            .store()?
            .execute(params![
                v.report_id.to_string(),
                v.owner.to_string(),
                v.visibility.as_str(),
                v.title,
                v.content,
                v.category.as_str(),
                v.agency.as_str(),
                lat,
                lon,
                address,
                v.status.as_str(),
                millis(v.at),
            ])
            .store()?;
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
            let (lat, lon, address) = lat_lon_address(location.as_ref());
            conn.prepare_cached(
                "UPDATE report_views SET title = ?1, content = ?2, category = ?3, agency = ?4, lat = ?5, lon = ?6, address = ?7, \
                 updated_at = ?8 WHERE id = ?9",
            )
            .store()?
            .execute(params![
                title,
                content,
                category.as_str(),
                agency.as_str(),
                lat,
                lon,
                address,
                millis(*at),
                report_id.to_string(),
            ])
            .store()?;
        }
        ReadWrite::MarkWithdrawn { report_id, at } => {
            conn.prepare_cached(
                "UPDATE report_views SET withdrawn = 1, updated_at = ?1 WHERE id = ?2",
            )
            .store()?
            .execute(params![millis(*at), report_id.to_string()])
            .store()?;
        }
        ReadWrite::RaiseVotes {
            report_id,
            vote_count,
        } => {
            conn.prepare_cached(
                "UPDATE report_views SET vote_count = max(vote_count, ?1) WHERE id = ?2",
            )
            .store()?
            .execute(params![vote_count, report_id.to_string()])
            .store()?;
        }
        ReadWrite::SetStatus {
            report_id,
            status,
            at,
        } => {
            conn.prepare_cached("UPDATE report_views SET status = ?1, last_status_at = ?2, updated_at = ?2 WHERE id = ?3")
                .store()?
                .execute(params![status.as_str(), millis(*at), report_id.to_string()])
                .store()?;
        }
        ReadWrite::RaiseEscalation { report_id, level } => {
            conn.prepare_cached(
                "UPDATE report_views SET escalation_level = max(escalation_level, ?1) WHERE id = ?2",
            )
            .store()?
            .execute(params![level, report_id.to_string()])
            .store()?;
        }
        ReadWrite::AddPhotos {
            report_id,
            photos,
            at,
        } => {
            let mut st = conn
                .prepare_cached("INSERT INTO report_photos (report_id, photo_id, added_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
                .store()?;
            for photo in photos {
                st.execute(params![
                    report_id.to_string(),
                    photo.to_string(),
                    millis(*at)
                ])
                .store()?;
            }
            // Listings look photos up only for views that count some.
            conn.prepare_cached(
                "UPDATE report_views SET photo_count = \
                 (SELECT count(*) FROM report_photos WHERE report_id = ?1) WHERE id = ?1",
            )
            .store()?
            .execute([report_id.to_string()])
            .store()?;
        }
        ReadWrite::BumpStats {
            category,
            status,
            total_delta,
            status_delta,
            at,
        } => {
            let col = status_column(*status);
            conn.prepare_cached(&format!(
                "INSERT INTO category_stats (category, total, {col}, last_updated) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (category) DO UPDATE SET total = total + ?2, {col} = {col} + ?3, last_updated = max(last_updated, ?4)"
            ))
            .store()?
            .execute(params![category.as_str(), total_delta, status_delta, millis(*at)])
            .store()?;
        }
        ReadWrite::Count { key, delta } => count(conn, key, *delta)?,
        ReadWrite::Timeline {
            report_id,
            kind,
            status,
            message,
            escalation_level,
            at,
        } => {
            conn.prepare_cached("INSERT INTO report_timeline (report_id, kind, status, message, escalation_level, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .store()?
                .execute(params![
                    report_id.to_string(),
                    kind.as_str(),
                    status.map(Status::as_str),
                    message,
                    escalation_level,
                    millis(*at)
                ])
                .store()?;
        }
    }
    Ok(())
}

/// Adds `delta` to a listing counter, in both counter tables (migration
/// 3003): per (public, agency, category, status) and per owner as well.
fn count(conn: &Connection, k: &CountKey, delta: i64) -> StoreResult<()> {
    let (owner, agency, category, status) = (
        k.owner.to_string(),
        k.agency.as_str(),
        k.category.as_str(),
        k.status.as_str(),
    );
    conn.prepare_cached(
        "INSERT INTO report_counts (public, agency, category, status, n) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT DO UPDATE SET n = n + ?5",
    )
    .store()?
    .execute(params![k.public, agency, category, status, delta])
    .store()?;
    conn.prepare_cached(
        "INSERT INTO report_owner_counts (owner, public, agency, category, status, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT DO UPDATE SET n = n + ?6",
    )
    .store()?
    .execute(params![owner, k.public, agency, category, status, delta])
    .store()?;
    Ok(())
}

#[async_trait]
impl EventConsumer for SqliteRead {
    fn group(&self) -> String {
        self.group.clone()
    }

    async fn apply(&self, events: &[EventEnvelope], now: Timestamp) -> StoreResult<usize> {
        let events = outbox::relevant(events, read_model::reacts_to);
        if events.is_empty() {
            return Ok(0);
        }
        let plan = self.hot().plan();
        let (applied, snapshot) = self
            .db
            .write(move |c| {
                let applied = outbox::apply_new(c, &events, |c, e| project(c, e, now))?;
                // What the kept listings need of this batch, as it is in
                // this transaction.
                let snapshot = hot_lists::snapshot(c, &events, plan)?;
                Ok((applied, snapshot))
            })
            .await?;
        // Committed: readers may see the batch now.
        self.install(snapshot);
        Ok(applied)
    }

    async fn reset(&self) -> StoreResult<()> {
        self.db
            .write(|c| {
                for t in [
                    "report_views",
                    "report_timeline",
                    "category_stats",
                    "report_counts",
                    "report_owner_counts",
                    "report_photos",
                    "applied_events",
                ] {
                    c.execute(&format!("DELETE FROM {t}"), []).store()?;
                }
                Ok(())
            })
            .await?;
        self.hot().clear();
        Ok(())
    }
}
