//! Ports: what the application needs from storage engines and event buses.
//!
//! Each bounded context has its own store (identity, reporting write side,
//! reporting read side, operations, workflow), as in the seeds. Every store
//! that changes state appends the resulting events to its own outbox in the
//! same transaction ([`Outbox`]); consumers apply events idempotently
//! ([`EventConsumer`]). The [`EventBus`] carries events from the relay to
//! the consumers with at-least-once delivery.

pub use crate::views::Cursor;
use crate::views::*;
use async_trait::async_trait;
use lapor_domain::Timestamp;
use lapor_domain::access::{ListingScope, Owner, Role};
use lapor_domain::analytics::{CaseFacts, OpenCases};
use lapor_domain::audit::{AuditAction, AuditEntry, NewAuditEntry};
use lapor_domain::catalog::{Agency, AgencyCode, Catalog, Category, CategorySlug};
use lapor_domain::events::{CaseAnswered, EventEnvelope, StatusUpdated};
use lapor_domain::ids::{NotificationId, PhotoId, ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_domain::notices::Notice;
use lapor_domain::report::Report;
use lapor_domain::sla::{SlaJob, SlaStatus};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or optimistic-concurrency conflict.
    #[error("{0}")]
    Conflict(String),
    /// The engine is unreachable or overloaded; retrying later may work.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

// ---------------------------------------------------------------- events

/// An event in a context's outbox, with its position there.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub seq: i64,
    pub event: EventEnvelope,
}

/// The outbox of one context: rows appended with each state change and
/// marked once relayed. Marking rows (rather than keeping a position) stays
/// correct on engines where a row with a lower sequence number can commit
/// after one with a higher number (PostgreSQL sequences).
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Names the outbox (`reporting`, `operations`, `workflow`).
    fn source(&self) -> &'static str;
    /// Events not yet relayed, oldest first.
    async fn unrelayed(&self, limit: i64) -> StoreResult<Vec<OutboxEvent>>;
    async fn mark_relayed(&self, seqs: &[i64]) -> StoreResult<()>;
    async fn unrelayed_count(&self) -> StoreResult<i64>;
    /// Every event after `after_seq`, relayed or not (outboxes are kept: they
    /// are the durable log that read models are rebuilt from).
    async fn replay(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<OutboxEvent>>;
}

/// A consumer applies events to its store. Applying is idempotent: events it
/// has already applied (by `event_id`) are skipped inside the same
/// transaction that records them, so redelivery changes nothing.
#[async_trait]
pub trait EventConsumer: Send + Sync {
    /// The consumer group name (one per consuming context or read store).
    fn group(&self) -> String;
    /// Applies a batch in order; returns how many were new. `now` is the
    /// application clock's (reactions decide with it, e.g. how long to retry
    /// an event whose report is missing).
    async fn apply(&self, events: &[EventEnvelope], now: Timestamp) -> StoreResult<usize>;
    /// Forgets everything this consumer built (for rebuilds).
    async fn reset(&self) -> StoreResult<()> {
        Err(StoreError::Conflict(format!(
            "{} cannot be rebuilt",
            self.group()
        )))
    }
}

#[derive(Debug, Clone)]
pub struct Delivery {
    /// The bus's position of this event (an embedded log sequence, or a Redis
    /// stream entry id).
    pub tag: String,
    pub event: EventEnvelope,
}

#[derive(Debug, Clone)]
pub struct GroupLag {
    pub group: String,
    pub position: String,
    pub pending: i64,
}

#[derive(Debug, Error)]
pub enum BusError {
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The event bus: relays publish, consumer groups fetch and acknowledge.
/// Delivery is at-least-once; publishing the same `event_id` twice must not
/// produce a visible duplicate for consumers that deduplicate on it.
#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError>;
    /// Events the group has not acknowledged yet, oldest first.
    async fn fetch(&self, group: &str, max: usize) -> Result<Vec<Delivery>, BusError>;
    async fn ack(&self, group: &str, deliveries: &[Delivery]) -> Result<(), BusError>;
    /// Waits until new events may be available for `group`, or `timeout`.
    async fn wait(&self, group: &str, timeout: std::time::Duration);
    /// Makes the group start again from the beginning of the log.
    async fn reset_group(&self, group: &str) -> Result<(), BusError>;
    /// Position and backlog of every known group.
    async fn lag(&self) -> Result<Vec<GroupLag>, BusError>;
    /// Total events ever published.
    async fn published(&self) -> Result<i64, BusError>;
}

