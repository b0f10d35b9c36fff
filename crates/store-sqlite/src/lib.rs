//! The embedded engine: every bounded context on its own SQLite file in the
//! data directory, and the event bus as a durable SQLite log with in-process
//! wake-ups. Nothing to install.
//!
//! | file               | context                                   |
//! |--------------------|-------------------------------------------|
//! | `identity.db`      | users, agencies, categories               |
//! | `reporting.db`     | reports, votes (write side) + outbox      |
//! | `reporting_read.db`| report views, timelines, statistics       |
//! | `operations.db`    | cases, history, answers + outbox          |
//! | `workflow.db`      | SLA jobs, config, notifications + outbox  |
//! | `eventlog.db`      | the event bus: published events, groups   |
//!
//! Each file has one writer connection (SQLite allows one writer at a time;
//! serialising in-process avoids lock contention) and a pool of readers.
//! WAL with `synchronous=NORMAL` keeps every committed transaction across a
//! process crash (kill -9); only a power loss can drop the last moments.

mod bus;
mod db;
mod identity;
mod operations;
mod outbox;
mod read;
mod reporting;
mod workflow;

pub use bus::SqliteBus;
pub use db::Db;
pub use identity::SqliteIdentity;
pub use operations::SqliteOperations;
pub use read::SqliteRead;
pub use reporting::SqliteReporting;
pub use workflow::SqliteWorkflow;

use lapor_app::Stores;
use std::path::Path;
use std::sync::Arc;

/// Opens (creating and migrating as needed) every store in `dir`.
pub async fn open(dir: &Path) -> anyhow::Result<(Stores, Arc<SqliteBus>)> {
    std::fs::create_dir_all(dir)?;
    let file = |name: &str| dir.join(name);
    let (f1, f2, f3, f4, f5, f6) = (
        file("identity.db"),
        file("reporting.db"),
        file("reporting_read.db"),
        file("operations.db"),
        file("workflow.db"),
        file("eventlog.db"),
    );
    let (identity, reporting, read, operations, workflow, eventlog) = tokio::try_join!(
        Db::open(&f1, db::Schema::Identity),
        Db::open(&f2, db::Schema::Reporting),
        Db::open(&f3, db::Schema::Read),
        Db::open(&f4, db::Schema::Operations),
        Db::open(&f5, db::Schema::Workflow),
        Db::open(&f6, db::Schema::EventLog),
    )?;
    let read = Arc::new(SqliteRead::new(read, "projector:read"));
    let stores = Stores {
        identity: Arc::new(SqliteIdentity::new(identity)),
        reporting: Arc::new(SqliteReporting::new(reporting)),
        read: read.clone(),
        read_models: vec![read],
        operations: Arc::new(SqliteOperations::new(operations)),
        workflow: Arc::new(SqliteWorkflow::new(workflow)),
    };
    let bus = Arc::new(SqliteBus::new(eventlog).await?);
    Ok((stores, bus))
}
