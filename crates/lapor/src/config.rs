//! Configuration: documented defaults, `LAPOR_*` environment variables and
//! flags (clap gives the precedence flag > env > default). Secrets never
//! appear in Debug output.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use lapor_app::security::{HashCost, JwtSecret};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The largest `--max-photo-bytes` accepted (64 MiB): an upload of five such
/// photos is what one request may carry.
pub const MAX_PHOTO_BYTES_LIMIT: usize = 64 * 1024 * 1024;

/// What a `lapor serve` process runs. The embedded default runs them all;
/// scaled out, each role runs as many instances as needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum Role {
    /// Everything below, in one process.
    All,
    /// Citizens' commands over HTTP: create, edit, withdraw, upvote (and
    /// accounts and administration).
    Command,
    /// Read endpoints over HTTP: listings, single reports, statistics.
    Query,
    /// Officers' case endpoints over HTTP, and the consumer that turns new
    /// reports into cases.
    Operations,
    /// SLA and notification endpoints over HTTP, the workflow consumer and
    /// the SLA escalator.
    Workflow,
    /// Read-model projections (and the reporting write side's status mirror).
    Projector,
    /// The outbox relays (state changes -> event bus).
    Relay,
}

/// Where the data lives: the embedded default (SQLite files and the event
/// log in the data directory) or PostgreSQL and Redis Streams.
#[derive(Clone, Args)]
pub struct EngineArgs {
    /// Directory for the SQLite databases (embedded default) and generated
    /// secrets.
    #[arg(long, env = "LAPOR_DATA_DIR", default_value = lapor_app::state::defaults::DATA_DIR)]
    pub data_dir: PathBuf,

    /// PostgreSQL for every context (postgres://user@host/db); without it
    /// the stores are SQLite files in the data directory.
    #[arg(long, env = "LAPOR_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// PostgreSQL URL of the identity context (default: --database-url).
    #[arg(long, env = "LAPOR_IDENTITY_DATABASE_URL", hide_env_values = true)]
    pub identity_database_url: Option<String>,

    /// PostgreSQL URL of the reporting write side (default: --database-url).
    #[arg(long, env = "LAPOR_REPORTING_DATABASE_URL", hide_env_values = true)]
    pub reporting_database_url: Option<String>,

    /// PostgreSQL URLs of the read databases, comma-separated, primary first
    /// (default: --database-url). The projector maintains each; queries fail
    /// over between them.
    #[arg(
        long,
        env = "LAPOR_READ_DATABASE_URLS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub read_database_urls: Vec<String>,

    /// PostgreSQL URL of the operations context (default: --database-url).
    #[arg(long, env = "LAPOR_OPERATIONS_DATABASE_URL", hide_env_values = true)]
    pub operations_database_url: Option<String>,

    /// PostgreSQL URL of the workflow context (default: --database-url).
    #[arg(long, env = "LAPOR_WORKFLOW_DATABASE_URL", hide_env_values = true)]
    pub workflow_database_url: Option<String>,

    /// Connections per PostgreSQL database.
    #[arg(long, env = "LAPOR_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,

    /// Prepared statements cached per PostgreSQL connection; 0 for PgBouncer
    /// in transaction pooling mode.
    #[arg(long, env = "LAPOR_DB_STATEMENT_CACHE", default_value_t = 100)]
    pub db_statement_cache: usize,

    /// Do not run PostgreSQL migrations at start (run `lapor migrate` against
    /// PostgreSQL directly instead, e.g. behind PgBouncer).
    #[arg(long, env = "LAPOR_SKIP_MIGRATIONS", default_value_t = false)]
    pub skip_migrations: bool,

    /// Redis Streams as the event bus (redis://host:6379); without it the bus
    /// is the event log in the data directory (one process only).
    #[arg(long, env = "LAPOR_BUS_URL", hide_env_values = true)]
    pub bus_url: Option<String>,

    /// Prefix of every Redis key (several deployments can share one Redis).
    #[arg(long, env = "LAPOR_BUS_PREFIX", default_value = "lapor")]
    pub bus_prefix: String,

    /// Redis: entries pending this long with a consumer are taken over by a
    /// live one (that consumer is presumed dead), in milliseconds.
    #[arg(long, env = "LAPOR_BUS_CLAIM_AFTER_MS", default_value_t = 30_000)]
    pub bus_claim_after_ms: u64,