// ---------------------------------------------------------------- identity

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub agency: Option<AgencyCode>,
    /// The user's anonymous-reporting secret, sealed with a key derived from
    /// their password (see `security`).
    pub sealed_anon_key: Option<String>,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Inserts a user; a taken username is a `Conflict`.
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>>;
    async fn users(
        &self,
        role: Option<Role>,
        agency: Option<&AgencyCode>,
    ) -> StoreResult<Vec<UserRecord>>;
    /// The whole catalog; installs the seed set into an empty store.
    async fn catalog(&self) -> StoreResult<Catalog>;
    async fn upsert_agency(&self, agency: &Agency) -> StoreResult<()>;
    async fn upsert_category(&self, category: &Category) -> StoreResult<()>;
}

// ---------------------------------------------------------------- audit

/// Which audit entries to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<UserId>,
    pub action: Option<AuditAction>,
    /// Inclusive.
    pub from: Option<Timestamp>,
    /// Exclusive.
    pub to: Option<Timestamp>,
    /// Only entries with a lower sequence number (the next page).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// The audit trail (kept in the identity store's database: it records what
/// staff identities did). Appending reads the head and chains the new entry
/// under a lock that every writer takes (SQLite's single writer, a
/// PostgreSQL advisory transaction lock), so several instances appending at
/// once never fork the chain.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Places the entry after the current head and stores it.
    async fn append(&self, entry: &NewAuditEntry) -> StoreResult<AuditEntry>;
    /// Entries matching the filter, newest first.
    async fn list(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
    /// Entries after `after_seq` in sequence order, as stored (for verifying).
    async fn all_in_order(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>>;
}

// ---------------------------------------------------------------- reporting (write)

#[async_trait]
pub trait ReportingStore: Outbox + EventConsumer {
    async fn insert_report(&self, report: &Report, event: &EventEnvelope) -> StoreResult<()>;
    async fn report(&self, id: ReportId) -> StoreResult<Option<Report>>;
    /// Saves the edited report if it is still RECEIVED and unchanged since
    /// `expected_updated_at`; otherwise `Conflict`.
    async fn update_report(
        &self,
        report: &Report,
        expected_updated_at: Timestamp,
        event: &EventEnvelope,
    ) -> StoreResult<()>;
    /// Marks the report withdrawn if it still may be.
    async fn withdraw_report(&self, id: ReportId, event: &EventEnvelope) -> StoreResult<()>;
    /// Records one vote per (report, voter) on a live PUBLIC report and
    /// appends the event `event` builds from the new count (only the store
    /// sees concurrent votes, so it supplies the count). Returns the new
    /// count, or `None` if the voter had already voted (nothing appended
    /// then); `Conflict` if the report is not a live PUBLIC one.
    async fn add_vote(
        &self,
        id: ReportId,
        voter: UserId,
        at: Timestamp,
        event: UpvoteEvent,
    ) -> StoreResult<Option<i64>>;
    async fn count_reports(&self) -> StoreResult<i64>;
    /// Records photos whose files are already stored, if the report is
    /// still editable (RECEIVED, not withdrawn) and would then have at most
    /// `max` photos, and appends the event, in one transaction. `Conflict`
    /// (with a message for the caller) otherwise.
    async fn add_photos(
        &self,
        id: ReportId,
        photos: &[NewPhoto],
        max: usize,
        event: &EventEnvelope,
    ) -> StoreResult<()>;
    /// The report's photos, oldest first.
    async fn photos(&self, id: ReportId) -> StoreResult<Vec<PhotoId>>;
}

/// Builds the upvote event from the count the store computed
/// (`lapor_domain::report::upvoted`): report, voter, new count, time.
pub type UpvoteEvent = fn(ReportId, UserId, i64, Timestamp) -> EventEnvelope;

/// A sanitised photo as the reporting write side records it (the pictures
/// themselves are files: [`PhotoFiles`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPhoto {
    pub id: PhotoId,
    pub width: u32,
    pub height: u32,
    /// Size of the stored (sanitised) image file.
    pub bytes: i64,
}

