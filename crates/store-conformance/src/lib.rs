//! One conformance story for every storage engine (convention 16): the
//! harness that opens every store port (`Arc<dyn ...>`, as the application
//! holds them) on SQLite always and on PostgreSQL when
//! `LAPOR_TEST_DATABASE_URL` is set. The behaviours themselves, the event
//! fixtures they apply and the list of every port method with the behaviour
//! that covers it are test code: `tests/conformance.rs` and `tests/suite/`.

#![forbid(unsafe_code)]

pub mod harness;

pub use harness::{Engine, TestStores};
