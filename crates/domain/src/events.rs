//! The event contract. Seed events keep their names and payload fields;
//! Lapor adds fields (never removes) and new event types. Each envelope
//! carries a schema version and optional trace context.
//!
//! For ANONYMOUS reports no payload carries the reporter's identity: the
//! `reporter_user_id` is null and `owner` is the anonymous pseudonym.

use crate::Timestamp;
use crate::access::{Owner, Visibility};
use crate::catalog::{AgencyCode, CategorySlug};
use crate::ids::{AnswerId, EventId, PhotoId, ReportId, UserId};
use crate::lifecycle::Status;
use crate::location::Location;
use serde::{Deserialize, Serialize};

/// Version of the envelope and payload shapes below.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportCreated {
    pub report_id: ReportId,
    /// Seed field; null for ANONYMOUS reports.
    pub reporter_user_id: Option<UserId>,
    pub owner: Owner,
    pub visibility: Visibility,
    pub title: String,
    pub content: String,
    pub category: CategorySlug,
    pub agency: AgencyCode,
    pub location: Option<Location>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportUpdated {
    pub report_id: ReportId,
    pub title: String,
    pub content: String,
    pub category: CategorySlug,
    pub agency: AgencyCode,
    pub location: Option<Location>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportWithdrawn {
    pub report_id: ReportId,
    pub agency: AgencyCode,
    #[serde(with = "time::serde::rfc3339")]
    pub withdrawn_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportUpvoted {
    pub report_id: ReportId,
    pub voter_user_id: UserId,
    pub vote_count: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdated {
    pub report_id: ReportId,
    pub old_status: Status,
    pub new_status: Status,
    pub owner_agency: AgencyCode,
    pub reason: Option<String>,
    pub actor_user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseAnswered {
    pub report_id: ReportId,
    pub answer_id: AnswerId,
    pub owner_agency: AgencyCode,
    pub officer_user_id: UserId,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub answered_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportEscalated {
    pub report_id: ReportId,
    /// Always "SLA_BREACH" today (seed field).
    pub reason: String,
    pub escalation_level: i64,
    pub owner_agency: AgencyCode,
    #[serde(with = "time::serde::rfc3339")]
    pub escalated_at: Timestamp,
}

/// The owner attached photos to a report (files are stored before the event
/// is recorded). Carries no reporter identity and no location: the photos
/// were stripped of their metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotosAdded {
    pub report_id: ReportId,
    pub photo_ids: Vec<PhotoId>,
    pub agency: AgencyCode,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: Timestamp,
}

/// Workflow started a report's SLA clock (appended in the transaction that
/// creates the SLA job). Escalations do not move `due_at`: it is the one
/// deadline of the report; each escalation raises the level instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaStarted {
    pub report_id: ReportId,
    pub owner_agency: AgencyCode,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: Timestamp,
}

/// Every event Lapor emits, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    ReportCreated(ReportCreated),
    ReportUpdated(ReportUpdated),
    ReportWithdrawn(ReportWithdrawn),
    ReportUpvoted(ReportUpvoted),
    StatusUpdated(StatusUpdated),
    CaseAnswered(CaseAnswered),
    ReportEscalated(ReportEscalated),
    SlaStarted(SlaStarted),
    PhotosAdded(PhotosAdded),
}

impl DomainEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            DomainEvent::ReportCreated(_) => "report.created",
            DomainEvent::ReportUpdated(_) => "report.updated",
            DomainEvent::ReportWithdrawn(_) => "report.withdrawn",
            DomainEvent::ReportUpvoted(_) => "report.upvoted",
            DomainEvent::StatusUpdated(_) => "report.status.updated",
            DomainEvent::CaseAnswered(_) => "case.answered",
            DomainEvent::ReportEscalated(_) => "report.escalated",
            DomainEvent::SlaStarted(_) => "sla.started",
            DomainEvent::PhotosAdded(_) => "report.photos_added",
        }
    }

    pub fn report_id(&self) -> ReportId {
        match self {
            DomainEvent::ReportCreated(e) => e.report_id,
            DomainEvent::ReportUpdated(e) => e.report_id,
            DomainEvent::ReportWithdrawn(e) => e.report_id,
            DomainEvent::ReportUpvoted(e) => e.report_id,
            DomainEvent::StatusUpdated(e) => e.report_id,
            DomainEvent::CaseAnswered(e) => e.report_id,
            DomainEvent::ReportEscalated(e) => e.report_id,
            DomainEvent::SlaStarted(e) => e.report_id,
            DomainEvent::PhotosAdded(e) => e.report_id,
        }
    }

    fn payload(&self) -> serde_json::Value {
        let v = match self {
            DomainEvent::ReportCreated(e) => serde_json::to_value(e),
            DomainEvent::ReportUpdated(e) => serde_json::to_value(e),
            DomainEvent::ReportWithdrawn(e) => serde_json::to_value(e),
            DomainEvent::ReportUpvoted(e) => serde_json::to_value(e),
            DomainEvent::StatusUpdated(e) => serde_json::to_value(e),
            DomainEvent::CaseAnswered(e) => serde_json::to_value(e),
            DomainEvent::ReportEscalated(e) => serde_json::to_value(e),
            DomainEvent::SlaStarted(e) => serde_json::to_value(e),
            DomainEvent::PhotosAdded(e) => serde_json::to_value(e),
        };
        v.expect("event payloads always serialize")
    }

    /// Wraps the event in the seed's envelope with a fresh id.
    pub fn into_envelope(self, now: Timestamp) -> EventEnvelope {
        EventEnvelope {
            event_id: EventId::new_v7(),
            event_type: self.event_type().to_owned(),
            report_id: self.report_id(),
            payload: self.payload(),
            timestamp: now,
            schema_version: SCHEMA_VERSION,
            trace_id: None,
        }
    }
}

