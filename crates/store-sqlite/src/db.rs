//! One SQLite file: schema migrations, the read connections and the writer.
//!
//! * **Reads** run inline on the calling (async worker) thread, on a
//!   read-only connection taken from a small pool. The hot queries are short
//!   and indexed (tens of microseconds), so handing them to another thread
//!   would cost more than running them: no channel, no wake-up, no context
//!   switch. Statements are prepared once per connection (`prepare_cached`)
//!   and rows are mapped straight to the view types.
//! * **Writes** go to one writer thread per file, which owns the only write
//!   connection. It takes every command queued behind it (up to
//!   [`MAX_BATCH`]) and runs them in one transaction, each inside its own
//!   `SAVEPOINT`, so a command that fails rolls back alone and the others
//!   commit (group commit). Every caller is answered only after the `COMMIT`:
//!   an acknowledged write is in the WAL, which survives kill -9 of the
//!   process with `synchronous=NORMAL` (not a power loss).
//! * The queue in front of the writer is bounded ([`QUEUE`]): when it is
//!   full a command fails at once with [`StoreError::Unavailable`] (HTTP 503)
//!   instead of queueing without bound, so overload sheds load instead of
//!   answering late or losing anything.
//!
//! Migrations still run with sqlx's migrator at start-up (its bookkeeping
//! table is unchanged for existing data directories); nothing else uses sqlx.

use lapor_app::ports::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
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

/// Most commands committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// Commands that may wait for the writer before new ones are refused.
pub const QUEUE: usize = 4096;
/// Idle read connections kept per file.
const MAX_IDLE_READERS: usize = 16;

/// What the writer thread runs: a command against the open transaction,
/// returning whether it failed and how to answer its caller once the
/// transaction's fate is known (`None` = committed).
type Job = Box<dyn FnOnce(&Connection) -> Done + Send>;

struct Done {
    failed: bool,
    answer: Box<dyn FnOnce(Option<String>) + Send>,
}

enum Msg {
    Job(Job),
    Close(std::sync::mpsc::Sender<()>),
}

struct Inner {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Option<SyncSender<Msg>>>,
}

/// One database file: a writer thread and inline readers. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn configure(c: &Connection) -> rusqlite::Result<()> {
    c.busy_timeout(Duration::from_secs(10))?;
    c.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -16000; PRAGMA temp_store = MEMORY;",
    )?;
    c.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl Db {
    pub async fn open(path: &Path, schema: Schema) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let migrator = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        match schema {
            Schema::Identity => {
                sqlx::migrate!("./migrations/identity")
                    .run(&migrator)
                    .await?
            }
            Schema::Reporting => {
                sqlx::migrate!("./migrations/reporting")
                    .run(&migrator)
                    .await?
            }
            Schema::Read => {
                sqlx::migrate!("./migrations/reporting_read")
                    .run(&migrator)
                    .await?
            }
            Schema::Operations => {
                sqlx::migrate!("./migrations/operations")
                    .run(&migrator)
                    .await?
            }
            Schema::Workflow => {
                sqlx::migrate!("./migrations/workflow")
                    .run(&migrator)
                    .await?
            }
            Schema::EventLog => {
                sqlx::migrate!("./migrations/eventlog")
                    .run(&migrator)
                    .await?
            }
        }
        migrator.close().await;

        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        configure(&conn)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(QUEUE);
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::thread::Builder::new()
            .name(format!("sqlite-w-{name}"))
            .spawn(move || writer_loop(conn, rx))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                readers: Mutex::new(Vec::new()),
                writer: Mutex::new(Some(tx)),
            }),
        })
    }

    fn reader(&self) -> StoreResult<Connection> {
        if let Some(c) = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
        {
            return Ok(c);
        }
        let c = Connection::open_with_flags(
            &self.inner.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .store()?;
        c.busy_timeout(Duration::from_secs(10)).store()?;
        // No mmap: a read connection's page cache (and any memory map) is
        // dropped whenever another connection has committed, and under
        // constant writes unmapping cost more (munmap, TLB shootdowns) than
        // re-reading pages with pread (docs/benchmarks.md).
        c.execute_batch("PRAGMA cache_size = -8000; PRAGMA temp_store = MEMORY;")
            .store()?;
        c.set_prepared_statement_cache_capacity(64);
        Ok(c)
    }

    /// Runs `f` on a read-only connection on the calling thread. For short,
    /// indexed queries; each statement sees the latest committed state.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = self.reader()?;
        let out = f(&conn);
        let mut pool = self.inner.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        out
    }

    /// Runs `f` on a read-only connection on a blocking thread: for queries
    /// that may scan (analytics, full counts), so they do not hold up the
    /// async workers.
    pub async fn read_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read(f))
            .await
            .map_err(|e| StoreError::Other(anyhow::anyhow!("read task failed: {e}")))?
    }

    /// Runs `f` inside the writer's current transaction (in its own
    /// savepoint) and answers once the transaction has committed. An error
    /// from `f` rolls back only `f`'s changes.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            let out = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn))) {
                Ok(out) => out,
                Err(_) => Err(StoreError::Other(anyhow::anyhow!(
                    "a write command panicked"
                ))),
            };
            let failed = out.is_err();
            Done {
                failed,
                answer: Box::new(move |commit_error| {
                    let _ = tx.send(match (commit_error, out) {
                        (_, Err(e)) => Err(e),
                        (None, ok) => ok,
                        (Some(e), Ok(_)) => Err(StoreError::Unavailable(format!(
                            "the transaction did not commit: {e}"
                        ))),
                    });
                }),
            }
        });
        let sender = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| StoreError::Unavailable("the database is closed".into()))?;
        match sender.try_send(Msg::Job(job)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(StoreError::Unavailable(
                    "overloaded: too many writes waiting; retry shortly".into(),
                ));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(StoreError::Unavailable("the writer has stopped".into()));
            }
        }
        rx.await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?
    }

    /// Stops the writer (after the commands already queued) and closes every
    /// connection, checkpointing the write-ahead log.
    pub async fn close(&self) {
        let sender = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(sender) = sender {
            let (tx, rx) = std::sync::mpsc::channel();
            if sender.send(Msg::Close(tx)).is_ok() {
                let _ =
                    tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
                        .await;
            }
        }
        self.inner
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

fn writer_loop(conn: Connection, rx: Receiver<Msg>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut closing = None;
    while closing.is_none() {
        match rx.recv() {
            Ok(Msg::Job(j)) => batch.push(j),
            Ok(Msg::Close(done)) => closing = Some(done),
            Err(_) => break,
        }
        while closing.is_none() && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            run_batch(&conn, &mut batch);
        }
    }
    // Answer anything still queued, then close (which checkpoints the WAL).
    while let Ok(Msg::Job(j)) = rx.try_recv() {
        batch.push(j);
    }
    if !batch.is_empty() {
        run_batch(&conn, &mut batch);
    }
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    drop(conn);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

fn run_batch(conn: &Connection, batch: &mut Vec<Job>) {
    let single = batch.len() == 1;
    let mut dones = Vec::with_capacity(batch.len());
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // The commands never ran; dropping them answers "unavailable".
        batch.clear();
        tracing::error!(error = %e, "sqlite writer could not begin a transaction");
        return;
    }
    for job in batch.drain(..) {
        if single {
            dones.push(job(conn));
            continue;
        }
        if let Err(e) = conn.execute_batch("SAVEPOINT cmd") {
            tracing::error!(error = %e, "sqlite writer could not open a savepoint");
            drop(job);
            continue;
        }
        let done = job(conn);
        let undo = if done.failed {
            conn.execute_batch("ROLLBACK TO cmd; RELEASE cmd")
        } else {
            conn.execute_batch("RELEASE cmd")
        };
        if let Err(e) = undo {
            tracing::error!(error = %e, "sqlite writer could not close a savepoint");
        }
        dones.push(done);
    }
    // A single command that failed: roll back instead of committing nothing.
    let outcome = if single && dones.first().is_some_and(|d| d.failed) {
        conn.execute_batch("ROLLBACK").map(|_| ())
    } else {
        conn.execute_batch("COMMIT").map(|_| ())
    };
    let error = match outcome {
        Ok(()) => None,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!(error = %e, "sqlite writer could not commit");
            Some(e.to_string())
        }
    };
    for d in dones {
        (d.answer)(error.clone());
    }
}

