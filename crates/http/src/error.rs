//! The one error type of the API: every failure becomes the seed envelope
//! `{success: false, error, code}` with a 4xx status; internal failures are
//! logged and shown to the client without detail.
//!
//! `error` is the English sentence; `code` is the stable [`ErrorCode`] of
//! the cause (what clients and translations key on). Failures the HTTP
//! layer finds itself (a malformed body, an id that is not a UUID, a bad
//! token) name their cause too ([`ApiError::invalid`], [`ApiError::coded`]);
//! only a response built from a status alone ([`ApiError::new`]) gets the
//! code of its status (`internal`, ...).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lapor_app::{AppError, ErrorCode};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    /// An error whose code is that of its status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self::coded(status, status_code(status), message)
    }
    pub fn coded(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    /// A 400 with its cause.
    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::coded(StatusCode::BAD_REQUEST, code, message)
    }
    /// A 401 with its cause.
    pub fn unauthenticated(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::coded(StatusCode::UNAUTHORIZED, code, message)
    }
    /// A 400 coded `bad_request`; prefer [`ApiError::invalid`] with the cause.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    /// A 401 coded `unauthorized`; prefer [`ApiError::unauthenticated`]
    /// with the cause.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
}

/// The code of a failure known only by its status.
fn status_code(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        400 => ErrorCode::BadRequest,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        422 => ErrorCode::Unprocessable,
        429 => ErrorCode::TooManyRequests,
        503 => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = match &e {
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(err) => {
                tracing::error!(error = %err, "internal error");
                return Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
            }
        };
        Self::coded(status, e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            Json(json!({ "success": false, "error": self.message, "code": self.code.as_str() }));
        let mut res = (self.status, body).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE
            || self.status == StatusCode::TOO_MANY_REQUESTS
        {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

/// A panic in a handler is a bug; the client still gets the JSON envelope.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_carries_the_cause_code_and_the_sentence() {
        let e = ApiError::from(AppError::conflict(
            ErrorCode::InvalidStatusTransition,
            "a case cannot move from RESOLVED to RECEIVED",
        ));
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.code.as_str(), "invalid_status_transition");
        assert_eq!(e.message, "a case cannot move from RESOLVED to RECEIVED");
        // Without a cause, the status names the code.
        assert_eq!(
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "not here")
                .code
                .as_str(),
            "method_not_allowed"
        );
        let e = ApiError::invalid(ErrorCode::InvalidId, "invalid id 'x'");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code.as_str(), "invalid_id");
        let internal = ApiError::from(AppError::Internal(
            std::io::Error::other("secret detail").into(),
        ));
        assert_eq!(internal.code.as_str(), "internal");
        assert_eq!(internal.message, "internal error");
    }

    /// docs/api.md says when each code is sent: a new code fails here
    /// until it is documented.
    #[test]
    fn the_api_documentation_lists_every_code() {
        let doc = include_str!("../../../docs/api.md");
        let section = &doc[doc.find("### Error codes").expect("an Error codes section")..];
        let missing: Vec<&str> = ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|c| !section.contains(&format!("`{c}`")))
            .collect();
        assert!(missing.is_empty(), "docs/api.md misses {missing:?}");
    }
}
