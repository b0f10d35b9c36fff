//! Connection pools and migrations for one SQLite file.

use lapor_app::ports::StoreError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub enum Schema {
    Identity,
    Reporting,
    Read,
    Operations,
    Workflow,
    EventLog,
}

/// One database file: a single writer and several readers.
#[derive(Debug, Clone)]
pub struct Db {
    pub writer: SqlitePool,
    pub reader: SqlitePool,
}

impl Db {
    pub async fn open(path: &Path, schema: Schema) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        match schema {
            Schema::Identity => sqlx::migrate!("./migrations/identity").run(&writer).await?,
            Schema::Reporting => {
                sqlx::migrate!("./migrations/reporting")
                    .run(&writer)
                    .await?
            }
            Schema::Read => sqlx::migrate!("./migrations/read").run(&writer).await?,
            Schema::Operations => {
                sqlx::migrate!("./migrations/operations")
                    .run(&writer)
                    .await?
            }
            Schema::Workflow => sqlx::migrate!("./migrations/workflow").run(&writer).await?,
            Schema::EventLog => sqlx::migrate!("./migrations/eventlog").run(&writer).await?,
        }
        let readers = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2)
            .clamp(2, 8)
            * 2;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Maps engine errors onto the store's small error enum.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Other(anyhow::Error::new(e)),
    }
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
