//! The API's JSON: the shape of every response body and its OpenAPI schema,
//! built from the app's views (which carry one field per fact). Both seeds'
//! names for the same fact (`id`/`report_id`, `content`/`description`,
//! `status`/`current_status`), photo URLs and the error envelope live here
//! and nowhere else.
//!
//! Envelopes that handlers used to build with `json!` list their fields in
//! alphabetical order: `json!` wrote them sorted, and clients keep getting
//! the same bytes.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod cases;
pub mod errors;
pub mod notifications;
pub mod reports;
pub mod workflow;

pub use errors::ErrorBody;