/// Maps engine errors onto the store's small error enum.
pub fn map_err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, msg) => match f.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                StoreError::Conflict(msg.clone().unwrap_or_else(|| e.to_string()))
            }
            _ if f.code == rusqlite::ErrorCode::DatabaseBusy
                || f.code == rusqlite::ErrorCode::DatabaseLocked =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Other(anyhow::Error::new(e)),
        },
        _ => StoreError::Other(anyhow::Error::new(e)),
    }
}

pub trait SqlResultExt<T> {
    fn store(self) -> Result<T, StoreError>;
}

impl<T> SqlResultExt<T> for Result<T, rusqlite::Error> {
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

/// A statement built at run time with its parameters (the filters of the
/// listings), bound positionally.
#[derive(Default)]
pub struct Sql {
    pub sql: String,
    pub params: Vec<rusqlite::types::Value>,
}

impl Sql {
    pub fn new(s: &str) -> Self {
        Self {
            sql: s.to_owned(),
            params: Vec::new(),
        }
    }
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.sql.push_str(s);
        self
    }
    pub fn bind(&mut self, v: impl Into<rusqlite::types::Value>) -> &mut Self {
        self.params.push(v.into());
        self.sql.push('?');
        self
    }
    /// `(?, ?, ...)` with one parameter per item; `(NULL)` for none, which
    /// matches nothing with `IN`.
    pub fn bind_list<T: ToString>(&mut self, items: &[T]) -> &mut Self {
        self.sql.push('(');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.bind(item.to_string());
        }
        if items.is_empty() {
            self.sql.push_str("NULL");
        }
        self.sql.push(')');
        self
    }
    pub fn params(&self) -> rusqlite::ParamsFromIter<std::slice::Iter<'_, rusqlite::types::Value>> {
        rusqlite::params_from_iter(self.params.iter())
    }
}

/// Text of a row's column (a store-written value).
/// Runs a query and maps every row with `f`, which may fail with a
/// `StoreError` (rusqlite's `query_map` only allows its own error type).
pub fn collect<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    mut f: impl FnMut(&rusqlite::Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut st = conn.prepare_cached(sql).store()?;
    let mut rows = st.query(params).store()?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().store()? {
        out.push(f(r)?);
    }
    Ok(out)
}

pub fn text(r: &rusqlite::Row<'_>, i: usize) -> StoreResult<String> {
    r.get::<_, String>(i).store()
}
