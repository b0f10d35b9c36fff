//! Commands and queries, as methods on [`crate::App`], one file per context.
//! Each checks the caller's role and agency scope before touching a store.

pub mod analytics;
pub mod audit;
pub mod identity;
pub mod operations;
pub mod photos;
pub mod reporting;
pub mod workflow;
