//! The application: configuration, stores, bus and clock, built once at
//! start-up and shared by every handler and worker. Engines sit behind
//! `Arc<dyn Trait>` so nothing above this layer is generic over them.

use crate::clock::Clock;
use crate::ports::*;
use crate::security::{HashCost, LoginCache, Tokens};
use crate::signals::Signals;
use lapor_domain::catalog::Catalog;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Unique per process; `/health` shows it so a client behind a load
    /// balancer sees which instance answered.
    pub instance_id: String,
    /// The roles this process runs, as `/health` shows them.
    pub roles: String,
    pub hash_cost: HashCost,
    /// The shortest SLA an operator may configure (10 s, as the seed).
    pub min_sla_seconds: i64,
    /// How often the SLA worker looks for due jobs at most.
    pub sla_tick: Duration,
    /// Safety-net poll interval of relays and consumers.
    pub poll_interval: Duration,
    pub batch_size: usize,
    /// After a relay or consumer batch that found work, wait this long
    /// before taking the next (zero: take it at once). Under load the next
    /// batch is then several events, committed in one transaction, instead
    /// of one or two; each commit writes every page it touched, so this
    /// cuts the write path's CPU (docs/benchmarks.md). An idle pipeline
    /// handles a new event at once, so light load sees no delay.
    pub batch_linger: Duration,
    /// How long a successful login may be reused without argon2id (0 turns
    /// the cache off); see `security::LoginCache`.
    pub login_cache_ttl: Duration,
    /// Where photo files are kept (the local adapter's directory).
    pub photo_dir: PathBuf,
    /// The largest photo file accepted in an upload, in bytes.
    pub max_photo_bytes: usize,
}

/// The one source of configuration defaults: [`AppConfig::default`] and
/// the command line's defaults (`lapor serve --help`) both read these.
pub mod defaults {
    /// The largest photo file accepted in an upload: 8 MiB.
    pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;
    /// How often the SLA worker looks for due jobs at most.
    pub const SLA_TICK_MS: u64 = 1000;
    /// Relays in another process than the writers learn of new outbox rows
    /// by polling (a poll is one indexed query); consumers poll as a safety
    /// net behind the bus's wake-ups.
    pub const POLL_INTERVAL_MS: u64 = 100;
    pub const BATCH_SIZE: usize = 256;
    pub const BATCH_LINGER_US: u64 = 1000;
    pub const LOGIN_CACHE_SECS: u64 = 600;
    /// argon2id cost of new password hashes (OWASP's 19 MiB, 2 passes).
    pub const HASH_MEMORY_KIB: u32 = 19 * 1024;
    pub const HASH_PASSES: u32 = 2;
    pub const DATA_DIR: &str = "./data";
    /// The photo directory inside the data directory.
    pub const PHOTO_SUBDIR: &str = "photos";
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            instance_id: format!("lapor-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            roles: "all".into(),
            hash_cost: HashCost::default(),
            min_sla_seconds: lapor_domain::sla::MIN_SECONDS,
            sla_tick: Duration::from_millis(defaults::SLA_TICK_MS),
            poll_interval: Duration::from_millis(defaults::POLL_INTERVAL_MS),
            batch_size: defaults::BATCH_SIZE,
            batch_linger: Duration::from_micros(defaults::BATCH_LINGER_US),
            login_cache_ttl: Duration::from_secs(defaults::LOGIN_CACHE_SECS),
            photo_dir: PathBuf::from(defaults::DATA_DIR).join(defaults::PHOTO_SUBDIR),
            max_photo_bytes: defaults::MAX_PHOTO_BYTES,
        }
    }
}

/// Every context's store.
#[derive(Clone)]
pub struct Stores {
    pub identity: Arc<dyn IdentityStore>,
    pub reporting: Arc<dyn ReportingStore>,
    /// Where queries read (possibly several databases with failover).
    pub read: Arc<dyn ReadStore>,
    /// Every read database the projector maintains, each its own consumer
    /// group (seed 2's primary and replicas).
    pub read_models: Vec<Arc<dyn EventConsumer>>,
    pub operations: Arc<dyn OperationsStore>,
    pub workflow: Arc<dyn WorkflowStore>,
    /// The audit trail (in the identity store's database).
    pub audit: Arc<dyn AuditLog>,
}