    /// Redis: how often relays remove stream entries every group has
    /// acknowledged, in seconds.
    #[arg(long, env = "LAPOR_BUS_TRIM_SECS", default_value_t = 30)]
    pub bus_trim_secs: u64,
}

impl fmt::Debug for EngineArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |u: &Option<String>| u.as_ref().map(|_| "<set>");
        f.debug_struct("EngineArgs")
            .field("data_dir", &self.data_dir)
            .field("database_url", &r(&self.database_url))
            .field("read_database_urls", &self.read_database_urls.len())
            .field("bus_url", &r(&self.bus_url))
            .field("bus_prefix", &self.bus_prefix)
            .finish_non_exhaustive()
    }
}

impl EngineArgs {
    /// Defaults for a data directory (embedded engine).
    pub fn for_dir(dir: &Path) -> Self {
        ServeArgs::for_dir(dir).engine
    }
}

#[derive(Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub engine: EngineArgs,

    /// Address the API listens on.
    #[arg(long, env = "LAPOR_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Create the demo accounts if missing (citizen1-3, officer1-3,
    /// supervisor1-3, admin; password `password`).
    #[arg(long, env = "LAPOR_DEMO", default_value_t = false)]
    pub demo: bool,

    /// Also serve every route on the seeds' other ports (8081, 8082, 8090),
    /// so seed clients configured for those ports work unchanged.
    #[arg(long, env = "LAPOR_COMPAT_PORTS", default_value_t = false)]
    pub compat_ports: bool,

    /// Map tile URL template for the web app's maps, e.g.
    /// `https://tile.openstreetmap.org/{z}/{x}/{y}.png` (respect the tile
    /// server's usage policy). Empty: maps show markers without a
    /// background and the browser contacts no other server.
    #[arg(long, env = "LAPOR_MAP_TILES", default_value = "")]
    pub map_tiles: String,

    /// Attribution shown on maps for the tile server.
    #[arg(long, env = "LAPOR_MAP_ATTRIBUTION", default_value = "")]
    pub map_attribution: String,

    /// Where maps start: `lat,lon` of the city centre.
    #[arg(long, env = "LAPOR_MAP_CENTER", default_value = "-6.2,106.816666", value_parser = parse_lat_lon)]
    pub map_center: (f64, f64),

    /// Send cookies without the `Secure` flag. Only for plain-HTTP
    /// deployments on a host other than localhost (browsers accept Secure
    /// cookies from http://localhost); serve Lapor over HTTPS instead.
    #[arg(long, env = "LAPOR_INSECURE_COOKIES", default_value_t = false)]
    pub insecure_cookies: bool,

    /// Do not serve the web app (API only).
    #[arg(long, env = "LAPOR_NO_WEB", default_value_t = false)]
    pub no_web: bool,

    /// Requests handled at once per listener; beyond this Lapor answers 503
    /// with `Retry-After: 1` at once instead of queueing without bound
    /// (load shedding; `/health` is never shed). 0: no limit.
    #[arg(long, env = "LAPOR_MAX_IN_FLIGHT", default_value_t = 128)]
    pub max_in_flight: usize,

    /// Roles to run, comma-separated: all, command, query, operations,
    /// workflow, projector, relay.
    #[arg(long, env = "LAPOR_ROLE", value_delimiter = ',', default_value = "all")]
    pub role: Vec<Role>,

    /// JWT signing secret as hex (at least 32 bytes). Default: generated on
    /// first start and kept in DATA_DIR/secrets/jwt.key.
    #[arg(long, env = "LAPOR_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Access token lifetime in seconds.
    #[arg(long, env = "LAPOR_TOKEN_TTL_SECS", default_value_t = 24 * 3600)]
    pub token_ttl_secs: i64,

    /// The shortest SLA duration that may be configured, in seconds.
    #[arg(long, env = "LAPOR_MIN_SLA_SECONDS", default_value_t = lapor_domain::sla::MIN_SECONDS)]
    pub min_sla_seconds: i64,

    /// How often the SLA worker checks for overdue cases, in milliseconds.
    #[arg(long, env = "LAPOR_SLA_TICK_MS", default_value_t = lapor_app::state::defaults::SLA_TICK_MS)]
    pub sla_tick_ms: u64,

    /// Number of SLA escalation workers (they never double-escalate).
    #[arg(long, env = "LAPOR_SLA_WORKERS", default_value_t = 1)]
    pub sla_workers: usize,

    /// Argon2id memory cost in KiB for new password hashes.
    #[arg(long, env = "LAPOR_HASH_MEMORY_KIB", default_value_t = lapor_app::state::defaults::HASH_MEMORY_KIB)]
    pub hash_memory_kib: u32,

    /// Argon2id passes for new password hashes.
    #[arg(long, env = "LAPOR_HASH_PASSES", default_value_t = lapor_app::state::defaults::HASH_PASSES)]
    pub hash_passes: u32,

    /// After a relay or consumer batch that found work, wait this long (in
    /// microseconds) before taking the next, so that under load events are
    /// committed several at a time (0: no wait; idle pipelines never wait).
    #[arg(long, env = "LAPOR_BATCH_LINGER_US", default_value_t = lapor_app::state::defaults::BATCH_LINGER_US)]
    pub batch_linger_us: u64,

    /// How long a successful login may be repeated without recomputing
    /// argon2id, in seconds (0 disables; wrong passwords are never cached).
    #[arg(long, env = "LAPOR_LOGIN_CACHE_SECS", default_value_t = lapor_app::state::defaults::LOGIN_CACHE_SECS)]
    pub login_cache_secs: u64,

    /// Name of this instance in /health (default: random).
    #[arg(long, env = "LAPOR_INSTANCE_ID")]
    pub instance_id: Option<String>,

    /// Directory for report photos (sanitised JPEGs and thumbnails), on every
    /// engine. Default: DATA_DIR/photos. Scaled out, the command and query
    /// instances must all see the same directory (shared storage).
    #[arg(long, env = "LAPOR_PHOTO_DIR")]
    pub photo_dir: Option<PathBuf>,

    /// Largest photo file accepted in an upload, in bytes (default 8 MiB).
    #[arg(long, env = "LAPOR_MAX_PHOTO_BYTES", default_value_t = lapor_app::state::defaults::MAX_PHOTO_BYTES)]
    pub max_photo_bytes: usize,
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeArgs")
            .field("engine", &self.engine)
            .field("listen", &self.listen)
            .field("demo", &self.demo)
            .field("compat_ports", &self.compat_ports)
            .field("role", &self.role)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("min_sla_seconds", &self.min_sla_seconds)
            .field("sla_tick_ms", &self.sla_tick_ms)
            .field("sla_workers", &self.sla_workers)
            .finish_non_exhaustive()
    }
}

