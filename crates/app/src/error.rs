//! Errors of the application layer. The HTTP layer maps each variant to one
//! status code, in one place.
//!
//! Every refusal carries a [`Cause`]: a stable [`ErrorCode`] (what programs
//! and translations key on), the English sentence the JSON API shows, and
//! the named values the sentence was made from (so an edge can write it
//! again in another language without parsing it). Rewording a sentence
//! therefore never loses a translation.

use crate::ports::StoreError;
use std::fmt;
use thiserror::Error;

/// Declares [`ErrorCode`] with its wire names and the list of all codes
/// (the web app's translation test walks it).
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// One stable code per cause of a refusal, sent as `code` in the
        /// API's error envelope. Never renamed: clients key on these.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The snake_case wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    // Causes the HTTP layer finds itself (malformed requests, unknown
    // routes); also the code of a response built from a status alone.
    BadRequest = "bad_request",
    Unauthorized = "unauthorized",
    Forbidden = "forbidden",
    NotFound = "not_found",
    MethodNotAllowed = "method_not_allowed",
    Conflict = "conflict",
    PayloadTooLarge = "payload_too_large",
    UnsupportedMediaType = "unsupported_media_type",
    Unprocessable = "unprocessable",
    TooManyRequests = "too_many_requests",
    /// Overload or an unreachable store (503): retry later.
    Unavailable = "unavailable",
    /// A bug or an unexpected failure (500); no detail is shown.
    Internal = "internal",

    // The shape of a request, checked by the HTTP layer before the
    // application sees it.
    /// No route has this path (404).
    EndpointNotFound = "endpoint_not_found",
    /// An id in the path or the query is not a UUID.
    InvalidId = "invalid_id",
    /// A query parameter has the wrong type.
    QueryInvalid = "query_invalid",
    /// The body is not JSON (a syntax error, or it could not be read).
    JsonMalformed = "json_malformed",
    /// The JSON has a wrong type or misses a field the shape requires.
    JsonInvalid = "json_invalid",
    /// A JSON body sent without `Content-Type: application/json` (415).
    JsonRequired = "json_required",
    /// A JSON body over the size limit (413).
    BodyTooLarge = "body_too_large",
    /// A field the request needs is absent.
    FieldMissing = "field_missing",
    /// An upload that is not `multipart/form-data` (415).
    MultipartRequired = "multipart_required",
    /// A multipart form that cannot be parsed.
    MultipartMalformed = "multipart_malformed",
    /// A multipart upload over the size limit as a whole (413).
    UploadTooLarge = "upload_too_large",
    /// A form part with a name the upload does not take.
    FormFieldUnknown = "form_field_unknown",
    /// A form part with a value it cannot take.
    FormFieldInvalid = "form_field_invalid",

    // Tokens (401).
    /// No bearer token where one is required.
    TokenMissing = "token_missing",
    /// An `Authorization` header that is not `Bearer <token>`.
    AuthHeaderInvalid = "auth_header_invalid",
    /// A malformed or forged token.
    TokenInvalid = "token_invalid",
    TokenExpired = "token_expired",

    // Free text (params: field, max).
    TextEmpty = "text_empty",
    TextTooLong = "text_too_long",
    TextHasNul = "text_has_nul",

    // The catalog (params: category or agency).
    CategoryUnknown = "category_unknown",
    CategoryInvalid = "category_invalid",
    /// Another spelling of an existing category's slug (`air-bersih` when
    /// `air_bersih` exists).
    CategoryExists = "category_exists",
    AgencyUnknown = "agency_unknown",
    AgencyInvalid = "agency_invalid",

    // Reports.
    ReportNotFound = "report_not_found",
    LocationOutOfRange = "location_out_of_range",
    /// Only one of lat and lon, or an address without them.
    LocationIncomplete = "location_incomplete",
    VisibilityInvalid = "visibility_invalid",
    /// A status change and content edits in one request.
    StatusWithEdits = "status_with_edits",
    NoChanges = "no_changes",
    /// Only the reporter may do this.
    NotOwner = "not_owner",
    /// params: status.
    ReportNotEditable = "report_not_editable",
    /// params: status.
    ReportNotWithdrawable = "report_not_withdrawable",
    ReportWithdrawn = "report_withdrawn",
    ReportNotPublic = "report_not_public",
    NoAnonymousKey = "no_anonymous_key",
    AlreadyUpvoted = "already_upvoted",
    SelfUpvote = "self_upvote",
    LoginRequired = "login_required",

    // Photos (params: index and count of the file in its batch).
    PhotosMissing = "photos_missing",
    /// params: max.
    TooManyPhotos = "too_many_photos",
    /// params: index, count, size, limit.
    PhotoTooLarge = "photo_too_large",
    PhotoEmpty = "photo_empty",
    PhotoUnsupported = "photo_unsupported",
    PhotoDamaged = "photo_damaged",
    PhotoTooManyPixels = "photo_too_many_pixels",
    PhotoNotFound = "photo_not_found",

    // Cases and who may work them.
    CaseNotFound = "case_not_found",
    StaffOnly = "staff_only",
    ManagersOnly = "managers_only",
    AdminOnly = "admin_only",
    NoAgency = "no_agency",
    OtherAgency = "other_agency",
    /// params: status.
    StatusInvalid = "status_invalid",
    /// params: status.
    StatusUnchanged = "status_unchanged",
    /// params: from, to.
    InvalidStatusTransition = "invalid_status_transition",
    ReasonRequired = "reason_required",
    /// Someone else changed the same thing first: reload and try again.
    ConcurrentUpdate = "concurrent_update",

    // Paging.
    PageSizeInvalid = "page_size_invalid",
    PageOutOfRange = "page_out_of_range",
    /// params: sort.
    CursorWithSort = "cursor_with_sort",
    /// params: sort.
    SortInvalid = "sort_invalid",
    /// A cursor together with page/per_page.
    CursorWithPage = "cursor_with_page",
    /// A cursor that is not one the API handed out.
    CursorInvalid = "cursor_invalid",

    // Accounts.
    UsernameInvalid = "username_invalid",
    /// params: username.
    UsernameTaken = "username_taken",
    PasswordTooShort = "password_too_short",
    PasswordTooLong = "password_too_long",
    LoginFailed = "login_failed",
    /// params: role.
    RoleInvalid = "role_invalid",
    /// params: role.
    AgencyRequired = "agency_required",
    /// params: role.
    AgencyNotAllowed = "agency_not_allowed",

    // SLA.
    /// params: min.
    SlaTooShort = "sla_too_short",
    /// params: max.
    SlaTooLong = "sla_too_long",
    DefaultSlaAdminOnly = "default_sla_admin_only",
    SlaStatusInvalid = "sla_status_invalid",

    // Analytics.
    /// A `from`/`to` that is neither RFC 3339 nor YYYY-MM-DD.
    DateInvalid = "date_invalid",
    PeriodReversed = "period_reversed",
    /// params: max_days.
    PeriodTooLong = "period_too_long",

    // Notifications.
    NotificationNotFound = "notification_not_found",

    // Audit trail.
    /// An `action` filter that names no audited action.
    AuditActionInvalid = "audit_action_invalid",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Why a request was refused: a code, the English sentence, and the values
