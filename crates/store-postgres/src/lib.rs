//! The PostgreSQL engine: every bounded context in its own schema, in one
//! database or each in its own (any mix), with one or more read databases.
//!
//! | schema           | context                                   |
//! |------------------|-------------------------------------------|
//! | `identity`       | users, agencies, categories               |
//! | `reporting`      | reports, votes (write side) + outbox      |
//! | `reporting_read` | report views, timelines, statistics       |
//! | `operations`     | cases, history, answers + outbox          |
//! | `workflow`       | SLA jobs, config, notifications + outbox  |
//!
//! Every statement names its schema, so contexts can share a database and
//! nothing depends on `search_path`. Migrations use the same version numbers
//! as the SQLite engine (1001 identity ... 5001 workflow) and create their
//! schemas; databases are created by the operator.
//!
//! Behind PgBouncer in transaction pooling mode: set
//! [`PoolSettings::statement_cache_capacity`] to 0 (statements are then
//! unnamed and each runs in a transaction; see `db.rs`), run migrations once
//! with [`open`] against PostgreSQL itself (they hold a session-level
//! advisory lock PgBouncer cannot keep) and start instances with
//! [`connect`]. Outbox claims use transaction-level advisory locks only.
//!
//! The event bus is not here: on PostgreSQL deployments it is Redis Streams.

mod audit;
mod db;
mod identity;
mod operations;
mod outbox;
mod read;
mod reporting;
mod scope;
mod workflow;

pub use db::{Db, PoolSettings};
pub use identity::PgIdentity;
pub use operations::PgOperations;
pub use outbox::{CLAIM_LEASE_MS, OUTBOX_CHANNEL};
pub use read::PgRead;
pub use reporting::PgReporting;
pub use workflow::PgWorkflow;

use db::Schema;
use lapor_app::Stores;
use lapor_app::ports::EventConsumer;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Where each context lives: `postgres://` URLs, equal or different.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrls {
    pub identity: String,
    pub reporting: String,
    /// One or more read databases (primary first, then replicas); the
    /// projector maintains each, queries use the first that answers.
    pub read: Vec<String>,
    pub operations: String,
    pub workflow: String,
}

impl PgUrls {
    /// Every context, and one read store, in the same database.
    pub fn single(url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            identity: url.clone(),
            reporting: url.clone(),
            read: vec![url.clone()],
            operations: url.clone(),
            workflow: url,
        }
    }
}

/// URLs may carry passwords: Debug shows them redacted.
impl fmt::Debug for PgUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgUrls")
            .field("identity", &redact(&self.identity))
            .field("reporting", &redact(&self.reporting))
            .field(
                "read",
                &self.read.iter().map(|u| redact(u)).collect::<Vec<_>>(),
            )
            .field("operations", &redact(&self.operations))
            .field("workflow", &redact(&self.workflow))
            .finish()
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// The consumer group of the `i`-th read store (0-based): the first is
/// `projector:read`, the others `projector:read:2`, `projector:read:3`, ...
pub fn read_group(i: usize) -> String {
    match i {
        0 => "projector:read".to_owned(),
        i => format!("projector:read:{}", i + 1),
    }
}

/// The opened stores, as concrete types (see [`PgStores::stores`] for the
/// application's view).
pub struct PgStores {
    pub identity: Arc<PgIdentity>,
    pub reporting: Arc<PgReporting>,
    pub operations: Arc<PgOperations>,
    pub workflow: Arc<PgWorkflow>,
    /// One per read URL, in order.
    pub reads: Vec<Arc<PgRead>>,
    /// One pool per distinct URL.
    pools: HashMap<String, Db>,
}

impl PgStores {
    /// The application's stores: queries read the first read store; the
    /// projector maintains every one.
    pub fn stores(&self) -> Stores {
        Stores {
            identity: self.identity.clone(),
            audit: self.identity.clone(),
            reporting: self.reporting.clone(),
            read: self.reads[0].clone(),
            read_models: self.read_consumers(),
            operations: self.operations.clone(),
            workflow: self.workflow.clone(),
        }
    }

    /// Every read store as a consumer (one projector group each).
    pub fn read_consumers(&self) -> Vec<Arc<dyn EventConsumer>> {
        self.reads
            .iter()
            .map(|r| r.clone() as Arc<dyn EventConsumer>)
            .collect()
    }

    /// Closes every pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        for db in self.pools.values() {
            db.close().await;
        }
    }
}

/// Connects to every database (one pool per distinct URL, shared by the
/// contexts stored there), migrates each context's schema and opens the
/// stores. The databases must exist.
///
/// Migrations hold a session-level advisory lock, which PgBouncer in
/// transaction pooling mode cannot keep: behind PgBouncer, migrate with
/// [`open`] against PostgreSQL itself once, and start instances with
/// [`connect`].
pub async fn open(urls: &PgUrls, pool: PoolSettings) -> anyhow::Result<PgStores> {
    let stores = connect(urls, pool).await?;
    let contexts = [
        (&urls.identity, Schema::Identity),
        (&urls.reporting, Schema::Reporting),
        (&urls.operations, Schema::Operations),
        (&urls.workflow, Schema::Workflow),
    ]
    .into_iter()
    .chain(urls.read.iter().map(|u| (u, Schema::Read)));
    for (url, schema) in contexts {
        stores.pools[url.as_str()]
            .migrate(schema)
            .await
            .map_err(|e| e.context(format!("migrating {schema:?} in {}", redact(url))))?;
    }
    Ok(stores)
}

/// Like [`open`], without running migrations (the schemas must be
/// current).
pub async fn connect(urls: &PgUrls, pool: PoolSettings) -> anyhow::Result<PgStores> {
    anyhow::ensure!(
        !urls.read.is_empty(),
        "at least one read database is needed"
    );
    for (i, u) in urls.read.iter().enumerate() {
        anyhow::ensure!(
            !urls.read[..i].contains(u),
            "read database {} is listed twice",
            redact(u)
        );
    }
    let mut pools: HashMap<String, Db> = HashMap::new();
    let all = [
        &urls.identity,
        &urls.reporting,
        &urls.operations,
        &urls.workflow,
    ]
    .into_iter()
    .chain(urls.read.iter());
    for url in all {
        if !pools.contains_key(url) {
            let db = Db::connect(url, pool)
                .await
                .map_err(|e| e.context(format!("connecting to {}", redact(url))))?;
            pools.insert(url.clone(), db);
        }
    }
    let db = |url: &String| pools[url].clone();
    Ok(PgStores {
        identity: Arc::new(PgIdentity::new(db(&urls.identity))),
        reporting: Arc::new(PgReporting::new(db(&urls.reporting))),
        operations: Arc::new(PgOperations::new(db(&urls.operations))),
        workflow: Arc::new(PgWorkflow::new(db(&urls.workflow))),
        reads: urls
            .read
            .iter()
            .enumerate()
            .map(|(i, url)| Arc::new(PgRead::new(db(url), &read_group(i))))
            .collect(),
        pools,
    })
}
