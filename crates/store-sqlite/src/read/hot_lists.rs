//! The glue between the read store and the lists kept in memory
//! ([`crate::hot`]): inside the projector's transaction, read what the kept
//! lists need of the batch ([`snapshot`]); after the commit, render it once
//! and install it ([`SqliteRead::install`]); when serving a listing, take
//! the page from memory where it can come from there
//! ([`SqliteRead::hot_page`]).

use super::{LIST_COLS, SqliteRead, listed, queries, views, with_photos};
use crate::db::{Sql, SqlResultExt};
use crate::hot::{self, Key, Plan};
use crate::scope::{self, ROWS};
use lapor_app::ports::{Paging, ReportFilter, StoreResult};
use lapor_app::reactions::read_model;
use lapor_app::views::{Listing, ReportView};
use lapor_domain::access::ListingScope;
use lapor_domain::events::EventEnvelope;
use lapor_domain::ids::ReportId;
use rusqlite::Connection;
use std::collections::HashSet;

/// What the kept lists need of a batch, read in its transaction.
pub(super) struct Snapshot {
    /// The reports the batch changed that belong to a kept list.
    changed: Vec<hot::Changed>,
    /// The lists readers asked for.
    loaded: Vec<(Key, Vec<ReportView>)>,
    /// The public feed's total, for its numbered pages.
    public_total: Option<i64>,
}

/// Reads, in the projector's transaction, what the kept lists need after
/// applying `events`, following `plan` (taken before the transaction).
pub(super) fn snapshot(
    conn: &Connection,
    events: &[EventEnvelope],
    plan: Plan,
) -> StoreResult<Snapshot> {
    let changed = if plan.kept.is_empty() {
        Vec::new()
    } else {
        changed(conn, events, &plan.kept)?
    };
    let public_total = if plan.kept.contains(&Key::Public) || plan.load.contains(&Key::Public) {
        queries::counted_total(conn, &hot::public_feed())?
    } else {
        None
    };
    let loaded = plan
        .load
        .into_iter()
        .map(|k| Ok((k.clone(), load(conn, &k)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Snapshot {
        changed,
        loaded,
        public_total,
    })
}

/// The newest reports of a kept listing, as many as it keeps.
fn load(conn: &Connection, key: &Key) -> StoreResult<Vec<ReportView>> {
    let mut q = match key {
        Key::Public => {
            let mut q = Sql::new(&format!(
                "SELECT {LIST_COLS} FROM report_views INDEXED BY rv_visibility WHERE withdrawn = 0"
            ));
            scope::push_scope(&mut q, &ListingScope::PublicOnly, ROWS);
            q
        }
        Key::Owner(o) => {
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
/// [`hot::Hot::update`]).
fn changed(
    conn: &Connection,
    events: &[EventEnvelope],
    kept: &HashSet<Key>,
) -> StoreResult<Vec<hot::Changed>> {
    let mut ids: Vec<ReportId> = events
        .iter()
        .filter(|e| read_model::changes_listings(&e.event_type))
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

impl SqliteRead {
    /// Installs a committed batch's snapshot. Each view's JSON is rendered
    /// once here (outside the lock) and written as is by every page that
    /// shows it.
    pub(super) fn install(&self, s: Snapshot) {
        let changed: Vec<hot::Changed> = s
            .changed
            .into_iter()
            .map(|c| hot::Changed {
                view: if c.withdrawn { c.view } else { c.view.render() },
                withdrawn: c.withdrawn,
            })
            .collect();
        let loaded: Vec<_> = s
            .loaded
            .into_iter()
            .map(|(k, views)| (k, views.into_iter().map(ReportView::render).collect()))
            .collect();
        // The freshly loaded lists already hold this batch's changes;
        // taking them in again is a no-op.
        let mut hot = self.hot();
        hot.publish(loaded);
        hot.update(changed);
        if let Some(t) = s.public_total {
            hot.set_total(&Key::Public, t);
        }
    }

    /// The page from memory, if it can come from there.
    pub(super) fn hot_page(&self, f: &ReportFilter) -> Option<Listing<ReportView>> {
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
                let total = hot.total(&Key::Public)?;
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
