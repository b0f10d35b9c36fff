//! Errors of page handlers: a small HTML page with the status code (or a
//! redirect to the login page), never a stack trace. Internal errors are
//! logged and shown as a generic message.

use crate::i18n::Lang;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lapor_app::AppError;

#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub message: String,
    pub lang: Lang,
    /// Send the browser here instead (login first).
    pub redirect: Option<String>,
    /// What the message was made from, to write it again in another
    /// language.
    origin: Option<Origin>,
}

#[derive(Debug)]
enum Origin {
    /// An application error's (English) text.
    App(String),
    /// A translation key.
    Key(&'static str),
}

impl WebError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            lang: Lang::Id,
            redirect: None,
            origin: None,
        }
    }
    pub fn login(back: &str) -> Self {
        let mut e = Self::new(StatusCode::SEE_OTHER, "");
        e.redirect = Some(format!("/app/login?next={}", crate::pages::urlencode(back)));
        e
    }
    pub fn csrf(lang: Lang) -> Self {
        let mut e = Self::new(StatusCode::FORBIDDEN, lang.s("error.csrf"));
        e.lang = lang;
        e
    }
    pub fn not_found(lang: Lang) -> Self {
        let mut e = Self::new(StatusCode::NOT_FOUND, lang.s("error.not_found"));
        e.lang = lang;
        e
    }
    /// Sets the language, rewriting a message that came from the
    /// application in it.
    pub fn lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        match &self.origin {
            Some(Origin::App(m)) => self.message = localize(m, lang),
            Some(Origin::Key(k)) => self.message = lang.s(k).to_owned(),
            None => {}
        }
        self
    }
}

pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid(_) => StatusCode::BAD_REQUEST,
        AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message a user may see for an application error.
pub fn message_of(e: &AppError, lang: Lang) -> String {
    match e {
        AppError::Internal(err) => {
            tracing::error!(error = %err, "web request failed");
            lang.s("error.internal").to_owned()
        }
        AppError::Unavailable(_) => lang.s("error.busy").to_owned(),
        other => localize(&other.to_string(), lang),
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        let origin = match &e {
            AppError::Internal(err) => {
                tracing::error!(error = %err, "web request failed");
                Origin::Key("error.internal")
            }
            AppError::Unavailable(_) => Origin::Key("error.busy"),
            other => Origin::App(other.to_string()),
        };
        let mut w = Self::new(status_of(&e), String::new());
        w.origin = Some(origin);
        w.lang(Lang::Id)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let Some(to) = self.redirect {
            return Redirect::to(&to).into_response();
        }
        let t = self.lang;
        let body = format!(
            "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{status} · Lapor</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
             <body><main id=\"main\" class=\"error-page\"><h1>{title}</h1>\
             <p class=\"error\" role=\"alert\" data-testid=\"error\">{msg}</p>\
             <p><a href=\"/app\">{home}</a></p></main></body></html>",
            code = t.code(),
            status = self.status.as_u16(),
            title = escape(t.s("error.title")),
            msg = escape(&self.message),
            home = escape(t.s("error.home")),
        );
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Html(body),
        )
            .into_response()
    }
}

