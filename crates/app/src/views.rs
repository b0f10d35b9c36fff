//! Read shapes returned by queries. Field names follow both seed contracts
//! (seed 1's `report_id`/`current_status`/`content` and seed 2's
//! `id`/`status`/`description`) so either seed's clients read them unchanged.

use crate::ports::Cursor;
use lapor_domain::Timestamp;
use lapor_domain::access::{Owner, Visibility};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::ids::{AnswerId, NotificationId, PhotoId, ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_domain::report::Location;
use lapor_domain::sla::SlaStatus;
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
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
///
/// Serialized by hand (the derive is `remote = "Self"`, see the `Serialize`
/// impl below) so that a view a store rendered once ([`ReportView::rendered`])
/// is written as that JSON instead of field by field.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(remote = "Self")]
pub struct ReportView {
    #[schema(value_type = String, format = Uuid)]
    pub id: ReportId,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    pub title: String,
    pub content: String,
    /// Same as `content` (seed 2's name).
    pub description: String,
    #[schema(value_type = String, example = "infrastruktur")]
    pub category: CategorySlug,
    #[schema(value_type = String, example = "AGENCY_INFRA")]
    pub owner_agency: AgencyCode,
    #[schema(value_type = String, example = "PUBLIC")]
    pub visibility: Visibility,
    #[schema(value_type = String, example = "RECEIVED")]
    pub status: Status,
    /// Same as `status` (seed 1's name).
    #[schema(value_type = String, example = "RECEIVED")]
    pub current_status: Status,
    pub vote_count: i64,
    pub escalation_level: i64,
    pub location: Option<LocationView>,
    /// Present only for callers allowed to know the reporter; never for
    /// ANONYMOUS reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub reporter_user_id: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_status_at: Timestamp,
    /// The report's photos, oldest first (sanitised JPEGs; the URLs answer
    /// to whoever may see the report).
    pub photos: Vec<PhotoRef>,
    /// Status changes, answers and escalations; only in single-report reads
    /// for the reporter and the responsible staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineEntry>>,
    #[serde(skip)]
    pub owner: Option<Owner>,
    /// This view's JSON, rendered once by a store that serves the same
    /// view many times (the listings kept in memory); `None` elsewhere.
    /// Only `reporter_user_id` may change after rendering (redaction).
    #[serde(skip)]
    pub rendered: Option<Arc<Rendered>>,
}

/// A [`ReportView`]'s JSON with and without the reporter.
#[derive(Debug)]
pub struct Rendered {
    shown: Box<RawValue>,
    hidden: Box<RawValue>,
}

impl Serialize for ReportView {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(r) = &self.rendered else {
            return ReportView::serialize(self, s);
        };
        let raw = if self.reporter_user_id.is_some() {
            &r.shown
        } else {
            &r.hidden
        };
        // Tests run debug builds: every rendered view written is checked
        // against the field-by-field JSON, so a view changed after
        // rendering fails them instead of showing stale data.
        #[cfg(debug_assertions)]
        {
            let mut plain = self.clone();
            plain.rendered = None;
            let fresh = serde_json::to_string(&plain).map_err(serde::ser::Error::custom)?;
            assert_eq!(raw.get(), fresh, "a rendered report view went stale");
        }
        raw.serialize(s)
    }
}

/// A photo of a report: where to fetch it and its thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PhotoRef {
    #[schema(value_type = String, format = Uuid)]
    pub id: PhotoId,
    /// `/reports/{report_id}/photos/{photo_id}` (a JPEG).
    pub url: String,
    /// `/reports/{report_id}/photos/{photo_id}/thumb` (a JPEG within 320x320).
    pub thumb_url: String,
}

