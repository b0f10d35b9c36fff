//! Read shapes returned by queries: one field per fact. The API's JSON
//! (both seeds' field names, photo URLs, the OpenAPI schemas) is built from
//! these by lapor-http's `wire` module; `Serialize` here only serves tests
//! and diagnostics that compare views.

use lapor_domain::Timestamp;
use lapor_domain::access::{Owner, Visibility};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::ids::{AnswerId, NotificationId, PhotoId, ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_domain::report::Location;
use lapor_domain::sla::SlaStatus;
use serde::Serialize;
use std::any::Any;
use std::sync::{Arc, OnceLock};

#[derive(Debug, Clone, Serialize)]
pub struct LocationView {
    pub lat: f64,
    pub lon: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl From<Location> for LocationView {
    fn from(l: Location) -> Self {
        Self {
            lat: l.lat,
            lon: l.lon,
            address: l.address,
        }
    }
}

/// A report as the read side shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub id: ReportId,
    pub title: String,
    pub content: String,
    pub category: CategorySlug,
    pub owner_agency: AgencyCode,
    pub visibility: Visibility,
    pub status: Status,
    pub vote_count: i64,
    pub escalation_level: i64,
    pub location: Option<LocationView>,
    /// Present only for callers allowed to know the reporter; never for
    /// ANONYMOUS reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter_user_id: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub last_status_at: Timestamp,
    /// The report's photos, oldest first (sanitised JPEGs that answer to
    /// whoever may see the report).
    pub photos: Vec<PhotoRef>,
    /// Status changes, answers and escalations; only in single-report reads
    /// for the reporter and the responsible staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineEntry>>,
    #[serde(skip)]
    pub owner: Option<Owner>,
    /// Set by a store that serves the same view many times (the listings
    /// kept in memory): the edge keeps what it made of the view there, so
    /// it renders the view once per change, not once per request. `None`
    /// elsewhere. Only `reporter_user_id` may change once it is set
    /// (redaction), and the memo keeps one rendering with and one without.
    #[serde(skip)]
    pub rendered: Option<Arc<RenderMemo>>,
}

/// Room for what an edge makes of a view it writes many times (the HTTP
/// layer keeps the view's JSON here). The app neither reads nor knows the
/// format: each slot holds any value, made on first use.
#[derive(Default)]
pub struct RenderMemo {
    with_reporter: OnceLock<Box<dyn Any + Send + Sync>>,
    without_reporter: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl RenderMemo {
    /// The value kept for the rendering with or without the reporter, made
    /// by `init` the first time; `None` if the slot already holds a value of
    /// another type.
    pub fn get_or_init<T: Any + Send + Sync>(
        &self,
        with_reporter: bool,
        init: impl FnOnce() -> T,
    ) -> Option<&T> {
        let slot = match with_reporter {
            true => &self.with_reporter,
            false => &self.without_reporter,
        };
        slot.get_or_init(|| Box::new(init())).downcast_ref()
    }
}

impl std::fmt::Debug for RenderMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderMemo")
            .field("with_reporter", &self.with_reporter.get().is_some())
            .field("without_reporter", &self.without_reporter.get().is_some())
            .finish()
    }
}

/// A photo of a report (a sanitised JPEG with a thumbnail); the HTTP layer
/// turns it into the URLs it is served at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoRef {
    pub report: ReportId,
    pub id: PhotoId,
}

impl PhotoRef {
    pub fn new(report: ReportId, photo: PhotoId) -> Self {
        Self { report, id: photo }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// `created`, `status`, `answer`, `escalation` or `withdrawn`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation_level: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
}

/// A case in an officer's inbox (seed 1's shape plus Lapor's fields).
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub report_id: ReportId,
    pub owner_agency: AgencyCode,
    pub status: Status,
    pub title: String,
    pub content: String,
    pub category: CategorySlug,
    /// Null for ANONYMOUS reports.
    pub reporter_user_id: Option<UserId>,
    pub visibility: Visibility,
    pub vote_count: i64,
    pub escalation_level: i64,
    pub location: Option<LocationView>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    /// When the SLA is due; null for cases filed before Lapor recorded it
    /// (and briefly after filing, until workflow has started the SLA).
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<Timestamp>,
    /// Open (RECEIVED or IN_PROGRESS) and past `due_at`, by the server's clock.
    pub is_overdue: bool,
}

