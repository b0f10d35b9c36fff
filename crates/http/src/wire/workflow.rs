//! SLA jobs, the SLA configuration and escalations on the wire.

use lapor_app::ports::SlaConfig;
use lapor_app::views::{EscalationView, SlaView};
use lapor_domain::Timestamp;
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::ids::ReportId;
use lapor_domain::lifecycle::Status;
use lapor_domain::sla::{SlaStatus, go_duration};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A report's SLA job.
#[derive(Serialize, ToSchema)]
#[schema(as = SlaView)]
pub struct Sla<'a> {
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    #[schema(value_type = String)]
    pub category: &'a CategorySlug,
    #[schema(value_type = String)]
    pub owner_agency: &'a AgencyCode,
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
}

impl<'a> From<&'a SlaView> for Sla<'a> {
    fn from(v: &'a SlaView) -> Self {
        Self {
            report_id: v.report_id,
            category: &v.category,
            owner_agency: &v.owner_agency,
            due_at: v.due_at,
            sla_status: v.sla_status,
            escalation_level: v.escalation_level,
            current_status: v.current_status,
            is_overdue: v.is_overdue,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// An escalated case.
#[derive(Serialize, ToSchema)]
#[schema(as = EscalationView)]
pub struct Escalation<'a> {
    #[schema(value_type = String)]
    pub current_status: Status,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    pub escalation_level: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub escalated_at: Timestamp,
    #[schema(value_type = String)]
    pub owner_agency: &'a AgencyCode,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
}

impl<'a> From<&'a EscalationView> for Escalation<'a> {
    fn from(v: &'a EscalationView) -> Self {
        Self {
            current_status: v.current_status,
            due_at: v.due_at,
            escalation_level: v.escalation_level,
            escalated_at: v.escalated_at,
            owner_agency: &v.owner_agency,
            report_id: v.report_id,
        }
    }
}

/// The default SLA (seed 1's fields) and per-category overrides.
#[derive(Serialize, ToSchema)]
pub struct SlaConfigJson {
    /// Category slug to duration in seconds.
    pub categories: BTreeMap<String, i64>,
    pub sla_duration_sec: i64,
    /// The default as a Go duration (`24h0m0s`).
    pub sla_duration_str: String,
    pub success: bool,
}

impl From<&SlaConfig> for SlaConfigJson {
    fn from(c: &SlaConfig) -> Self {
        Self {
            categories: c
                .per_category
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            sla_duration_sec: c.default_seconds,
            sla_duration_str: go_duration(c.default_seconds),
            success: true,
        }
    }
}
