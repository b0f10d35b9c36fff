//! Opening a fresh set of stores on one engine, seen only through the ports.
//!
//! * **SQLite** (always): every context's file in a new temporary data
//!   directory, opened by `lapor_store_sqlite::open_stores` as `lapor serve`
//!   opens it; the directory is removed when the test ends.
//! * **PostgreSQL** (when `LAPOR_TEST_DATABASE_URL` names a server and a
//!   database to connect to for administration, e.g.
//!   `postgres://postgres@127.0.0.1:5432/postgres`): a new database
//!   `lapor_test_<uuid>` per test with every context in it, dropped
//!   afterwards (`WITH (FORCE)`), also when the test fails. With
//!   `LAPOR_TEST_PGBOUNCER_URL` also set (a PgBouncer in transaction pooling
//!   mode in front of the same server, any database name), the stores are
//!   migrated directly and then used through PgBouncer with the statement
//!   cache disabled.

use lapor_app::Stores;
use lapor_app::ports::{
    AuditLog, EventConsumer, IdentityStore, OperationsStore, Outbox, ReadStore, ReportingStore,
    WorkflowStore,
};
use lapor_store_postgres::{PgStores, PgUrls, PoolSettings};
use sqlx::Connection;
use std::sync::Arc;

/// The engines the suite holds to one behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// A fresh, migrated set of stores on this engine; `None` (after saying
    /// so) for PostgreSQL when `LAPOR_TEST_DATABASE_URL` is not set.
    pub async fn open(self) -> Option<TestStores> {
        match self {
            Engine::Sqlite => Some(open_sqlite().await),
            Engine::Postgres => open_postgres().await,
        }
    }
}

/// Every port of one engine's stores, as the application holds them
/// (`Arc<dyn ...>`), plus what keeps the engine alive for the test.
pub struct TestStores {
    pub identity: Arc<dyn IdentityStore>,
    pub reporting: Arc<dyn ReportingStore>,
    /// The read store as queries see it ...
    pub read: Arc<dyn ReadStore>,
    /// ... and the same store as the projector applies events to it.
    pub projector: Arc<dyn EventConsumer>,
    pub operations: Arc<dyn OperationsStore>,
    pub workflow: Arc<dyn WorkflowStore>,
    pub audit: Arc<dyn AuditLog>,
    /// Declared last: dropped after the ports above, so pools are gone
    /// before the database or directory is removed.
    opened: Opened,
}

enum Opened {
    Sqlite {
        stores: lapor_store_sqlite::SqliteStores,
        _dir: tempfile::TempDir,
    },
    Postgres {
        stores: PgStores,
        url: String,
        _dbs: TestDbs,
    },
}

impl TestStores {
    fn new(stores: Stores, opened: Opened) -> Self {
        Self {
            identity: stores.identity,
            reporting: stores.reporting,
            read: stores.read,
            projector: stores.read_models[0].clone(),
            operations: stores.operations,
            workflow: stores.workflow,
            audit: stores.audit,
            opened,
        }
    }

    pub fn engine(&self) -> Engine {
        match self.opened {
            Opened::Sqlite { .. } => Engine::Sqlite,
            Opened::Postgres { .. } => Engine::Postgres,
        }
    }

    /// The three outboxes, each with the name it reports.
    pub fn outboxes(&self) -> [(&'static str, &dyn Outbox); 3] {
        [
            ("reporting", &*self.reporting as &dyn Outbox),
            ("operations", &*self.operations as &dyn Outbox),
            ("workflow", &*self.workflow as &dyn Outbox),
        ]
    }

    /// Closes every pool or file (what shutdown does).
    pub async fn close(&self) {
        match &self.opened {
            Opened::Sqlite { stores, .. } => stores.close().await,
            Opened::Postgres { stores, .. } => stores.close().await,
        }
    }

    /// Runs `sql` directly on one context's tables, behind the ports' back:
    /// for rows the adapters no longer write (as stored before a migration).
    /// `context` is the SQLite file's name without `.db` and the PostgreSQL
    /// schema, made the search path there, so the same unqualified SQL runs
    /// on both engines when their columns match.
    pub async fn execute_sql(&self, context: &str, sql: &str) {
        match &self.opened {
            Opened::Sqlite { _dir: dir, .. } => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(dir.path().join(format!("{context}.db")))
                    // The store's writer may be committing a batch.
                    .busy_timeout(std::time::Duration::from_secs(10));
                let mut c = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .expect("open the context's SQLite file");
                sqlx::raw_sql(sql).execute(&mut c).await.expect(sql);
                c.close().await.ok();
            }
            Opened::Postgres { url, .. } => {
                let mut c = sqlx::PgConnection::connect(url)
                    .await
                    .expect("connect to the test database");
                // A schema name is an identifier: quote it, do not bind it.
                sqlx::raw_sql(&format!("SET search_path TO \"{context}\"; {sql}"))
                    .execute(&mut c)
                    .await
                    .expect(sql);
                c.close().await.ok();
            }
        }
    }

