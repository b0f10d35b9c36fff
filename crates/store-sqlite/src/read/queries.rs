//! The read store's queries on SQLite: listings (from the lists kept in
//! memory where possible), their totals (from the counters the projector
//! keeps), single reports, timelines and statistics.

use super::{LIST_COLS, SqliteRead, listed, views, with_photos};
use crate::db::{Sql, SqlResultExt, parse, text};
use crate::scope::{self, COUNTERS, ROWS};
use async_trait::async_trait;
use lapor_app::clock::from_millis;
use lapor_app::ports::{FeedSort, Paging, ReadStore, ReportFilter, StoreError, StoreResult};
use lapor_app::views::{CategoryStats, Listing, ReportView, TimelineEntry};
use lapor_domain::access::Owner;
use lapor_domain::catalog::CategorySlug;
use lapor_domain::ids::ReportId;
use rusqlite::Connection;

fn push_owners(q: &mut Sql, owners: &[Owner]) {
    q.push("owner IN ").bind_list(owners);
}

/// Appends the filter's WHERE clause (without paging).
fn push_where(q: &mut Sql, f: &ReportFilter) {
    q.push(" WHERE withdrawn = 0");
    scope::push_scope(q, &f.scope, ROWS);
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
pub(super) fn counted_total(conn: &Connection, f: &ReportFilter) -> StoreResult<Option<i64>> {
    if f.search.is_some() {
        return Ok(None);
    }
    let mut q = Sql::new("SELECT ");
    if let Some(only) = &f.only_owners {
        // Only these owners' reports, as far as the scope lets the caller see them.
        q.push("(SELECT coalesce(sum(n), 0) FROM report_owner_counts WHERE ");
        push_owners(&mut q, only);
        scope::push_scope(&mut q, &f.scope, COUNTERS);
        push_count_filters(&mut q, f);
        q.push(")");
    } else {
        scope::push_scope_total(
            &mut q,
            &f.scope,
            "report_counts",
            "report_owner_counts",
            &|q| push_count_filters(q, f),
        );
    }
    let total = conn
        .prepare_cached(&q.sql)
        .store()?
        .query_row(q.params(), |r| r.get(0))
        .store()?;
    Ok(Some(total))
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
