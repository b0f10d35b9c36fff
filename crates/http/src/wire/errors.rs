//! The error envelope, as the OpenAPI document describes it. `error.rs`
//! writes it; this type only documents it (every 4xx and 5xx answer
//! references it).

use serde::Serialize;
use utoipa::ToSchema;

/// Every failure: `{success: false, error, code}` with a 4xx or 5xx status.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// Always false.
    success: bool,
    /// What went wrong, for people.
    error: String,
    /// The cause, for programs (`bad_request`, `not_found`, ...).
    code: String,
}
