//! The reporting read side on PostgreSQL (schema `reporting_read`): the
//! projector's tables and the visibility-aware listings served from them.
//! Each read database (primary, replicas) is one `PgRead` with its own
//! consumer group.

use crate::db::{Db, Exec, ExecScalar, Tx, parse};
use crate::outbox;
use async_trait::async_trait;
use lapor_app::clock::{from_millis, millis};
use lapor_app::ports::{
    EventConsumer, FeedSort, Paging, ReadStore, ReportFilter, StoreError, StoreResult,
};
use lapor_app::views::{CategoryStats, Listing, LocationView, PhotoRef, ReportView, TimelineEntry};
use lapor_domain::access::{ListingScope, Owner};
use lapor_domain::catalog::CategorySlug;
use lapor_domain::events::{DomainEvent, EventEnvelope};
use lapor_domain::ids::{PhotoId, ReportId};
use lapor_domain::lifecycle::Status;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

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

fn status_column(s: Status) -> &'static str {
    match s {
        Status::Received => "received",
        Status::InProgress => "in_progress",
        Status::Resolved => "resolved",
        Status::Rejected => "rejected",
    }
}

/// Adds `delta` to a category's total and one status counter.
async fn bump(
    conn: &mut Tx,
    category: &str,
    status: Status,
    total: i64,
    delta: i64,
    at: i64,
) -> StoreResult<()> {
    let col = status_column(status);
    sqlx::query(&format!(
        "INSERT INTO reporting_read.category_stats AS s (category, total, {col}, last_updated) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (category) DO UPDATE SET total = s.total + $2, {col} = s.{col} + $3, last_updated = GREATEST(s.last_updated, $4)"
    ))
    .bind(category)
    .bind(total)
    .bind(delta)
    .bind(at)
    .execute_in(conn)
    .await?;
    Ok(())
}

async fn timeline(
    conn: &mut Tx,
    id: ReportId,
    kind: &str,
    status: Option<&str>,
    message: Option<&str>,
    level: Option<i64>,
    at: i64,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO reporting_read.report_timeline (report_id, kind, status, message, escalation_level, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.to_string())
        .bind(kind)
        .bind(status)
        .bind(message)
        .bind(level)
        .bind(at)
        .execute_in(conn)
        .await?;
    Ok(())
}

/// (category, status, withdrawn) of a projected report, locking its row
/// until the applying transaction ends: two projector instances applying
/// events of one report at once are serialised here, as the single writer
/// serialises them on SQLite, so counters cannot drift.
async fn current(conn: &mut Tx, id: ReportId) -> StoreResult<Option<(String, Status, bool)>> {
    let row = sqlx::query("SELECT category, status, withdrawn FROM reporting_read.report_views WHERE id = $1 FOR UPDATE")
        .bind(id.to_string())
        .fetch_optional_in(conn)
        .await?;
    row.map(|r| {
        Ok((
            r.get::<String, _>(0),
            parse(r.get::<&str, _>(1), "status")?,
            r.get::<i64, _>(2) != 0,
        ))
    })
    .transpose()
}

