//! The first pages of the hottest listings, kept in memory.
//!
//! The public feed and each citizen's "my reports" are read far more often
//! than they change, and reading a page of 50 from SQLite is costly under
//! constant writes: a read connection's page cache is dropped whenever
//! another connection commits, so every listing re-reads its pages (this was
//! the largest part of the server's CPU in the no-think benchmark).
//!
//! The projector owns these lists. Inside each batch's transaction (on the
//! writer's connection, whose cache stays warm) it reads the rows the batch
//! changed and loads the newest [`KEEP`] reports of any list readers asked
//! for; after the commit it installs the loaded lists and updates the kept
//! ones from the changed rows ([`Hot::update`]), so a list is always a
//! committed state. A list always holds a newest-first prefix of its key's
//! reports: an update inserts a report only where the prefix covers it, and
//! a withdrawal shortens the prefix. (Reloading every touched list instead
//! cost the projector 64 rows per list per batch.) Readers serve the first
//! newest-first page of an unfiltered listing from a list when every list it
//! needs is present and long enough, and read SQLite otherwise; a miss asks
//! the projector to load that list with its next batch. Lists nobody reads
//! for [`IDLE`] are dropped.

use lapor_app::clock::millis;
use lapor_app::ports::{FeedSort, Paging, ReportFilter};
use lapor_app::views::ReportView;
use lapor_domain::access::{ListingScope, Owner};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many of an owner's newest reports are kept: pages of up to
/// `KEEP - 1` are served (one more is read to know whether more follow).
pub const KEEP: usize = 64;
/// How many of the public feed's newest reports are kept: deeper, so that
/// seed 2's numbered pages (`/reports?page=N`, 20 a page) come from memory
/// up to page 6.
pub const PUBLIC_KEEP: usize = 128;
/// Lists nobody read for this long are dropped.
const IDLE: Duration = Duration::from_secs(30);
/// At most this many lists (kept and wanted) at once.
const MAX_LISTS: usize = 1024;

/// A listing kept in memory: the public feed (the listing of
/// [`ListingScope::PublicOnly`]), or one owner's reports (both without
/// withdrawn reports, newest first).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Public,
    Owner(Owner),
}

impl Key {
    /// How many of the key's newest reports its list keeps.
    pub fn keep(&self) -> usize {
        match self {
            Key::Public => PUBLIC_KEEP,
            Key::Owner(_) => KEEP,
        }
    }
}

/// What a listing's page needs from memory: the merged lists' reports from
/// `skip` on, `take` of them (for a keyset page, the page size and one
/// more, to know whether more follow).
#[derive(Debug, PartialEq, Eq)]
pub struct Want {
    pub keys: Vec<Key>,
    pub skip: usize,
    pub take: usize,
}

/// The listings a report belongs to: its owner's, and the public feed if
/// that feed's scope admits it (neither owner nor visibility of a report
/// ever changes).
pub fn keys_of(v: &ReportView) -> Vec<Key> {
    let mut keys = Vec::with_capacity(2);
    if let Some(o) = &v.owner {
        keys.push(Key::Owner(o.clone()));
    }
    if ListingScope::PublicOnly.admits(v.visibility, v.owner.as_ref(), &v.owner_agency) {
        keys.push(Key::Public);
    }
    keys
}

#[derive(Debug)]
struct List {
    /// The key's newest reports, newest first (a prefix of the listing).
    items: Vec<Arc<ReportView>>,
    /// Holds every report of the key (no more exist than these).
    all: bool,
    /// How many reports the listing has in all, where the projector keeps
    /// that too (the public feed, for numbered pages).
    total: Option<i64>,
    last_read: Instant,
}

impl List {
    /// Takes in the current state of one of the key's reports, keeping at
    /// most `keep` ([`Key::keep`]).
    fn take(&mut self, v: &Arc<ReportView>, withdrawn: bool, keep: usize) {
        self.items.retain(|x| x.id != v.id);
        if withdrawn {
            return;
        }
        let at = self
            .items
            .partition_point(|x| newest_first(x, v) == Ordering::Less);
        // Older than the whole prefix: unknown reports may lie between.
        if at == self.items.len() && !self.all {
            return;
        }
        self.items.insert(at, v.clone());
        if self.items.len() > keep {
            self.items.truncate(keep);
            self.all = false;
        }
    }
}

