//! Logging in and out, registering, choosing the language.

use crate::error::WebError;
use crate::i18n::Lang;
use crate::links::safe_back;
use crate::session::{self, Ctx, LANG_COOKIE, SESSION_COOKIE};
use crate::shell::Shell;
use crate::state::Web;
use crate::view::render;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use lapor_app::services::identity::NewUser;
use lapor_domain::access::Role;
use serde::Deserialize;

/// `/app`: where each role starts.
pub async fn home(ctx: Ctx) -> Redirect {
    Redirect::to(match ctx.user.as_ref().map(|u| u.role) {
        None => "/app/feed",
        Some(Role::Citizen) => "/app/reports/mine",
        Some(Role::Officer) => "/app/inbox",
        Some(Role::Supervisor | Role::Admin) => "/app/escalations",
    })
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub shell: Shell,
    pub next: String,
    pub username: String,
    pub error: Option<String>,
    pub register: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(
    State(web): State<Web>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let page = LoginPage {
        shell: Shell::new(&web, &ctx, "login.title", "login").await,
        next: safe_back(q.next.as_deref()),
        username: String::new(),
        error: None,
        register: false,
    };
    render(&page)
}

pub async fn register_page(State(web): State<Web>, ctx: Ctx) -> Result<Response, WebError> {
    let page = LoginPage {
        shell: Shell::new(&web, &ctx, "register.title", "register").await,
        next: "/app/reports/new".into(),
        username: String::new(),
        error: None,
        register: true,
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
}

async fn failed(
    web: &Web,
    ctx: &Ctx,
    f: &LoginForm,
    register: bool,
    error: String,
) -> Result<Response, WebError> {
    let page = LoginPage {
        shell: Shell::new(
            web,
            ctx,
            if register {
                "register.title"
            } else {
                "login.title"
            },
            "login",
        )
        .await,
        next: safe_back(f.next.as_deref()),
        username: f.username.clone(),
        error: Some(error),
        register,
    };
    let status = if register {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::UNAUTHORIZED
    };
    Ok((status, render(&page)?).into_response())
}

fn signed_in(web: &Web, jar: CookieJar, token: String, next: &str) -> Response {
    let jar = jar
        .add(session::cookie(web, SESSION_COOKIE, token, true))
        .add(session::fresh_csrf(web));
    (jar, Redirect::to(next)).into_response()
}

pub async fn login(
    State(web): State<Web>,
    ctx: Ctx,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    match web.app.login(&f.username, &f.password).await {
        Ok(s) => {
            let next = match f.next.as_deref() {
                Some(n) if n != "/app" => safe_back(Some(n)),
                _ => "/app".into(),
            };
            Ok(signed_in(&web, jar, s.token, &next))
        }
        Err(lapor_app::AppError::Unauthorized(_)) => {
            failed(&web, &ctx, &f, false, ctx.lang.s("login.failed").into()).await
        }
        Err(e) => Err(WebError::from(e).lang(ctx.lang)),
    }
}

pub async fn register(
    State(web): State<Web>,
    ctx: Ctx,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let new = NewUser {
        username: f.username.clone(),
        password: f.password.clone(),
        role: Role::Citizen,
        agency: None,
    };
    if let Err(e) = web.app.create_user(new).await {
        let msg = match &e {
            lapor_app::AppError::Conflict(_) => ctx.lang.s("register.taken").to_owned(),
            lapor_app::AppError::Invalid(_) => crate::error::message_of(&e, ctx.lang),
            _ => return Err(WebError::from(e).lang(ctx.lang)),
        };
        return failed(&web, &ctx, &f, true, msg).await;
    }
    let s = web
        .app
        .login(&f.username, &f.password)
        .await
        .map_err(|e| WebError::from(e).lang(ctx.lang))?;
    Ok(signed_in(&web, jar, s.token, "/app/reports/new"))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(web): State<Web>,
    ctx: Ctx,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let jar = jar
        .add(session::removal(&web, SESSION_COOKIE))
        .add(session::fresh_csrf(&web));
    Ok((jar, Redirect::to("/app/feed")).into_response())
}

#[derive(Deserialize)]
pub struct LangForm {
    csrf: String,
    lang: String,
    back: Option<String>,
}

pub async fn set_lang(
    State(web): State<Web>,
    ctx: Ctx,
    jar: CookieJar,
    Form(f): Form<LangForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&f.csrf)?;
    let lang = Lang::parse(&f.lang).unwrap_or(ctx.lang);
    let mut c = session::cookie(&web, LANG_COOKIE, lang.code().into(), false);
    c.set_max_age(time::Duration::days(365));
    Ok((jar.add(c), Redirect::to(&safe_back(f.back.as_deref()))).into_response())
}
