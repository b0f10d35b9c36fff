//! Identifiers. UUID v7 keeps ids roughly time-ordered, which keeps B-tree
//! inserts local and lets ids break ties in newest-first orderings.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A report, and the case and SLA job that follow it (they share its id).
    ReportId
);
id_type!(
    /// A user account of any role.
    UserId
);
id_type!(
    /// One event in the log; consumers deduplicate on it.
    EventId
);
id_type!(
    /// A notification delivered to a user.
    NotificationId
);
id_type!(
    /// An officer's answer to the citizen.
    AnswerId
);
id_type!(
    /// A photo attached to a report.
    PhotoId
);
