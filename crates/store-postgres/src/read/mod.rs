//! The reporting read side on PostgreSQL (schema `reporting_read`): the
//! projector's tables and the visibility-aware listings served from them.
//! Each read database (primary, replicas) is one `PgRead` with its own
//! consumer group.
//!
//! * [`projector`]: loads what the read-model reactions
//!   ([`lapor_app::reactions::read_model`]) need and executes their writes.
//! * [`queries`]: listings, single reports, timelines and statistics.
//!
//! This module holds what they share: the store, and how a view row is read.

mod projector;
mod queries;

pub(crate) use crate::scope::owner_refs;

use crate::db::{Db, Exec, parse};
use lapor_app::clock::from_millis;
use lapor_app::ports::{StoreError, StoreResult};
use lapor_app::views::{LocationView, PhotoRef, ReportView};
use lapor_domain::access::Owner;
use lapor_domain::catalog::CategorySlug;
use lapor_domain::ids::{PhotoId, ReportId};
use lapor_domain::lifecycle::Status;
use sqlx::Row;
use sqlx::postgres::PgRow;

const SCHEMA: &str = "reporting_read";

pub struct PgRead {
    db: Db,
    group: String,
}

impl PgRead {
    /// `group` names this read database's consumer group, so several read
    /// databases each keep their own position.
    pub fn new(db: Db, group: &str) -> Self {
        Self {
            db,
            group: group.to_owned(),
        }
    }
}

const COLS: &str = "id, owner, visibility, title, content, category, agency, lat, lon, address, status, vote_count, \
                    escalation_level, created_at, updated_at, last_status_at";

fn view(r: &PgRow) -> StoreResult<ReportView> {
    let id: ReportId = parse(r.get::<&str, _>(0), "report id")?;
    let owner: Owner = parse(r.get::<&str, _>(1), "owner")?;
    let status: Status = parse(r.get::<&str, _>(10), "status")?;
    let content: String = r.get(4);
    let lat: Option<f64> = r.get(7);
    let lon: Option<f64> = r.get(8);
    Ok(ReportView {
        id,
        report_id: id,
        title: r.get(3),
        description: content.clone(),
        content,
        category: CategorySlug::parse(r.get::<&str, _>(5))
            .map_err(|e| StoreError::Other(e.into()))?,
        owner_agency: parse(r.get::<&str, _>(6), "agency")?,
        visibility: parse(r.get::<&str, _>(2), "visibility")?,
        status,
        current_status: status,
        vote_count: r.get(11),
        escalation_level: r.get(12),
        location: match (lat, lon) {
            (Some(lat), Some(lon)) => Some(LocationView {
                lat,
                lon,
                address: r.get(9),
            }),
            _ => None,
        },
        reporter_user_id: owner.user_id(),
        created_at: from_millis(r.get(13)),
        updated_at: from_millis(r.get(14)),
        last_status_at: from_millis(r.get(15)),
        photos: Vec::new(),
        timeline: None,
        owner: Some(owner),
        rendered: None,
    })
}

/// Fills in the photos of the given views (one query for a whole page).
async fn with_photos(db: &Db, views: &mut [ReportView]) -> StoreResult<()> {
    if views.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = views.iter().map(|v| v.id.to_string()).collect();
    let rows = sqlx::query(
        "SELECT report_id, photo_id FROM reporting_read.report_photos WHERE report_id = ANY($1) ORDER BY report_id, photo_id",
    )
    .bind(ids)
    .fetch_all_on(db)
    .await?;
    for r in &rows {
        let report: ReportId = parse(r.get::<&str, _>(0), "report id")?;
        let photo: PhotoId = parse(r.get::<&str, _>(1), "photo id")?;
        if let Some(v) = views.iter_mut().find(|v| v.id == report) {
            v.photos.push(PhotoRef::new(report, photo));
        }
    }
    Ok(())
}