/// Minimal HTML escaping for the few strings built outside templates.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Application errors are written in English (the JSON API's language). The
/// web app shows the common ones a citizen or officer can cause in
/// Indonesian too; anything not recognised is shown as written.
pub fn localize(msg: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return msg.to_owned();
    }
    const FIELDS: &[(&str, &str)] = &[
        ("content", "isi laporan"),
        ("description", "isi laporan"),
        ("title", "judul"),
        ("message", "pesan"),
        ("reason", "alasan"),
        ("address", "alamat"),
        ("name", "nama"),
    ];
    let field = |f: &str| {
        FIELDS
            .iter()
            .find(|(en, _)| *en == f)
            .map(|(_, id)| (*id).to_owned())
            .unwrap_or_else(|| f.to_owned())
    };
    let photo = |p: &str| {
        if p == "the photo" {
            "foto".to_owned()
        } else {
            p.replace("photo ", "foto ").replace(" of ", " dari ")
        }
    };
    if let Some(f) = msg.strip_suffix(" must not be empty") {
        return format!("{} tidak boleh kosong", field(f));
    }
    if let Some((f, rest)) = msg.split_once(" must be at most ")
        && let Some(n) = rest.strip_suffix(" characters")
    {
        return format!("{} paling banyak {n} karakter", field(f));
    }
    if let Some(c) = msg.strip_prefix("unknown category ") {
        return format!("kategori {c} tidak dikenal");
    }
    if let Some((p, _)) = msg.split_once(" is not a supported image") {
        return format!(
            "{} bukan gambar yang didukung: kirim foto JPEG, PNG atau WebP",
            photo(p)
        );
    }
    if let Some((p, _)) = msg.split_once(" could not be read: the image is damaged") {
        return format!(
            "{} tidak dapat dibaca: gambar rusak atau tidak lengkap",
            photo(p)
        );
    }
    if let Some((p, rest)) = msg.split_once(" is ")
        && let Some((size, limit)) = rest.split_once("; the limit is ")
    {
        let limit = limit.trim_end_matches(" per photo");
        return format!("{} berukuran {size}; batasnya {limit} per foto", photo(p));
    }
    if let Some((p, _)) = msg.split_once(" has too many pixels") {
        return format!("{} memiliki terlalu banyak piksel", photo(p));
    }
    if let Some(rest) = msg.strip_prefix("at most ")
        && let Some((n, sent)) = rest.split_once(" photos per report; ")
    {
        let sent = sent.trim_end_matches(" were sent");
        return format!("paling banyak {n} foto per laporan; terkirim {sent}");
    }
    let fixed: &[(&str, &str)] = &[
        (
            "password must be at least 8 characters",
            "kata sandi minimal 8 karakter",
        ),
        (
            "username must be 3-32 characters",
            "nama pengguna harus 3-32 karakter: huruf, angka, '.', '_' atau '-'",
        ),
        (
            "only PUBLIC reports can be upvoted",
            "hanya laporan publik yang dapat didukung",
        ),
        (
            "a reason is required to reject a case",
            "alasan wajib diisi untuk menolak kasus",
        ),
        ("lat must be between", "lintang harus antara -90 dan 90"),
        ("lon must be between", "bujur harus antara -180 dan 180"),
        (
            "the reporter has withdrawn this report",
            "pelapor telah menarik laporan ini",
        ),
        (
            "too many photo uploads at once",
            "terlalu banyak unggahan foto sekaligus; coba lagi sebentar lagi",
        ),
    ];
    for (en, id) in fixed {
        if msg.starts_with(en) {
            return (*id).to_owned();
        }
    }
    if let Some(rest) = msg.strip_prefix("a case cannot move from ")
        && let Some((from, to)) = rest.split_once(" to ")
    {
        let st = |s: &str| lang.s(&format!("status.{}", s.trim())).to_owned();
        return format!(
            "kasus tidak dapat berpindah dari {} ke {}",
            st(from),
            st(to)
        );
    }
    if let Some(s) = msg.strip_prefix("the case is already ") {
        return format!("kasus sudah {}", lang.s(&format!("status.{}", s.trim())));
    }
    msg.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_errors_are_shown_in_indonesian() {
        let id = |m: &str| localize(m, Lang::Id);
        assert_eq!(
            id("content must not be empty"),
            "isi laporan tidak boleh kosong"
        );
        assert_eq!(
            id("message must be at most 2000 characters"),
            "pesan paling banyak 2000 karakter"
        );
        assert_eq!(
            id("photo 2 of 3 is not a supported image: send a JPEG, PNG or WebP photo"),
            "foto 2 dari 3 bukan gambar yang didukung: kirim foto JPEG, PNG atau WebP"
        );
        assert_eq!(
            id("the photo is 9.1 MB; the limit is 8 MB per photo"),
            "foto berukuran 9.1 MB; batasnya 8 MB per foto"
        );
        assert_eq!(
            id("a case cannot move from RESOLVED to RECEIVED"),
            "kasus tidak dapat berpindah dari Selesai ke Diterima"
        );
        assert_eq!(id("something new"), "something new");
        assert_eq!(
            localize("content must not be empty", Lang::En),
            "content must not be empty"
        );
    }
}

#[cfg(test)]
mod language_tests {
    use super::*;

    #[test]
    fn an_app_error_is_written_in_the_language_set_last() {
        let e = WebError::from(AppError::invalid("content must not be empty"));
        assert_eq!(e.message, "isi laporan tidak boleh kosong");
        assert_eq!(e.lang(Lang::En).message, "content must not be empty");
        let busy = WebError::from(AppError::Unavailable("pool".into())).lang(Lang::En);
        assert_eq!(busy.message, Lang::En.s("error.busy"));
    }
}
