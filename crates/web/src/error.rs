//! Errors of page handlers: a small HTML page with the status code (or a
//! redirect to the login page), never a stack trace. Internal errors are
//! logged and shown as a generic message.

use crate::i18n::Lang;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lapor_app::{AppError, Cause, ErrorCode};

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
    /// An application error's cause (its code and parameters).
    App(Cause),
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
    /// An error whose message is the translation of `key`.
    pub fn keyed(status: StatusCode, key: &'static str) -> Self {
        let mut e = Self::new(status, "");
        e.origin = Some(Origin::Key(key));
        e.lang(Lang::Id)
    }
    pub fn login(back: &str) -> Self {
        let mut e = Self::new(StatusCode::SEE_OTHER, "");
        e.redirect = Some(format!("/app/login?next={}", crate::links::urlencode(back)));
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
            Some(Origin::App(c)) => self.message = translate(c, lang),
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

/// The message a user may see for an application error, in `lang`.
pub fn message_of(e: &AppError, lang: Lang) -> String {
    match e.cause() {
        Some(c) => translate(c, lang),
        None => {
            if let AppError::Internal(err) = e {
                tracing::error!(error = %err, "web request failed");
            }
            code_text(e.code(), lang).to_owned()
        }
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        let status = status_of(&e);
        let origin = match e {
            AppError::Internal(err) => {
                tracing::error!(error = %err, "web request failed");
                Origin::Key("code.internal")
            }
            AppError::Unavailable(_) => Origin::Key("code.unavailable"),
            other => match other.cause() {
                Some(c) => Origin::App(c.clone()),
                None => Origin::Key("code.internal"),
            },
        };
        let mut w = Self::new(status, String::new());
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

/// The translation of an error code without its parameters.
fn code_text(code: ErrorCode, lang: Lang) -> &'static str {
    lang.s(&format!("code.{}", code.as_str()))
}

/// An application error in `lang`, from its code and parameters (never
/// from its English sentence): the code's translation with each `{param}`
/// filled in. Field names, statuses and roles are translated too; `{photo}`
/// names the file of a batch ("the photo", "photo 2 of 3").
pub fn translate(c: &Cause, lang: Lang) -> String {
    let mut out = code_text(c.code, lang).to_owned();
    for (name, value) in &c.params {
        let key = match *name {
            "field" => Some(format!("textfield.{value}")),
            "status" | "from" | "to" => Some(format!("status.{value}")),
            "role" => Some(format!("role.{value}")),
            _ => None,
        };
        let shown = key.and_then(|k| lang.get(&k)).unwrap_or(value);
        out = out.replace(&format!("{{{name}}}"), shown);
    }
    if out.contains("{photo}") {
        let n = c.param("count").and_then(|n| n.parse::<usize>().ok());
        let photo = match (c.param("index"), n) {
            (Some(i), Some(n)) if n > 1 => lang
                .s("photo.nth")
                .replace("{index}", i)
                .replace("{count}", &n.to_string()),
            _ => lang.s("photo.the").to_owned(),
        };
        out = out.replace("{photo}", &photo);
    }
    capitalize(out)
}

/// Sentences start with a capital, also when they start with a parameter.
fn capitalize(s: String) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::lifecycle::{Status, TransitionError};
    use lapor_domain::text::TextError;

    #[test]
    fn errors_are_translated_from_code_and_params() {
        let e = AppError::from(TextError::Empty { field: "content" });
        assert_eq!(message_of(&e, Lang::Id), "Isi laporan tidak boleh kosong.");
        assert_eq!(
            message_of(&e, Lang::En),
            "The description must not be empty."
        );
        let e = AppError::from(TextError::TooLong {
            field: "message",
            max: 2000,
        });
        assert_eq!(
            message_of(&e, Lang::Id),
            "Pesan paling banyak 2000 karakter."
        );
        let e = AppError::from(TransitionError::NotAllowed {
            from: Status::Resolved,
            to: Status::Received,
        });
        assert_eq!(
            message_of(&e, Lang::Id),
            "Kasus tidak dapat berpindah dari Selesai ke Diterima."
        );
        assert_eq!(
            message_of(&e, Lang::En),
            "A case cannot move from Resolved to Received."
        );
        let e = AppError::from(TextError::Nul { field: "title" });
        assert_eq!(
            message_of(&e, Lang::Id),
            "Judul tidak boleh berisi karakter NUL."
        );
    }

    /// The English sentence plays no part: rewording it keeps the
    /// translation.
    #[test]
    fn the_sentence_is_not_read() {
        let e = AppError::invalid(ErrorCode::ReasonRequired, "reworded entirely");
        assert_eq!(
            message_of(&e, Lang::Id),
            "Alasan wajib diisi untuk menolak kasus."
        );
    }

    #[test]
    fn photos_of_a_batch_are_named() {
        let one = AppError::unsupported_media(ErrorCode::PhotoUnsupported, "x")
            .with("index", 1)
            .with("count", 1);
        assert_eq!(
            message_of(&one, Lang::Id),
            "Foto bukan gambar yang didukung: kirim foto JPEG, PNG atau WebP."
        );
        let second = AppError::too_large(ErrorCode::PhotoTooLarge, "x")
            .with("index", 2)
            .with("count", 3)
            .with("size", "9.1 MiB")
            .with("limit", "8 MiB");
        assert_eq!(
            message_of(&second, Lang::Id),
            "Foto 2 dari 3 berukuran 9.1 MiB; batasnya 8 MiB per foto."
        );
        assert_eq!(
            message_of(&second, Lang::En),
            "Photo 2 of 3 is 9.1 MiB; the limit is 8 MiB per photo."
        );
    }

    #[test]
    fn unknown_values_are_shown_as_given() {
        let e = AppError::from(lapor_domain::lifecycle::BadStatus("done".into()));
        assert!(message_of(&e, Lang::Id).starts_with("Status 'done' tidak sah"));
    }
}

#[cfg(test)]
mod language_tests {
    use super::*;

    #[test]
    fn an_app_error_is_written_in_the_language_set_last() {
        let e = WebError::from(AppError::from(lapor_domain::text::TextError::Empty {
            field: "content",
        }));
        assert_eq!(e.message, "Isi laporan tidak boleh kosong.");
        assert_eq!(
            e.lang(Lang::En).message,
            "The description must not be empty."
        );
        let busy = WebError::from(AppError::Unavailable("pool".into())).lang(Lang::En);
        assert_eq!(busy.message, Lang::En.s("code.unavailable"));
    }
}
