//! Which engines the tests run on. Without environment variables: the
//! embedded default (SQLite in a temporary directory). With
//! `LAPOR_TEST_DATABASE_URL` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`) each test gets a fresh
//! PostgreSQL database; with `LAPOR_TEST_REDIS_URL` a fresh Redis key prefix.
//! Both are removed when the test's `TestEngine` is dropped.

use lapor::config::EngineArgs;
use sqlx::Connection;

pub struct TestEngine {
    admin_url: Option<String>,
    pub database: Option<String>,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub prefix: String,
}

fn with_database(admin: &str, db: &str) -> String {
    // postgres://user@host:port/name?params -> .../<db>?params
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

impl TestEngine {
    pub async fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let admin_url = std::env::var("LAPOR_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty());
        let redis_url = std::env::var("LAPOR_TEST_REDIS_URL")
            .ok()
            .filter(|u| !u.is_empty());
        let (database, database_url) = match &admin_url {
            Some(admin) => {
                let name = format!("lapor_t_{}", &id[..16]);
                let mut conn = sqlx::PgConnection::connect(admin)
                    .await
                    .expect("LAPOR_TEST_DATABASE_URL reachable");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                let url = with_database(admin, &name);
                (Some(name), Some(url))
            }
            None => (None, None),
        };
        Self {
            admin_url,
            database,
            database_url,
            redis_url,
            prefix: format!("lapor-test-{id}"),
        }
    }

    /// Points `engine` at this test's databases and bus (the data directory
    /// stays whatever it is).
    pub fn apply(&self, engine: &mut EngineArgs) {
        engine.database_url = self.database_url.clone();
        engine.bus_url = self.redis_url.clone();
        engine.bus_prefix = self.prefix.clone();
        // A crashed test consumer's entries are taken over quickly.
        engine.bus_claim_after_ms = 1_000;
    }

    /// The same, as environment variables for a child `lapor` process.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("LAPOR_BUS_PREFIX", self.prefix.clone()),
            ("LAPOR_BUS_CLAIM_AFTER_MS", "1000".into()),
        ];
        if let Some(u) = &self.database_url {
            v.push(("LAPOR_DATABASE_URL", u.clone()));
        }
        if let Some(u) = &self.redis_url {
            v.push(("LAPOR_BUS_URL", u.clone()));
        }
        v
    }

    pub fn describe(&self) -> String {
        format!(
            "{} + {}",
            if self.database.is_some() {
                "postgresql"
            } else {
                "sqlite"
            },
            if self.redis_url.is_some() {
                "redis"
            } else {
                "embedded log"
            }
        )
    }
}

impl Drop for TestEngine {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let db = self.database.clone();
        let redis_url = self.redis_url.clone();
        let prefix = self.prefix.clone();
        // Drop runs outside async; clean up on a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let (Some(admin), Some(db)) = (admin, db)
                    && let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await
                {
                    // The test's server may still be running (and reconnecting).
                    for _ in 0..20 {
                        let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                        if sqlx::query(&sql).execute(&mut conn).await.is_ok() {
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                    let _ = conn.close().await;
                }
                if let Some(url) = redis_url
                    && let Ok(client) = redis::Client::open(url.as_str())
                    && let Ok(mut c) = client.get_multiplexed_async_connection().await
                {
                    let keys: Vec<String> = redis::cmd("KEYS")
                        .arg(format!("{prefix}:*"))
                        .query_async(&mut c)
                        .await
                        .unwrap_or_default();
                    if !keys.is_empty() {
                        let _: Result<(), _> =
                            redis::cmd("DEL").arg(keys).query_async(&mut c).await;
                    }
                }
            });
        })
        .join();
    }
}
