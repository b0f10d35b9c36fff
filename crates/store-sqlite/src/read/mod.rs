//! The reporting read side on SQLite: the projector's tables and the
//! visibility-aware listings served from them.
//!
//! * [`projector`]: loads what the read-model reactions
//!   ([`lapor_app::reactions::read_model`]) need and executes their writes.
//! * [`queries`]: listings, single reports, timelines and statistics.
//! * [`hot_lists`]: the glue to the first pages kept in memory
//!   ([`crate::hot`]): filled inside the projector's transaction, read by
//!   the queries.
//!
//! This module holds what they share: the store, and how a view row is read.

mod hot_lists;
mod projector;
mod queries;

use crate::db::{Db, Sql, SqlResultExt, parse, text};
use crate::hot::Hot;
use lapor_app::clock::from_millis;
use lapor_app::ports::{StoreError, StoreResult};
use lapor_app::views::{LocationView, PhotoRef, ReportView};
use lapor_domain::access::Owner;
use lapor_domain::catalog::CategorySlug;
use lapor_domain::ids::{PhotoId, ReportId};
use lapor_domain::lifecycle::Status;
use rusqlite::{Connection, Row};
use std::sync::{Arc, Mutex};

pub struct SqliteRead {
    db: Db,
    group: String,
    /// First pages of the hottest listings, kept by the projector (see
    /// [`crate::hot`]).
    hot: Arc<Mutex<Hot>>,
}

impl SqliteRead {
    /// `group` names this read database's consumer group, so several read
    /// databases each keep their own position.
    pub fn new(db: Db, group: &str) -> Self {
        Self {
            db,
            group: group.to_owned(),
            hot: Arc::default(),
        }
    }

    fn hot(&self) -> std::sync::MutexGuard<'_, Hot> {
        self.hot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many listing pages were served from memory.
    pub fn hot_hits(&self) -> u64 {
        self.hot().hits()
    }
}

const COLS: &str = "id, owner, visibility, title, content, category, agency, lat, lon, address, status, vote_count, \
                    escalation_level, created_at, updated_at, last_status_at";
/// What listings select: [`COLS`] and the photo count.
const LIST_COLS: &str = "id, owner, visibility, title, content, category, agency, lat, lon, address, status, vote_count, \
                    escalation_level, created_at, updated_at, last_status_at, photo_count";

/// A row that starts with [`LIST_COLS`]: its view, and whether the report
/// has photos to look up (most have none).
fn listed(r: &Row<'_>) -> StoreResult<(ReportView, bool)> {
    Ok((view(r)?, r.get::<_, i64>(16).store()? > 0))
}

fn view(r: &Row<'_>) -> StoreResult<ReportView> {
    let id: ReportId = parse(&text(r, 0)?, "report id")?;
    let owner: Owner = parse(&text(r, 1)?, "owner")?;
    let status: Status = parse(&text(r, 10)?, "status")?;
    let content: String = r.get(4).store()?;
    let lat: Option<f64> = r.get(7).store()?;
    let lon: Option<f64> = r.get(8).store()?;
    Ok(ReportView {
        id,
        report_id: id,
        title: r.get(3).store()?,
        description: content.clone(),
        content,
        category: CategorySlug::parse(&text(r, 5)?).map_err(|e| StoreError::Other(e.into()))?,
        owner_agency: parse(&text(r, 6)?, "agency")?,
        visibility: parse(&text(r, 2)?, "visibility")?,
        status,
        current_status: status,
        vote_count: r.get(11).store()?,
        escalation_level: r.get(12).store()?,
        location: match (lat, lon) {
            (Some(lat), Some(lon)) => Some(LocationView {
                lat,
                lon,
                address: r.get(9).store()?,
            }),
            _ => None,
        },
        reporter_user_id: owner.user_id(),
        created_at: from_millis(r.get(13).store()?),
        updated_at: from_millis(r.get(14).store()?),
        last_status_at: from_millis(r.get(15).store()?),
        photos: Vec::new(),
        timeline: None,
        owner: Some(owner),
        rendered: None,
    })
}

/// Fills in the photos of the given views (one query for a whole page).
fn with_photos(conn: &Connection, views: &mut [ReportView]) -> StoreResult<()> {
    photos_of(conn, views, |_| true)
}

/// Fills in the photos of the views at the positions `pick` accepts.
fn photos_of(
    conn: &Connection,
    views: &mut [ReportView],
    pick: impl Fn(usize) -> bool,
) -> StoreResult<()> {
    let mut q = Sql::new("SELECT report_id, photo_id FROM report_photos WHERE report_id IN (");
    let mut any = false;
    for (i, v) in views.iter().enumerate() {
        if !pick(i) {
            continue;
        }
        if any {
            q.push(", ");
        }
        any = true;
        q.bind(v.id.to_string());
    }
    if !any {
        return Ok(());
    }
    q.push(") ORDER BY report_id, photo_id");
    let mut st = conn.prepare_cached(&q.sql).store()?;
    let mut rows = st.query(q.params()).store()?;
    while let Some(r) = rows.next().store()? {
        let report: ReportId = parse(&text(r, 0)?, "report id")?;
        let photo: PhotoId = parse(&text(r, 1)?, "photo id")?;
        if let Some(v) = views.iter_mut().find(|v| v.id == report) {
            v.photos.push(PhotoRef::new(report, photo));
        }
    }
    Ok(())
}

/// A page of views (`q` selects [`LIST_COLS`]) with their photos, which are
/// looked up only for the reports that have some.
fn views(conn: &Connection, q: &Sql) -> StoreResult<Vec<ReportView>> {
    let rows = crate::db::collect(conn, &q.sql, q.params(), listed)?;
    let has: Vec<bool> = rows.iter().map(|(_, has)| *has).collect();
    let mut views: Vec<ReportView> = rows.into_iter().map(|(v, _)| v).collect();
    photos_of(conn, &mut views, |i| has[i])?;
    Ok(views)
}
