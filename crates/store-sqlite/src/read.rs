//! The reporting read side on SQLite: the projector's tables and the
//! visibility-aware listings served from them.

use crate::db::{Db, Sql, SqlResultExt, parse, text};
use crate::hot::{self, Hot, Key as HotKey};
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
use rusqlite::{Connection, Row, params};
use std::collections::HashSet;
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

    /// The page from memory, if it can come from there.
    fn hot_page(&self, f: &ReportFilter) -> Option<Listing<ReportView>> {
        let want = hot::lists_for(f)?;
        let mut hot = self.hot();
        match f.paging {
            Paging::Keyset { limit, .. } => {
                let page = hot.page(&want.keys, want.take)?;
                drop(hot);
                let rows = page.iter().map(|v| (**v).clone()).collect();
                Some(Listing::keyset(rows, limit, |v| Some(v.cursor())))
            }
            Paging::Offset { .. } => {
                // The page first: a miss there asks for the list.
                let page = hot.page(&want.keys, want.skip + want.take)?;
                let total = hot.total(&HotKey::Public)?;
                drop(hot);
                Some(Listing {
                    items: page.iter().skip(want.skip).map(|v| (**v).clone()).collect(),
                    total: Some(total),
                    next_cursor: None,
                })
            }
        }
    }
}

/// The newest reports of a kept listing, as many as it keeps (see
/// [`crate::hot`]).
fn load_hot(conn: &Connection, key: &HotKey) -> StoreResult<Vec<ReportView>> {
    let mut q = match key {
        HotKey::Public => Sql::new(&format!(
            "SELECT {LIST_COLS} FROM report_views INDEXED BY rv_visibility \
             WHERE withdrawn = 0 AND visibility = 'PUBLIC'"
        )),
        HotKey::Owner(o) => {
            let mut q = Sql::new(&format!(
                "SELECT {LIST_COLS} FROM report_views INDEXED BY rv_owner WHERE withdrawn = 0 AND owner = "
            ));
            q.bind(o.to_string());
            q
        }
    };
    q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .bind(key.keep() as i64);
    views(conn, &q)
}

/// The reports `events` changed that belong to a kept listing, as they are
/// now in this transaction, for those listings to take in (see
/// [`Hot::update`]).
fn changed(
    conn: &Connection,
    events: &[EventEnvelope],
    kept: &HashSet<HotKey>,
) -> StoreResult<Vec<hot::Changed>> {
    let mut ids: Vec<ReportId> = events
        .iter()
        // Answers only add to the timeline, which listings do not show.
        .filter(|e| e.event_type != "case.answered")
        .map(|e| e.report_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let sql = format!("SELECT {LIST_COLS}, withdrawn FROM report_views WHERE id = ?1");
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let mut st = conn.prepare_cached(&sql).store()?;
        let mut rows = st.query([id.to_string()]).store()?;
        if let Some(r) = rows.next().store()? {
            let (mut v, has_photos) = listed(r)?;
            if !hot::keys_of(&v).iter().any(|k| kept.contains(k)) {
                continue;
            }
            let withdrawn = r.get::<_, bool>(17).store()?;
            drop(rows);
            if has_photos {
                with_photos(conn, std::slice::from_mut(&mut v))?;
            }
            out.push(hot::Changed { view: v, withdrawn });
        }
    }
    Ok(out)
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

fn status_column(s: Status) -> &'static str {
    match s {
        Status::Received => "received",
        Status::InProgress => "in_progress",
        Status::Resolved => "resolved",
        Status::Rejected => "rejected",
    }
}

/// Adds `delta` to a category's total and one status counter.
fn bump(
    conn: &Connection,
    category: &str,
    status: Status,
    total: i64,
    delta: i64,
    at: i64,
) -> StoreResult<()> {
    let col = status_column(status);
    conn.prepare_cached(&format!(
        "INSERT INTO category_stats (category, total, {col}, last_updated) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (category) DO UPDATE SET total = total + ?2, {col} = {col} + ?3, last_updated = max(last_updated, ?4)"
    ))
    .store()?
    .execute(params![category, total, delta, at])
    .store()?;
    Ok(())
}

