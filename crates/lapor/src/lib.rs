//! The `lapor` binary's library half: configuration and the one
//! construction path that builds stores, bus and app once and starts the
//! enabled roles under one cancellation token. `main.rs` is only the CLI;
//! tests start the same server through [`server::start`].

#![forbid(unsafe_code)]

pub mod config;
pub mod engine;
pub mod seed;
pub mod server;
