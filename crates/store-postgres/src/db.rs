//! Connection pools, migrations and statement execution for one PostgreSQL
//! database.
//!
//! A context's tables live in its own schema and every statement names it,
//! so one pool serves any number of contexts in the same database and no
//! connection state (search_path, session locks) is relied on.
//!
//! **PgBouncer in transaction pooling mode** hands a client's statements to
//! whichever server connection is free at each transaction boundary, and
//! (before 1.21, e.g. Debian 12's 1.18) knows nothing of prepared
//! statements. sqlx prepares every statement in one round trip (Parse,
//! Sync) and runs it in the next (Bind, Execute, Sync), and with its
//! statement cache off it still names the statements (`sqlx_s_1`, ...) and
//! never closes them, so server connections shared by several clients fail
//! with "prepared statement already exists". So with
//! `statement_cache_capacity = 0` (*pooled* mode) every statement here is
//! unnamed and runs inside a transaction, which pins one server connection
//! from Parse to Execute; statements outside an explicit transaction get a
//! short one of their own. That is why all statements go through [`Db`] and
//! [`Tx`] rather than straight to the pool.

use lapor_app::ports::{StoreError, StoreResult};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult, PgRow};
use sqlx::query::{Query, QueryScalar};
use sqlx::{FromRow, PgConnection, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub enum Schema {
    Identity,
    Reporting,
    Read,
    Operations,
    Workflow,
}

impl Schema {
    /// The migrations of this context. Versions are unique across contexts
    /// (1001, 2001, ...), so contexts sharing a database share one
    /// `_sqlx_migrations` table; each migrator ignores the others' rows.
    fn migrator(self) -> Migrator {
        let mut m = match self {
            Schema::Identity => sqlx::migrate!("./migrations/identity"),
            Schema::Reporting => sqlx::migrate!("./migrations/reporting"),
            Schema::Read => sqlx::migrate!("./migrations/reporting_read"),
            Schema::Operations => sqlx::migrate!("./migrations/operations"),
            Schema::Workflow => sqlx::migrate!("./migrations/workflow"),
        };
        m.set_ignore_missing(true);
        m
    }
}

/// How each pool connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections per database URL (contexts with the same URL share one
    /// pool). Default 10.
    pub max_connections: u32,
    /// Prepared statements cached per connection. 0 is for PgBouncer in
    /// transaction pooling mode: statements are then unnamed and each runs
    /// in a transaction (see the module doc), costing a round trip or two
    /// per statement. PgBouncer 1.21+ with `max_prepared_statements` set
    /// tracks named statements itself and works with the cache on.
    /// Default 100.
    pub statement_cache_capacity: usize,
    /// How long a query waits for a connection (including reconnecting to a
    /// database that is down) before failing as unavailable. Default 2 s: it
    /// is also how long a query waits before failing over to the next read
    /// database.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            statement_cache_capacity: 100,
            acquire_timeout: Duration::from_secs(2),
        }
    }
}

/// One database: a pool shared by every context stored in it.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: PgPool,
    /// false in pooled (PgBouncer) mode: unnamed statements, each in a
    /// transaction.
    persistent: bool,
}

impl Db {
    /// Connects (the database must exist: operators create databases,
    /// migrations create the schemas).
    pub async fn connect(url: &str, settings: PoolSettings) -> anyhow::Result<Self> {
        let opts = PgConnectOptions::from_str(url)?
            .statement_cache_capacity(settings.statement_cache_capacity)
            .application_name("lapor")
            // Not sent at start-up: PgBouncer rejects start-up parameters it
            // does not track. Results come back in binary, so floats are
            // exact without it.
            .extra_float_digits(None);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(opts)
            .await?;
        Ok(Self {
            pool,
            persistent: settings.statement_cache_capacity > 0,
        })
    }