/// the sentence names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub code: ErrorCode,
    /// English, as the JSON API shows it in `error`.
    pub message: String,
    /// Named values for translations (`field`, `status`, `max`, ...).
    pub params: Vec<(&'static str, String)>,
}

impl Cause {
    pub fn new(code: ErrorCode, message: impl fmt::Display) -> Self {
        Self {
            code,
            message: message.to_string(),
            params: Vec::new(),
        }
    }

    /// The value of a parameter, if the cause has it.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Error)]
pub enum AppError {
    /// The request is malformed or fails validation (400).
    #[error("{0}")]
    Invalid(Cause),
    /// No or bad credentials (401).
    #[error("{0}")]
    Unauthorized(Cause),
    /// Authenticated, but not allowed (403).
    #[error("{0}")]
    Forbidden(Cause),
    /// Unknown, or not visible to the caller (404).
    #[error("{0}")]
    NotFound(Cause),
    /// Refused by the current state (409).
    #[error("{0}")]
    Conflict(Cause),
    /// An upload is larger than allowed (413).
    #[error("{0}")]
    TooLarge(Cause),
    /// An upload is not of an accepted type (415).
    #[error("{0}")]
    UnsupportedMedia(Cause),
    /// Too many requests or overload (503). One cause whatever was busy
    /// ([`ErrorCode::Unavailable`]); the text says what, for the logs.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid(code: ErrorCode, m: impl fmt::Display) -> Self {
        Self::Invalid(Cause::new(code, m))
    }
    pub fn unauthorized(code: ErrorCode, m: impl fmt::Display) -> Self {
        Self::Unauthorized(Cause::new(code, m))
    }
    pub fn forbidden(code: ErrorCode, m: impl fmt::Display) -> Self {
        Self::Forbidden(Cause::new(code, m))
    }
    pub fn not_found(code: ErrorCode, m: impl fmt::Display) -> Self {
        Self::NotFound(Cause::new(code, m))
    }
    pub fn conflict(code: ErrorCode, m: impl fmt::Display) -> Self {
        Self::Conflict(Cause::new(code, m))
    }
    pub fn too_large(code: ErrorCode, m: impl fmt::Display) -> Self {
        Self::TooLarge(Cause::new(code, m))
    }
    pub fn unsupported_media(code: ErrorCode, m: impl fmt::Display) -> Self {
        Self::UnsupportedMedia(Cause::new(code, m))
    }

