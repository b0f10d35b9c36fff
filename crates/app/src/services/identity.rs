//! Identity: accounts, login and the catalog of agencies and categories.

use crate::error::{AppError, ErrorCode};
use crate::ports::{StoreError, UserRecord};
use crate::security::{hash_password, open_anon_key, seal_anon_key, verify_password};
use crate::state::App;
use crate::views::UserView;
use lapor_domain::access::{Principal, Role};
use lapor_domain::audit::AuditAction;
use lapor_domain::catalog::{Agency, AgencyCode, Category, parse_name};
use lapor_domain::ids::UserId;
use std::sync::OnceLock;

/// A new account, before hashing.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub agency: Option<String>,
}

/// The result of a successful login.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub principal: Principal,
}

fn valid_username(u: &str) -> Result<String, AppError> {
    lapor_domain::text::no_nul("username", u)?;
    let u = u.trim().to_ascii_lowercase();
    let ok = (3..=32).contains(&u.len())
        && u.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(u)
    } else {
        Err(AppError::invalid(
            ErrorCode::UsernameInvalid,
            "username must be 3-32 characters: letters, digits, '.', '_' or '-'",
        ))
    }
}

fn valid_password(p: &str) -> Result<(), AppError> {
    if p.chars().count() < 8 {
        return Err(AppError::invalid(
            ErrorCode::PasswordTooShort,
            "password must be at least 8 characters",
        ));
    }
    if p.len() > 1024 {
        return Err(AppError::invalid(
            ErrorCode::PasswordTooLong,
            "password must be at most 1024 bytes",
        ));
    }
    Ok(())
}

/// The demo accounts of PRODUCT.md (password `password`).
pub const DEMO_USERS: &[(&str, Role, Option<&str>)] = &[
    ("citizen1", Role::Citizen, None),
    ("citizen2", Role::Citizen, None),
    ("citizen3", Role::Citizen, None),
    ("officer1", Role::Officer, Some("AGENCY_INFRA")),
    ("officer2", Role::Officer, Some("AGENCY_HEALTH")),
    ("officer3", Role::Officer, Some("AGENCY_SAFETY")),
    ("supervisor1", Role::Supervisor, Some("AGENCY_INFRA")),
    ("supervisor2", Role::Supervisor, Some("AGENCY_HEALTH")),
    ("supervisor3", Role::Supervisor, Some("AGENCY_SAFETY")),
    ("admin", Role::Admin, None),
];