async fn project(conn: &mut Tx, e: &EventEnvelope) -> StoreResult<()> {
    let Ok(event) = e.decode() else {
        tracing::warn!(event_type = %e.event_type, "projector skips an event it does not understand");
        return Ok(());
    };
    match event {
        DomainEvent::ReportCreated(c) => {
            let at = millis(c.created_at);
            let inserted = sqlx::query(&format!(
                "INSERT INTO reporting_read.report_views ({COLS}, withdrawn) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'RECEIVED', 0, 0, $11, $11, $11, 0) \
                 ON CONFLICT (id) DO NOTHING"
            ))
            .bind(c.report_id.to_string())
            .bind(c.owner.to_string())
            .bind(c.visibility.as_str())
            .bind(&c.title)
            .bind(&c.content)
            .bind(c.category.as_str())
            .bind(c.agency.as_str())
            .bind(c.location.as_ref().map(|l| l.lat))
            .bind(c.location.as_ref().map(|l| l.lon))
            .bind(c.location.as_ref().and_then(|l| l.address.clone()))
            .bind(at)
            .execute_in(conn)
            .await?;
            if inserted.rows_affected() == 1 {
                bump(conn, c.category.as_str(), Status::Received, 1, 1, at).await?;
                timeline(
                    conn,
                    c.report_id,
                    "created",
                    Some("RECEIVED"),
                    None,
                    None,
                    at,
                )
                .await?;
            }
        }
        DomainEvent::ReportUpdated(u) => {
            let Some((old_cat, status, withdrawn)) = current(conn, u.report_id).await? else {
                return lapor_app::ports::not_yet(e);
            };
            let at = millis(u.updated_at);
            sqlx::query(
                "UPDATE reporting_read.report_views SET title = $1, content = $2, category = $3, agency = $4, lat = $5, lon = $6, address = $7, \
                 updated_at = $8 WHERE id = $9",
            )
            .bind(&u.title)
            .bind(&u.content)
            .bind(u.category.as_str())
            .bind(u.agency.as_str())
            .bind(u.location.as_ref().map(|l| l.lat))
            .bind(u.location.as_ref().map(|l| l.lon))
            .bind(u.location.as_ref().and_then(|l| l.address.clone()))
            .bind(at)
            .bind(u.report_id.to_string())
            .execute_in(conn)
            .await?;
            if old_cat != u.category.as_str() && !withdrawn {
                bump(conn, &old_cat, status, -1, -1, at).await?;
                bump(conn, u.category.as_str(), status, 1, 1, at).await?;
            }
        }
        DomainEvent::ReportWithdrawn(w) => {
            let Some((cat, status, withdrawn)) = current(conn, w.report_id).await? else {
                return lapor_app::ports::not_yet(e);
            };
            if !withdrawn {
                let at = millis(w.withdrawn_at);
                sqlx::query("UPDATE reporting_read.report_views SET withdrawn = 1, updated_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(w.report_id.to_string())
                    .execute_in(conn)
                    .await?;
                bump(conn, &cat, status, -1, -1, at).await?;
                timeline(conn, w.report_id, "withdrawn", None, None, None, at).await?;
            }
        }
        DomainEvent::ReportUpvoted(v) => {
            // The payload carries the authoritative count.
            let done = sqlx::query("UPDATE reporting_read.report_views SET vote_count = GREATEST(vote_count, $1) WHERE id = $2")
                .bind(v.vote_count)
                .bind(v.report_id.to_string())
                .execute_in(conn)
                .await?;
            if done.rows_affected() == 0 {
                return lapor_app::ports::not_yet(e);
            }
        }
        DomainEvent::StatusUpdated(s) => {
            let Some((cat, old, withdrawn)) = current(conn, s.report_id).await? else {
                return lapor_app::ports::not_yet(e);
            };
            let at = millis(s.changed_at);
            sqlx::query("UPDATE reporting_read.report_views SET status = $1, last_status_at = $2, updated_at = $2 WHERE id = $3")
                .bind(s.new_status.as_str())
                .bind(at)
                .bind(s.report_id.to_string())
                .execute_in(conn)
                .await?;
            if !withdrawn && old != s.new_status {
                bump(conn, &cat, old, 0, -1, at).await?;
                bump(conn, &cat, s.new_status, 0, 1, at).await?;
            }
            timeline(
                conn,
                s.report_id,
                "status",
                Some(s.new_status.as_str()),
                s.reason.as_deref(),
                None,
                at,
            )
            .await?;
        }
        DomainEvent::CaseAnswered(a) => {
            if current(conn, a.report_id).await?.is_none() {
                return lapor_app::ports::not_yet(e);
            }
            timeline(
                conn,
                a.report_id,
                "answer",
                None,
                Some(&a.message),
                None,
                millis(a.answered_at),
            )
            .await?;
        }
        DomainEvent::ReportEscalated(x) => {
            let at = millis(x.escalated_at);
            let done = sqlx::query("UPDATE reporting_read.report_views SET escalation_level = GREATEST(escalation_level, $1) WHERE id = $2")
                .bind(x.escalation_level)
                .bind(x.report_id.to_string())
                .execute_in(conn)
                .await?;
            if done.rows_affected() == 0 {
                return lapor_app::ports::not_yet(e);
            }
            timeline(
                conn,
                x.report_id,
                "escalation",
                None,
                None,
                Some(x.escalation_level),
                at,
            )
            .await?;
        }
        // Operations shows the due time; the read model does not (yet).
        DomainEvent::SlaStarted(_) => {}
        DomainEvent::PhotosAdded(p) => {
            if current(conn, p.report_id).await?.is_none() {
                return lapor_app::ports::not_yet(e);
            }
            for photo in &p.photo_ids {
                sqlx::query("INSERT INTO reporting_read.report_photos (report_id, photo_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(p.report_id.to_string())
                    .bind(photo.to_string())
                    .bind(millis(p.added_at))
                    .execute_in(conn)
                    .await?;
            }
        }
    }
    Ok(())
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

#[async_trait]
impl EventConsumer for PgRead {
    fn group(&self) -> String {
        self.group.clone()
    }

    async fn apply(
        &self,
        events: &[EventEnvelope],
        _now: lapor_domain::Timestamp,
    ) -> StoreResult<usize> {
        let mut tx = self.db.begin().await?;
        let mut applied = 0;
        for e in events {
            if outbox::first_time(&mut tx, SCHEMA, e).await? {
                project(&mut tx, e).await?;
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
            "applied_events",
        ] {
            sqlx::query(&format!("DELETE FROM {SCHEMA}.{t}"))
                .execute_in(&mut tx)
                .await?;
        }
        tx.commit().await
    }
}

/// `owner = ANY(<array>)`: one parameter however many owners, and false
/// (like SQLite's `IN ()`) when there are none.
fn push_owners(qb: &mut QueryBuilder<'_, Postgres>, owners: &[Owner]) {
    qb.push("owner = ANY(")
        .push_bind(owner_refs(owners))
        .push(")");
}

pub(crate) fn owner_refs(owners: &[Owner]) -> Vec<String> {
    owners.iter().map(|o| o.to_string()).collect()
}

/// Appends the filter's WHERE clause (without paging).
fn push_where(qb: &mut QueryBuilder<'_, Postgres>, f: &ReportFilter) {
    qb.push(" WHERE withdrawn = 0");
    match &f.scope {
        ListingScope::PublicOnly => {
            qb.push(" AND visibility = 'PUBLIC'");
        }
        ListingScope::PublicAndOwn(owners) => {
            qb.push(" AND (visibility = 'PUBLIC' OR ");
            push_owners(qb, owners);
            qb.push(")");
        }
        ListingScope::PublicOwnAndAgency(owners, agency) => {
            qb.push(" AND (visibility = 'PUBLIC' OR ");
            push_owners(qb, owners);
            qb.push(" OR agency = ")
                .push_bind(agency.to_string())
                .push(")");
        }
        ListingScope::All => {}
    }
    if let Some(owners) = &f.only_owners {
        qb.push(" AND ");
        push_owners(qb, owners);
    }
    if let Some(c) = &f.category {
        qb.push(" AND category = ").push_bind(c.to_string());
    }
    if let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    // Each word must appear in the title or the text.
    if let Some(q) = &f.search {
        for word in q.split_whitespace().take(8) {
            let pattern = lapor_app::ports::like_pattern(word);
            qb.push(" AND (title ILIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR content ILIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
    }
}

#[async_trait]
impl ReadStore for PgRead {
    async fn list_reports(&self, f: &ReportFilter) -> StoreResult<Listing<ReportView>> {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "SELECT {COLS} FROM reporting_read.report_views"
        ));
        push_where(&mut qb, f);
        let order = match f.sort {
            FeedSort::Newest => " ORDER BY created_at DESC, id DESC",
            FeedSort::MostUpvoted => " ORDER BY vote_count DESC, created_at DESC, id DESC",
        };
        match f.paging {
            Paging::Offset { page, per_page } => {
                qb.push(order)
                    .push(" LIMIT ")
                    .push_bind(per_page)
                    .push(" OFFSET ")
                    .push_bind((page - 1) * per_page);
                let rows = qb.build().fetch_all_on(&self.db).await?;
                let mut items = rows.iter().map(view).collect::<StoreResult<Vec<_>>>()?;
                with_photos(&self.db, &mut items).await?;
                let mut count = QueryBuilder::<Postgres>::new(
                    "SELECT count(*) FROM reporting_read.report_views",
                );
                push_where(&mut count, f);
                let total: i64 = count.build_query_scalar().fetch_one_on(&self.db).await?;
                Ok(Listing {
                    items,
                    total: Some(total),
                    next_cursor: None,
                })
            }
            Paging::Keyset { after, limit } => {
                let newest = f.sort == FeedSort::Newest;
                if let (Some(c), true) = (after, newest) {
                    qb.push(" AND (created_at < ")
                        .push_bind(c.created_at_ms)
                        .push(" OR (created_at = ")
                        .push_bind(c.created_at_ms)
                        .push(" AND id < ")
                        .push_bind(c.id.to_string())
                        .push("))");
                }
                qb.push(order).push(" LIMIT ").push_bind(limit + 1);
                let rows = qb.build().fetch_all_on(&self.db).await?;
                let rows = rows.iter().map(view).collect::<StoreResult<Vec<_>>>()?;
                let mut page = Listing::keyset(rows, limit, |v| newest.then(|| v.cursor()));
                with_photos(&self.db, &mut page.items).await?;
                Ok(page)
            }
        }
    }

    async fn report(&self, id: ReportId, with_timeline: bool) -> StoreResult<Option<ReportView>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM reporting_read.report_views WHERE id = $1 AND withdrawn = 0"
        ))
        .bind(id.to_string())
        .fetch_optional_on(&self.db)
        .await?;
        let Some(mut v) = row.as_ref().map(view).transpose()? else {
            return Ok(None);
        };
        with_photos(&self.db, std::slice::from_mut(&mut v)).await?;
        if with_timeline {
            let rows = sqlx::query("SELECT kind, status, message, escalation_level, at FROM reporting_read.report_timeline WHERE report_id = $1 ORDER BY at, seq")
                .bind(id.to_string())
                .fetch_all_on(&self.db)
                .await?;
            v.timeline = Some(
                rows.iter()
                    .map(|r| TimelineEntry {
                        kind: r.get(0),
                        status: r.get(1),
                        message: r.get(2),
                        escalation_level: r.get(3),
                        at: from_millis(r.get(4)),
                    })
                    .collect(),
            );
        }
        Ok(Some(v))
    }

    async fn timelines(&self, ids: &[ReportId]) -> StoreResult<Vec<(ReportId, TimelineEntry)>> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        sqlx::query("SELECT report_id, kind, status, message, escalation_level, at FROM reporting_read.report_timeline WHERE report_id = ANY($1) ORDER BY report_id, at, seq")
            .bind(ids)
            .fetch_all_on(&self.db)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    parse(r.get::<&str, _>(0), "report id")?,
                    TimelineEntry {
                        kind: r.get(1),
                        status: r.get(2),
                        message: r.get(3),
                        escalation_level: r.get(4),
                        at: from_millis(r.get(5)),
                    },
                ))
            })
            .collect()
    }

    async fn statistics(&self, category: Option<&CategorySlug>) -> StoreResult<Vec<CategoryStats>> {
        let rows = sqlx::query(
            "SELECT category, total, received, in_progress, resolved, rejected, last_updated FROM reporting_read.category_stats \
             WHERE ($1 IS NULL OR category = $1) ORDER BY category",
        )
        .bind(category.map(|c| c.to_string()))
        .fetch_all_on(&self.db)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CategoryStats {
                    category: CategorySlug::parse(r.get::<&str, _>(0))
                        .map_err(|e| StoreError::Other(e.into()))?,
                    total_count: r.get(1),
                    pending_count: r.get(2),
                    in_progress_count: r.get(3),
                    resolved_count: r.get(4),
                    rejected_count: r.get(5),
                    last_updated: from_millis(r.get(6)),
                })
            })
            .collect()
    }

    async fn count_reports(&self) -> StoreResult<i64> {
        // Withdrawn reports included: check-sync compares with the write side.
        sqlx::query_scalar("SELECT count(*) FROM reporting_read.report_views")
            .fetch_one_on(&self.db)
            .await
    }
}