/// What the listing counters of one live report are keyed by.
struct CountKey<'a> {
    owner: &'a str,
    public: bool,
    agency: &'a str,
    category: &'a str,
    status: Status,
}

/// Adds `delta` to the listing counters of one live report.
fn count(conn: &Connection, k: &CountKey<'_>, delta: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO report_counts (public, agency, category, status, n) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT DO UPDATE SET n = n + ?5",
    )
    .store()?
    .execute(params![k.public, k.agency, k.category, k.status.as_str(), delta])
    .store()?;
    conn.prepare_cached(
        "INSERT INTO report_owner_counts (owner, public, agency, category, status, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT DO UPDATE SET n = n + ?6",
    )
    .store()?
    .execute(params![k.owner, k.public, k.agency, k.category, k.status.as_str(), delta])
    .store()?;
    Ok(())
}

fn timeline(
    conn: &Connection,
    id: ReportId,
    kind: &str,
    status: Option<&str>,
    message: Option<&str>,
    level: Option<i64>,
    at: i64,
) -> StoreResult<()> {
    conn.prepare_cached("INSERT INTO report_timeline (report_id, kind, status, message, escalation_level, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .store()?
        .execute(params![id.to_string(), kind, status, message, level, at])
        .store()?;
    Ok(())
}

/// A projected report's current counters key.
struct Current {
    category: String,
    status: Status,
    withdrawn: bool,
    owner: String,
    public: bool,
    agency: String,
}

impl Current {
    fn key(&self) -> CountKey<'_> {
        CountKey {
            owner: &self.owner,
            public: self.public,
            agency: &self.agency,
            category: &self.category,
            status: self.status,
        }
    }
}

fn current(conn: &Connection, id: ReportId) -> StoreResult<Option<Current>> {
    let mut st = conn
        .prepare_cached(
            "SELECT category, status, withdrawn, owner, visibility = 'PUBLIC', agency FROM report_views WHERE id = ?1",
        )
        .store()?;
    let mut rows = st.query([id.to_string()]).store()?;
    let Some(r) = rows.next().store()? else {
        return Ok(None);
    };
    Ok(Some(Current {
        category: r.get(0).store()?,
        status: parse(&text(r, 1)?, "status")?,
        withdrawn: r.get::<_, i64>(2).store()? != 0,
        owner: r.get(3).store()?,
        public: r.get(4).store()?,
        agency: r.get(5).store()?,
    }))
}