impl App {
    /// Creates an account (citizen self-registration or staff by an admin).
    pub async fn create_user(&self, new: NewUser) -> Result<UserView, AppError> {
        let username = valid_username(&new.username)?;
        valid_password(&new.password)?;
        let agency = match (
            new.role.needs_agency(),
            new.agency
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty()),
        ) {
            (true, Some(a)) => {
                let code = AgencyCode::parse(a)?;
                if self.catalog().agency(&code).is_none() {
                    return Err(unknown_agency(&code));
                }
                Some(code)
            }
            (true, None) => {
                return Err(AppError::invalid(
                    ErrorCode::AgencyRequired,
                    format!("a {} needs an agency", new.role),
                )
                .with("role", new.role));
            }
            (false, Some(_)) => {
                return Err(AppError::invalid(
                    ErrorCode::AgencyNotAllowed,
                    format!("a {} has no agency", new.role),
                )
                .with("role", new.role));
            }
            (false, None) => None,
        };
        let cost = self.config().hash_cost;
        let password = new.password;
        let (hash, sealed) = self
            .hashing(move || -> anyhow::Result<_> {
                Ok((
                    hash_password(&password, cost)?,
                    seal_anon_key(&password, cost)?.0,
                ))
            })
            .await??;
        let user = UserRecord {
            id: UserId::new_v7(),
            username,
            password_hash: hash,
            role: new.role,
            agency,
            sealed_anon_key: Some(sealed),
            created_at: self.now(),
        };
        match self.stores().identity.insert_user(&user).await {
            Ok(()) => Ok(user_view(&user)),
            Err(StoreError::Conflict(_)) => Err(AppError::conflict(
                ErrorCode::UsernameTaken,
                format!("username '{}' is taken", user.username),
            )
            .with("username", &user.username)),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks the password with argon2id (off the async threads) and issues a
    /// token. Unknown users cost the same time as wrong passwords.
    pub async fn login(&self, username: &str, password: &str) -> Result<Session, AppError> {
        let bad = || AppError::unauthorized(ErrorCode::LoginFailed, "invalid username or password");
        if username.len() > 64 || password.len() > 1024 {
            return Err(bad());
        }
        // PostgreSQL cannot even compare a NUL; the same 400 on every engine.
        lapor_domain::text::no_nul("username", username)?;
        let username = username.trim().to_ascii_lowercase();
        let user = self.stores().identity.user_by_username(&username).await?;
        // A repeated successful login skips argon2id (see LoginCache).
        if let Some(principal) = user
            .as_ref()
            .and_then(|u| self.logins().get(&username, password, &u.password_hash))
        {
            return self.open_session(principal).await;
        }
        let password = password.to_owned();
        let cost = self.config().hash_cost;
        let app = self.clone();
        let name = username.clone();
        let checked = self
            .hashing(move || match user {
                // Concurrent first logins of one user queue for a slot; the
                // first one fills the cache for the others.
                Some(u) => match app.logins().get(&name, &password, &u.password_hash) {
                    Some(p) => Some(Ok(p)),
                    None if verify_password(&password, &u.password_hash) => {
                        let tag = u
                            .sealed_anon_key
                            .as_deref()
                            .and_then(|s| open_anon_key(&password, s).ok());
                        Some(Err((u, tag, password)))
                    }
                    None => None,
                },
                None => {
                    verify_password(&password, dummy_hash(cost));
                    None
                }
            })
            .await?;
        let principal = match checked.ok_or_else(bad)? {
            Ok(cached) => cached,
            Err((user, owner_tag, password)) => {
                let principal = Principal {
                    user_id: user.id,
                    username: user.username.clone(),
                    role: user.role,
                    agency: user.agency,
                    owner_tag,
                };
                self.logins()
                    .put(&username, &password, &user.password_hash, &principal);
                principal
            }
        };
        self.open_session(principal).await
    }

    /// Issues the token of a successful login; a staff login goes into the
    /// audit trail (citizens' logins do not: they are not privileged, and
    /// the trail must not learn when a reporter is active).
    async fn open_session(&self, principal: Principal) -> Result<Session, AppError> {
        let token = self.tokens().issue(&principal)?;
        self.record(
            &principal,
            AuditAction::StaffLogin,
            None,
            serde_json::json!({}),
        )
        .await?;
        Ok(Session { token, principal })
    }

    /// The city head creates an account (staff or citizen); audited.
    pub async fn add_user(&self, by: &Principal, new: NewUser) -> Result<UserView, AppError> {
        require_admin(by)?;
        let user = self.create_user(new).await?;
        self.record(
            by,
            AuditAction::UserAdded,
            Some(user.username.clone()),
            serde_json::json!({"role": user.role, "agency": user.agency}),
        )
        .await?;
        Ok(user)
    }

    /// Creates the demo accounts that do not exist yet.
    pub async fn ensure_demo_users(&self) -> Result<usize, AppError> {
        let mut created = 0;
        let mut tasks = Vec::new();
        for (name, role, agency) in DEMO_USERS {
            if self
                .stores()
                .identity
                .user_by_username(name)
                .await?
                .is_some()
            {
                continue;
            }
            let app = self.clone();
            let new = NewUser {
                username: (*name).into(),
                password: "password".into(),
                role: *role,
                agency: agency.map(Into::into),
            };
            tasks.push(tokio::spawn(async move { app.create_user(new).await }));
        }
        for t in tasks {
            match t.await.map_err(|e| AppError::Internal(e.into()))? {
                Ok(_) => created += 1,
                Err(AppError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(created)
    }

    pub async fn list_users(&self, by: &Principal) -> Result<Vec<UserView>, AppError> {
        match by.role {
            Role::Admin => Ok(self
                .stores()
                .identity
                .users(None, None)
                .await?
                .iter()
                .map(user_view)
                .collect()),
            Role::Supervisor => Ok(self
                .stores()
                .identity
                .users(None, by.agency.as_ref())
                .await?
                .iter()
                .map(user_view)
                .collect()),
            _ => Err(AppError::forbidden(
                ErrorCode::ManagersOnly,
                "only supervisors and the city head can list staff",
            )),
        }
    }

    pub async fn add_agency(&self, by: &Principal, code: &str, name: &str) -> Result<(), AppError> {
        require_admin(by)?;
        let code = AgencyCode::parse(code)?;
        let name = parse_name(name)?;
        let agency = Agency { code, name };
        self.stores().identity.upsert_agency(&agency).await?;
        self.refresh_catalog().await?;
        self.record(
            by,
            AuditAction::AgencyChanged,
            Some(agency.code.to_string()),
            serde_json::json!({"name": agency.name}),
        )
        .await
    }

    pub async fn add_category(
        &self,
        by: &Principal,
        slug: &str,
        name: &str,
        agency: &str,
    ) -> Result<(), AppError> {
        require_admin(by)?;
        let catalog = self.catalog();
        let slug = catalog.slug_to_save(slug)?;
        let name = parse_name(name)?;
        let agency = AgencyCode::parse(agency)?;
        if catalog.agency(&agency).is_none() {
            return Err(unknown_agency(&agency));
        }
        let category = Category { slug, name, agency };
        self.stores().identity.upsert_category(&category).await?;
        self.refresh_catalog().await?;
        self.record(
            by,
            AuditAction::CategoryChanged,
            Some(category.slug.to_string()),
            serde_json::json!({"name": category.name, "agency": category.agency.as_str()}),
        )
        .await
    }
}

pub fn require_admin(by: &Principal) -> Result<(), AppError> {
    if by.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden(
            ErrorCode::AdminOnly,
            "only the city head (admin) may do this",
        ))
    }
}

fn unknown_agency(code: &AgencyCode) -> AppError {
    AppError::invalid(ErrorCode::AgencyUnknown, format!("unknown agency '{code}'"))
        .with("agency", code)
}

pub fn user_view(u: &UserRecord) -> UserView {
    UserView {
        id: u.id,
        username: u.username.clone(),
        role: u.role.to_string(),
        agency: u.agency.as_ref().map(|a| a.to_string()),
    }
}

/// A real hash to verify against when the user does not exist, so response
/// time does not reveal which usernames exist.
fn dummy_hash(cost: crate::security::HashCost) -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("lapor-dummy-password", cost).unwrap_or_default())
}
