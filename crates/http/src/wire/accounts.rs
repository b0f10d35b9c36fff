//! Accounts, tokens, health and the city head's configuration on the wire.

use lapor_app::views::UserView;
use lapor_domain::access::Principal;
use lapor_domain::catalog::AgencyCode;
use lapor_domain::ids::UserId;
use serde::Serialize;
use utoipa::ToSchema;

/// A user as login, `/auth/me` and the admin listing show them.
#[derive(Serialize, ToSchema)]
pub struct User<'a> {
    /// The agency of staff; null for citizens and the city head.
    pub agency: Option<&'a str>,
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    /// citizen, officer, supervisor or admin.
    pub role: &'a str,
    pub username: &'a str,
}

impl<'a> From<&'a UserView> for User<'a> {
    fn from(u: &'a UserView) -> Self {
        Self {
            agency: u.agency.as_deref(),
            id: u.id,
            role: &u.role,
            username: &u.username,
        }
    }
}

impl<'a> From<&'a Principal> for User<'a> {
    fn from(p: &'a Principal) -> Self {
        Self {
            agency: p.agency.as_ref().map(AgencyCode::as_str),
            id: p.user_id,
            role: p.role.as_str(),
            username: &p.username,
        }
    }
}

/// `POST /auth/login`.
#[derive(Serialize, ToSchema)]
pub struct LoggedIn<'a> {
    /// Seconds the token stays valid.
    pub expires_in: i64,
    pub success: bool,
    /// Send as `Authorization: Bearer <token>`.
    pub token: &'a str,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub user: User<'a>,
}

/// `POST /auth/register`.
#[derive(Serialize, ToSchema)]
pub struct Registered<'a> {
    pub message: &'static str,
    pub success: bool,
    pub token: &'a str,
    pub user: User<'a>,
}

/// `GET /auth/me`.
#[derive(Serialize, ToSchema)]
pub struct Me<'a> {
    pub success: bool,
    pub user: User<'a>,
}

/// `{message, success}`: a command done, nothing to show.
#[derive(Serialize, ToSchema)]
pub struct Done {
    pub message: &'static str,
    pub success: bool,
}

/// `GET /health`: seed shape plus Lapor's fields.
#[derive(Serialize, ToSchema)]
pub struct Health<'a> {
    /// Always `enabled` (seed 2's field).
    pub cqrs: &'static str,
    /// The process that answered (behind a load balancer).
    pub instance: &'a str,
    /// The roles this process runs.
    pub role: &'a str,
    pub service: &'static str,
    /// Always `healthy`.
    pub status: &'static str,
    pub version: &'static str,
}

/// `GET /ready`.
#[derive(Serialize, ToSchema)]
pub struct Ready<'a> {
    pub checks: ReadyChecks,
    pub instance: &'a str,
    pub ready: bool,
}

/// `ok`, or what went wrong.
#[derive(Serialize, ToSchema)]
pub struct ReadyChecks {
    pub bus: String,
    pub stores: String,
}