/// The seed envelope `{event_id, event_type, report_id, payload, timestamp}`
/// plus `schema_version` and `trace_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub event_id: EventId,
    pub event_type: String,
    pub report_id: ReportId,
    pub payload: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: Timestamp,
    #[serde(default = "default_schema")]
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

fn default_schema() -> u32 {
    1
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type '{0}'")]
    UnknownType(String),
    #[error("bad payload for {0}: {1}")]
    Payload(String, serde_json::Error),
}

impl EventEnvelope {
    /// Decodes the payload. Unknown types are reported, not fatal: consumers
    /// skip events they do not understand (a newer producer may be running).
    pub fn decode(&self) -> Result<DomainEvent, DecodeError> {
        fn de<T: serde::de::DeserializeOwned>(e: &EventEnvelope) -> Result<T, DecodeError> {
            // From a reference: no copy of the payload tree.
            T::deserialize(&e.payload)
                .map_err(|err| DecodeError::Payload(e.event_type.clone(), err))
        }
        Ok(match self.event_type.as_str() {
            "report.created" => DomainEvent::ReportCreated(de(self)?),
            "report.updated" => DomainEvent::ReportUpdated(de(self)?),
            "report.withdrawn" => DomainEvent::ReportWithdrawn(de(self)?),
            "report.upvoted" => DomainEvent::ReportUpvoted(de(self)?),
            "report.status.updated" => DomainEvent::StatusUpdated(de(self)?),
            "case.answered" => DomainEvent::CaseAnswered(de(self)?),
            "report.escalated" => DomainEvent::ReportEscalated(de(self)?),
            "sla.started" => DomainEvent::SlaStarted(de(self)?),
            "report.photos_added" => DomainEvent::PhotosAdded(de(self)?),
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::OwnerTag;

    #[test]
    fn anonymous_creation_events_carry_no_identity() {
        let tag = OwnerTag::parse(&"ab".repeat(32)).unwrap();
        let ev = DomainEvent::ReportCreated(ReportCreated {
            report_id: ReportId::new_v7(),
            reporter_user_id: None,
            owner: Owner::Anonymous(tag),
            visibility: Visibility::Anonymous,
            title: "t".into(),
            content: "c".into(),
            category: CategorySlug::parse("kesehatan").unwrap(),
            agency: AgencyCode::parse("AGENCY_HEALTH").unwrap(),
            location: None,
            created_at: time::macros::datetime!(2026-01-02 20:00 UTC),
        });
        let env = ev
            .clone()
            .into_envelope(time::macros::datetime!(2026-01-02 20:00 UTC));
        let json = serde_json::to_string(&env).unwrap();
        assert!(json.contains(r#""reporter_user_id":null"#));
        assert!(json.contains(r#""created_at":"2026-01-02T20:00:00Z""#));
        assert_eq!(env.event_type, "report.created");
        let back: EventEnvelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back.decode().unwrap(), ev);
    }

    #[test]
    fn photos_added_round_trips_without_identity() {
        let ev = DomainEvent::PhotosAdded(PhotosAdded {
            report_id: ReportId::new_v7(),
            photo_ids: vec![PhotoId::new_v7(), PhotoId::new_v7()],
            agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
            added_at: time::macros::datetime!(2026-01-02 20:00 UTC),
        });
        let env = ev
            .clone()
            .into_envelope(time::macros::datetime!(2026-01-02 20:00 UTC));
        assert_eq!(env.event_type, "report.photos_added");
        let json = serde_json::to_string(&env).unwrap();
        assert!(!json.contains("user"), "{json}");
        let back: EventEnvelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back.decode().unwrap(), ev);
    }

    #[test]
    fn sla_started_round_trips() {
        let ev = DomainEvent::SlaStarted(SlaStarted {
            report_id: ReportId::new_v7(),
            owner_agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
            due_at: time::macros::datetime!(2026-01-03 20:00 UTC),
        });
        let env = ev
            .clone()
            .into_envelope(time::macros::datetime!(2026-01-02 20:00 UTC));
        assert_eq!(env.event_type, "sla.started");
        let json = serde_json::to_string(&env).unwrap();
        assert!(
            json.contains(r#""due_at":"2026-01-03T20:00:00Z""#),
            "{json}"
        );
        let back: EventEnvelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back.decode().unwrap(), ev);
    }

    #[test]
    fn unknown_types_are_reported() {
        let env = EventEnvelope {
            event_id: EventId::new_v7(),
            event_type: "report.teleported".into(),
            report_id: ReportId::new_v7(),
            payload: serde_json::json!({}),
            timestamp: time::OffsetDateTime::UNIX_EPOCH,
            schema_version: 1,
            trace_id: None,
        };
        assert!(matches!(env.decode(), Err(DecodeError::UnknownType(_))));
    }
}