impl ServeArgs {
    /// Defaults for a data directory (what tests and subcommands start from).
    pub fn for_dir(dir: &Path) -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct P {
            #[command(flatten)]
            a: ServeArgs,
        }
        let mut a = P::parse_from(["lapor"]).a;
        a.engine.data_dir = dir.to_owned();
        a
    }

    /// Checks values clap cannot, naming the offending setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.token_ttl_secs < 60 {
            bail!("--token-ttl-secs (LAPOR_TOKEN_TTL_SECS) must be at least 60");
        }
        if self.min_sla_seconds < 1 {
            bail!("--min-sla-seconds (LAPOR_MIN_SLA_SECONDS) must be at least 1");
        }
        if self.sla_tick_ms < 10 {
            bail!("--sla-tick-ms (LAPOR_SLA_TICK_MS) must be at least 10");
        }
        if self.hash_memory_kib < 8 || self.hash_passes < 1 {
            bail!("--hash-memory-kib must be at least 8 and --hash-passes at least 1");
        }
        if !(1024..=MAX_PHOTO_BYTES_LIMIT).contains(&self.max_photo_bytes) {
            bail!(
                "--max-photo-bytes (LAPOR_MAX_PHOTO_BYTES) must be between 1024 and {MAX_PHOTO_BYTES_LIMIT}"
            );
        }
        Ok(())
    }

    pub fn runs(&self, role: Role) -> bool {
        self.role.contains(&Role::All) || self.role.contains(&role)
    }

    /// The HTTP route groups this process serves.
    pub fn http_roles(&self) -> lapor_http::HttpRoles {
        lapor_http::HttpRoles {
            command: self.runs(Role::Command),
            query: self.runs(Role::Query),
            operations: self.runs(Role::Operations),
            workflow: self.runs(Role::Workflow),
        }
    }

    /// The roles as shown by `/health`.
    pub fn roles_label(&self) -> String {
        if self.role.contains(&Role::All) {
            return "all".into();
        }
        let names: Vec<String> = self
            .role
            .iter()
            .filter_map(|r| r.to_possible_value().map(|v| v.get_name().to_owned()))
            .collect();
        names.join(",")
    }

    pub fn hash_cost(&self) -> HashCost {
        HashCost {
            memory_kib: self.hash_memory_kib,
            passes: self.hash_passes,
        }
    }

    /// Where photos are kept: `--photo-dir`, or `photos` in the data
    /// directory (which every engine has: it also holds the lock and the
    /// generated JWT secret).
    pub fn photo_dir(&self) -> PathBuf {
        self.photo_dir.clone().unwrap_or_else(|| {
            self.engine
                .data_dir
                .join(lapor_app::state::defaults::PHOTO_SUBDIR)
        })
    }

    pub fn sla_tick(&self) -> Duration {
        Duration::from_millis(self.sla_tick_ms)
    }

    /// The configured secret, or the one persisted in the data directory
    /// (generated on first start, readable only by its owner).
    pub fn jwt_secret(&self) -> anyhow::Result<JwtSecret> {
        if let Some(hex) = &self.jwt_secret {
            return JwtSecret::from_hex(hex).context("LAPOR_JWT_SECRET");
        }
        let dir = self.engine.data_dir.join("secrets");
        let path = dir.join("jwt.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return JwtSecret::from_hex(&text)
                .with_context(|| format!("{} is corrupt", path.display()));
        }
        std::fs::create_dir_all(&dir)?;
        let secret = JwtSecret::generate();
        write_private(&path, &secret.to_hex())?;
        tracing::info!(path = %path.display(), "generated a new JWT signing secret");
        Ok(secret)
    }

    /// The web app's settings.
    pub fn web_config(&self) -> lapor_web::WebConfig {
        lapor_web::WebConfig {
            tile_url: self.map_tiles.clone(),
            tile_attribution: self.map_attribution.clone(),
            map_center: self.map_center,
            secure_cookies: !self.insecure_cookies,
        }
    }

    /// The extra listen addresses of `--compat-ports`.
    pub fn compat_addrs(&self) -> Vec<SocketAddr> {
        if !self.compat_ports {
            return vec![];
        }
        [8081, 8082, 8090]
            .into_iter()
            .map(|p| SocketAddr::new(self.listen.ip(), p))
            .filter(|a| *a != self.listen)
            .collect()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    std::fs::write(path, content)?;
    Ok(())
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Role as ValueEnum>::from_str(s, true)
    }
}

