//! Identity on SQLite.

use crate::db::{Db, SqlResultExt, parse, text};
use async_trait::async_trait;
use lapor_app::clock::{from_millis, millis};
use lapor_app::ports::{IdentityStore, StoreError, StoreResult, UserRecord};
use lapor_domain::access::Role;
use lapor_domain::catalog::{Agency, AgencyCode, Catalog, Category};
use lapor_domain::ids::UserId;
use rusqlite::{Connection, Row, params};

pub struct SqliteIdentity {
    pub(crate) db: Db,
}

impl SqliteIdentity {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

const USER_COLS: &str = "id, username, password_hash, role, agency, sealed_anon_key, created_at";

fn user(r: &Row<'_>) -> StoreResult<UserRecord> {
    let agency: Option<String> = r.get(4).store()?;
    Ok(UserRecord {
        id: parse(&text(r, 0)?, "user id")?,
        username: r.get(1).store()?,
        password_hash: r.get(2).store()?,
        role: parse::<Role>(&text(r, 3)?, "role")?,
        agency: agency.map(|a| parse(&a, "agency")).transpose()?,
        sealed_anon_key: r.get(5).store()?,
        created_at: from_millis(r.get(6).store()?),
    })
}

fn users(c: &Connection, sql: &str, p: impl rusqlite::Params) -> StoreResult<Vec<UserRecord>> {
    crate::db::collect(c, sql, p, user)
}

fn load_catalog(c: &Connection) -> StoreResult<Catalog> {
    let mut st = c
        .prepare_cached("SELECT code, name FROM agencies")
        .store()?;
    let mut rows = st.query([]).store()?;
    let mut agencies = Vec::new();
    while let Some(r) = rows.next().store()? {
        agencies.push(Agency {
            code: parse(&text(r, 0)?, "agency")?,
            name: r.get(1).store()?,
        });
    }
    drop(rows);
    let mut st = c
        .prepare_cached("SELECT slug, name, agency FROM categories")
        .store()?;
    let mut rows = st.query([]).store()?;
    let mut cats = Vec::new();
    while let Some(r) = rows.next().store()? {
        cats.push(Category {
            slug: lapor_domain::catalog::CategorySlug::parse(&text(r, 0)?)
                .map_err(|e| StoreError::Other(e.into()))?,
            name: r.get(1).store()?,
            agency: parse(&text(r, 2)?, "agency")?,
        });
    }
    Catalog::new(agencies, cats).map_err(|e| StoreError::Other(e.into()))
}

#[async_trait]
impl IdentityStore for SqliteIdentity {
    async fn insert_user(&self, u: &UserRecord) -> StoreResult<()> {
        let u = u.clone();
        self.db
            .write(move |c| {
                c.prepare_cached(&format!(
                    "INSERT INTO users ({USER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ))
                .store()?
                .execute(params![
                    u.id.to_string(),
                    u.username,
                    u.password_hash,
                    u.role.as_str(),
                    u.agency.as_ref().map(|a| a.to_string()),
                    u.sealed_anon_key,
                    millis(u.created_at)
                ])
                .store()?;
                Ok(())
            })
            .await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        self.db.read(|c| {
            Ok(users(
                c,
                &format!("SELECT {USER_COLS} FROM users WHERE username = ?1"),
                [username],
            )?
            .pop())
        })
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        self.db.read(|c| {
            Ok(users(
                c,
                &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
                [id.to_string()],
            )?
            .pop())
        })
    }

    async fn users(
        &self,
        role: Option<Role>,
        agency: Option<&AgencyCode>,
    ) -> StoreResult<Vec<UserRecord>> {
        self.db.read(|c| {
            users(
                c,
                &format!(
                    "SELECT {USER_COLS} FROM users WHERE (?1 IS NULL OR role = ?1) AND (?2 IS NULL OR agency = ?2) ORDER BY username"
                ),
                params![role.map(|r| r.as_str()), agency.map(|a| a.to_string())],
            )
        })
    }

    async fn catalog(&self) -> StoreResult<Catalog> {
        // Seeds the catalog on first use, then reads it, on the writer so
        // the read sees the seed.
        self.db
            .write(|c| {
                let n: i64 = c
                    .query_row("SELECT count(*) FROM agencies", [], |r| r.get(0))
                    .store()?;
                if n == 0 {
                    let seed = Catalog::seed();
                    for a in seed.agencies() {
                        c.execute(
                            "INSERT INTO agencies (code, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                            params![a.code.as_str(), a.name],
                        )
                        .store()?;
                    }
                    for cat in seed.categories() {
                        c.execute(
                            "INSERT INTO categories (slug, name, agency) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                            params![cat.slug.as_str(), cat.name, cat.agency.as_str()],
                        )
                        .store()?;
                    }
                }
                load_catalog(c)
            })
            .await
    }

    async fn upsert_agency(&self, a: &Agency) -> StoreResult<()> {
        let a = a.clone();
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO agencies (code, name) VALUES (?1, ?2) ON CONFLICT (code) DO UPDATE SET name = excluded.name",
                    params![a.code.as_str(), a.name],
                )
                .store()?;
                Ok(())
            })
            .await
    }

    async fn upsert_category(&self, cat: &Category) -> StoreResult<()> {
        let cat = cat.clone();
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO categories (slug, name, agency) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (slug) DO UPDATE SET name = excluded.name, agency = excluded.agency",
                    params![cat.slug.as_str(), cat.name, cat.agency.as_str()],
                )
                .store()?;
                Ok(())
            })
            .await
    }
}