/// A report a batch changed, as it is after the batch.
#[derive(Debug)]
pub struct Changed {
    pub view: ReportView,
    pub withdrawn: bool,
}

#[derive(Debug, Default)]
pub struct Hot {
    lists: HashMap<Key, List>,
    wanted: HashSet<Key>,
    hits: u64,
}

/// What the projector does with its next batch: reload these lists if the
/// batch touches them, and load these regardless.
#[derive(Debug, Default)]
pub struct Plan {
    pub kept: HashSet<Key>,
    pub load: HashSet<Key>,
}

/// What a listing's page needs from memory, if it can come from there: a
/// first newest-first page of the public feed or of "my reports", or a
/// numbered page of the public feed, without category, status or search
/// filters, within what the lists keep.
pub fn lists_for(f: &ReportFilter) -> Option<Want> {
    if f.sort != FeedSort::Newest
        || f.category.is_some()
        || f.status.is_some()
        || f.search.is_some()
    {
        return None;
    }
    let want = match f.paging {
        Paging::Keyset { after: None, limit } if limit >= 1 => {
            usize::try_from(limit).ok()?.checked_add(1)?
        }
        Paging::Offset { page, per_page }
            if page >= 1 && per_page >= 1 && f.only_owners.is_none() =>
        {
            let take = usize::try_from(per_page).ok()?;
            let skip = usize::try_from(page - 1).ok()?.checked_mul(take)?;
            if f.scope != ListingScope::PublicOnly || skip.checked_add(take)? > PUBLIC_KEEP {
                return None;
            }
            return Some(Want {
                keys: vec![Key::Public],
                skip,
                take,
            });
        }
        _ => return None,
    };
    let keyset = |keys: Vec<Key>| {
        (keys.iter().all(|k| want <= k.keep())).then_some(Want {
            keys,
            skip: 0,
            take: want,
        })
    };
    match (&f.only_owners, &f.scope) {
        (None, ListingScope::PublicOnly) => keyset(vec![Key::Public]),
        (Some(owners), scope) if !owners.is_empty() => {
            // Only when the scope admits every one of these owners' reports
            // (it does for the caller's own; anything else reads SQLite).
            if !owners.iter().all(|o| scope.admits_every_report_of(o)) {
                return None;
            }
            let mut keys: Vec<Key> = Vec::with_capacity(owners.len());
            for o in owners {
                let k = Key::Owner(o.clone());
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            keyset(keys)
        }
        _ => None,
    }
}

/// The public feed's listing: what [`Key::Public`] holds (its total is
/// counted with this filter).
pub fn public_feed() -> ReportFilter {
    ReportFilter {
        scope: ListingScope::PublicOnly,
        only_owners: None,
        category: None,
        status: None,
        search: None,
        sort: FeedSort::Newest,
        paging: Paging::Offset {
            page: 1,
            per_page: 1,
        },
    }
}

/// Newest first, ties by id descending: the order of the SQL listings
/// (`ORDER BY created_at DESC, id DESC`, milliseconds, ids as text, which
/// for UUIDs is their byte order).
fn newest_first(a: &Arc<ReportView>, b: &Arc<ReportView>) -> Ordering {
    (millis(b.created_at), b.id).cmp(&(millis(a.created_at), a.id))
}

impl Hot {
    /// The first `want` reports of the merged lists, or `None` (and the
    /// missing lists wanted) if a list is not there or too short.
    pub fn page(&mut self, keys: &[Key], want: usize) -> Option<Vec<Arc<ReportView>>> {
        let now = Instant::now();
        let mut ready = true;
        for k in keys {
            match self.lists.get_mut(k) {
                Some(l) => {
                    l.last_read = now;
                    if !(l.all || l.items.len() >= want) {
                        // Shortened by withdrawals: load it afresh.
                        ready = false;
                        self.wanted.insert(k.clone());
                    }
                }
                None => {
                    ready = false;
                    if self.lists.len() + self.wanted.len() < MAX_LISTS {
                        self.wanted.insert(k.clone());
                    }
                }
            }
        }
        if !ready {
            return None;
        }
        let mut out: Vec<Arc<ReportView>> = keys
            .iter()
            .flat_map(|k| self.lists[k].items.iter().take(want).cloned())
            .collect();
        if keys.len() > 1 {
            out.sort_by(newest_first);
        }
        out.truncate(want);
        self.hits += 1;
        Some(out)
    }

    /// The listing's total, where the list keeps one.
    pub fn total(&self, key: &Key) -> Option<i64> {
        self.lists.get(key)?.total
    }

    /// Sets the total of a kept list, as of the batch just committed.
    pub fn set_total(&mut self, key: &Key, total: i64) {
        if let Some(l) = self.lists.get_mut(key) {
            l.total = Some(total);
        }
    }

    /// Pages served from memory so far.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Drops idle lists and says what the next batch should (re)load.
    pub fn plan(&mut self) -> Plan {
        let now = Instant::now();
        self.lists
            .retain(|_, l| now.duration_since(l.last_read) < IDLE);
        Plan {
            kept: self.lists.keys().cloned().collect(),
            load: self.wanted.clone(),
        }
    }

    /// Installs lists the projector loaded in a transaction that has
    /// committed. Each holds a key's newest reports: [`KEEP`] of them, or
    /// fewer when that is all there are.
    pub fn publish(&mut self, loaded: Vec<(Key, Vec<ReportView>)>) {
        let now = Instant::now();
        for (key, items) in loaded {
            self.wanted.remove(&key);
            let (last_read, total) = self
                .lists
                .get(&key)
                .map_or((now, None), |l| (l.last_read, l.total));
            self.lists.insert(
                key.clone(),
                List {
                    all: items.len() < key.keep(),
                    items: items.into_iter().map(Arc::new).collect(),
                    total,
                    last_read,
                },
            );
        }
    }

    /// Takes a committed batch's changed reports into the kept lists they
    /// belong to ([`keys_of`]).
    pub fn update(&mut self, changed: Vec<Changed>) {
        for c in changed {
            let keys = keys_of(&c.view);
            let v = Arc::new(c.view);
            for k in keys {
                if let Some(l) = self.lists.get_mut(&k) {
                    l.take(&v, c.withdrawn, k.keep());
                }
            }
        }
    }

    /// Forgets every list (the read model was reset).
    pub fn clear(&mut self) {
        self.lists.clear();
        self.wanted.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::catalog::AgencyCode;
    use lapor_domain::ids::{ReportId, UserId};

    fn filter(scope: ListingScope, only: Option<Vec<Owner>>, limit: i64) -> ReportFilter {
        ReportFilter {
            scope,
            only_owners: only,
            category: None,
            status: None,
            search: None,
            sort: FeedSort::Newest,
            paging: Paging::Keyset { after: None, limit },
        }
    }

    fn user(n: u128) -> Owner {
        Owner::User(UserId(uuid::Uuid::from_u128(n)))
    }

    fn want(keys: Vec<Key>, skip: usize, take: usize) -> Option<Want> {
        Some(Want { keys, skip, take })
    }

    #[test]
    fn only_first_unfiltered_newest_pages_of_public_or_own_reports() {
        let me = user(1);
        assert_eq!(
            lists_for(&filter(ListingScope::PublicOnly, None, 50)),
            want(vec![Key::Public], 0, 51)
        );
        assert_eq!(
            lists_for(&filter(
                ListingScope::PublicAndOwn(vec![me.clone()]),
                Some(vec![me.clone(), me.clone()]),
                10
            )),
            want(vec![Key::Owner(me.clone())], 0, 11)
        );
        // Not all of these owners' reports are in scope: SQLite decides.
        assert_eq!(
            lists_for(&filter(
                ListingScope::PublicAndOwn(vec![me.clone()]),
                Some(vec![user(2)]),
                10
            )),
            None
        );
        assert_eq!(
            lists_for(&filter(
                ListingScope::PublicOnly,
                Some(vec![me.clone()]),
                10
            )),
            None
        );
        // The public feed for a logged-in caller also holds their own.
        assert_eq!(
            lists_for(&filter(
                ListingScope::PublicAndOwn(vec![me.clone()]),
                None,
                10
            )),
            None
        );
        let agency = AgencyCode::parse("AGENCY_INFRA").unwrap();
        assert_eq!(
            lists_for(&filter(
                ListingScope::PublicOwnAndAgency(vec![], agency),
                None,
                10
            )),
            None
        );
        // Keyset pages up to what a list keeps, less one.
        assert!(lists_for(&filter(ListingScope::PublicOnly, None, 127)).is_some());
        assert_eq!(
            lists_for(&filter(ListingScope::PublicOnly, None, 128)),
            None
        );
        let mine = |limit| {
            lists_for(&filter(
                ListingScope::PublicAndOwn(vec![me.clone()]),
                Some(vec![me.clone()]),
                limit,
            ))
        };
        assert!(mine(63).is_some());
        assert_eq!(mine(64), None);
        assert_eq!(lists_for(&filter(ListingScope::PublicOnly, None, 0)), None);
        let mut f = filter(ListingScope::PublicOnly, None, 10);
        f.status = Some(lapor_domain::lifecycle::Status::Received);
        assert_eq!(lists_for(&f), None);
        let mut f = filter(ListingScope::PublicOnly, None, 10);
        f.sort = FeedSort::MostUpvoted;
        assert_eq!(lists_for(&f), None);
        // Numbered pages of the public feed, within what it keeps.
        let numbered = |scope: ListingScope, page: i64, per_page: i64| {
            let mut f = filter(scope, None, 10);
            f.paging = Paging::Offset { page, per_page };
            lists_for(&f)
        };
        assert_eq!(
            numbered(ListingScope::PublicOnly, 3, 20),
            want(vec![Key::Public], 40, 20)
        );
        assert!(numbered(ListingScope::PublicOnly, 6, 20).is_some());
        assert_eq!(numbered(ListingScope::PublicOnly, 7, 20), None);
        assert_eq!(numbered(ListingScope::PublicOnly, 0, 20), None);
        assert_eq!(numbered(ListingScope::PublicOnly, 1, 0), None);
        assert_eq!(numbered(ListingScope::All, 1, 20), None);
        let mut f = filter(
            ListingScope::PublicAndOwn(vec![me.clone()]),
            Some(vec![me]),
            10,
        );
        f.paging = Paging::Offset {
            page: 1,
            per_page: 10,
        };
        assert_eq!(lists_for(&f), None);
    }

    fn view(n: u128, at_ms: i64) -> ReportView {
        let id = ReportId(uuid::Uuid::from_u128(n));
        let at = lapor_app::clock::from_millis(at_ms);
        ReportView {
            id,
            report_id: id,
            title: format!("r{n}"),
            content: String::new(),
            description: String::new(),
            category: lapor_domain::catalog::CategorySlug::parse("lainnya").unwrap(),
            owner_agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
            visibility: lapor_domain::access::Visibility::Public,
            status: lapor_domain::lifecycle::Status::Received,
            current_status: lapor_domain::lifecycle::Status::Received,
            vote_count: 0,
            escalation_level: 0,
            location: None,
            reporter_user_id: None,
            created_at: at,
            updated_at: at,
            last_status_at: at,
            photos: vec![],
            timeline: None,
            owner: None,
            rendered: None,
        }
    }

    #[test]
    fn a_miss_wants_the_list_and_merged_pages_keep_the_sql_order() {
        let mut hot = Hot::default();
        let (a, b) = (Key::Owner(user(1)), Key::Owner(user(2)));
        assert!(hot.page(&[a.clone(), b.clone()], 3).is_none());
        let plan = hot.plan();
        assert_eq!(plan.load, HashSet::from([a.clone(), b.clone()]));
        // Same millisecond for 11 and 12: the larger id comes first.
        hot.publish(vec![
            (a.clone(), vec![view(12, 300), view(10, 100)]),
            (b.clone(), vec![view(11, 300), view(13, 200)]),
        ]);
        let page = hot.page(&[a.clone(), b.clone()], 3).unwrap();
        let ids: Vec<u128> = page.iter().map(|v| v.id.0.as_u128()).collect();
        assert_eq!(ids, vec![12, 11, 13]);
        assert_eq!(hot.hits(), 1);
        assert!(hot.plan().load.is_empty());
    }

    #[test]
    fn full_lists_serve_pages_up_to_their_length_complete_ones_any_page() {
        let mut hot = Hot::default();
        let full: Vec<ReportView> = (0..PUBLIC_KEEP as u128)
            .map(|n| view(n + 1, n as i64))
            .collect();
        hot.publish(vec![(Key::Public, full.clone())]);
        let page = hot.page(&[Key::Public], PUBLIC_KEEP).unwrap();
        assert_eq!(page.len(), PUBLIC_KEEP);
        assert_eq!(page[0].id, full[0].id);
        // A complete list (fewer than KEEP exist) serves any page size,
        // and a page larger than the list is the whole list.
        hot.publish(vec![(Key::Public, full[..5].to_vec())]);
        assert_eq!(hot.page(&[Key::Public], 51).unwrap().len(), 5);
        // Lists nobody asked for are not loaded.
        assert!(hot.plan().load.is_empty());
        hot.clear();
        assert!(hot.page(&[Key::Public], 11).is_none());
        assert_eq!(hot.plan().load, HashSet::from([Key::Public]));
    }

    fn changed(v: ReportView, withdrawn: bool) -> Changed {
        Changed { view: v, withdrawn }
    }

    fn ids(hot: &mut Hot, want: usize) -> Option<Vec<u128>> {
        hot.page(&[Key::Public], want)
            .map(|p| p.iter().map(|v| v.id.0.as_u128()).collect())
    }

    #[test]
    fn updates_keep_each_list_a_prefix_of_its_listing() {
        let mut hot = Hot::default();
        // Reports 1..=K at times 1000 + n: the newest K of more.
        const K: usize = PUBLIC_KEEP;
        let full: Vec<ReportView> = (1..=K as u128)
            .rev()
            .map(|n| view(n, 1000 + n as i64))
            .collect();
        hot.publish(vec![(Key::Public, full)]);
        // A newer report goes to the front and pushes the oldest out.
        hot.update(vec![changed(view(500, 5000), false)]);
        let page = ids(&mut hot, K).unwrap();
        assert_eq!(page[0], 500);
        assert_eq!(page[K - 1], 2);
        // Withdrawing three shortens the prefix; pages it still covers are
        // served, a longer one is a miss that wants the list reloaded.
        hot.update(vec![
            changed(view(500, 5000), true),
            changed(view(40, 1040), true),
            changed(view(10, 1010), true),
        ]);
        assert_eq!(ids(&mut hot, K - 3).unwrap().len(), K - 3);
        assert!(ids(&mut hot, K).is_none());
        assert_eq!(hot.plan().load, HashSet::from([Key::Public]));
        // An older report than the prefix's last is not taken in: reports
        // the list does not hold may lie between.
        hot.update(vec![changed(view(900, 1), false)]);
        assert!(ids(&mut hot, K - 2).is_none());
        assert!(!ids(&mut hot, K - 3).unwrap().contains(&900));
        // A changed report inside the prefix is replaced in place.
        let mut voted = view(30, 1030);
        voted.vote_count = 7;
        hot.update(vec![changed(voted, false)]);
        let p = hot.page(&[Key::Public], K - 3).unwrap();
        let at = p.iter().position(|v| v.id.0.as_u128() == 30).unwrap();
        assert_eq!(p[at].vote_count, 7);
        assert_eq!(p[at - 1].id.0.as_u128(), 31);
        // A list holding all of its key's reports takes older ones too.
        hot.publish(vec![(Key::Public, vec![view(2, 20), view(1, 10)])]);
        hot.update(vec![changed(view(3, 5), false)]);
        assert_eq!(ids(&mut hot, 51).unwrap(), vec![2, 1, 3]);
        // Reports of other keys, or private ones, leave it alone.
        let mut private = view(4, 30);
        private.visibility = lapor_domain::access::Visibility::Private;
        hot.update(vec![changed(private, false)]);
        assert_eq!(ids(&mut hot, 51).unwrap(), vec![2, 1, 3]);
    }
}
