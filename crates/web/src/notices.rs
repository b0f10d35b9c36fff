//! Notifications as the web app shows them: a sentence in the reader's
//! language, written from the notice's kind and parameters
//! ([`lapor_domain::notices::Notice`]), never from a stored sentence. Each
//! one names the report it is about: its title when the page knows it, a
//! short id otherwise.

use crate::i18n::Lang;
use lapor_domain::catalog::Catalog;
use lapor_domain::ids::ReportId;
use lapor_domain::notices::Notice;

/// The report a notification is about, as far as the page knows it.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub report_id: ReportId,
    /// `None` when the title is unknown (or not for this reader to see).
    pub title: Option<&'a str>,
}

impl About<'_> {
    /// “Title” in quotes, or “#1a2b3c4d” (the id's last eight hex
    /// digits: its first ones are a timestamp and alike for reports filed
    /// close together).
    fn label(&self, t: Lang) -> String {
        match self.title.map(str::trim).filter(|s| !s.is_empty()) {
            Some(title) => format!("“{title}”"),
            None => {
                let hex = self.report_id.to_string().replace('-', "");
                let short = &hex[hex.len().saturating_sub(8)..];
                t.s("notice.report_id").replace("{id}", short)
            }
        }
    }
}

/// The sentence for one notification, in `t`.
pub fn render(notice: &Notice, about: About<'_>, catalog: &Catalog, t: Lang) -> String {
    let report = about.label(t);
    let status = |s: lapor_domain::lifecycle::Status| t.s(&format!("status.{}", s.as_str()));
    match notice {
        Notice::Status {
            old_status,
            new_status,
            reason,
        } => {
            let base = t
                .s("notice.status")
                .replace("{report}", &report)
                .replace("{new}", status(*new_status))
                .replace("{old}", status(*old_status));
            match reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                Some(r) => format!("{base}: {r}"),
                None => base,
            }
        }
        Notice::Answer { message } => format!(
            "{}: {message}",
            t.s("notice.answered").replace("{report}", &report)
        ),
        Notice::EscalatedReporter { escalation_level } => {
            // Level 1 goes to the agency's supervisor, later ones to the
            // city head (lapor_domain::sla's ladder).
            let key = if *escalation_level <= 1 {
                "notice.escalated_supervisor"
            } else {
                "notice.escalated_head"
            };
            t.s(key).replace("{report}", &report)
        }
        Notice::EscalatedStaff {
            agency,
            escalation_level,
        } => {
            let agency = catalog
                .agency(agency)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| agency.to_string());
            t.s("notice.escalated_staff")
                .replace("{agency}", &agency)
                .replace("{level}", &escalation_level.to_string())
                .replace("{report}", &report)
        }
        // Stored before notices were typed: the English sentence as it was
        // written, with the report named.
        Notice::Legacy { message } => format!("{report}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::lifecycle::Status;

    fn about(title: Option<&str>) -> About<'_> {
        About {
            report_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".parse().unwrap(),
            title,
        }
    }

    #[test]
    fn a_status_change_names_the_report_in_both_languages() {
        let n = Notice::Status {
            old_status: Status::Received,
            new_status: Status::Rejected,
            reason: Some("duplikat".into()),
        };
        let c = Catalog::seed();
        assert_eq!(
            render(&n, about(Some("Jalan rusak")), &c, Lang::Id),
            "Status laporan Anda “Jalan rusak” kini Ditolak (sebelumnya Diterima): duplikat"
        );
        let n = Notice::Status {
            old_status: Status::Received,
            new_status: Status::InProgress,
            reason: None,
        };
        assert_eq!(
            render(&n, about(Some("Jalan rusak")), &c, Lang::En),
            "Your report “Jalan rusak” is now In progress (was Received)"
        );
    }

    #[test]
    fn without_a_title_the_short_id_names_the_report() {
        let n = Notice::Answer {
            message: "Tim menuju lokasi".into(),
        };
        let c = Catalog::seed();
        assert_eq!(
            render(&n, about(None), &c, Lang::Id),
            "Instansi menjawab laporan Anda #2e3f4a5b: Tim menuju lokasi"
        );
        assert_eq!(
            render(&n, about(Some("  ")), &c, Lang::En),
            "The agency answered your report #2e3f4a5b: Tim menuju lokasi"
        );
    }

    #[test]
    fn escalations_name_the_target_and_the_agency() {
        let c = Catalog::seed();
        let first = Notice::EscalatedReporter {
            escalation_level: 1,
        };
        let second = Notice::EscalatedReporter {
            escalation_level: 2,
        };
        assert!(
            render(&first, about(Some("Banjir")), &c, Lang::Id).ends_with("supervisor instansi")
        );
        assert!(render(&second, about(Some("Banjir")), &c, Lang::En).ends_with("the city head"));
        let staff = Notice::EscalatedStaff {
            agency: "AGENCY_INFRA".parse().unwrap(),
            escalation_level: 2,
        };
        assert_eq!(
            render(&staff, about(Some("Banjir")), &c, Lang::Id),
            "Sebuah kasus Dinas Infrastruktur melewati SLA (eskalasi tingkat 2): “Banjir”"
        );
    }

    #[test]
    fn legacy_sentences_are_shown_as_stored() {
        let n = Notice::Legacy {
            message: "Your report is now RESOLVED (was IN_PROGRESS)".into(),
        };
        assert_eq!(
            render(&n, about(Some("Banjir")), &Catalog::seed(), Lang::Id),
            "“Banjir”: Your report is now RESOLVED (was IN_PROGRESS)"
        );
    }
}