    /// Creates or upgrades one context's schema.
    pub async fn migrate(&self, schema: Schema) -> anyhow::Result<()> {
        schema.migrator().run(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(Tx {
            inner: self.pool.begin().await.store()?,
            persistent: self.persistent,
        })
    }

    /// A connection for one statement: straight from the pool, or in pooled
    /// mode inside a transaction of its own.
    async fn session(&self) -> StoreResult<Session> {
        Ok(if self.persistent {
            Session::Direct(self.pool.acquire().await.store()?)
        } else {
            Session::Pinned(self.pool.begin().await.store()?)
        })
    }

    pub async fn execute(&self, q: Query<'_, Postgres, PgArguments>) -> StoreResult<PgQueryResult> {
        let mut s = self.session().await?;
        let r = q
            .persistent(self.persistent)
            .execute(s.conn())
            .await
            .store()?;
        s.finish().await?;
        Ok(r)
    }

    pub async fn fetch_all(&self, q: Query<'_, Postgres, PgArguments>) -> StoreResult<Vec<PgRow>> {
        let mut s = self.session().await?;
        let r = q
            .persistent(self.persistent)
            .fetch_all(s.conn())
            .await
            .store()?;
        s.finish().await?;
        Ok(r)
    }

    pub async fn fetch_optional(
        &self,
        q: Query<'_, Postgres, PgArguments>,
    ) -> StoreResult<Option<PgRow>> {
        let mut s = self.session().await?;
        let r = q
            .persistent(self.persistent)
            .fetch_optional(s.conn())
            .await
            .store()?;
        s.finish().await?;
        Ok(r)
    }

    /// The one value one row holds (counts, aggregates).
    pub async fn fetch_scalar<O>(
        &self,
        q: QueryScalar<'_, Postgres, O, PgArguments>,
    ) -> StoreResult<O>
    where
        O: Send + Unpin,
        (O,): for<'r> FromRow<'r, PgRow>,
    {
        let mut s = self.session().await?;
        let r = q
            .persistent(self.persistent)
            .fetch_one(s.conn())
            .await
            .store()?;
        s.finish().await?;
        Ok(r)
    }
}

/// A transaction; statements run through it follow the database's mode.
/// Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    inner: Transaction<'static, Postgres>,
    persistent: bool,
}

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        self.inner.commit().await.store()
    }

    pub async fn execute(
        &mut self,
        q: Query<'_, Postgres, PgArguments>,
    ) -> StoreResult<PgQueryResult> {
        q.persistent(self.persistent)
            .execute(&mut *self.inner)
            .await
            .store()
    }

    pub async fn fetch_all(
        &mut self,
        q: Query<'_, Postgres, PgArguments>,
    ) -> StoreResult<Vec<PgRow>> {
        q.persistent(self.persistent)
            .fetch_all(&mut *self.inner)
            .await
            .store()
    }

    pub async fn fetch_optional(
        &mut self,
        q: Query<'_, Postgres, PgArguments>,
    ) -> StoreResult<Option<PgRow>> {
        q.persistent(self.persistent)
            .fetch_optional(&mut *self.inner)
            .await
            .store()
    }

    pub async fn fetch_optional_scalar<O>(
        &mut self,
        q: QueryScalar<'_, Postgres, O, PgArguments>,
    ) -> StoreResult<Option<O>>
    where
        O: Send + Unpin,
        (O,): for<'r> FromRow<'r, PgRow>,
    {
        q.persistent(self.persistent)
            .fetch_optional(&mut *self.inner)
            .await
            .store()
    }
}

