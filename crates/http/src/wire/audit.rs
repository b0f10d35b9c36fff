//! The audit trail on the wire (`GET /admin/audit`).

use lapor_domain::Timestamp;
use lapor_domain::audit::AuditEntry;
use lapor_domain::ids::UserId;
use serde::Serialize;
use utoipa::ToSchema;

/// One staff action, as chained in the trail.
#[derive(Serialize, ToSchema)]
pub struct Audit<'a> {
    /// status_changed, answered, sla_changed, agency_changed,
    /// category_changed, user_added or staff_login.
    pub action: &'static str,
    /// The staff member who acted (never a citizen).
    #[schema(value_type = String, format = Uuid)]
    pub actor: UserId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Facts of the action, e.g. `{"from": "RECEIVED", "to": "IN_PROGRESS"}`
    /// or `{"seconds": 3600}`.
    #[schema(value_type = Object)]
    pub details: &'a serde_json::Value,
    /// Hex SHA-256 of `prev_hash` and this entry's contents.
    pub hash: &'a str,
    /// The hash of the entry before (64 zeros for the first).
    pub prev_hash: &'a str,
    /// Position in the chain, gapless from 1.
    pub seq: i64,
    /// What was acted on: a report id, a username, a category slug or an
    /// agency code; null for logins and the default SLA.
    pub target: Option<&'a str>,
}

impl<'a> From<&'a AuditEntry> for Audit<'a> {
    fn from(e: &'a AuditEntry) -> Self {
        Self {
            action: e.action.as_str(),
            actor: e.actor,
            at: e.at,
            details: &e.details,
            hash: &e.hash,
            prev_hash: &e.prev_hash,
            seq: e.seq,
            target: e.target.as_deref(),
        }
    }
}

/// Where the next (older) page starts.
#[derive(Serialize, ToSchema)]
pub struct AuditMeta {
    /// Pass as `before_seq` for the next page; null on the last page.
    pub next_before_seq: Option<i64>,
}

/// `GET /admin/audit`: newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditListing<'a> {
    pub data: Vec<Audit<'a>>,
    pub meta: AuditMeta,
    pub success: bool,
}
