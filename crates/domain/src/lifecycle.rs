//! The case status machine: RECEIVED -> IN_PROGRESS -> RESOLVED, and
//! RECEIVED or IN_PROGRESS -> REJECTED with a reason. RESOLVED and REJECTED
//! are final.

use crate::text::{TextError, no_nul};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Received,
    InProgress,
    Resolved,
    Rejected,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Received,
        Status::InProgress,
        Status::Resolved,
        Status::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "RECEIVED",
            Status::InProgress => "IN_PROGRESS",
            Status::Resolved => "RESOLVED",
            Status::Rejected => "REJECTED",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Status::Resolved | Status::Rejected)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid status '{0}': use RECEIVED, IN_PROGRESS, RESOLVED or REJECTED")]
pub struct BadStatus(pub String);

impl FromStr for Status {
    type Err = BadStatus;
    /// Accepts the upper-case names and seed 2's lower-case aliases
    /// (`pending` is RECEIVED).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_uppercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "RECEIVED" | "PENDING" => Ok(Status::Received),
            "IN_PROGRESS" | "INPROGRESS" => Ok(Status::InProgress),
            "RESOLVED" => Ok(Status::Resolved),
            "REJECTED" => Ok(Status::Rejected),
            _ => Err(BadStatus(s.to_owned())),
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TransitionError {
    #[error("the case is already {0}")]
    Unchanged(Status),
    #[error("a case cannot move from {from} to {to}")]
    NotAllowed { from: Status, to: Status },
    #[error("a reason is required to reject a case")]
    ReasonRequired,
    #[error("the reason must be at most {MAX_REASON} characters")]
    ReasonTooLong,
    #[error(transparent)]
    Text(#[from] TextError),
}

/// The longest reason an officer may give.
pub const MAX_REASON: usize = 2000;

/// Decides whether a case may move `from` -> `to`; returns the normalised
/// reason to record. Pure: the caller supplies the current state.
pub fn transition(
    from: Status,
    to: Status,
    reason: Option<&str>,
) -> Result<Option<String>, TransitionError> {
    use Status::*;
    if from == to {
        return Err(TransitionError::Unchanged(from));
    }
    let allowed = matches!(
        (from, to),
        (Received, InProgress) | (InProgress, Resolved) | (Received | InProgress, Rejected)
    );
    if !allowed {
        return Err(TransitionError::NotAllowed { from, to });
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = reason {
        no_nul("reason", r)?;
    }
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON) {
        return Err(TransitionError::ReasonTooLong);
    }
    if to == Rejected && reason.is_none() {
        return Err(TransitionError::ReasonRequired);
    }
    Ok(reason.map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_path() {
        assert_eq!(transition(Received, InProgress, None), Ok(None));
        assert_eq!(
            transition(InProgress, Resolved, Some("fixed")),
            Ok(Some("fixed".into()))
        );
    }

    #[test]
    fn rejecting_needs_a_reason() {
        assert_eq!(
            transition(Received, Rejected, None),
            Err(TransitionError::ReasonRequired)
        );
        assert_eq!(
            transition(InProgress, Rejected, Some("  ")),
            Err(TransitionError::ReasonRequired)
        );
        assert_eq!(
            transition(InProgress, Rejected, Some(" duplicate ")),
            Ok(Some("duplicate".into()))
        );
    }

    #[test]
    fn a_reason_with_nul_is_refused() {
        assert_eq!(
            transition(Received, Rejected, Some("dup\0")),
            Err(TransitionError::Text(TextError::Nul { field: "reason" }))
        );
    }

    #[test]
    fn a_reason_may_be_exactly_the_limit_long_but_not_longer() {
        let at_limit = "é".repeat(MAX_REASON);
        assert_eq!(
            transition(Received, Rejected, Some(&at_limit)),
            Ok(Some(at_limit.clone()))
        );
        assert_eq!(
            transition(Received, Rejected, Some(&format!("{at_limit}x"))),
            Err(TransitionError::ReasonTooLong)
        );
        assert_eq!(MAX_REASON, 2000);
    }

    #[test]
    fn skipping_and_reopening_are_refused() {
        assert_eq!(
            transition(Received, Resolved, None),
            Err(TransitionError::NotAllowed {
                from: Received,
                to: Resolved
            })
        );
        assert!(transition(Resolved, InProgress, None).is_err());
        assert!(transition(Rejected, Received, None).is_err());
        assert_eq!(
            transition(InProgress, InProgress, None),
            Err(TransitionError::Unchanged(InProgress))
        );
    }

    #[test]
    fn seed_aliases_parse() {
        assert_eq!("pending".parse::<Status>(), Ok(Received));
        assert_eq!("in_progress".parse::<Status>(), Ok(InProgress));
        assert_eq!("In-Progress".parse::<Status>(), Ok(InProgress));
        assert_eq!("resolved".parse::<Status>(), Ok(Resolved));
        assert_eq!("REJECTED".parse::<Status>(), Ok(Rejected));
        assert!("done".parse::<Status>().is_err());
    }

    fn any_status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        /// Whatever sequence of requested transitions is applied, the state
        /// only ever moves forward, never leaves a final state, and reaches
        /// REJECTED only with a reason.
        #[test]
        fn walks_never_leave_a_final_state(steps in prop::collection::vec((any_status(), any::<bool>()), 0..40)) {
            let mut state = Received;
            let rank = |s: Status| match s { Received => 0, InProgress => 1, Resolved | Rejected => 2 };
            for (to, with_reason) in steps {
                let before = state;
                match transition(state, to, with_reason.then_some("because")) {
                    Ok(reason) => {
                        prop_assert!(!before.is_final());
                        prop_assert!(rank(to) > rank(before));
                        if to == Rejected { prop_assert!(reason.is_some()); }
                        state = to;
                    }
                    Err(_) => prop_assert_eq!(state, before),
                }
            }
        }

        #[test]
        fn display_and_parse_round_trip(s in any_status()) {
            prop_assert_eq!(s.to_string().parse::<Status>(), Ok(s));
            prop_assert_eq!(s.to_string().to_lowercase().parse::<Status>(), Ok(s));
        }
    }
}
