//! What the reporter (and escalation targets) are told, decided from events.

use crate::events::{CaseAnswered, ReportEscalated, StatusUpdated};

pub fn status_changed(e: &StatusUpdated) -> String {
    match &e.reason {
        Some(r) => format!(
            "Your report is now {} (was {}): {}",
            e.new_status, e.old_status, r
        ),
        None => format!("Your report is now {} (was {})", e.new_status, e.old_status),
    }
}

pub fn answered(e: &CaseAnswered) -> String {
    format!("The agency answered your report: {}", e.message)
}

pub fn escalated_to_reporter(e: &ReportEscalated) -> String {
    match e.escalation_level {
        1 => {
            "Your report was not handled in time and has been escalated to the agency's supervisor"
                .to_owned()
        }
        _ => {
            "Your report was not handled in time and has been escalated to the city head".to_owned()
        }
    }
}

pub fn escalated_to_staff(e: &ReportEscalated) -> String {
    format!(
        "A case of {} breached its SLA (escalation level {})",
        e.owner_agency, e.escalation_level
    )
}
