//! Read shapes returned by queries. Field names follow both seed contracts
//! (seed 1's `report_id`/`current_status`/`content` and seed 2's
//! `id`/`status`/`description`) so either seed's clients read them unchanged.

use lapor_domain::Timestamp;
use lapor_domain::access::{Owner, Visibility};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::ids::{AnswerId, NotificationId, ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_domain::report::Location;
use lapor_domain::sla::SlaStatus;
use serde::Serialize;
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    /// Status changes, answers and escalations; only in single-report reads
    /// for the reporter and the responsible staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineEntry>>,
    #[serde(skip)]
    pub owner: Option<Owner>,
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
    /// `status`, `answer` or `escalation`.
    pub kind: String,
    pub message: String,
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
