//! The frame around every page: who is logged in, their language, the CSRF
//! token for forms, the unread count and the active navigation entry.

use crate::i18n::Lang;
use crate::session::Ctx;
use crate::state::Web;
use lapor_domain::access::{Principal, Role};

pub struct Shell {
    pub t: Lang,
    pub lang: Lang,
    pub user: Option<Principal>,
    pub csrf: String,
    pub title: String,
    pub nav: &'static str,
    pub unread: i64,
    pub path: String,
    pub flash: Option<String>,
    pub asset_version: &'static str,
}

impl Shell {
    pub async fn new(web: &Web, ctx: &Ctx, title_key: &str, nav: &'static str) -> Self {
        let unread = match &ctx.user {
            Some(u) => web.app.unread_count(u).await.unwrap_or(0),
            None => 0,
        };
        Self {
            t: ctx.lang,
            lang: ctx.lang,
            user: ctx.user.clone(),
            csrf: ctx.csrf.clone(),
            title: ctx.lang.s(title_key).to_owned(),
            nav,
            unread,
            path: ctx.path.clone(),
            flash: None,
            asset_version: crate::assets::version(),
        }
    }

    pub fn with_flash(mut self, flash: Option<String>) -> Self {
        self.flash = flash;
        self
    }

    fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }
    pub fn is_citizen(&self) -> bool {
        self.role() == Some(Role::Citizen)
    }
    pub fn is_staff(&self) -> bool {
        self.role().is_some_and(Role::is_staff)
    }
    pub fn is_manager(&self) -> bool {
        matches!(self.role(), Some(Role::Supervisor | Role::Admin))
    }
    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }
    pub fn role_label(&self) -> &'static str {
        match self.role() {
            Some(r) => self.t.s(&format!("role.{}", r.as_str())),
            None => "",
        }
    }
    /// Whether the page should open the live event stream.
    pub fn live(&self) -> bool {
        self.user.is_some()
    }
}
