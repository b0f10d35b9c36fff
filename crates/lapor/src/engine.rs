//! Picks the engines from configuration: SQLite files and the embedded event
//! log in the data directory by default; PostgreSQL (`--database-url`) and
//! Redis Streams (`--bus-url`) when given. The rest of the program sees only
//! the ports.

use crate::config::EngineArgs;
use anyhow::Context;
use lapor_app::Stores;
use lapor_app::failover::FailoverRead;
use lapor_app::ports::{EventBus, ReadStore};
use std::sync::Arc;
use std::time::Duration;

enum StoreEngine {
    Sqlite(lapor_store_sqlite::SqliteStores),
    Postgres(lapor_store_postgres::PgStores),
}

enum BusEngine {
    Embedded(Arc<lapor_store_sqlite::SqliteBus>),
    Redis(Arc<lapor_bus_redis::RedisBus>),
}

/// The opened stores and bus.
pub struct Engine {
    pub stores: Stores,
    pub bus: Arc<dyn EventBus>,
    /// Every read database with its projector group.
    pub reads: Vec<(String, Arc<dyn ReadStore>)>,
    outbox_urls: Vec<String>,
    store_engine: StoreEngine,
    bus_engine: BusEngine,
}

impl EngineArgs {
    /// The PostgreSQL URLs, if PostgreSQL is configured.
    pub fn pg_urls(&self) -> anyhow::Result<Option<lapor_store_postgres::PgUrls>> {
        let specific = [
            &self.identity_database_url,
            &self.reporting_database_url,
            &self.operations_database_url,
            &self.workflow_database_url,
        ];
        let Some(default) = self.database_url.clone() else {
            if specific.iter().any(|u| u.is_some()) || !self.read_database_urls.is_empty() {
                anyhow::bail!(
                    "set --database-url (LAPOR_DATABASE_URL) too: it is the default for the contexts not named"
                );
            }
            return Ok(None);
        };
        for u in specific
            .iter()
            .filter_map(|u| u.as_ref())
            .chain(std::iter::once(&default))
            .chain(&self.read_database_urls)
        {
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                anyhow::bail!(
                    "database URLs must start with postgres:// (got {})",
                    lapor_store_postgres::redact(u)
                );
            }
        }
        let pick = |u: &Option<String>| u.clone().unwrap_or_else(|| default.clone());
        Ok(Some(lapor_store_postgres::PgUrls {
            identity: pick(&self.identity_database_url),
            reporting: pick(&self.reporting_database_url),
            read: if self.read_database_urls.is_empty() {
                vec![default.clone()]
            } else {
                self.read_database_urls.clone()
            },
            operations: pick(&self.operations_database_url),
            workflow: pick(&self.workflow_database_url),
        }))
    }

    pub fn pool_settings(&self) -> lapor_store_postgres::PoolSettings {
        lapor_store_postgres::PoolSettings {
            max_connections: self.db_max_connections,
            statement_cache_capacity: self.db_statement_cache,
            ..Default::default()
        }
    }
}

impl Engine {
    /// Opens the configured engines. `consumer_name` names this process in
    /// Redis consumer groups (unique per instance).
    pub async fn open(args: &EngineArgs, consumer_name: &str) -> anyhow::Result<Self> {
        let mut outbox_urls: Vec<String> = vec![];
        if let Some(urls) = args.pg_urls()? {
            for u in [urls.reporting, urls.operations, urls.workflow] {
                if !outbox_urls.contains(&u) {
                    outbox_urls.push(u);
                }
            }
        }
        let (stores, reads, store_engine) = match args.pg_urls()? {
            None => {
                let s = lapor_store_sqlite::open_stores(&args.data_dir)
                    .await
                    .context("opening the data directory")?;
                let reads = vec![("projector:read".to_owned(), s.stores.read.clone())];
                (s.stores.clone(), reads, StoreEngine::Sqlite(s))
            }
            Some(urls) => {
                let pg = if args.skip_migrations {
                    lapor_store_postgres::connect(&urls, args.pool_settings()).await
                } else {
                    lapor_store_postgres::open(&urls, args.pool_settings()).await
                }
                .context("opening PostgreSQL")?;
                let mut stores = pg.stores();
                let reads: Vec<(String, Arc<dyn ReadStore>)> = pg
                    .reads
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        (
                            lapor_store_postgres::read_group(i),
                            r.clone() as Arc<dyn ReadStore>,
                        )
                    })
                    .collect();
                if reads.len() > 1 {
                    stores.read = Arc::new(FailoverRead::new(
                        reads.iter().map(|(_, r)| r.clone()).collect(),
                    ));
                }
                (stores, reads, StoreEngine::Postgres(pg))
            }
        };
        let bus_engine = match &args.bus_url {
            None => BusEngine::Embedded(
                lapor_store_sqlite::open_bus(&args.data_dir)
                    .await
                    .context("opening the event log")?,
            ),
            Some(url) => {
                let settings = lapor_bus_redis::RedisBusSettings {
                    claim_after: Duration::from_millis(args.bus_claim_after_ms),
                    ..Default::default()
                };
                let bus = lapor_bus_redis::RedisBus::connect(
                    url,
                    &args.bus_prefix,
                    consumer_name,
                    settings,
                )
                .await
                .map_err(|e| anyhow::anyhow!("opening the Redis bus: {e}"))?;
                BusEngine::Redis(Arc::new(bus))
            }
        };
        let bus: Arc<dyn EventBus> = match &bus_engine {
            BusEngine::Embedded(b) => b.clone(),
            BusEngine::Redis(b) => b.clone(),
        };
        Ok(Self {
            stores,
            bus,
            reads,
            outbox_urls,
            store_engine,
            bus_engine,
        })
    }

    /// The distinct PostgreSQL databases holding outboxes (relays listen for
    /// their notifications).
    pub fn outbox_databases(&self) -> Vec<String> {
        match &self.store_engine {
            StoreEngine::Postgres(_) => self.outbox_urls.clone(),
            StoreEngine::Sqlite(_) => vec![],
        }
    }

    /// The Redis bus, for maintenance (trimming) by the relay role.
    pub fn redis(&self) -> Option<Arc<lapor_bus_redis::RedisBus>> {
        match &self.bus_engine {
            BusEngine::Redis(b) => Some(b.clone()),
            BusEngine::Embedded(_) => None,
        }
    }

    pub fn describe(&self) -> &'static str {
        match (&self.store_engine, &self.bus_engine) {
            (StoreEngine::Sqlite(_), BusEngine::Embedded(_)) => "sqlite + embedded event log",
            (StoreEngine::Sqlite(_), BusEngine::Redis(_)) => "sqlite + redis streams",
            (StoreEngine::Postgres(_), BusEngine::Embedded(_)) => "postgresql + embedded event log",
            (StoreEngine::Postgres(_), BusEngine::Redis(_)) => "postgresql + redis streams",
        }
    }

    pub async fn close(&self) {
        match &self.bus_engine {
            BusEngine::Embedded(b) => b.close().await,
            BusEngine::Redis(_) => {}
        }
        match &self.store_engine {
            StoreEngine::Sqlite(s) => s.close().await,
            StoreEngine::Postgres(p) => p.close().await,
        }
    }
}
