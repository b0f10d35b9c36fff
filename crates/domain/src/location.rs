//! A point on the map, as reports and events carry it. Its own module so
//! that `events` (the contract) and `report` (which builds events) do not
//! depend on each other; parsing, with the report's errors, is in `report`.

use serde::{Deserialize, Serialize};

/// A point on the map, with an optional street address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}
