//! One conformance story for every storage engine (convention 16): the
//! behaviour each store port promises, written once against the ports
//! (`Arc<dyn ...>`, as the application holds them) and run on SQLite always
//! and on PostgreSQL when `LAPOR_TEST_DATABASE_URL` is set (see
//! [`harness`]). `tests/conformance.rs` lists every port method with the
//! behaviour that covers it and generates one test per behaviour and
//! engine.
//!
//! Each behaviour is a `pub async fn(&TestStores)` that panics on a
//! failure. Behaviours that only make sense on one engine live in
//! [`postgres`]; [`migrations`] checks that both engines' migrations pair
//! up.

#![forbid(unsafe_code)]

pub mod audit;
pub mod engine;
pub mod fixtures;
pub mod harness;
pub mod identity;
pub mod migrations;
pub mod operations;
pub mod outbox;
pub mod postgres;
pub mod read;
pub mod reporting;
pub mod workflow;

pub use harness::{Engine, TestStores};