    /// The PostgreSQL stores and their database URL (PostgreSQL-only tests).
    pub fn postgres(&self) -> Option<(&PgStores, &str)> {
        match &self.opened {
            Opened::Postgres { stores, url, .. } => Some((stores, url)),
            Opened::Sqlite { .. } => None,
        }
    }
}

async fn open_sqlite() -> TestStores {
    let dir = tempfile::tempdir().expect("temporary data directory");
    let stores = lapor_store_sqlite::open_stores(dir.path())
        .await
        .expect("open the SQLite stores");
    TestStores::new(stores.stores.clone(), Opened::Sqlite { stores, _dir: dir })
}

async fn open_postgres() -> Option<TestStores> {
    let mut dbs = TestDbs::new(admin_url()?);
    let url = dbs.create().await;
    let stores = lapor_store_postgres::open(&PgUrls::single(&url), PoolSettings::default())
        .await
        .expect("open the PostgreSQL stores");
    let stores = match std::env::var("LAPOR_TEST_PGBOUNCER_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        None => stores,
        Some(bouncer) => {
            stores.close().await;
            let name = dbs.names.last().expect("created").clone();
            let settings = PoolSettings {
                statement_cache_capacity: 0,
                ..PoolSettings::default()
            };
            lapor_store_postgres::connect(&PgUrls::single(with_database(&bouncer, &name)), settings)
                .await
                .expect("connect through PgBouncer")
        }
    };
    Some(TestStores::new(
        stores.stores(),
        Opened::Postgres {
            stores,
            url,
            _dbs: dbs,
        },
    ))
}

/// `LAPOR_TEST_DATABASE_URL`, or `None` after printing that PostgreSQL
/// tests are skipped.
pub fn admin_url() -> Option<String> {
    match std::env::var("LAPOR_TEST_DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            println!("skipped: set LAPOR_TEST_DATABASE_URL");
            None
        }
    }
}

/// `admin` with its database name replaced by `name`.
pub fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after_scheme..]
        .find('/')
        .map(|i| i + after_scheme)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..host_end])
}

/// Databases created for one test; dropped (`WITH (FORCE)`) when the guard
/// goes out of scope, also while a failed test unwinds.
pub struct TestDbs {
    admin: String,
    names: Vec<String>,
}

impl TestDbs {
    pub fn new(admin: String) -> Self {
        Self {
            admin,
            names: vec![],
        }
    }

    /// Creates a fresh database and returns its URL.
    pub async fn create(&mut self) -> String {
        let name = format!("lapor_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&self.admin)
            .await
            .expect("connect to LAPOR_TEST_DATABASE_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        self.names.push(name.clone());
        with_database(&self.admin, &name)
    }
}

impl Drop for TestDbs {
    fn drop(&mut self) {
        if self.names.is_empty() {
            return;
        }
        let admin = self.admin.clone();
        let names = std::mem::take(&mut self.names);
        // The test's runtime may be the one being dropped: clean up on a
        // thread with its own.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await else {
                    eprintln!("could not connect to drop {names:?}");
                    return;
                };
                for n in names {
                    if let Err(e) =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await
                    {
                        eprintln!("could not drop {n}: {e}");
                    }
                }
            });
        });
        let _ = cleanup.join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn test_urls_name_the_new_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "t1"),
            "postgres://h:5432/t1"
        );
    }
}
