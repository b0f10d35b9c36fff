//! Errors of the application layer. The HTTP layer maps each variant to one
//! status code, in one place.

use crate::ports::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AppError {
    /// The request is malformed or fails validation (400).
    #[error("{0}")]
    Invalid(String),
    /// No or bad credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// Unknown, or not visible to the caller (404).
    #[error("{0}")]
    NotFound(String),
    /// Refused by the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// An upload is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// An upload is not of an accepted type (415).
    #[error("{0}")]
    UnsupportedMedia(String),
    /// Too many requests or overload (429/503).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid(m: impl std::fmt::Display) -> Self {
        Self::Invalid(m.to_string())
    }
    pub fn forbidden(m: impl std::fmt::Display) -> Self {
        Self::Forbidden(m.to_string())
    }
    pub fn not_found(m: impl std::fmt::Display) -> Self {
        Self::NotFound(m.to_string())
    }
    pub fn conflict(m: impl std::fmt::Display) -> Self {
        Self::Conflict(m.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("not found".into()),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Unavailable(m) => AppError::Unavailable(m),
            StoreError::Other(e) => AppError::Internal(e),
        }
    }
}

impl From<lapor_domain::report::ReportError> for AppError {
    fn from(e: lapor_domain::report::ReportError) -> Self {
        use lapor_domain::report::ReportError as R;
        match e {
            R::NotOwner => AppError::Forbidden(e.to_string()),
            R::NotEditable(_) | R::NotWithdrawable(_) | R::Withdrawn => {
                AppError::Conflict(e.to_string())
            }
            _ => AppError::Invalid(e.to_string()),
        }
    }
}

impl From<lapor_domain::photo::PhotoError> for AppError {
    fn from(e: lapor_domain::photo::PhotoError) -> Self {
        use lapor_domain::photo::PhotoError as P;
        match e {
            P::NotOwner => AppError::Forbidden(e.to_string()),
            P::NoPhotos => AppError::Invalid(e.to_string()),
            P::NotEditable(_) | P::Withdrawn | P::TooMany { .. } => {
                AppError::Conflict(e.to_string())
            }
        }
    }
}
