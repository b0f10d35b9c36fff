//! Browser sessions. The session cookie holds the same signed token the
//! JSON API issues (HttpOnly, so scripts never see it; SameSite=Lax). Every
//! state-changing request must carry a CSRF token equal to the `lapor_csrf`
//! cookie (double submit: a cross-site page can neither read that cookie nor
//! set it), and is refused outright when the browser says it comes from
//! another site (`Sec-Fetch-Site`, `Origin`).

use crate::error::WebError;
use crate::i18n::Lang;
use crate::state::Web;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use lapor_domain::access::Principal;
use rand::RngCore;

pub const SESSION_COOKIE: &str = "lapor_session";
pub const CSRF_COOKIE: &str = "lapor_csrf";
pub const LANG_COOKIE: &str = "lapor_lang";

/// What every page handler knows about the browser it talks to.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub user: Option<Principal>,
    pub csrf: String,
    pub lang: Lang,
    /// Path and query of this request (to come back after a language change
    /// or a login).
    pub path: String,
}

impl Ctx {
    /// The logged-in user, or a redirect to the login page.
    pub fn user(&self) -> Result<&Principal, WebError> {
        self.user
            .as_ref()
            .ok_or_else(|| WebError::login(&self.path))
    }

    /// Checks a submitted CSRF token against the cookie, in constant time.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if !self.csrf.is_empty() && constant_eq(self.csrf.as_bytes(), submitted.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::csrf(self.lang))
        }
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<Web> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &Web) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Ctx>().cloned().unwrap_or(Ctx {
            user: None,
            csrf: String::new(),
            lang: Lang::Id,
            path: "/app".into(),
        }))
    }
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Builds a cookie with the attributes every Lapor cookie shares.
pub fn cookie(web: &Web, name: &'static str, value: String, http_only: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(http_only)
        .secure(web.config.secure_cookies)
        .same_site(if name == CSRF_COOKIE {
            SameSite::Strict
        } else {
            SameSite::Lax
        })
        .build()
}

pub fn removal(web: &Web, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(web, name, String::new(), true);
    c.make_removal();
    c
}

/// True when the browser tells us the request was made by another site.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site == "cross-site"
    {
        return true;
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) if origin != "null" => {
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            origin_host != host
        }
        _ => false,
    }
}

/// Resolves the session, the CSRF cookie and the language for every web
/// request, and sets the cookies that need setting on the way out.
pub async fn layer(State(web): State<Web>, mut req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let lang = jar
        .get(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_else(|| Lang::from_accept(req.headers()));
    if unsafe_method && cross_site(req.headers()) {
        return WebError::csrf(lang).into_response();
    }
    let mut set = Vec::new();
    let csrf = match jar.get(CSRF_COOKIE).map(|c| c.value().to_owned()) {
        Some(v) if v.len() >= 32 => v,
        _ => {
            let v = random_token();
            set.push(cookie(&web, CSRF_COOKIE, v.clone(), true));
            v
        }
    };
    let user = match jar.get(SESSION_COOKIE) {
        Some(c) => match web.app.tokens().verify(c.value()) {
            Ok(p) => Some(p),
            Err(_) => {
                set.push(removal(&web, SESSION_COOKIE));
                None
            }
        },
        None => None,
    };
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/app".into());
    req.extensions_mut().insert(Ctx {
        user,
        csrf,
        lang,
        path,
    });
    let mut res = next.run(req).await;
    for c in set {
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// A fresh CSRF cookie (after logging in or out, so a token planted before
/// authentication is worthless after it).
pub fn fresh_csrf(web: &Web) -> Cookie<'static> {
    cookie(web, CSRF_COOKIE, random_token(), true)
}
