//! The reporting write side on SQLite.
//!
//! What events cause here is decided by `lapor_app::reactions::reporting`:
//! this adapter loads the state a reaction reads, executes the writes it
//! returns and records the event as applied, in one transaction.

use crate::db::{Db, SqlResultExt, parse, text};
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
use rusqlite::{Connection, OptionalExtension, Row, params};

pub struct SqliteReporting {
    pub(crate) db: Db,
}

impl SqliteReporting {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl_outbox!(SqliteReporting, "reporting");

const COLS: &str = "id, owner, visibility, title, content, category, agency, lat, lon, address, status, withdrawn, vote_count, created_at, updated_at";

fn report(r: &Row<'_>) -> StoreResult<Report> {
    let lat: Option<f64> = r.get(7).store()?;
    let lon: Option<f64> = r.get(8).store()?;
    Ok(Report {
        id: parse(&text(r, 0)?, "report id")?,
        owner: parse(&text(r, 1)?, "owner")?,
        visibility: parse(&text(r, 2)?, "visibility")?,
        title: r.get(3).store()?,
        content: r.get(4).store()?,
        category: lapor_domain::catalog::CategorySlug::parse(&text(r, 5)?)
            .map_err(|e| StoreError::Other(e.into()))?,
        agency: parse(&text(r, 6)?, "agency")?,
        location: match (lat, lon) {
            (Some(lat), Some(lon)) => Some(Location {
                lat,
                lon,
                address: r.get(9).store()?,
            }),
            _ => None,
        },
        status: parse(&text(r, 10)?, "status")?,
        withdrawn: r.get::<_, i64>(11).store()? != 0,
        vote_count: r.get(12).store()?,
        created_at: from_millis(r.get(13).store()?),
        updated_at: from_millis(r.get(14).store()?),
    })
}

#[async_trait]
impl ReportingStore for SqliteReporting {
    async fn insert_report(&self, r: &Report, event: &EventEnvelope) -> StoreResult<()> {
        let r = r.clone();
        let event = event.clone();
        self.db
            .write(move |c| {
                c.prepare_cached(&format!(
                    "INSERT INTO reports ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ))
                .store()?
                .execute(params![
                    r.id.to_string(),
                    r.owner.to_string(),
                    r.visibility.as_str(),
                    r.title,
                    r.content,
                    r.category.as_str(),
                    r.agency.as_str(),
                    r.location.as_ref().map(|l| l.lat),
                    r.location.as_ref().map(|l| l.lon),
                    r.location.as_ref().and_then(|l| l.address.clone()),
                    r.status.as_str(),
                    r.withdrawn as i64,
                    r.vote_count,
                    millis(r.created_at),
                    millis(r.updated_at),
                ])
                .store()?;
                outbox::append(c, &event)
            })
            .await
    }

    async fn report(&self, id: ReportId) -> StoreResult<Option<Report>> {
        self.db.read(|c| {
            let mut st = c
                .prepare_cached(&format!("SELECT {COLS} FROM reports WHERE id = ?1"))
                .store()?;
            let mut rows = st.query([id.to_string()]).store()?;
            rows.next().store()?.map(report).transpose()
        })
    }

    async fn update_report(
        &self,
        r: &Report,
        expected_updated_at: Timestamp,
        event: &EventEnvelope,
    ) -> StoreResult<()> {
        let r = r.clone();
        let event = event.clone();
        self.db
            .write(move |c| {
                let done = c
                    .prepare_cached(
                        "UPDATE reports SET title = ?1, content = ?2, category = ?3, agency = ?4, lat = ?5, lon = ?6, address = ?7, updated_at = ?8 \
                         WHERE id = ?9 AND updated_at = ?10 AND status = 'RECEIVED' AND withdrawn = 0",
                    )
                    .store()?
                    .execute(params![
                        r.title,
                        r.content,
                        r.category.as_str(),
                        r.agency.as_str(),
                        r.location.as_ref().map(|l| l.lat),
                        r.location.as_ref().map(|l| l.lon),
                        r.location.as_ref().and_then(|l| l.address.clone()),
                        millis(r.updated_at),
                        r.id.to_string(),
                        millis(expected_updated_at),
                    ])
                    .store()?;
                if done != 1 {
                    return Err(StoreError::Conflict(
                        "the report changed meanwhile; reload and try again".into(),
                    ));
                }
                outbox::append(c, &event)
            })
            .await
    }

    async fn withdraw_report(&self, id: ReportId, event: &EventEnvelope) -> StoreResult<()> {
        let event = event.clone();
        self.db
            .write(move |c| {
                let done = c
                    .prepare_cached(
                        "UPDATE reports SET withdrawn = 1, updated_at = ?1 WHERE id = ?2 AND withdrawn = 0 AND status IN ('RECEIVED', 'IN_PROGRESS')",
                    )
                    .store()?
                    .execute(params![millis(event.timestamp), id.to_string()])
                    .store()?;
                if done != 1 {
                    return Err(StoreError::Conflict(
                        "the report can no longer be withdrawn".into(),
                    ));
                }
                outbox::append(c, &event)
            })
            .await
    }

    async fn add_vote(
        &self,
        id: ReportId,
        voter: UserId,
        at: Timestamp,
        event: UpvoteEvent,
    ) -> StoreResult<Option<i64>> {
        self.db
            .write(move |c| {
                let inserted = c
                    .prepare_cached("INSERT INTO votes (report_id, voter_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
                    .store()?
                    .execute(params![id.to_string(), voter.to_string(), millis(at)])
                    .store()?;
                if inserted == 0 {
                    return Ok(None);
                }
                let count: i64 = c
                    .prepare_cached(
                        "UPDATE reports SET vote_count = vote_count + 1 WHERE id = ?1 AND visibility = 'PUBLIC' AND withdrawn = 0 RETURNING vote_count",
                    )
                    .store()?
                    .query_row([id.to_string()], |r| r.get(0))
                    .optional()
                    .store()?
                    .ok_or_else(|| StoreError::Conflict("only live PUBLIC reports can be upvoted".into()))?;
                outbox::append(c, &event(id, voter, count, at))?;
                Ok(Some(count))
            })
            .await
    }

    async fn count_reports(&self) -> StoreResult<i64> {
        self.db
            .read_blocking(|c| {
                c.query_row("SELECT count(*) FROM reports", [], |r| r.get(0))
                    .store()
            })
            .await
    }

    async fn add_photos(
        &self,
        id: ReportId,
        photos: &[NewPhoto],
        max: usize,
        event: &EventEnvelope,
    ) -> StoreResult<()> {
        let photos = photos.to_vec();
        let event = event.clone();
        // The single writer serialises concurrent uploads: the count read
        // here cannot change before the commit.
        self.db
            .write(move |c| {
                let editable: Option<i64> = c
                    .query_row(
                        "SELECT 1 FROM reports WHERE id = ?1 AND status = 'RECEIVED' AND withdrawn = 0",
                        [id.to_string()],
                        |r| r.get(0),
                    )
                    .optional()
                    .store()?;
                if editable.is_none() {
                    return Err(StoreError::Conflict(
                        "photos can only be added while the report is RECEIVED".into(),
                    ));
                }
                let existing: i64 = c
                    .query_row(
                        "SELECT count(*) FROM report_photos WHERE report_id = ?1",
                        [id.to_string()],
                        |r| r.get(0),
                    )
                    .store()?;
                if existing as usize + photos.len() > max {
                    return Err(StoreError::Conflict(format!(
                        "a report has at most {max} photos: it has {existing}"
                    )));
                }
                for p in &photos {
                    c.execute(
                        "INSERT INTO report_photos (id, report_id, width, height, size_bytes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![
                            p.id.to_string(),
                            id.to_string(),
                            i64::from(p.width),
                            i64::from(p.height),
                            p.bytes,
                            millis(event.timestamp)
                        ],
                    )
                    .store()?;
                }
                outbox::append(c, &event)
            })
            .await
    }

    async fn photos(&self, id: ReportId) -> StoreResult<Vec<PhotoId>> {
        self.db.read(|c| {
            let mut st = c
                .prepare_cached("SELECT id FROM report_photos WHERE report_id = ?1 ORDER BY id")
                .store()?;
            let ids = st
                .query_map([id.to_string()], |r| r.get::<_, String>(0))
                .store()?
                .collect::<Result<Vec<_>, _>>()
                .store()?;
            ids.iter().map(|s| parse(s, "photo id")).collect()
        })
    }
}

/// The reporting write side follows case status (owners may edit only while
/// RECEIVED, and withdraw only open reports).
#[async_trait]
impl EventConsumer for SqliteReporting {
    fn group(&self) -> String {
        "reporting".into()
    }

    async fn apply(&self, events: &[EventEnvelope], now: Timestamp) -> StoreResult<usize> {
        let events = outbox::relevant(events, reporting::reacts_to);
        if events.is_empty() {
            return Ok(0);
        }
        self.db
            .write(move |c| outbox::apply_new(c, &events, |c, e| apply_one(c, e, now)))
            .await
    }
}

fn apply_one(conn: &Connection, e: &EventEnvelope, now: Timestamp) -> StoreResult<()> {
    let id = e.report_id.to_string();
    let status: Option<Status> = conn
        .prepare_cached("SELECT status FROM reports WHERE id = ?1")
        .store()?
        .query_row([&id], |r| r.get::<_, String>(0))
        .optional()
        .store()?
        .map(|s| parse(&s, "status"))
        .transpose()?;
    for w in reporting::react(e, status, now).into_writes(e)? {
        match w {
            ReportingWrite::SetStatus(s) => {
                conn.prepare_cached("UPDATE reports SET status = ?1 WHERE id = ?2")
                    .store()?
                    .execute(params![s.as_str(), id])
                    .store()?;
            }
        }
    }
    Ok(())
}