impl PhotoRef {
    pub fn new(report: ReportId, photo: PhotoId) -> Self {
        let url = format!("/reports/{report}/photos/{photo}");
        Self {
            id: photo,
            thumb_url: format!("{url}/thumb"),
            url,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
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
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// A case in an officer's inbox (seed 1's shape plus Lapor's fields).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    #[schema(value_type = String)]
    pub owner_agency: AgencyCode,
    #[schema(value_type = String)]
    pub status: Status,
    pub title: String,
    pub content: String,
    #[schema(value_type = String)]
    pub category: CategorySlug,
    /// Null for ANONYMOUS reports.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub reporter_user_id: Option<UserId>,
    #[schema(value_type = String)]
    pub visibility: Visibility,
    pub vote_count: i64,
    pub escalation_level: i64,
    pub location: Option<LocationView>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// When the SLA is due; null for cases filed before Lapor recorded it
    /// (and briefly after filing, until workflow has started the SLA).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseHistoryEntry {
    #[schema(value_type = String)]
    pub old_status: Status,
    #[schema(value_type = String)]
    pub new_status: Status,
    pub reason: Option<String>,
    #[schema(value_type = String, format = Uuid)]
    pub actor_user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub changed_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnswerView {
    #[schema(value_type = String, format = Uuid)]
    pub id: AnswerId,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    pub message: String,
    #[schema(value_type = String, format = Uuid)]
    pub officer_user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseView,
    pub history: Vec<CaseHistoryEntry>,
    pub answers: Vec<AnswerView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlaView {
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    #[schema(value_type = String)]
    pub category: CategorySlug,
    #[schema(value_type = String)]
    pub owner_agency: AgencyCode,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    #[schema(value_type = String, example = "PENDING")]
    pub sla_status: SlaStatus,
    pub escalation_level: i64,
    #[schema(value_type = String)]
    pub current_status: Status,
    pub is_overdue: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(skip)]
    pub visibility: Visibility,
    #[serde(skip)]
    pub owner: Option<Owner>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    #[schema(value_type = String, format = Uuid)]
    pub id: NotificationId,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    /// What it says (kind and parameters); serialized as `kind` and `params`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub notice: lapor_domain::notices::Notice,
    pub is_read: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryStats {
    #[schema(value_type = String)]
    pub category: CategorySlug,
    pub total_count: i64,
    pub pending_count: i64,
    pub in_progress_count: i64,
    pub resolved_count: i64,
    pub rejected_count: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_updated: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EscalationView {
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    #[schema(value_type = String)]
    pub owner_agency: AgencyCode,
    pub escalation_level: i64,
    #[schema(value_type = String)]
    pub current_status: Status,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub escalated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub username: String,
    pub role: String,
    pub agency: Option<String>,
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
    /// This view with its JSON rendered now (see [`ReportView::rendered`]).
    pub fn render(mut self) -> Self {
        self.rendered = None;
        let raw = |v: &ReportView| {
            serde_json::to_string(v)
                .and_then(RawValue::from_string)
                .expect("a report view always serializes")
        };
        let shown = raw(&self);
        let hidden = if self.reporter_user_id.is_some() {
            let mut h = self.clone();
            h.reporter_user_id = None;
            raw(&h)
        } else {
            shown.clone()
        };
        self.rendered = Some(Arc::new(Rendered { shown, hidden }));
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DurationStatsView {
    pub samples: i64,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

/// Figures about the cases filed in the period (definitions in docs/api.md
/// and `lapor_domain::analytics`).
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacklogView {
    pub open: i64,
    pub received: i64,
    pub in_progress: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyPerformanceView {
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    pub backlog: BacklogView,
    pub stats: CaseStatsView,
}

/// One staff member's figures for one agency's cases.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfficerPerformanceView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// Null if the account no longer exists.
    pub username: Option<String>,
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    /// Cases they moved to IN_PROGRESS that are still IN_PROGRESS.
    pub open_in_progress: i64,
    pub stats: CaseStatsView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayCountView {
    /// A UTC day, `YYYY-MM-DD`.
    pub date: String,
    /// Cases filed that day.
    pub created: i64,
    /// Cases filed in the period and closed (RESOLVED or REJECTED) that day.
    pub resolved: i64,
}

/// Performance over `[from, to)` of one agency or every agency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PerformanceView {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub to: Timestamp,
    /// The agency asked for; null for every agency.
    #[schema(value_type = Option<String>)]
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
            report_id: id,
            title: "Lampu \"jalan\" mati\n".into(),
            content: "Sejak <b>kemarin</b> — ümlaut".into(),
            description: "Sejak <b>kemarin</b> — ümlaut".into(),
            category: CategorySlug::parse("infrastruktur").unwrap(),
            owner_agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
            visibility: Visibility::Public,
            status: Status::Received,
            current_status: Status::Received,
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
    fn a_rendered_view_writes_the_same_json_with_and_without_the_reporter() {
        let plain = view(Some(UserId(uuid::Uuid::now_v7())));
        let rendered = plain.clone().render();
        assert!(rendered.rendered.is_some());
        assert_eq!(
            serde_json::to_string(&rendered).unwrap(),
            serde_json::to_string(&plain).unwrap()
        );
        assert!(
            serde_json::to_string(&rendered)
                .unwrap()
                .contains("reporter_user_id")
        );
        // Redaction after rendering writes the JSON without the reporter.
        let (mut plain_hidden, mut hidden) = (plain.clone(), rendered.clone());
        plain_hidden.reporter_user_id = None;
        hidden.reporter_user_id = None;
        let json = serde_json::to_string(&hidden).unwrap();
        assert_eq!(json, serde_json::to_string(&plain_hidden).unwrap());
        assert!(!json.contains("reporter_user_id"));
        // Inside a larger document, and through serde_json::Value.
        assert_eq!(
            serde_json::to_value(vec![&rendered, &hidden]).unwrap(),
            serde_json::to_value(vec![&plain, &plain_hidden]).unwrap()
        );
        // A view without a reporter (ANONYMOUS) has one rendering.
        let anon = view(None).render();
        assert!(
            !serde_json::to_string(&anon)
                .unwrap()
                .contains("reporter_user_id")
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "went stale")]
    fn a_view_changed_after_rendering_is_caught_in_debug_builds() {
        let mut v = view(None).render();
        v.vote_count += 1;
        let _ = serde_json::to_string(&v);
    }
}