fn project(conn: &Connection, e: &EventEnvelope) -> StoreResult<()> {
    let Ok(event) = e.decode() else {
        tracing::warn!(event_type = %e.event_type, "projector skips an event it does not understand");
        return Ok(());
    };
    match event {
        DomainEvent::ReportCreated(c) => {
            let at = millis(c.created_at);
            let inserted = conn
                .prepare_cached(&format!(
                    "INSERT INTO report_views ({COLS}, withdrawn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'RECEIVED', 0, 0, ?11, ?11, ?11, 0) \
                     ON CONFLICT (id) DO NOTHING"
                ))
                .store()?
                .execute(params![
                    c.report_id.to_string(),
                    c.owner.to_string(),
                    c.visibility.as_str(),
                    c.title,
                    c.content,
                    c.category.as_str(),
                    c.agency.as_str(),
                    c.location.as_ref().map(|l| l.lat),
                    c.location.as_ref().map(|l| l.lon),
                    c.location.as_ref().and_then(|l| l.address.clone()),
                    at,
                ])
                .store()?;
            if inserted == 1 {
                bump(conn, c.category.as_str(), Status::Received, 1, 1, at)?;
                let owner = c.owner.to_string();
                count(
                    conn,
                    &CountKey {
                        owner: &owner,
                        public: c.visibility.as_str() == "PUBLIC",
                        agency: c.agency.as_str(),
                        category: c.category.as_str(),
                        status: Status::Received,
                    },
                    1,
                )?;
                timeline(
                    conn,
                    c.report_id,
                    "created",
                    Some("RECEIVED"),
                    None,
                    None,
                    at,
                )?;
            }
        }
        DomainEvent::ReportUpdated(u) => {
            let Some(cur) = current(conn, u.report_id)? else {
                return lapor_app::ports::not_yet(e);
            };
            let at = millis(u.updated_at);
            conn.prepare_cached(
                "UPDATE report_views SET title = ?1, content = ?2, category = ?3, agency = ?4, lat = ?5, lon = ?6, address = ?7, \
                 updated_at = ?8 WHERE id = ?9",
            )
            .store()?
            .execute(params![
                u.title,
                u.content,
                u.category.as_str(),
                u.agency.as_str(),
                u.location.as_ref().map(|l| l.lat),
                u.location.as_ref().map(|l| l.lon),
                u.location.as_ref().and_then(|l| l.address.clone()),
                at,
                u.report_id.to_string(),
            ])
            .store()?;
            if cur.category != u.category.as_str() && !cur.withdrawn {
                bump(conn, &cur.category, cur.status, -1, -1, at)?;
                bump(conn, u.category.as_str(), cur.status, 1, 1, at)?;
            }
            if (cur.category != u.category.as_str() || cur.agency != u.agency.as_str())
                && !cur.withdrawn
            {
                count(conn, &cur.key(), -1)?;
                let new = CountKey {
                    category: u.category.as_str(),
                    agency: u.agency.as_str(),
                    ..cur.key()
                };
                count(conn, &new, 1)?;
            }
        }
        DomainEvent::ReportWithdrawn(w) => {
            let Some(cur) = current(conn, w.report_id)? else {
                return lapor_app::ports::not_yet(e);
            };
            if !cur.withdrawn {
                let at = millis(w.withdrawn_at);
                conn.prepare_cached(
                    "UPDATE report_views SET withdrawn = 1, updated_at = ?1 WHERE id = ?2",
                )
                .store()?
                .execute(params![at, w.report_id.to_string()])
                .store()?;
                bump(conn, &cur.category, cur.status, -1, -1, at)?;
                count(conn, &cur.key(), -1)?;
                timeline(conn, w.report_id, "withdrawn", None, None, None, at)?;
            }
        }
        DomainEvent::ReportUpvoted(v) => {
            // The payload carries the authoritative count.
            let done = conn
                .prepare_cached(
                    "UPDATE report_views SET vote_count = max(vote_count, ?1) WHERE id = ?2",
                )
                .store()?
                .execute(params![v.vote_count, v.report_id.to_string()])
                .store()?;
            if done == 0 {
                return lapor_app::ports::not_yet(e);
            }
        }
        DomainEvent::StatusUpdated(s) => {
            let Some(cur) = current(conn, s.report_id)? else {
                return lapor_app::ports::not_yet(e);
            };
            let at = millis(s.changed_at);
            conn.prepare_cached("UPDATE report_views SET status = ?1, last_status_at = ?2, updated_at = ?2 WHERE id = ?3")
                .store()?
                .execute(params![s.new_status.as_str(), at, s.report_id.to_string()])
                .store()?;
            if !cur.withdrawn && cur.status != s.new_status {
                bump(conn, &cur.category, cur.status, 0, -1, at)?;
                bump(conn, &cur.category, s.new_status, 0, 1, at)?;
                count(conn, &cur.key(), -1)?;
                count(
                    conn,
                    &CountKey {
                        status: s.new_status,
                        ..cur.key()
                    },
                    1,
                )?;
            }
            timeline(
                conn,
                s.report_id,
                "status",
                Some(s.new_status.as_str()),
                s.reason.as_deref(),
                None,
                at,
            )?;
        }
        DomainEvent::CaseAnswered(a) => {
            if current(conn, a.report_id)?.is_none() {
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
            )?;
        }
        DomainEvent::ReportEscalated(x) => {
            let at = millis(x.escalated_at);
            let done = conn
                .prepare_cached("UPDATE report_views SET escalation_level = max(escalation_level, ?1) WHERE id = ?2")
                .store()?
                .execute(params![x.escalation_level, x.report_id.to_string()])
                .store()?;
            if done == 0 {
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
            )?;
        }
        // Operations shows the due time; the read model does not (yet).
        DomainEvent::SlaStarted(_) => {}
        DomainEvent::PhotosAdded(p) => {
            if current(conn, p.report_id)?.is_none() {
                return lapor_app::ports::not_yet(e);
            }
            let mut st = conn
                .prepare_cached("INSERT INTO report_photos (report_id, photo_id, added_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
                .store()?;
            for photo in &p.photo_ids {
                st.execute(params![
                    p.report_id.to_string(),
                    photo.to_string(),
                    millis(p.added_at)
                ])
                .store()?;
            }
            conn.prepare_cached(
                "UPDATE report_views SET photo_count = \
                 (SELECT count(*) FROM report_photos WHERE report_id = ?1) WHERE id = ?1",
            )
            .store()?
            .execute([p.report_id.to_string()])
            .store()?;
        }
    }
    Ok(())
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

#[async_trait]
impl EventConsumer for SqliteRead {
    fn group(&self) -> String {
        self.group.clone()
    }

    async fn apply(
        &self,
        events: &[EventEnvelope],
        _now: lapor_domain::Timestamp,
    ) -> StoreResult<usize> {
        // `project` does nothing with SLA starts (operations shows due times).
        let events = outbox::relevant(events, &["sla.started"]);
        if events.is_empty() {
            return Ok(0);
        }
        let plan = self.hot().plan();
        let (applied, loaded) = self
            .db
            .write(move |c| {
                let applied = outbox::apply_new(c, &events, project)?;
                // The reports this batch changed, for the kept listings,
                // and the listings readers asked for, as they are in this
                // transaction.
                let changed = if plan.kept.is_empty() {
                    Vec::new()
                } else {
                    changed(c, &events, &plan.kept)?
                };
                // The public feed's total, for its numbered pages.
                let public_total =
                    if plan.kept.contains(&HotKey::Public) || plan.load.contains(&HotKey::Public) {
                        counted_total(c, &hot::public_feed())?
                    } else {
                        None
                    };
                let loaded = plan
                    .load
                    .into_iter()
                    .map(|k| Ok((k.clone(), load_hot(c, &k)?)))
                    .collect::<StoreResult<Vec<_>>>()?;
                Ok((applied, (changed, loaded, public_total)))
            })
            .await?;
        // Each view's JSON is rendered once here (outside the lock) and
        // written as is by every page that shows it.
        let (changed, loaded, public_total) = loaded;
        let changed: Vec<hot::Changed> = changed
            .into_iter()
            .map(|c| hot::Changed {
                view: if c.withdrawn { c.view } else { c.view.render() },
                withdrawn: c.withdrawn,
            })
            .collect();
        let loaded: Vec<_> = loaded
            .into_iter()
            .map(|(k, views)| (k, views.into_iter().map(ReportView::render).collect()))
            .collect();
        // Committed: readers may see them now. The freshly loaded lists
        // already hold this batch's changes; taking them in again is a no-op.
        let mut hot = self.hot();
        hot.publish(loaded);
        hot.update(changed);
        if let Some(t) = public_total {
            hot.set_total(&HotKey::Public, t);
        }
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

fn push_owners(q: &mut Sql, owners: &[Owner]) {
    q.push("owner IN ").bind_list(owners);
}

/// Appends the filter's WHERE clause (without paging).
fn push_where(q: &mut Sql, f: &ReportFilter) {
    q.push(" WHERE withdrawn = 0");
    match &f.scope {
        ListingScope::PublicOnly => {
            q.push(" AND visibility = 'PUBLIC'");
        }
        ListingScope::PublicAndOwn(owners) => {
            q.push(" AND (visibility = 'PUBLIC' OR ");
            push_owners(q, owners);
            q.push(")");
        }
        ListingScope::PublicOwnAndAgency(owners, agency) => {
            q.push(" AND (visibility = 'PUBLIC' OR ");
            push_owners(q, owners);
            q.push(" OR agency = ").bind(agency.to_string()).push(")");
        }
        ListingScope::All => {}
    }
    if let Some(owners) = &f.only_owners {
        q.push(" AND ");
        push_owners(q, owners);
    }
    if let Some(c) = &f.category {
        q.push(" AND category = ").bind(c.to_string());
    }
    if let Some(s) = f.status {
        q.push(" AND status = ").bind(s.as_str().to_owned());
    }
    // Each word must appear in the title or the text.
    if let Some(text) = &f.search {
        for word in text.split_whitespace().take(8) {
            let pattern = lapor_app::ports::like_pattern(word);
            q.push(" AND (title LIKE ")
                .bind(pattern.clone())
                .push(" ESCAPE '\\' OR content LIKE ")
                .bind(pattern)
                .push(" ESCAPE '\\')");
        }
    }
}

/// The category and status filters on a counters table.
fn push_count_filters(q: &mut Sql, f: &ReportFilter) {
    if let Some(c) = &f.category {
        q.push(" AND category = ").bind(c.to_string());
    }
    if let Some(s) = f.status {
        q.push(" AND status = ").bind(s.as_str().to_owned());
    }
}

/// The total of a listing from the maintained counters: a sum over a few
/// counter rows (per scope, agency, category, status; per owner for "my
/// own"), whatever the number of reports. Owners are disjoint, so the sums
/// never count a report twice. `None` when the filter needs a scan
/// (full-text search).
fn counted_total(conn: &Connection, f: &ReportFilter) -> StoreResult<Option<i64>> {
    if f.search.is_some() {
        return Ok(None);
    }
    let mut q = Sql::new("SELECT ");
    if let Some(only) = &f.only_owners {
        // Only these owners' reports, as far as the scope lets the caller see them.
        q.push("(SELECT coalesce(sum(n), 0) FROM report_owner_counts WHERE ");
        push_owners(&mut q, only);
        match &f.scope {
            ListingScope::All => {}
            ListingScope::PublicOnly => {
                q.push(" AND public = 1");
            }
            ListingScope::PublicAndOwn(owners) => {
                q.push(" AND (public = 1 OR ");
                push_owners(&mut q, owners);
                q.push(")");
            }
            ListingScope::PublicOwnAndAgency(owners, agency) => {
                q.push(" AND (public = 1 OR ");
                push_owners(&mut q, owners);
                q.push(" OR agency = ").bind(agency.to_string()).push(")");
            }
        }
        push_count_filters(&mut q, f);
        q.push(")");
    } else {
        q.push("(SELECT coalesce(sum(n), 0) FROM report_counts WHERE ");
        match &f.scope {
            ListingScope::All => {
                q.push("1");
            }
            ListingScope::PublicOnly | ListingScope::PublicAndOwn(_) => {
                q.push("public = 1");
            }
            ListingScope::PublicOwnAndAgency(_, agency) => {
                q.push("(public = 1 OR agency = ")
                    .bind(agency.to_string())
                    .push(")");
            }
        }
        push_count_filters(&mut q, f);
        q.push(")");
        // Plus the caller's own non-public reports not counted above.
        match &f.scope {
            ListingScope::PublicAndOwn(owners) => {
                q.push(" + (SELECT coalesce(sum(n), 0) FROM report_owner_counts WHERE ");
                push_owners(&mut q, owners);
                q.push(" AND public = 0");
                push_count_filters(&mut q, f);
                q.push(")");
            }
            ListingScope::PublicOwnAndAgency(owners, agency) => {
                q.push(" + (SELECT coalesce(sum(n), 0) FROM report_owner_counts WHERE ");
                push_owners(&mut q, owners);
                q.push(" AND public = 0 AND agency <> ")
                    .bind(agency.to_string());
                push_count_filters(&mut q, f);
                q.push(")");
            }
            ListingScope::All | ListingScope::PublicOnly => {}
        }
    }
    let total = conn
        .prepare_cached(&q.sql)
        .store()?
        .query_row(q.params(), |r| r.get(0))
        .store()?;
    Ok(Some(total))
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

fn scan_total(conn: &Connection, f: &ReportFilter) -> StoreResult<i64> {
    let mut q = Sql::new("SELECT count(*) FROM report_views");
    push_where(&mut q, f);
    conn.prepare_cached(&q.sql)
        .store()?
        .query_row(q.params(), |r| r.get(0))
        .store()
}

impl SqliteRead {
    /// The total of a listing by `count(*)`, as the counters must agree
    /// (tests compare the two).
    pub fn scanned_total(&self, f: &ReportFilter) -> StoreResult<i64> {
        self.db.read(|c| scan_total(c, f))
    }

    /// The total of a listing from the counters (`None`: needs a scan).
    pub fn counted_total(&self, f: &ReportFilter) -> StoreResult<Option<i64>> {
        self.db.read(|c| counted_total(c, f))
    }
}

impl SqliteRead {
    /// The listing read from SQLite, never from the lists kept in memory
    /// (tests compare the two).
    pub async fn list_reports_from_db(&self, f: &ReportFilter) -> StoreResult<Listing<ReportView>> {
        let mut q = Sql::new(&format!("SELECT {LIST_COLS} FROM report_views"));
        push_where(&mut q, f);
        let order = match f.sort {
            FeedSort::Newest => " ORDER BY created_at DESC, id DESC",
            FeedSort::MostUpvoted => " ORDER BY vote_count DESC, created_at DESC, id DESC",
        };
        match f.paging {
            Paging::Offset { page, per_page } => {
                q.push(order)
                    .push(" LIMIT ")
                    .bind(per_page)
                    .push(" OFFSET ")
                    .bind((page - 1) * per_page);
                let (items, total) = self.db.read(|c| {
                    let items = views(c, &q)?;
                    Ok((items, counted_total(c, f)?))
                })?;
                let total = match total {
                    Some(t) => t,
                    // Search scans anyway; count off the async workers.
                    None => {
                        let f = f.clone();
                        self.db.read_blocking(move |c| scan_total(c, &f)).await?
                    }
                };
                Ok(Listing {
                    items,
                    total: Some(total),
                    next_cursor: None,
                })
            }
            Paging::Keyset { after, limit } => {
                let newest = f.sort == FeedSort::Newest;
                let keyset = |q: &mut Sql| {
                    if let (Some(c), true) = (after, newest) {
                        q.push(" AND (created_at < ")
                            .bind(c.created_at_ms)
                            .push(" OR (created_at = ")
                            .bind(c.created_at_ms)
                            .push(" AND id < ")
                            .bind(c.id.to_string())
                            .push("))");
                    }
                };
                let q = match (&f.only_owners, newest, &f.search) {
                    // "My reports": one index range per owner (rv_owner),
                    // each cut at the page size, merged. Otherwise SQLite
                    // walks the newest-first index of every report and
                    // filters by owner, which grows with the table.
                    (Some(owners), true, None) if !owners.is_empty() => {
                        let mut u = Sql::new(&format!("SELECT {LIST_COLS} FROM ("));
                        for (i, o) in owners.iter().enumerate() {
                            if i > 0 {
                                u.push(" UNION ALL ");
                            }
                            u.push(&format!(
                                "SELECT * FROM (SELECT {LIST_COLS} FROM report_views INDEXED BY rv_owner"
                            ));
                            let one = ReportFilter {
                                only_owners: Some(vec![o.clone()]),
                                ..f.clone()
                            };
                            let mut w = Sql::new("");
                            push_where(&mut w, &one);
                            u.sql.push_str(&w.sql);
                            u.params.extend(w.params);
                            // The owner's index range, newest first.
                            u.push(" AND owner = ").bind(o.to_string());
                            keyset(&mut u);
                            u.push(order).push(" LIMIT ").bind(limit + 1).push(")");
                        }
                        u.push(")").push(order).push(" LIMIT ").bind(limit + 1);
                        u
                    }
                    _ => {
                        keyset(&mut q);
                        q.push(order).push(" LIMIT ").bind(limit + 1);
                        q
                    }
                };
                let rows = self.db.read(|c| views(c, &q))?;
                Ok(Listing::keyset(rows, limit, |v| newest.then(|| v.cursor())))
            }
        }
    }
}

#[async_trait]
impl ReadStore for SqliteRead {
    async fn list_reports(&self, f: &ReportFilter) -> StoreResult<Listing<ReportView>> {
        if let Some(page) = self.hot_page(f) {
            return Ok(page);
        }
        self.list_reports_from_db(f).await
    }

    async fn report(&self, id: ReportId, with_timeline: bool) -> StoreResult<Option<ReportView>> {
        self.db.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {LIST_COLS} FROM report_views WHERE id = ?1 AND withdrawn = 0"
                ))
                .store()?;
            let mut rows = st.query([id.to_string()]).store()?;
            let Some(r) = rows.next().store()? else {
                return Ok(None);
            };
            let (mut v, has_photos) = listed(r)?;
            drop(rows);
            if has_photos {
                with_photos(c, std::slice::from_mut(&mut v))?;
            }
            if with_timeline {
                let mut st = c
                    .prepare_cached("SELECT kind, status, message, escalation_level, at FROM report_timeline WHERE report_id = ?1 ORDER BY at, seq")
                    .store()?;
                let entries = st
                    .query_map([id.to_string()], |r| {
                        Ok(TimelineEntry {
                            kind: r.get(0)?,
                            status: r.get(1)?,
                            message: r.get(2)?,
                            escalation_level: r.get(3)?,
                            at: from_millis(r.get(4)?),
                        })
                    })
                    .store()?
                    .collect::<Result<Vec<_>, _>>()
                    .store()?;
                v.timeline = Some(entries);
            }
            Ok(Some(v))
        })
    }

    async fn timelines(&self, ids: &[ReportId]) -> StoreResult<Vec<(ReportId, TimelineEntry)>> {
        let mut q = Sql::new(
            "SELECT report_id, kind, status, message, escalation_level, at FROM report_timeline WHERE report_id IN ",
        );
        q.bind_list(ids);
        q.push(" ORDER BY report_id, at, seq");
        self.db.read(|c| {
            crate::db::collect(c, &q.sql, q.params(), |r| {
                Ok((
                    parse(&text(r, 0)?, "report id")?,
                    TimelineEntry {
                        kind: r.get(1).store()?,
                        status: r.get(2).store()?,
                        message: r.get(3).store()?,
                        escalation_level: r.get(4).store()?,
                        at: from_millis(r.get(5).store()?),
                    },
                ))
            })
        })
    }

    async fn statistics(&self, category: Option<&CategorySlug>) -> StoreResult<Vec<CategoryStats>> {
        self.db.read(|c| {
            crate::db::collect(
                c,
                "SELECT category, total, received, in_progress, resolved, rejected, last_updated FROM category_stats \
                 WHERE (?1 IS NULL OR category = ?1) ORDER BY category",
                [category.map(|c| c.to_string())],
                |r| {
                    Ok(CategoryStats {
                        category: CategorySlug::parse(&text(r, 0)?)
                            .map_err(|e| StoreError::Other(e.into()))?,
                        total_count: r.get(1).store()?,
                        pending_count: r.get(2).store()?,
                        in_progress_count: r.get(3).store()?,
                        resolved_count: r.get(4).store()?,
                        rejected_count: r.get(5).store()?,
                        last_updated: from_millis(r.get(6).store()?),
                    })
                },
            )
        })
    }

    async fn count_reports(&self) -> StoreResult<i64> {
        self.db
            .read_blocking(|c| {
                c.query_row("SELECT count(*) FROM report_views", [], |r| r.get(0))
                    .store()
            })
            .await
    }
}
