//! SLA policy: every report gets a due time; a breach escalates to the
//! agency's supervisor (level 1) and, if still unresolved one more period
//! later, to the city head (level 2). Resolving or rejecting completes it.

use crate::Timestamp;
use crate::catalog::AgencyCode;
use crate::lifecycle::Status;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;
use time::Duration;

/// The top of the escalation chain (the city head).
pub const MAX_LEVEL: i64 = 2;
/// The seed refuses SLA durations under 10 s.
pub const MIN_SECONDS: i64 = 10;
/// A year: anything longer is a typo.
pub const MAX_SECONDS: i64 = 366 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SlaStatus {
    Pending,
    Escalated,
    Completed,
    /// The report was withdrawn.
    Cancelled,
}

impl SlaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaStatus::Pending => "PENDING",
            SlaStatus::Escalated => "ESCALATED",
            SlaStatus::Completed => "COMPLETED",
            SlaStatus::Cancelled => "CANCELLED",
        }
    }
    pub fn is_open(self) -> bool {
        matches!(self, SlaStatus::Pending | SlaStatus::Escalated)
    }
}

impl fmt::Display for SlaStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid SLA status '{0}': use PENDING, ESCALATED, COMPLETED or CANCELLED")]
pub struct BadSlaStatus(pub String);

impl FromStr for SlaStatus {
    type Err = BadSlaStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PENDING" => Ok(SlaStatus::Pending),
            "ESCALATED" => Ok(SlaStatus::Escalated),
            "COMPLETED" => Ok(SlaStatus::Completed),
            "CANCELLED" | "CANCELED" => Ok(SlaStatus::Cancelled),
            _ => Err(BadSlaStatus(s.to_owned())),
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SlaError {
    #[error("duration_seconds must be at least {min}")]
    TooShort { min: i64 },
    #[error("duration_seconds must be at most {MAX_SECONDS}")]
    TooLong,
}

/// Checks a configured duration against the floor (10 s by default; tests
/// may lower it through configuration).
pub fn validate_duration(seconds: i64, min: i64) -> Result<i64, SlaError> {
    if seconds < min {
        return Err(SlaError::TooShort { min });
    }
    if seconds > MAX_SECONDS {
        return Err(SlaError::TooLong);
    }
    Ok(seconds)
}

/// Go's `time.Duration` formatting, as the seed prints `sla_duration_str`
/// (for example `24h0m0s`, `5m0s`, `30s`).
pub fn go_duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// The SLA-relevant state of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaJob {
    pub agency: AgencyCode,
    pub status: SlaStatus,
    pub escalation_level: i64,
    pub due_at: Timestamp,
    /// When the next escalation is due; `None` once closed or at the top.
    pub next_escalation_at: Option<Timestamp>,
    pub current_status: Status,
}

impl SlaJob {
    pub fn start(agency: AgencyCode, created_at: Timestamp, duration_seconds: i64) -> Self {
        let due_at = created_at + Duration::seconds(duration_seconds);
        Self {
            agency,
            status: SlaStatus::Pending,
            escalation_level: 0,
            due_at,
            next_escalation_at: Some(due_at),
            current_status: Status::Received,
        }
    }

    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status.is_open() && now > self.due_at
    }
}

/// Who receives an escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationTarget {
    AgencySupervisor(AgencyCode),
    CityHead,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub level: i64,
    pub target: EscalationTarget,
    pub next_escalation_at: Option<Timestamp>,
}

/// Decides whether `job` must escalate at `now`. Each level waits one more
/// SLA period (`period_seconds`) after the previous one.
pub fn escalation_due(job: &SlaJob, now: Timestamp, period_seconds: i64) -> Option<Escalation> {
    let at = job.next_escalation_at?;
    if !job.status.is_open() || job.escalation_level >= MAX_LEVEL || now < at {
        return None;
    }
    let level = job.escalation_level + 1;
    let target = if level == 1 {
        EscalationTarget::AgencySupervisor(job.agency.clone())
    } else {
        EscalationTarget::CityHead
    };
    let next = (level < MAX_LEVEL).then(|| at.max(now) + Duration::seconds(period_seconds));
    Some(Escalation {
        level,
        target,
        next_escalation_at: next,
    })
}

/// Applies a case status change to the job: RESOLVED or REJECTED close it.
pub fn on_status_change(job: &mut SlaJob, new_status: Status) {
    job.current_status = new_status;
    if new_status.is_final() && job.status.is_open() {
        job.status = SlaStatus::Completed;
        job.next_escalation_at = None;
    }
}