/// Runs a statement on a [`Db`] (`*_on`) or in a [`Tx`] (`*_in`), in the
/// database's mode, with errors mapped onto [`StoreError`]. Call sites keep
/// the shape of the SQLite adapters (`sqlx::query(..).bind(..).execute(..)`).
pub trait Exec: Sized {
    fn execute_on(self, db: &Db) -> impl Future<Output = StoreResult<PgQueryResult>> + Send;
    fn execute_in(self, tx: &mut Tx) -> impl Future<Output = StoreResult<PgQueryResult>> + Send;
    fn fetch_all_on(self, db: &Db) -> impl Future<Output = StoreResult<Vec<PgRow>>> + Send;
    fn fetch_all_in(self, tx: &mut Tx) -> impl Future<Output = StoreResult<Vec<PgRow>>> + Send;
    fn fetch_optional_on(self, db: &Db) -> impl Future<Output = StoreResult<Option<PgRow>>> + Send;
    fn fetch_optional_in(
        self,
        tx: &mut Tx,
    ) -> impl Future<Output = StoreResult<Option<PgRow>>> + Send;
}

impl Exec for Query<'_, Postgres, PgArguments> {
    fn execute_on(self, db: &Db) -> impl Future<Output = StoreResult<PgQueryResult>> + Send {
        db.execute(self)
    }
    fn execute_in(self, tx: &mut Tx) -> impl Future<Output = StoreResult<PgQueryResult>> + Send {
        tx.execute(self)
    }
    fn fetch_all_on(self, db: &Db) -> impl Future<Output = StoreResult<Vec<PgRow>>> + Send {
        db.fetch_all(self)
    }
    fn fetch_all_in(self, tx: &mut Tx) -> impl Future<Output = StoreResult<Vec<PgRow>>> + Send {
        tx.fetch_all(self)
    }
    fn fetch_optional_on(self, db: &Db) -> impl Future<Output = StoreResult<Option<PgRow>>> + Send {
        db.fetch_optional(self)
    }
    fn fetch_optional_in(
        self,
        tx: &mut Tx,
    ) -> impl Future<Output = StoreResult<Option<PgRow>>> + Send {
        tx.fetch_optional(self)
    }
}

/// [`Exec`] for statements that return one value.
pub trait ExecScalar<O>: Sized {
    fn fetch_one_on(self, db: &Db) -> impl Future<Output = StoreResult<O>> + Send;
    fn fetch_optional_in(self, tx: &mut Tx) -> impl Future<Output = StoreResult<Option<O>>> + Send;
}

impl<O> ExecScalar<O> for QueryScalar<'_, Postgres, O, PgArguments>
where
    O: Send + Unpin,
    (O,): for<'r> FromRow<'r, PgRow>,
{
    fn fetch_one_on(self, db: &Db) -> impl Future<Output = StoreResult<O>> + Send {
        db.fetch_scalar(self)
    }
    fn fetch_optional_in(self, tx: &mut Tx) -> impl Future<Output = StoreResult<Option<O>>> + Send {
        tx.fetch_optional_scalar(self)
    }
}

/// Where a statement outside an explicit transaction runs.
enum Session {
    Direct(PoolConnection<Postgres>),
    Pinned(Transaction<'static, Postgres>),
}

impl Session {
    fn conn(&mut self) -> &mut PgConnection {
        match self {
            Session::Direct(c) => c,
            Session::Pinned(t) => t,
        }
    }

    async fn finish(self) -> StoreResult<()> {
        match self {
            Session::Direct(_) => Ok(()),
            Session::Pinned(t) => t.commit().await.store(),
        }
    }
}

/// Maps engine errors onto the store's small error enum.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::Database(d) if d.code().is_some_and(|c| unavailable_code(&c)) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(anyhow::Error::new(e)),
    }
}

/// SQLSTATEs that mean the server is going away, starting up or full:
/// class 08 (connection exception), 53300 (too many connections), 57P01-03
/// (admin/crash shutdown, cannot connect now).
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "53300" | "57P01" | "57P02" | "57P03")
}

pub trait SqlxResultExt<T> {
    fn store(self) -> Result<T, StoreError>;
}

impl<T> SqlxResultExt<T> for Result<T, sqlx::Error> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(map_err)
    }
}

/// Parses a stored value that this store itself wrote.
pub fn parse<T: FromStr>(s: &str, what: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e| StoreError::Other(anyhow::anyhow!("corrupt {what} '{s}': {e}")))
}