fn parse_lat_lon(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| "expected `lat,lon`".to_owned())?;
    let lat: f64 = a.trim().parse().map_err(|_| "bad latitude".to_owned())?;
    let lon: f64 = b.trim().parse().map_err(|_| "bad longitude".to_owned())?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err("latitude must be in -90..90 and longitude in -180..180".into());
    }
    Ok((lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_app::AppConfig;

    /// Both layers read `lapor_app::state::defaults`; this catches a default
    /// written into one of them again.
    #[test]
    fn the_command_line_defaults_are_the_app_defaults() {
        let a = ServeArgs::for_dir(Path::new(lapor_app::state::defaults::DATA_DIR));
        let d = AppConfig::default();
        assert_eq!(a.sla_tick(), d.sla_tick);
        assert_eq!(a.hash_cost(), d.hash_cost);
        assert_eq!(a.min_sla_seconds, d.min_sla_seconds);
        assert_eq!(
            std::time::Duration::from_micros(a.batch_linger_us),
            d.batch_linger
        );
        assert_eq!(
            std::time::Duration::from_secs(a.login_cache_secs),
            d.login_cache_ttl
        );
        assert_eq!(a.max_photo_bytes, d.max_photo_bytes);
        assert_eq!(a.photo_dir(), d.photo_dir);
    }
}
