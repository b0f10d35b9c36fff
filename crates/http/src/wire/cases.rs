//! Officers' cases on the wire (seed 1's operations shapes plus Lapor's
//! fields).

use super::reports::Location;
use lapor_app::views::{AnswerView, CaseDetail as CaseDetailView, CaseHistoryEntry, CaseView};
use lapor_domain::Timestamp;
use lapor_domain::access::Visibility;
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::CaseAnswered;
use lapor_domain::ids::{AnswerId, ReportId, UserId};
use lapor_domain::lifecycle::Status;
use serde::Serialize;
use utoipa::ToSchema;

/// A case in an officer's inbox.
#[derive(Serialize, ToSchema)]
#[schema(as = CaseView)]
pub struct Case<'a> {
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    #[schema(value_type = String)]
    pub owner_agency: &'a AgencyCode,
    #[schema(value_type = String)]
    pub status: Status,
    pub title: &'a str,
    pub content: &'a str,
    #[schema(value_type = String)]
    pub category: &'a CategorySlug,
    /// Null for ANONYMOUS reports.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub reporter_user_id: Option<UserId>,
    #[schema(value_type = String)]
    pub visibility: Visibility,
    pub vote_count: i64,
    pub escalation_level: i64,
    pub location: Option<Location<'a>>,
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

impl<'a> From<&'a CaseView> for Case<'a> {
    fn from(c: &'a CaseView) -> Self {
        Self {
            report_id: c.report_id,
            owner_agency: &c.owner_agency,
            status: c.status,
            title: &c.title,
            content: &c.content,
            category: &c.category,
            reporter_user_id: c.reporter_user_id,
            visibility: c.visibility,
            vote_count: c.vote_count,
            escalation_level: c.escalation_level,
            location: c.location.as_ref().map(Location::from),
            created_at: c.created_at,
            updated_at: c.updated_at,
            due_at: c.due_at,
            is_overdue: c.is_overdue,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = CaseHistoryEntry)]
pub struct History<'a> {
    #[schema(value_type = String)]
    pub old_status: Status,
    #[schema(value_type = String)]
    pub new_status: Status,
    pub reason: Option<&'a str>,
    #[schema(value_type = String, format = Uuid)]
    pub actor_user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub changed_at: Timestamp,
}

impl<'a> From<&'a CaseHistoryEntry> for History<'a> {
    fn from(h: &'a CaseHistoryEntry) -> Self {
        Self {
            old_status: h.old_status,
            new_status: h.new_status,
            reason: h.reason.as_deref(),
            actor_user_id: h.actor_user_id,
            changed_at: h.changed_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AnswerView)]
pub struct Answer<'a> {
    #[schema(value_type = String, format = Uuid)]
    pub id: AnswerId,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    pub message: &'a str,
    #[schema(value_type = String, format = Uuid)]
    pub officer_user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl<'a> From<&'a AnswerView> for Answer<'a> {
    fn from(a: &'a AnswerView) -> Self {
        Self {
            id: a.id,
            report_id: a.report_id,
            message: &a.message,
            officer_user_id: a.officer_user_id,
            created_at: a.created_at,
        }
    }
}

/// A case with its history and answers.
#[derive(Serialize, ToSchema)]
#[schema(as = CaseDetail)]
pub struct Detail<'a> {
    #[serde(flatten)]
    pub case: Case<'a>,
    pub history: Vec<History<'a>>,
    pub answers: Vec<Answer<'a>>,
}

impl<'a> From<&'a CaseDetailView> for Detail<'a> {
    fn from(d: &'a CaseDetailView) -> Self {
        Self {
            case: Case::from(&d.case),
            history: d.history.iter().map(History::from).collect(),
            answers: d.answers.iter().map(Answer::from).collect(),
        }
    }
}

/// `GET /cases/inbox`.
#[derive(Serialize, ToSchema)]
pub struct Inbox<'a> {
    pub success: bool,
    /// The agency shown; null when the city head sees every agency.
    #[schema(value_type = Option<String>)]
    pub agency: Option<&'a AgencyCode>,
    pub data: Vec<Case<'a>>,
    pub meta: InboxMeta,
}

/// Offset paging reports the total and the page (and a null cursor);
/// keyset paging the cursor of the next page.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum InboxMeta {
    Offset {
        total: Option<i64>,
        page: i64,
        per_page: i64,
        next_cursor: Option<String>,
    },
    Keyset {
        next_cursor: Option<String>,
    },
}

/// The answer to a status change (`PATCH /cases/{id}/status`).
#[derive(Serialize, ToSchema)]
pub struct StatusChanged {
    pub message: String,
    #[schema(value_type = String)]
    pub new_status: Status,
    #[schema(value_type = String)]
    pub old_status: Status,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    pub success: bool,
}

/// `POST /cases/{id}/answers`.
#[derive(Serialize, ToSchema)]
pub struct AnswerSent<'a> {
    pub data: AnswerData<'a>,
    pub message: &'static str,
    pub success: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AnswerData<'a> {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = Uuid)]
    pub id: AnswerId,
    pub message: &'a str,
    #[schema(value_type = String, format = Uuid)]
    pub officer_user_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
}

impl<'a> From<&'a CaseAnswered> for AnswerData<'a> {
    fn from(a: &'a CaseAnswered) -> Self {
        Self {
            created_at: a.answered_at,
            id: a.answer_id,
            message: &a.message,
            officer_user_id: a.officer_user_id,
            report_id: a.report_id,
        }
    }
}
