//! Extractors that turn every client mistake into a JSON 4xx.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use lapor_app::security::TokenError;
use lapor_app::{App, ErrorCode};
use lapor_domain::access::Principal;
use lapor_domain::ids::ReportId;
use serde::de::DeserializeOwned;

/// A JSON body; malformed JSON, wrong types, a missing content type or an
/// oversized body become 400/415/413 JSON errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    match rej.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!(
                "request body too large (limit {} bytes)",
                crate::MAX_JSON_BODY
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::coded(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::JsonRequired,
            "send the body as JSON with Content-Type: application/json",
        ),
        _ => match rej {
            JsonRejection::JsonDataError(e) => ApiError::invalid(
                ErrorCode::JsonInvalid,
                format!("invalid request body: {}", e.body_text()),
            ),
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::invalid(ErrorCode::JsonMalformed, "malformed JSON")
            }
            // The body could not be read at all: no JSON to speak of.
            other => ApiError::invalid(ErrorCode::JsonMalformed, other.body_text()),
        },
    }
}

/// Query parameters; wrong types become a 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::invalid(
                    ErrorCode::QueryInvalid,
                    format!("invalid query: {}", e.body_text()),
                )
            })
    }
}

/// A report id from the path; anything but a UUID is a 400 (seed 2).
pub struct ReportIdPath(pub ReportId);

impl<S: Send + Sync> FromRequestParts<S> for ReportIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e: PathRejection| {
                    ApiError::invalid(ErrorCode::InvalidId, e.body_text())
                })?;
        raw.parse::<ReportId>().map(Self).map_err(|_| {
            ApiError::invalid(
                ErrorCode::InvalidId,
                format!("invalid id '{raw}': expected a UUID"),
            )
        })
    }
}

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| {
        ApiError::unauthenticated(ErrorCode::AuthHeaderInvalid, "invalid Authorization header")
    })?;
    let not_bearer = || {
        ApiError::unauthenticated(
            ErrorCode::AuthHeaderInvalid,
            "use Authorization: Bearer <token>",
        )
    };
    let (scheme, token) = value.split_once(' ').ok_or_else(not_bearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(not_bearer());
    }
    Ok(Some(token.trim()))
}

fn verify(app: &App, token: &str) -> Result<Principal, ApiError> {
    app.tokens().verify(token).map_err(|e| match e {
        TokenError::Expired => ApiError::unauthenticated(
            ErrorCode::TokenExpired,
            "the token has expired; log in again",
        ),
        TokenError::Invalid => ApiError::unauthenticated(ErrorCode::TokenInvalid, "invalid token"),
    })
}

/// The authenticated caller; 401 without a valid bearer token.
pub struct AuthUser(pub Principal);

impl FromRequestParts<App> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match bearer(parts)? {
            Some(token) => verify(app, token).map(Self),
            None => Err(ApiError::unauthenticated(
                ErrorCode::TokenMissing,
                "log in first: missing bearer token",
            )),
        }
    }
}

/// The caller if a token is present; a bad token is still a 401 (it is a
/// client bug worth reporting, not a reason to answer as anonymous).
pub struct MaybeUser(pub Option<Principal>);

impl FromRequestParts<App> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match bearer(parts)? {
            Some(token) => verify(app, token).map(|p| Self(Some(p))),
            None => Ok(Self(None)),
        }
    }
}
