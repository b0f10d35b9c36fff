//! Lapor's application layer.
//!
//! * [`ports`]: the traits storage engines and event buses implement, phrased
//!   in domain terms (append with the state change, read after a position,
//!   apply idempotently).
//! * [`services`]: commands and queries, each checking who may do what.
//! * [`workers`]: the outbox relay, event consumers and the SLA escalator,
//!   all driven by one cancellation token.
//! * [`reactions`]: what each consuming context does with an event, as pure
//!   functions returning the writes; store adapters execute them.
//! * [`views`]: the read shapes queries return.
//!
//! Nothing here knows SQL, HTTP or Redis.

pub mod clock;
pub mod error;
pub mod failover;
pub mod maintenance;
pub mod photo_files;
pub mod ports;
pub mod reactions;
pub mod security;
pub mod services;
pub mod signals;
pub mod state;
pub mod views;
pub mod workers;

pub use error::{AppError, Cause, ErrorCode};
pub use state::{App, AppConfig, Stores};
