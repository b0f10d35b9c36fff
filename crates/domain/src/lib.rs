//! Lapor's domain: the rules of the city's reporting process, as pure code.
//!
//! Nothing here performs I/O or reads the clock: every function that needs
//! "now" takes it as an argument, so the rules are tested directly
//! (given/when/then) and hold the same on every storage engine.
//!
//! * [`catalog`]: categories, agencies and routing of a category to its agency.
//! * [`report`]: the citizen's report (create, edit, withdraw, upvote rules).
//! * [`photo`]: who may add photos to a report, and how many.
//! * [`lifecycle`]: the case status machine worked by officers.
//! * [`access`]: who is acting ([`access::Principal`]) and what they may see.
//! * [`sla`]: due times and the escalation ladder.
//! * [`events`]: the event contract shared by every context.
//! * [`analytics`]: performance figures (percentiles, breach rate) from case facts.
//! * [`audit`]: the hash-chained audit trail of staff actions and its verification.

pub mod access;
pub mod analytics;
pub mod audit;
pub mod catalog;
pub mod events;
pub mod ids;
pub mod lifecycle;
pub mod location;
pub mod notices;
pub mod photo;
pub mod report;
pub mod sla;
pub mod text;

pub use time::OffsetDateTime as Timestamp;