/// Applies an escalation decided by [`escalation_due`].
pub fn apply_escalation(job: &mut SlaJob, e: &Escalation) {
    job.status = SlaStatus::Escalated;
    job.escalation_level = e.level;
    job.next_escalation_at = e.next_escalation_at;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: Timestamp = datetime!(2026-03-01 08:00 UTC);

    fn job() -> SlaJob {
        SlaJob::start(AgencyCode::parse("AGENCY_INFRA").unwrap(), T0, 60)
    }

    #[test]
    fn given_a_new_job_then_it_is_pending_until_due() {
        let j = job();
        assert_eq!(j.status, SlaStatus::Pending);
        assert_eq!(j.due_at, T0 + Duration::seconds(60));
        assert_eq!(escalation_due(&j, T0 + Duration::seconds(59), 60), None);
        assert!(!j.is_overdue(T0 + Duration::seconds(60)));
        assert!(j.is_overdue(T0 + Duration::seconds(61)));
    }

    #[test]
    fn escalates_to_supervisor_then_city_head_then_stops() {
        let mut j = job();
        let e1 = escalation_due(&j, T0 + Duration::seconds(61), 60).unwrap();
        assert_eq!(e1.level, 1);
        assert_eq!(
            e1.target,
            EscalationTarget::AgencySupervisor(j.agency.clone())
        );
        apply_escalation(&mut j, &e1);
        assert_eq!(
            escalation_due(&j, T0 + Duration::seconds(62), 60),
            None,
            "not twice for one breach"
        );
        let e2 = escalation_due(&j, T0 + Duration::seconds(125), 60).unwrap();
        assert_eq!(
            (e2.level, e2.target.clone(), e2.next_escalation_at),
            (2, EscalationTarget::CityHead, None)
        );
        apply_escalation(&mut j, &e2);
        assert_eq!(escalation_due(&j, T0 + Duration::days(30), 60), None);
        assert_eq!(j.status, SlaStatus::Escalated);
    }

    #[test]
    fn an_escalation_is_due_at_the_very_moment_it_was_scheduled() {
        let j = job();
        let e = escalation_due(&j, T0 + Duration::seconds(60), 60).unwrap();
        assert_eq!(e.level, 1);
        assert_eq!(e.next_escalation_at, Some(T0 + Duration::seconds(120)));
    }

    #[test]
    fn a_closed_job_or_one_at_the_top_never_escalates_whatever_its_schedule_says() {
        let late = T0 + Duration::days(1);
        for status in [SlaStatus::Completed, SlaStatus::Cancelled] {
            let mut closed = job();
            closed.status = status;
            assert_eq!(escalation_due(&closed, late, 60), None, "{status}");
        }
        let mut top = job();
        top.status = SlaStatus::Escalated;
        top.escalation_level = MAX_LEVEL;
        assert_eq!(escalation_due(&top, late, 60), None);
    }

    #[test]
    fn resolving_completes_and_stops_escalation() {
        let mut j = job();
        on_status_change(&mut j, Status::InProgress);
        assert_eq!(j.status, SlaStatus::Pending);
        on_status_change(&mut j, Status::Resolved);
        assert_eq!(j.status, SlaStatus::Completed);
        assert_eq!(escalation_due(&j, T0 + Duration::days(1), 60), None);
        assert!(!j.is_overdue(T0 + Duration::days(1)));
    }

    #[test]
    fn sla_statuses_print_and_parse_their_names() {
        let all = [
            (SlaStatus::Pending, "PENDING", true),
            (SlaStatus::Escalated, "ESCALATED", true),
            (SlaStatus::Completed, "COMPLETED", false),
            (SlaStatus::Cancelled, "CANCELLED", false),
        ];
        for (status, name, open) in all {
            assert_eq!(status.as_str(), name);
            assert_eq!(status.to_string(), name);
            assert_eq!(format!(" {} ", name.to_lowercase()).parse(), Ok(status));
            assert_eq!(status.is_open(), open, "{status}");
        }
        assert_eq!("canceled".parse(), Ok(SlaStatus::Cancelled));
        assert_eq!(
            "paused".parse::<SlaStatus>(),
            Err(BadSlaStatus("paused".into()))
        );
    }

    #[test]
    fn the_longest_duration_is_a_leap_year() {
        assert_eq!(validate_duration(31_622_400, 10), Ok(31_622_400));
        assert_eq!(validate_duration(31_622_401, 10), Err(SlaError::TooLong));
    }

    #[test]
    fn durations_are_checked_and_printed_like_go() {
        assert_eq!(
            validate_duration(9, MIN_SECONDS),
            Err(SlaError::TooShort { min: 10 })
        );
        assert_eq!(validate_duration(1, 1), Ok(1));
        assert!(validate_duration(MAX_SECONDS + 1, 10).is_err());
        assert_eq!(go_duration(86400), "24h0m0s");
        assert_eq!(go_duration(300), "5m0s");
        assert_eq!(go_duration(30), "30s");
    }
}