// ---------------------------------------------------------------- photo files

/// Where photo files live: the picture and its thumbnail, both already
/// sanitised, under the report they belong to. The local adapter
/// ([`crate::photo_files::LocalPhotoFiles`]) writes to a directory; a shared
/// store (object storage, a network file system) can implement the same.
#[async_trait]
pub trait PhotoFiles: Send + Sync {
    /// Stores both files durably before returning (a photo is recorded in
    /// the database only after this succeeded). Replaces existing files.
    async fn save(
        &self,
        report: ReportId,
        photo: PhotoId,
        image: &[u8],
        thumb: &[u8],
    ) -> StoreResult<()>;
    /// The picture (or its thumbnail); `None` if there is no such file.
    async fn read(
        &self,
        report: ReportId,
        photo: PhotoId,
        thumb: bool,
    ) -> StoreResult<Option<Vec<u8>>>;
    /// Removes both files, if present.
    async fn remove(&self, report: ReportId, photo: PhotoId) -> StoreResult<()>;
}

// ---------------------------------------------------------------- reporting (read)

#[derive(Debug, Clone, Copy)]
pub enum Paging {
    Offset { page: i64, per_page: i64 },
    Keyset { after: Option<Cursor>, limit: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeedSort {
    #[default]
    Newest,
    MostUpvoted,
}

#[derive(Debug, Clone)]
pub struct ReportFilter {
    pub scope: ListingScope,
    /// Only the caller's own reports (`/reports/me`).
    pub only_owners: Option<Vec<Owner>>,
    pub category: Option<CategorySlug>,
    pub status: Option<Status>,
    /// Words that must appear in the title or text (case-insensitive).
    pub search: Option<String>,
    pub sort: FeedSort,
    pub paging: Paging,
}

/// A `LIKE` pattern matching `text` anywhere, with `\` escaping the
/// wildcards a user typed.
pub fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[async_trait]
pub trait ReadStore: Send + Sync {
    async fn list_reports(&self, filter: &ReportFilter) -> StoreResult<Listing<ReportView>>;
    async fn report(&self, id: ReportId, with_timeline: bool) -> StoreResult<Option<ReportView>>;
    /// The timelines of these reports in one query: each entry with its
    /// report, in report and time order.
    async fn timelines(&self, ids: &[ReportId]) -> StoreResult<Vec<(ReportId, TimelineEntry)>>;
    async fn statistics(&self, category: Option<&CategorySlug>) -> StoreResult<Vec<CategoryStats>>;
    /// Every projected report, withdrawn ones included (sync checks compare
    /// it with the write side).
    async fn count_reports(&self) -> StoreResult<i64>;
}

// ---------------------------------------------------------------- operations

/// Orders of the officers' inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InboxSort {
    /// Newest first (the seed's order); the only one with keyset paging.
    #[default]
    Newest,
    Oldest,
    /// Most upvoted first, then newest.
    Upvotes,
    /// Earliest SLA due time first; cases without one (filed before Lapor
    /// recorded due times) last, then oldest first.
    SlaDue,
}

impl InboxSort {
    pub fn as_str(self) -> &'static str {
        match self {
            InboxSort::Newest => "newest",
            InboxSort::Oldest => "oldest",
            InboxSort::Upvotes => "upvotes",
            InboxSort::SlaDue => "sla_due",
        }
    }
}

