//! The embedded engine: every bounded context on its own SQLite file in the
//! data directory, and the event bus as a durable SQLite log with in-process
//! wake-ups. Nothing to install.
//!
//! | file               | context                                   |
//! |--------------------|-------------------------------------------|
//! | `identity.db`      | users, agencies, categories, audit trail  |
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

mod audit;
mod bus;
mod db;
mod hot;
mod identity;
mod operations;
mod outbox;
mod read;
mod reporting;
mod scope;
mod workflow;

pub use bus::SqliteBus;
pub use db::{Db, Schema};
pub use identity::SqliteIdentity;
pub use operations::SqliteOperations;
pub use read::SqliteRead;
pub use reporting::SqliteReporting;
pub use workflow::SqliteWorkflow;

use lapor_app::Stores;
use std::path::Path;
use std::sync::Arc;

/// The opened stores of a data directory.
pub struct SqliteStores {
    pub stores: Stores,
    dbs: Vec<Db>,
}

impl SqliteStores {
    /// Closes every pool, checkpointing the write-ahead logs.
    pub async fn close(&self) {
        for db in &self.dbs {
            db.close().await;
        }
    }
}

/// Opens (creating and migrating as needed) every context's store in `dir`.
pub async fn open_stores(dir: &Path) -> anyhow::Result<SqliteStores> {
    std::fs::create_dir_all(dir)?;
    let file = |name: &str| dir.join(name);
    let (f1, f2, f3, f4, f5) = (
        file("identity.db"),
        file("reporting.db"),
        file("reporting_read.db"),
        file("operations.db"),
        file("workflow.db"),
    );
    let (identity, reporting, read, operations, workflow) = tokio::try_join!(
        Db::open(&f1, db::Schema::Identity),
        Db::open(&f2, db::Schema::Reporting),
        Db::open(&f3, db::Schema::Read),
        Db::open(&f4, db::Schema::Operations),
        Db::open(&f5, db::Schema::Workflow),
    )?;
    let dbs = vec![
        identity.clone(),
        reporting.clone(),
        read.clone(),
        operations.clone(),
        workflow.clone(),
    ];
    let read = Arc::new(SqliteRead::new(read, "projector:read"));
    let identity = Arc::new(SqliteIdentity::new(identity));
    let stores = Stores {
        audit: identity.clone(),
        identity,
        reporting: Arc::new(SqliteReporting::new(reporting)),
        read: read.clone(),
        read_models: vec![read],
        operations: Arc::new(SqliteOperations::new(operations)),
        workflow: Arc::new(SqliteWorkflow::new(workflow)),
    };
    Ok(SqliteStores { stores, dbs })
}

/// Opens the embedded event bus (`eventlog.db`) in `dir`.
pub async fn open_bus(dir: &Path) -> anyhow::Result<Arc<SqliteBus>> {
    std::fs::create_dir_all(dir)?;
    let db = Db::open(&dir.join("eventlog.db"), db::Schema::EventLog).await?;
    Ok(Arc::new(SqliteBus::new(db).await?))
}
