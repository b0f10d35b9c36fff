//! Identity on PostgreSQL (schema `identity`).

use crate::db::{Db, Exec, ExecScalar, parse};
use async_trait::async_trait;
use lapor_app::clock::{from_millis, millis};
use lapor_app::ports::{IdentityStore, StoreResult, UserRecord};
use lapor_domain::access::Role;
use lapor_domain::catalog::{Agency, AgencyCode, Catalog, Category};
use lapor_domain::ids::UserId;
use sqlx::Row;
use sqlx::postgres::PgRow;

pub struct PgIdentity {
    pub(crate) db: Db,
}

impl PgIdentity {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

const USER_COLS: &str = "id, username, password_hash, role, agency, sealed_anon_key, created_at";

fn user(r: &PgRow) -> StoreResult<UserRecord> {
    let agency: Option<String> = r.get(4);
    Ok(UserRecord {
        id: parse(r.get::<&str, _>(0), "user id")?,
        username: r.get(1),
        password_hash: r.get(2),
        role: parse::<Role>(r.get::<&str, _>(3), "role")?,
        agency: agency.map(|a| parse(&a, "agency")).transpose()?,
        sealed_anon_key: r.get(5),
        created_at: from_millis(r.get(6)),
    })
}

#[async_trait]
impl IdentityStore for PgIdentity {
    async fn insert_user(&self, u: &UserRecord) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO identity.users ({USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(u.id.to_string())
        .bind(&u.username)
        .bind(&u.password_hash)
        .bind(u.role.as_str())
        .bind(u.agency.as_ref().map(|a| a.to_string()))
        .bind(&u.sealed_anon_key)
        .bind(millis(u.created_at))
        .execute_on(&self.db)
        .await?;
        Ok(())
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM identity.users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional_on(&self.db)
        .await?;
        row.as_ref().map(user).transpose()
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM identity.users WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional_on(&self.db)
        .await?;
        row.as_ref().map(user).transpose()
    }

    async fn users(
        &self,
        role: Option<Role>,
        agency: Option<&AgencyCode>,
    ) -> StoreResult<Vec<UserRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM identity.users WHERE ($1 IS NULL OR role = $1) AND ($2 IS NULL OR agency = $2) ORDER BY username"
        ))
        .bind(role.map(|r| r.as_str()))
        .bind(agency.map(|a| a.to_string()))
        .fetch_all_on(&self.db)
        .await?;
        rows.iter().map(user).collect()
    }

    async fn catalog(&self) -> StoreResult<Catalog> {
        let empty: i64 = sqlx::query_scalar("SELECT count(*) FROM identity.agencies")
            .fetch_one_on(&self.db)
            .await?;
        if empty == 0 {
            let seed = Catalog::seed();
            let mut tx = self.db.begin().await?;
            for a in seed.agencies() {
                sqlx::query(
                    "INSERT INTO identity.agencies (code, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(a.code.as_str())
                .bind(&a.name)
                .execute_in(&mut tx)
                .await?;
            }
            for c in seed.categories() {
                sqlx::query("INSERT INTO identity.categories (slug, name, agency) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(c.slug.as_str())
                    .bind(&c.name)
                    .bind(c.agency.as_str())
                    .execute_in(&mut tx)
                    .await?;
            }
            tx.commit().await?;
        }
        let agencies = sqlx::query("SELECT code, name FROM identity.agencies")
            .fetch_all_on(&self.db)
            .await?;
        let agencies = agencies
            .iter()
            .map(|r| {
                Ok(Agency {
                    code: parse(r.get::<&str, _>(0), "agency")?,
                    name: r.get(1),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let cats = sqlx::query("SELECT slug, name, agency FROM identity.categories")
            .fetch_all_on(&self.db)
            .await?;
        let cats = cats
            .iter()
            .map(|r| {
                Ok(Category {
                    slug: lapor_domain::catalog::CategorySlug::parse(r.get::<&str, _>(0))
                        .map_err(|e| lapor_app::ports::StoreError::Other(e.into()))?,
                    name: r.get(1),
                    agency: parse(r.get::<&str, _>(2), "agency")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Catalog::new(agencies, cats).map_err(|e| lapor_app::ports::StoreError::Other(e.into()))
    }

    async fn upsert_agency(&self, a: &Agency) -> StoreResult<()> {
        sqlx::query("INSERT INTO identity.agencies (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = excluded.name")
            .bind(a.code.as_str())
            .bind(&a.name)
            .execute_on(&self.db)
            .await?;
        Ok(())
    }

    async fn upsert_category(&self, c: &Category) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO identity.categories (slug, name, agency) VALUES ($1, $2, $3) \
             ON CONFLICT (slug) DO UPDATE SET name = excluded.name, agency = excluded.agency",
        )
        .bind(c.slug.as_str())
        .bind(&c.name)
        .bind(c.agency.as_str())
        .execute_on(&self.db)
        .await?;
        Ok(())
    }
}