impl std::str::FromStr for InboxSort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "newest" => Ok(InboxSort::Newest),
            "oldest" => Ok(InboxSort::Oldest),
            "upvotes" | "top" => Ok(InboxSort::Upvotes),
            "sla_due" => Ok(InboxSort::SlaDue),
            _ => Err(format!(
                "invalid sort '{s}': use newest, oldest, upvotes or sla_due"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct InboxFilter {
    /// `None` for the city head (every agency).
    pub agency: Option<AgencyCode>,
    pub status: Option<Status>,
    pub category: Option<CategorySlug>,
    /// Only open cases (RECEIVED, IN_PROGRESS) whose due time is before `now`.
    pub overdue_only: bool,
    /// The application clock's now (for `overdue_only`).
    pub now: Timestamp,
    pub sort: InboxSort,
    /// Keyset paging only with [`InboxSort::Newest`]; offset paging (with a
    /// `total`) with any sort.
    pub paging: Paging,
}

/// The rows an inbox page reads: newest first after `after` (keyset), or
/// from `offset` in the page's order; `limit + 1` rows are read so the page
/// knows whether more follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxWindow {
    pub after: Option<Cursor>,
    pub limit: i64,
    /// `Some` for offset paging, which also reports the total.
    pub offset: Option<i64>,
}

impl InboxFilter {
    /// Where this page starts and how many rows it reads. A cursor counts
    /// only with the newest-first order it was made in.
    pub fn window(&self) -> InboxWindow {
        match self.paging {
            Paging::Keyset { after, limit } => InboxWindow {
                after: after.filter(|_| self.sort == InboxSort::Newest),
                limit,
                offset: None,
            },
            Paging::Offset { page, per_page } => InboxWindow {
                after: None,
                limit: per_page,
                offset: Some((page - 1) * per_page),
            },
        }
    }

    /// The page from the rows read for [`Self::window`] (and, with offset
    /// paging, the total).
    pub fn page(&self, rows: Vec<CaseView>, total: Option<i64>) -> Listing<CaseView> {
        let w = self.window();
        let newest = w.offset.is_none() && self.sort == InboxSort::Newest;
        let mut page = Listing::keyset(rows, w.limit, |c| newest.then(|| c.cursor()));
        page.total = w.offset.and(total);
        page
    }
}

/// The state the operations context keeps per case.
#[derive(Debug, Clone)]
pub struct CaseState {
    pub report_id: ReportId,
    pub agency: AgencyCode,
    pub status: Status,
    pub withdrawn: bool,
}

#[async_trait]
pub trait OperationsStore: Outbox + EventConsumer {
    async fn inbox(&self, filter: &InboxFilter) -> StoreResult<Listing<CaseView>>;
    async fn case_state(&self, id: ReportId) -> StoreResult<Option<CaseState>>;
    async fn case_detail(&self, id: ReportId) -> StoreResult<Option<CaseDetail>>;
    /// The agency and title of each of these cases that exists (one query,
    /// for pages that list cases known by id).
    async fn case_titles(
        &self,
        ids: &[ReportId],
    ) -> StoreResult<Vec<(ReportId, AgencyCode, String)>>;
    /// Makes `change` (from `change.old_status`, which must still be the
    /// case's status) and records it in the history, appending `event` (its
    /// envelope). `Conflict` if someone else moved the case first.
    async fn change_status(&self, change: &StatusUpdated, event: &EventEnvelope)
    -> StoreResult<()>;
    /// Records `answer`, appending `event` (its envelope).
    async fn add_answer(&self, answer: &CaseAnswered, event: &EventEnvelope) -> StoreResult<()>;
    async fn count_cases(&self) -> StoreResult<i64>;
    /// The facts analytics needs about each case (withdrawn ones excluded)
    /// of `agency` (or every agency) filed in `[from, to)`.
    async fn case_facts(
        &self,
        agency: Option<&AgencyCode>,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<CaseFacts>>;
    /// Open cases (RECEIVED, IN_PROGRESS; not withdrawn) now, counted by
    /// agency, status and who moved them to IN_PROGRESS.
    async fn open_cases(&self, agency: Option<&AgencyCode>) -> StoreResult<Vec<OpenCases>>;
}

// ---------------------------------------------------------------- workflow

#[derive(Debug, Clone)]
pub struct SlaFilter {
    pub scope: ListingScope,
    pub report_id: Option<ReportId>,
    pub sla_status: Option<SlaStatus>,
    /// `true`: only open jobs past their due time.
    pub overdue_only: bool,
    pub now: Timestamp,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaConfig {
    pub default_seconds: i64,
    pub per_category: Vec<(CategorySlug, i64)>,
}

impl SlaConfig {
    pub fn seconds_for(&self, category: &CategorySlug) -> i64 {
        self.per_category
            .iter()
            .find(|(c, _)| c == category)
            .map(|(_, s)| *s)
            .unwrap_or(self.default_seconds)
    }
}

/// A job that may be due for escalation.
#[derive(Debug, Clone)]
pub struct DueJob {
    pub report_id: ReportId,
    pub category: CategorySlug,
    pub owner: Owner,
    pub job: SlaJob,
}

/// A notification to record: what it says is a typed [`Notice`], stored as
/// its kind and parameters (sentences are rendered by whoever shows it).
/// `recipient` is an owner reference (`u:` or `a:`) so anonymous reporters
/// are notified under their pseudonym.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub id: NotificationId,
    pub recipient: Owner,
    pub report_id: ReportId,
    pub notice: Notice,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait WorkflowStore: Outbox + EventConsumer {
    async fn sla_status(&self, filter: &SlaFilter) -> StoreResult<Listing<SlaView>>;
    async fn sla_config(&self) -> StoreResult<SlaConfig>;
    /// Sets the default (`category` None) or one category's duration.
    async fn set_sla_seconds(
        &self,
        category: Option<&CategorySlug>,
        seconds: i64,
    ) -> StoreResult<()>;
    /// Open jobs whose next escalation is due at `now`.
    async fn due_jobs(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<DueJob>>;
    /// The earliest future escalation time, to sleep until it.
    async fn next_due(&self) -> StoreResult<Option<Timestamp>>;
    /// Applies an escalation if the job is still at `expected_level`
    /// (so concurrent workers escalate once); records the notifications and
    /// appends the event. Returns false if another worker won.
    async fn escalate(
        &self,
        id: ReportId,
        expected_level: i64,
        job: &SlaJob,
        notifications: &[NewNotification],
        event: &EventEnvelope,
    ) -> StoreResult<bool>;
    async fn notifications(
        &self,
        recipients: &[Owner],
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<(Vec<NotificationView>, i64)>;
    /// Marks one (or, with `None`, all) of the recipients' notifications read;
    /// returns how many changed.
    async fn mark_read(&self, recipients: &[Owner], id: Option<NotificationId>)
    -> StoreResult<u64>;
    async fn escalations(
        &self,
        agency: Option<&AgencyCode>,
        limit: i64,
    ) -> StoreResult<Vec<EscalationView>>;
    async fn count_jobs(&self) -> StoreResult<i64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(sort: InboxSort, paging: Paging) -> InboxFilter {
        InboxFilter {
            agency: None,
            status: None,
            category: None,
            overdue_only: false,
            now: time::OffsetDateTime::UNIX_EPOCH,
            sort,
            paging,
        }
    }

    #[test]
    fn an_inbox_window_keeps_a_cursor_only_for_newest_first() {
        let after = Some(Cursor {
            created_at_ms: 5,
            id: ReportId::new_v7(),
        });
        let w = filter(InboxSort::Newest, Paging::Keyset { after, limit: 10 }).window();
        assert_eq!((w.after, w.limit, w.offset), (after, 10, None));
        let w = filter(InboxSort::Upvotes, Paging::Keyset { after, limit: 10 }).window();
        assert_eq!(w.after, None);
        let w = filter(
            InboxSort::Upvotes,
            Paging::Offset {
                page: 3,
                per_page: 20,
            },
        )
        .window();
        assert_eq!((w.after, w.limit, w.offset), (None, 20, Some(40)));
    }
}