    /// Adds a named value for translations (ignored on the causeless
    /// variants).
    pub fn with(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        if let Some(c) = self.cause_mut() {
            c.params.push((name, value.to_string()));
        }
        self
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Unavailable(_) => ErrorCode::Unavailable,
            AppError::Internal(_) => ErrorCode::Internal,
            other => other.cause().map_or(ErrorCode::Internal, |c| c.code),
        }
    }

    /// The cause of a refusal; `None` for overload and internal errors.
    pub fn cause(&self) -> Option<&Cause> {
        match self {
            AppError::Invalid(c)
            | AppError::Unauthorized(c)
            | AppError::Forbidden(c)
            | AppError::NotFound(c)
            | AppError::Conflict(c)
            | AppError::TooLarge(c)
            | AppError::UnsupportedMedia(c) => Some(c),
            AppError::Unavailable(_) | AppError::Internal(_) => None,
        }
    }

    fn cause_mut(&mut self) -> Option<&mut Cause> {
        match self {
            AppError::Invalid(c)
            | AppError::Unauthorized(c)
            | AppError::Forbidden(c)
            | AppError::NotFound(c)
            | AppError::Conflict(c)
            | AppError::TooLarge(c)
            | AppError::UnsupportedMedia(c) => Some(c),
            AppError::Unavailable(_) | AppError::Internal(_) => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found(ErrorCode::NotFound, "not found"),
            // Stores report a lost race (a conditional write found the row
            // changed) or a uniqueness clash as a conflict.
            StoreError::Conflict(m) => AppError::conflict(ErrorCode::ConcurrentUpdate, m),
            StoreError::Unavailable(m) => AppError::Unavailable(m),
            StoreError::Other(e) => AppError::Internal(e),
        }
    }
}

impl From<lapor_domain::text::TextError> for AppError {
    fn from(e: lapor_domain::text::TextError) -> Self {
        use lapor_domain::text::TextError as T;
        match e {
            T::Empty { field } => AppError::invalid(ErrorCode::TextEmpty, &e).with("field", field),
            T::TooLong { field, max } => AppError::invalid(ErrorCode::TextTooLong, &e)
                .with("field", field)
                .with("max", max),
            T::Nul { field } => AppError::invalid(ErrorCode::TextHasNul, &e).with("field", field),
        }
    }
}

impl From<lapor_domain::catalog::CatalogError> for AppError {
    fn from(e: lapor_domain::catalog::CatalogError) -> Self {
        use lapor_domain::catalog::CatalogError as C;
        let (code, name, value) = match &e {
            C::UnknownCategory(c) => (ErrorCode::CategoryUnknown, "category", c),
            C::UnknownAgency(a) => (ErrorCode::AgencyUnknown, "agency", a),
            C::BadCategory(c) => (ErrorCode::CategoryInvalid, "category", c),
            C::BadAgency(a) => (ErrorCode::AgencyInvalid, "agency", a),
            C::CategoryExists(c) => {
                let c = c.clone();
                return AppError::conflict(ErrorCode::CategoryExists, &e).with("category", c);
            }
        };
        let value = value.clone();
        AppError::invalid(code, &e).with(name, value)
    }
}

impl From<lapor_domain::report::ReportError> for AppError {
    fn from(e: lapor_domain::report::ReportError) -> Self {
        use lapor_domain::report::ReportError as R;
        match e {
            R::Text(t) => t.into(),
            R::Catalog(c) => c.into(),
            R::Location(_) => AppError::invalid(ErrorCode::LocationOutOfRange, &e),
            R::NoChanges => AppError::invalid(ErrorCode::NoChanges, &e),
            R::NotOwner => AppError::forbidden(ErrorCode::NotOwner, &e),
            R::NotEditable(s) => {
                AppError::conflict(ErrorCode::ReportNotEditable, &e).with("status", s)
            }
            R::NotWithdrawable(s) => {
                AppError::conflict(ErrorCode::ReportNotWithdrawable, &e).with("status", s)
            }
            R::Withdrawn => AppError::conflict(ErrorCode::ReportWithdrawn, &e),
            R::NotPublic => AppError::invalid(ErrorCode::ReportNotPublic, &e),
            R::OwnReport => AppError::invalid(ErrorCode::SelfUpvote, &e),
            R::NoAnonymousKey => AppError::invalid(ErrorCode::NoAnonymousKey, &e),
        }
    }
}

