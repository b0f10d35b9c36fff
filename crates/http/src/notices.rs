//! Notifications in English for the JSON API: the seed's clients show the
//! `message` field as it is, so the API renders each typed notice into the
//! sentence the seed's (and Lapor's earlier) notifications read as. Clients
//! that want another language render `kind` and `params` themselves.

use lapor_domain::notices::Notice;

/// The English sentence for a notice.
pub fn english(n: &Notice) -> String {
    match n {
        Notice::Status {
            old_status,
            new_status,
            reason: Some(r),
        } => format!("Your report is now {new_status} (was {old_status}): {r}"),
        Notice::Status {
            old_status,
            new_status,
            reason: None,
        } => format!("Your report is now {new_status} (was {old_status})"),
        Notice::Answer { message } => format!("The agency answered your report: {message}"),
        Notice::EscalatedReporter {
            escalation_level: 1,
        } => {
            "Your report was not handled in time and has been escalated to the agency's supervisor"
                .to_owned()
        }
        Notice::EscalatedReporter { .. } => {
            "Your report was not handled in time and has been escalated to the city head".to_owned()
        }
        Notice::EscalatedStaff {
            agency,
            escalation_level,
        } => format!("A case of {agency} breached its SLA (escalation level {escalation_level})"),
        Notice::Legacy { message } => message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::lifecycle::Status;

    #[test]
    fn notices_read_as_the_sentences_clients_know() {
        let status = |reason: Option<&str>| Notice::Status {
            old_status: Status::Received,
            new_status: Status::Rejected,
            reason: reason.map(str::to_owned),
        };
        assert_eq!(
            english(&status(Some("duplikat"))),
            "Your report is now REJECTED (was RECEIVED): duplikat"
        );
        assert_eq!(
            english(&status(None)),
            "Your report is now REJECTED (was RECEIVED)"
        );
        assert_eq!(
            english(&Notice::Answer {
                message: "Tim menuju lokasi".into()
            }),
            "The agency answered your report: Tim menuju lokasi"
        );
        assert_eq!(
            english(&Notice::EscalatedReporter {
                escalation_level: 1
            }),
            "Your report was not handled in time and has been escalated to the agency's supervisor"
        );
        assert_eq!(
            english(&Notice::EscalatedReporter {
                escalation_level: 2
            }),
            "Your report was not handled in time and has been escalated to the city head"
        );
        assert_eq!(
            english(&Notice::EscalatedStaff {
                agency: "AGENCY_INFRA".parse().unwrap(),
                escalation_level: 2
            }),
            "A case of AGENCY_INFRA breached its SLA (escalation level 2)"
        );
        assert_eq!(
            english(&Notice::Legacy {
                message: "stored before".into()
            }),
            "stored before"
        );
    }
}
