//! Performance analytics on the wire (definitions in docs/api.md and
//! `lapor_domain::analytics`).

use lapor_app::views::{
    AgencyPerformanceView, BacklogView, CaseStatsView, DayCountView, DurationStatsView,
    OfficerPerformanceView, PerformanceView,
};
use lapor_domain::Timestamp;
use lapor_domain::catalog::AgencyCode;
use lapor_domain::ids::UserId;
use serde::Serialize;
use utoipa::ToSchema;

/// Performance over `[from, to)` of one agency or every agency.
#[derive(Serialize, ToSchema)]
pub struct Performance {
    pub agencies: Vec<AgencyPerformance>,
    /// The agency asked for; null for every agency.
    #[schema(value_type = Option<String>)]
    pub agency: Option<AgencyCode>,
    pub backlog: Backlog,
    pub daily: Vec<DayCount>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    pub officers: Vec<OfficerPerformance>,
    /// Every agency in the selection together.
    pub overall: CaseStats,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub to: Timestamp,
}

impl From<PerformanceView> for Performance {
    fn from(v: PerformanceView) -> Self {
        Self {
            agencies: v.agencies.into_iter().map(Into::into).collect(),
            agency: v.agency,
            backlog: v.backlog.into(),
            daily: v.daily.into_iter().map(Into::into).collect(),
            from: v.from,
            officers: v.officers.into_iter().map(Into::into).collect(),
            overall: v.overall.into(),
            to: v.to,
        }
    }
}

/// Figures about the cases filed in the period.
#[derive(Serialize, ToSchema)]
pub struct CaseStats {
    /// `escalated / cases`, 0 to 1; null without cases.
    pub breach_rate: Option<f64>,
    /// Cases filed in the period (for an officer: those they handled).
    pub cases: i64,
    /// Cases escalated at least once.
    pub escalated: i64,
    pub first_response: DurationStats,
    pub rejected: i64,
    pub resolution: DurationStats,
    pub resolved: i64,
    pub responded: i64,
}

impl From<CaseStatsView> for CaseStats {
    fn from(v: CaseStatsView) -> Self {
        Self {
            breach_rate: v.breach_rate,
            cases: v.cases,
            escalated: v.escalated,
            first_response: v.first_response.into(),
            rejected: v.rejected,
            resolution: v.resolution.into(),
            resolved: v.resolved,
            responded: v.responded,
        }
    }
}

/// Nearest-rank percentiles of durations in whole seconds (null without
/// samples).
#[derive(Serialize, ToSchema)]
pub struct DurationStats {
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
    pub samples: i64,
}

impl From<DurationStatsView> for DurationStats {
    fn from(v: DurationStatsView) -> Self {
        Self {
            median_seconds: v.median_seconds,
            p90_seconds: v.p90_seconds,
            samples: v.samples,
        }
    }
}

/// Open cases now, whenever they were filed.
#[derive(Serialize, ToSchema)]
pub struct Backlog {
    pub in_progress: i64,
    pub open: i64,
    pub received: i64,
}

impl From<BacklogView> for Backlog {
    fn from(v: BacklogView) -> Self {
        Self {
            in_progress: v.in_progress,
            open: v.open,
            received: v.received,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AgencyPerformance {
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    pub backlog: Backlog,
    pub stats: CaseStats,
}

impl From<AgencyPerformanceView> for AgencyPerformance {
    fn from(v: AgencyPerformanceView) -> Self {
        Self {
            agency: v.agency,
            backlog: v.backlog.into(),
            stats: v.stats.into(),
        }
    }
}

/// One staff member's figures for one agency's cases.
#[derive(Serialize, ToSchema)]
pub struct OfficerPerformance {
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    /// Cases they moved to IN_PROGRESS that are still IN_PROGRESS.
    pub open_in_progress: i64,
    pub stats: CaseStats,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// Null if the account no longer exists.
    pub username: Option<String>,
}

impl From<OfficerPerformanceView> for OfficerPerformance {
    fn from(v: OfficerPerformanceView) -> Self {
        Self {
            agency: v.agency,
            open_in_progress: v.open_in_progress,
            stats: v.stats.into(),
            user_id: v.user_id,
            username: v.username,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DayCount {
    /// Cases filed that day.
    pub created: i64,
    /// A UTC day, `YYYY-MM-DD`.
    pub date: String,
    /// Cases filed in the period and closed (RESOLVED or REJECTED) that day.
    pub resolved: i64,
}

impl From<DayCountView> for DayCount {
    fn from(v: DayCountView) -> Self {
        Self {
            created: v.created,
            date: v.date,
            resolved: v.resolved,
        }
    }
}