impl From<lapor_domain::photo::PhotoError> for AppError {
    fn from(e: lapor_domain::photo::PhotoError) -> Self {
        use lapor_domain::photo::PhotoError as P;
        match e {
            P::NotOwner => AppError::forbidden(ErrorCode::NotOwner, &e),
            P::NoPhotos => AppError::invalid(ErrorCode::PhotosMissing, &e),
            P::NotEditable(s) => {
                AppError::conflict(ErrorCode::ReportNotEditable, &e).with("status", s)
            }
            P::Withdrawn => AppError::conflict(ErrorCode::ReportWithdrawn, &e),
            P::TooMany { max, .. } => {
                AppError::conflict(ErrorCode::TooManyPhotos, &e).with("max", max)
            }
        }
    }
}

impl From<lapor_domain::lifecycle::TransitionError> for AppError {
    fn from(e: lapor_domain::lifecycle::TransitionError) -> Self {
        use lapor_domain::lifecycle::TransitionError as T;
        match e {
            T::Unchanged(s) => AppError::conflict(ErrorCode::StatusUnchanged, &e).with("status", s),
            T::NotAllowed { from, to } => {
                AppError::conflict(ErrorCode::InvalidStatusTransition, &e)
                    .with("from", from)
                    .with("to", to)
            }
            T::ReasonRequired => AppError::invalid(ErrorCode::ReasonRequired, &e),
            T::ReasonTooLong => AppError::invalid(ErrorCode::TextTooLong, &e)
                .with("field", "reason")
                .with("max", lapor_domain::lifecycle::MAX_REASON),
            T::Text(t) => t.into(),
        }
    }
}

impl From<lapor_domain::lifecycle::BadStatus> for AppError {
    fn from(e: lapor_domain::lifecycle::BadStatus) -> Self {
        let raw = e.0.clone();
        AppError::invalid(ErrorCode::StatusInvalid, e).with("status", raw)
    }
}

impl From<lapor_domain::access::BadRole> for AppError {
    fn from(e: lapor_domain::access::BadRole) -> Self {
        let raw = e.0.clone();
        AppError::invalid(ErrorCode::RoleInvalid, e).with("role", raw)
    }
}

impl From<lapor_domain::access::ScopeError> for AppError {
    fn from(e: lapor_domain::access::ScopeError) -> Self {
        use lapor_domain::access::ScopeError as S;
        match e {
            S::NoAgency => AppError::forbidden(ErrorCode::NoAgency, e),
            S::OtherAgency => AppError::forbidden(ErrorCode::OtherAgency, e),
        }
    }
}

impl From<lapor_domain::sla::SlaError> for AppError {
    fn from(e: lapor_domain::sla::SlaError) -> Self {
        use lapor_domain::sla::SlaError as S;
        match e {
            S::TooShort { min } => AppError::invalid(ErrorCode::SlaTooShort, &e).with("min", min),
            S::TooLong => AppError::invalid(ErrorCode::SlaTooLong, &e)
                .with("max", lapor_domain::sla::MAX_SECONDS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::lifecycle::{Status, TransitionError};

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s} is not snake_case"
            );
        }
    }

    #[test]
    fn domain_refusals_keep_their_sentence_and_gain_a_code() {
        let e = AppError::from(TransitionError::NotAllowed {
            from: Status::Resolved,
            to: Status::Received,
        });
        assert!(matches!(e, AppError::Conflict(_)));
        assert_eq!(e.code(), ErrorCode::InvalidStatusTransition);
        assert_eq!(
            e.to_string(),
            "a case cannot move from RESOLVED to RECEIVED"
        );
        let c = e.cause().unwrap();
        assert_eq!(c.param("from"), Some("RESOLVED"));
        assert_eq!(c.param("to"), Some("RECEIVED"));

        let e = AppError::from(lapor_domain::text::TextError::Nul { field: "title" });
        assert!(matches!(e, AppError::Invalid(_)));
        assert_eq!(e.code().as_str(), "text_has_nul");
        assert_eq!(e.cause().unwrap().param("field"), Some("title"));
    }

    #[test]
    fn overload_and_bugs_have_fixed_codes() {
        assert_eq!(
            AppError::Unavailable("pool".into()).code(),
            ErrorCode::Unavailable
        );
        assert_eq!(
            AppError::Internal(anyhow::anyhow!("x")).code(),
            ErrorCode::Internal
        );
        assert_eq!(
            AppError::from(StoreError::Conflict("changed".into())).code(),
            ErrorCode::ConcurrentUpdate
        );
        // Parameters are not attached to causeless errors.
        assert!(
            AppError::Unavailable("pool".into())
                .with("x", 1)
                .cause()
                .is_none()
        );
    }
}
