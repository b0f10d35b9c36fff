//! What the reporter (and escalation targets) are told, decided from events.
//!
//! A notice is data: a kind and its parameters. Sentences are rendered at
//! the edge (the JSON API in English for seed clients, the web app in the
//! reader's language), never stored, so rewording one cannot lose a
//! translation.

use crate::catalog::AgencyCode;
use crate::events::{CaseAnswered, ReportEscalated, StatusUpdated};
use crate::lifecycle::Status;
use serde::{Deserialize, Serialize};

/// One notification's meaning. Serialized as `{"kind": ..., "params": {...}}`;
/// `kind` is stored in its own column and `params` as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "params", rename_all = "snake_case")]
pub enum Notice {
    /// The report's status changed (with the officer's reason on a rejection).
    Status {
        old_status: Status,
        new_status: Status,
        reason: Option<String>,
    },
    /// An officer answered the report.
    Answer { message: String },
    /// The report breached its SLA: told to the reporter.
    EscalatedReporter { escalation_level: i64 },
    /// A case breached its SLA: told to the supervisor or city head.
    EscalatedStaff {
        agency: AgencyCode,
        escalation_level: i64,
    },
    /// A notification stored before notices were typed: its English
    /// sentence, shown as it is.
    Legacy { message: String },
}

impl Notice {
    pub fn status_changed(e: &StatusUpdated) -> Self {
        Notice::Status {
            old_status: e.old_status,
            new_status: e.new_status,
            reason: e.reason.clone(),
        }
    }

    pub fn answered(e: &CaseAnswered) -> Self {
        Notice::Answer {
            message: e.message.clone(),
        }
    }

    pub fn escalated_to_reporter(e: &ReportEscalated) -> Self {
        Notice::EscalatedReporter {
            escalation_level: e.escalation_level,
        }
    }

    pub fn escalated_to_staff(e: &ReportEscalated) -> Self {
        Notice::EscalatedStaff {
            agency: e.owner_agency.clone(),
            escalation_level: e.escalation_level,
        }
    }

    /// The stored kind (`status`, `answer`, `escalated_reporter`, `escalated_staff`).
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::Status { .. } => "status",
            Notice::Answer { .. } => "answer",
            Notice::EscalatedReporter { .. } => "escalated_reporter",
            Notice::EscalatedStaff { .. } => "escalated_staff",
            Notice::Legacy { .. } => "legacy",
        }
    }

    /// The parameters as a JSON object (what is stored beside the kind).
    pub fn params(&self) -> serde_json::Value {
        let v = serde_json::to_value(self).expect("notices always serialize");
        v.get("params").cloned().unwrap_or(serde_json::Value::Null)
    }

    /// Reads a stored kind and parameters back; `None` for a kind this
    /// version does not know or parameters that do not fit it.
    pub fn from_parts(kind: &str, params: &serde_json::Value) -> Option<Self> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "params": params })).ok()
    }

    /// The columns a notice is stored in: its kind, its parameters as JSON
    /// text and a sentence. Typed notices store no sentence (`""`); only a
    /// [`Notice::Legacy`] keeps its sentence, with no parameters, so that
    /// [`Notice::stored`] reads every notice back as it was.
    pub fn to_stored(&self) -> (&'static str, Option<String>, &str) {
        match self {
            Notice::Legacy { message } => (self.kind(), None, message),
            _ => (self.kind(), Some(self.params().to_string()), ""),
        }
    }

    /// A stored notification read back: its kind and parameters (JSON text),
    /// or, for a row stored before notices were typed (no parameters), its
    /// sentence as a [`Notice::Legacy`]. A kind this version does not know
    /// (written by a newer one) also falls back to the stored sentence.
    pub fn stored(kind: &str, params: Option<&str>, message: &str) -> Self {
        params
            .and_then(|p| serde_json::from_str(p).ok())
            .and_then(|p| Self::from_parts(kind, &p))
            .unwrap_or_else(|| Notice::Legacy {
                message: message.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_round_trips_through_kind_and_params() {
        let n = Notice::Status {
            old_status: Status::Received,
            new_status: Status::Rejected,
            reason: Some("duplikat".into()),
        };
        assert_eq!(n.kind(), "status");
        assert_eq!(n.params()["new_status"], "REJECTED");
        assert_eq!(Notice::from_parts(n.kind(), &n.params()), Some(n));
        let s = Notice::EscalatedStaff {
            agency: "AGENCY_INFRA".parse().unwrap(),
            escalation_level: 2,
        };
        assert_eq!(s.kind(), "escalated_staff");
        assert_eq!(Notice::from_parts(s.kind(), &s.params()), Some(s));
        assert_eq!(Notice::from_parts("nonsense", &serde_json::json!({})), None);
        assert_eq!(Notice::from_parts("answer", &serde_json::json!({})), None);
    }

    #[test]
    fn stored_rows_read_back_typed_or_as_legacy_sentences() {
        let n = Notice::Answer {
            message: "Tim menuju lokasi".into(),
        };
        let json = n.params().to_string();
        assert_eq!(Notice::stored("answer", Some(&json), ""), n);
        let legacy = Notice::Legacy {
            message: "Your report is now IN_PROGRESS (was RECEIVED)".into(),
        };
        assert_eq!(
            Notice::stored(
                "status",
                None,
                "Your report is now IN_PROGRESS (was RECEIVED)"
            ),
            legacy
        );
        assert_eq!(
            Notice::stored("teleported", Some("{}"), "old text"),
            Notice::Legacy {
                message: "old text".into()
            }
        );
        assert_eq!(
            Notice::stored("answer", Some("not json"), "x"),
            Notice::Legacy {
                message: "x".into()
            }
        );
    }

    #[test]
    fn every_notice_survives_being_stored() {
        for n in [
            Notice::Status {
                old_status: Status::InProgress,
                new_status: Status::Resolved,
                reason: None,
            },
            Notice::Answer {
                message: "Tim menuju lokasi".into(),
            },
            Notice::EscalatedReporter {
                escalation_level: 1,
            },
            Notice::EscalatedStaff {
                agency: "AGENCY_HEALTH".parse().unwrap(),
                escalation_level: 2,
            },
            Notice::Legacy {
                message: "Your report is now RESOLVED (was IN_PROGRESS)".into(),
            },
        ] {
            let (kind, params, message) = n.to_stored();
            assert_eq!(kind, n.kind());
            assert_eq!(Notice::stored(kind, params.as_deref(), message), n);
            if let Notice::Legacy { .. } = n {
                assert_eq!(params, None);
            } else {
                assert_eq!(message, "", "typed notices store no sentence");
            }
        }
    }
}