struct Inner {
    config: AppConfig,
    stores: Stores,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    tokens: Tokens,
    signals: Signals,
    catalog: RwLock<Arc<Catalog>>,
    logins: LoginCache,
    /// Bounds concurrent argon2id computations (each takes ~19 MiB and a
    /// core for tens of milliseconds): a login storm queues here instead of
    /// exhausting memory and starving every other request.
    hashing: tokio::sync::Semaphore,
    /// Where photo files are stored.
    photo_files: Arc<dyn PhotoFiles>,
    /// Bounds concurrent image decoding (CPU and up to a few hundred MiB
    /// each), like `hashing`.
    media: tokio::sync::Semaphore,
}

/// Cheap to clone; one per process.
#[derive(Clone)]
pub struct App(Arc<Inner>);

impl App {
    /// Builds the app with photo files in `config.photo_dir`.
    pub async fn new(
        config: AppConfig,
        stores: Stores,
        bus: Arc<dyn EventBus>,
        clock: Arc<dyn Clock>,
        tokens: Tokens,
    ) -> anyhow::Result<Self> {
        let files = Arc::new(crate::photo_files::LocalPhotoFiles::new(
            config.photo_dir.clone(),
        ));
        Self::with_photo_files(config, stores, bus, clock, tokens, files).await
    }

    /// Builds the app with another photo storage adapter.
    pub async fn with_photo_files(
        config: AppConfig,
        stores: Stores,
        bus: Arc<dyn EventBus>,
        clock: Arc<dyn Clock>,
        tokens: Tokens,
        photo_files: Arc<dyn PhotoFiles>,
    ) -> anyhow::Result<Self> {
        let catalog = stores.identity.catalog().await?;
        let capacity = if config.login_cache_ttl.is_zero() {
            0
        } else {
            100_000
        };
        let logins = LoginCache::new(config.login_cache_ttl, capacity);
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok(Self(Arc::new(Inner {
            logins,
            hashing: tokio::sync::Semaphore::new(cores.max(2)),
            media: tokio::sync::Semaphore::new(cores.max(2)),
            photo_files,
            config,
            stores,
            bus,
            clock,
            tokens,
            signals: Signals::default(),
            catalog: RwLock::new(Arc::new(catalog)),
        })))
    }

    pub fn config(&self) -> &AppConfig {
        &self.0.config
    }
    pub fn stores(&self) -> &Stores {
        &self.0.stores
    }
    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.0.bus
    }
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.0.clock
    }
    pub fn tokens(&self) -> &Tokens {
        &self.0.tokens
    }
    pub fn logins(&self) -> &LoginCache {
        &self.0.logins
    }
    pub fn photo_files(&self) -> &Arc<dyn PhotoFiles> {
        &self.0.photo_files
    }
    pub(crate) fn media_slots(&self) -> &tokio::sync::Semaphore {
        &self.0.media
    }

    /// Runs a password-hashing job on the blocking pool, at most a few at a
    /// time; waits at most 5 s for a slot, then reports overload (503).
    pub async fn hashing<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, crate::AppError> {
        let permit =
            tokio::time::timeout(std::time::Duration::from_secs(5), self.0.hashing.acquire())
                .await
                .map_err(|_| {
                    crate::AppError::Unavailable(
                        "too many logins at once; try again shortly".into(),
                    )
                })?
                .map_err(|e| crate::AppError::Internal(e.into()))?;
        let out = tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| crate::AppError::Internal(e.into()))?;
        drop(permit);
        Ok(out)
    }
    pub fn signals(&self) -> &Signals {
        &self.0.signals
    }
    pub fn now(&self) -> lapor_domain::Timestamp {
        self.0.clock.now()
    }

    /// The current catalog snapshot (cheap: an `Arc` clone).
    pub fn catalog(&self) -> Arc<Catalog> {
        self.0.catalog.read().expect("catalog lock").clone()
    }

    /// Reloads the catalog after a change (here or, periodically, elsewhere).
    pub async fn refresh_catalog(&self) -> anyhow::Result<()> {
        let c = self.0.stores.identity.catalog().await?;
        *self.0.catalog.write().expect("catalog lock") = Arc::new(c);
        Ok(())
    }
}
