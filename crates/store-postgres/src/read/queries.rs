//! The read store's queries on PostgreSQL: listings with their totals,
//! single reports, timelines and statistics.

use super::{COLS, PgRead, owner_refs, view, with_photos};
use crate::db::{Exec, ExecScalar, parse};
use crate::scope::{self, ROWS};
use async_trait::async_trait;
use lapor_app::clock::from_millis;
use lapor_app::ports::{FeedSort, Paging, ReadStore, ReportFilter, StoreError, StoreResult};
use lapor_app::views::{CategoryStats, Listing, ReportView, TimelineEntry};
use lapor_domain::access::Owner;
use lapor_domain::catalog::CategorySlug;
use lapor_domain::ids::ReportId;
use sqlx::{Postgres, QueryBuilder, Row};

/// `owner = ANY(<array>)`: one parameter however many owners, and false
/// (like SQLite's `IN ()`) when there are none.
fn push_owners(qb: &mut QueryBuilder<'_, Postgres>, owners: &[Owner]) {
    qb.push("owner = ANY(")
        .push_bind(owner_refs(owners))
        .push(")");
}

/// Appends the filter's WHERE clause (without paging).
fn push_where(qb: &mut QueryBuilder<'_, Postgres>, f: &ReportFilter) {
    qb.push(" WHERE withdrawn = 0");
    scope::push_scope(qb, &f.scope, ROWS);
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