impl CaseView {
    /// Sets `is_overdue` for `now` (the application clock, not the database's).
    pub fn with_overdue(mut self, now: Timestamp) -> Self {
        self.is_overdue = !self.status.is_final() && self.due_at.is_some_and(|d| now > d);
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseHistoryEntry {
    pub old_status: Status,
    pub new_status: Status,
    pub reason: Option<String>,
    pub actor_user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnswerView {
    pub id: AnswerId,
    pub report_id: ReportId,
    pub message: String,
    pub officer_user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseView,
    pub history: Vec<CaseHistoryEntry>,
    pub answers: Vec<AnswerView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlaView {
    pub report_id: ReportId,
    pub category: CategorySlug,
    pub owner_agency: AgencyCode,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: Timestamp,
    pub sla_status: SlaStatus,
    pub escalation_level: i64,
    pub current_status: Status,
    pub is_overdue: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    #[serde(skip)]
    pub visibility: Visibility,
    #[serde(skip)]
    pub owner: Option<Owner>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotificationView {
    pub id: NotificationId,
    pub report_id: ReportId,
    /// What it says (kind and parameters); serialized as `kind` and `params`.
    #[serde(flatten)]
    pub notice: lapor_domain::notices::Notice,
    pub is_read: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryStats {
    pub category: CategorySlug,
    pub total_count: i64,
    pub pending_count: i64,
    pub in_progress_count: i64,
    pub resolved_count: i64,
    pub rejected_count: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct EscalationView {
    pub report_id: ReportId,
    pub owner_agency: AgencyCode,
    pub escalation_level: i64,
    pub current_status: Status,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub escalated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub role: String,
    pub agency: Option<String>,
}

/// A cursor for newest-first keyset pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at_ms: i64,
    pub id: ReportId,
}

impl Cursor {
    pub fn at(created_at: Timestamp, id: ReportId) -> Self {
        Self {
            created_at_ms: crate::clock::millis(created_at),
            id,
        }
    }

    /// Cursors are opaque to clients: `<created_at ms>_<id>`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.created_at_ms, self.id)
    }
    pub fn decode(s: &str) -> Option<Self> {
        let (ms, id) = s.split_once('_')?;
        Some(Self {
            created_at_ms: ms.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// A page of results: `total` for offset paging (seed 2's meta), and a
/// cursor for keyset paging of feeds.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: Option<i64>,
    pub next_cursor: Option<String>,
}

impl<T> Listing<T> {
    /// A keyset page from up to `limit + 1` rows read in page order: the
    /// extra row only says that more follow, and then `cursor` of the last
    /// row shown (for orders that page by cursor) is where the next starts.
    pub fn keyset(mut rows: Vec<T>, limit: i64, cursor: impl Fn(&T) -> Option<Cursor>) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = match more {
            true => rows.last().and_then(cursor).map(|c| c.encode()),
            false => None,
        };
        Self {
            items: rows,
            total: None,
            next_cursor,
        }
    }
}

impl ReportView {
    /// This view with an empty [`RenderMemo`] (see [`ReportView::rendered`]):
    /// for views a store keeps in memory and serves many times.
    pub fn render(mut self) -> Self {
        self.rendered = Some(Arc::default());
        self
    }

    /// Where this report sits in a newest-first listing.
    pub fn cursor(&self) -> Cursor {
        Cursor::at(self.created_at, self.id)
    }
}

impl CaseView {
    /// Where this case sits in a newest-first inbox.
    pub fn cursor(&self) -> Cursor {
        Cursor::at(self.created_at, self.report_id)
    }
}

// ---------------------------------------------------------------- analytics

/// Nearest-rank percentiles of durations in whole seconds (null without
/// samples).
#[derive(Debug, Clone, Serialize)]
pub struct DurationStatsView {
    pub samples: i64,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

/// Figures about the cases filed in the period (definitions in docs/api.md
/// and `lapor_domain::analytics`).
#[derive(Debug, Clone, Serialize)]
pub struct CaseStatsView {
    /// Cases filed in the period (for an officer: those they handled).
    pub cases: i64,
    pub responded: i64,
    pub resolved: i64,
    pub rejected: i64,
    /// Cases escalated at least once.
    pub escalated: i64,
    /// `escalated / cases`, 0 to 1; null without cases.
    pub breach_rate: Option<f64>,
    pub first_response: DurationStatsView,
    pub resolution: DurationStatsView,
}

/// Open cases now, whenever they were filed.
#[derive(Debug, Clone, Serialize)]
pub struct BacklogView {
    pub open: i64,
    pub received: i64,
    pub in_progress: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgencyPerformanceView {
    pub agency: AgencyCode,
    pub backlog: BacklogView,
    pub stats: CaseStatsView,
}

/// One staff member's figures for one agency's cases.
#[derive(Debug, Clone, Serialize)]
pub struct OfficerPerformanceView {
    pub user_id: UserId,
    /// Null if the account no longer exists.
    pub username: Option<String>,
    pub agency: AgencyCode,
    /// Cases they moved to IN_PROGRESS that are still IN_PROGRESS.
    pub open_in_progress: i64,
    pub stats: CaseStatsView,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayCountView {
    /// A UTC day, `YYYY-MM-DD`.
    pub date: String,
    /// Cases filed that day.
    pub created: i64,
    /// Cases filed in the period and closed (RESOLVED or REJECTED) that day.
    pub resolved: i64,
}

/// Performance over `[from, to)` of one agency or every agency.
#[derive(Debug, Clone, Serialize)]
pub struct PerformanceView {
    #[serde(with = "time::serde::rfc3339")]
    pub from: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub to: Timestamp,
    /// The agency asked for; null for every agency.
    pub agency: Option<AgencyCode>,
    /// Every agency in the selection together.
    pub overall: CaseStatsView,
    pub backlog: BacklogView,
    pub agencies: Vec<AgencyPerformanceView>,
    pub officers: Vec<OfficerPerformanceView>,
    pub daily: Vec<DayCountView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(reporter: Option<UserId>) -> ReportView {
        let id = ReportId(uuid::Uuid::now_v7());
        let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        ReportView {
            id,
            title: "Lampu \"jalan\" mati\n".into(),
            content: "Sejak <b>kemarin</b> — ümlaut".into(),
            category: CategorySlug::parse("infrastruktur").unwrap(),
            owner_agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
            visibility: Visibility::Public,
            status: Status::Received,
            vote_count: 3,
            escalation_level: 1,
            location: Some(LocationView {
                lat: -6.2,
                lon: 106.816666,
                address: Some("Jl. Sudirman".into()),
            }),
            reporter_user_id: reporter,
            created_at: at,
            updated_at: at,
            last_status_at: at,
            photos: vec![PhotoRef::new(id, PhotoId(uuid::Uuid::now_v7()))],
            timeline: None,
            owner: reporter.map(Owner::User),
            rendered: None,
        }
    }

    #[test]
    fn a_render_memo_makes_each_rendering_once_and_keeps_them_apart() {
        let v = view(Some(UserId(uuid::Uuid::now_v7()))).render();
        let memo = v.rendered.clone().unwrap();
        let mut made = 0;
        for _ in 0..3 {
            let shown = memo.get_or_init(true, || {
                made += 1;
                String::from("shown")
            });
            assert_eq!(shown.map(String::as_str), Some("shown"));
        }
        assert_eq!(made, 1);
        assert_eq!(
            memo.get_or_init(false, || String::from("hidden"))
                .map(String::as_str),
            Some("hidden")
        );
        // Clones share the memo: it is made once per change of the view.
        assert!(Arc::ptr_eq(&memo, v.clone().rendered.as_ref().unwrap()));
        // Another type in a filled slot is not mistaken for the value.
        assert_eq!(memo.get_or_init(true, || 5u8), None);
        assert!(view(None).rendered.is_none());
    }
}
