//! Photos of reports: the owner uploads (multipart), and whoever may see the
//! report fetches the sanitised JPEG or its thumbnail.

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, MaybeUser, ReportIdPath};
use crate::wire::reports::{Jpeg, Photo, PhotosAdded};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lapor_app::{App, ErrorCode};
use lapor_domain::ids::{PhotoId, ReportId};
use lapor_domain::photo::MAX_PHOTOS_PER_REPORT;
use utoipa::ToSchema;

/// Form field names accepted for photo files.
const FIELDS: [&str; 3] = ["photo", "photos", "photo[]"];

/// The upload (command role). Its body limit is raised for this route only:
/// five photos of the maximum size plus the multipart framing.
pub fn command_router(max_photo_bytes: usize) -> Router<App> {
    let limit = max_photo_bytes
        .saturating_mul(MAX_PHOTOS_PER_REPORT)
        .saturating_add(256 * 1024);
    Router::new().route(
        "/reports/{id}/photos",
        post(post_photos).layer(DefaultBodyLimit::max(limit)),
    )
}

/// Serving the files (query role).
pub fn query_router() -> Router<App> {
    Router::new()
        .route("/reports/{id}/photos/{photo_id}", get(get_photo))
        .route(
            "/reports/{id}/photos/{photo_id}/thumb",
            get(get_photo_thumb),
        )
}

/// The multipart form of an upload (for the API documentation).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// One to five JPEG, PNG or WebP files, each in a part named `photo`
    /// (the field repeats).
    #[schema(value_type = Vec<String>, format = Binary)]
    photo: Vec<Vec<u8>>,
    /// `true` to use the first photo's GPS position as the report's
    /// location when it has none (default false: the position is dropped).
    share_location: Option<bool>,
}

fn multipart_error(status: StatusCode, max: usize, detail: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::coded(
            status,
            ErrorCode::UploadTooLarge,
            format!(
                "the upload is too large: at most {MAX_PHOTOS_PER_REPORT} photos of {} each",
                human(max)
            ),
        )
    } else {
        ApiError::invalid(
            ErrorCode::MultipartMalformed,
            format!("malformed multipart upload: {detail}"),
        )
    }
}

fn human(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// Adds photos to a report (the owner, while the report is RECEIVED; at
/// most five per report). Send `multipart/form-data` with one part named
/// `photo` per file. Every picture is re-encoded as JPEG without metadata
/// (no EXIF, GPS or camera data is kept). With `share_location=true` and a
/// report without a location, the first photo's GPS position becomes the
/// report's location (`location_set_from_photo` in the answer); otherwise
/// the position is dropped with the rest of the metadata.
#[utoipa::path(post, path = "/reports/{id}/photos", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path, description = "Report UUID")),
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The report's new photos", body = PhotosAdded),
        (status = 400, description = "No photo, malformed id or form, damaged image"),
        (status = 401, description = "Not logged in"),
        (status = 403, description = "Not the report's owner"),
        (status = 404, description = "Unknown or not visible"),
        (status = 409, description = "More than five photos, or the report is no longer editable"),
        (status = 413, description = "A file is over the size limit (8 MiB by default) or has too many pixels"),
        (status = 415, description = "Not a JPEG, PNG or WebP image, or not a multipart form")))]
pub async fn post_photos(
    State(app): State<App>,
    AuthUser(p): AuthUser,
    ReportIdPath(id): ReportIdPath,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    let mut form = form.map_err(|_| {
        ApiError::coded(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::MultipartRequired,
            "send the photos as multipart/form-data, one part named `photo` per file",
        )
    })?;
    // Who may add photos, and whether there is room, is known before the
    // body is read: refuse early rather than buffer megabytes for nothing.
    app.check_photo_upload(&p, id, 1).await?;
    let max = app.config().max_photo_bytes;
    let mut uploads: Vec<bytes::Bytes> = Vec::new();
    let mut share_location = false;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(e.status(), max, e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "share_location" {
            let value = field
                .text()
                .await
                .map_err(|e| multipart_error(e.status(), max, e.body_text()))?;
            share_location = match value.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "yes" => true,
                "false" | "0" | "off" | "no" | "" => false,
                other => {
                    return Err(ApiError::invalid(
                        ErrorCode::FormFieldInvalid,
                        format!("share_location must be true or false (got '{other}')"),
                    ));
                }
            };
            continue;
        }
        if !FIELDS.contains(&name.as_str()) {
            return Err(ApiError::invalid(
                ErrorCode::FormFieldUnknown,
                format!("unexpected form field '{name}': send each file in a part named `photo`"),
            ));
        }
        if uploads.len() == MAX_PHOTOS_PER_REPORT {
            return Err(ApiError::coded(
                StatusCode::CONFLICT,
                ErrorCode::TooManyPhotos,
                format!("at most {MAX_PHOTOS_PER_REPORT} photos per report"),
            ));
        }
        // Read in chunks so an oversized file is refused as soon as it is.
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| multipart_error(e.status(), max, e.body_text()))?
        {
            if buf.len() + chunk.len() > max {
                let which = if uploads.is_empty() {
                    "the photo".to_owned()
                } else {
                    format!("photo {}", uploads.len() + 1)
                };
                return Err(ApiError::coded(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::PhotoTooLarge,
                    format!(
                        "{which} is larger than the limit of {} per photo",
                        human(max)
                    ),
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        uploads.push(buf.freeze());
    }
    if uploads.is_empty() {
        return Err(ApiError::invalid(
            ErrorCode::PhotosMissing,
            "send at least one photo: a multipart part named `photo` with a JPEG, PNG or WebP file",
        ));
    }
    // Refuse before decoding anything what would be refused anyway.
    if uploads.len() > 1 {
        app.check_photo_upload(&p, id, uploads.len()).await?;
    }
    let prepared = app.prepare_photos(uploads).await?;
    let gps = prepared.iter().find_map(|p| p.gps());
    let photos = app.attach_photos(&p, id, prepared).await?;
    let mut body = PhotosAdded {
        data: photos.iter().map(Photo::from).collect(),
        location_set_from_photo: None,
        message: "Photos added",
        report_id: id,
        success: true,
    };
    // Only on request: by default the position a photo carried is dropped.
    if share_location {
        let set = match gps {
            Some(gps) => app
                .share_photo_location(&p, id, gps)
                .await
                .unwrap_or_else(|e| {
                    tracing::info!(report_id = %id, error = %e, "the photo's location was not applied");
                    false
                }),
            None => false,
        };
        body.location_set_from_photo = Some(set);
    }
    Ok((StatusCode::CREATED, Json(body)))
}

/// `/reports/{id}/photos/{photo_id}`: both ids must be UUIDs (400 otherwise).
pub struct PhotoPath(pub ReportId, pub PhotoId);

impl<S: Send + Sync> FromRequestParts<S> for PhotoPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path((report, photo)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::invalid(ErrorCode::InvalidId, e.body_text()))?;
        let report = report.parse::<ReportId>().map_err(|_| {
            ApiError::invalid(
                ErrorCode::InvalidId,
                format!("invalid id '{report}': expected a UUID"),
            )
        })?;
        let photo = photo.parse::<PhotoId>().map_err(|_| {
            ApiError::invalid(
                ErrorCode::InvalidId,
                format!("invalid photo id '{photo}': expected a UUID"),
            )
        })?;
        Ok(Self(report, photo))
    }
}

async fn serve(
    app: &App,
    viewer: Option<&lapor_domain::access::Principal>,
    report: ReportId,
    photo: PhotoId,
    thumb: bool,
) -> ApiResult<Response> {
    let file = app.photo(viewer, report, photo, thumb).await?;
    let cache = if file.public {
        "public, max-age=3600"
    } else {
        "private, max-age=3600"
    };
    let mut res = file.bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    if !file.public {
        h.insert(header::VARY, HeaderValue::from_static("Authorization"));
    }
    Ok(res)
}

/// A report's photo (a JPEG without metadata), for whoever may see the
/// report (404 otherwise, as for the report itself).
#[utoipa::path(get, path = "/reports/{id}/photos/{photo_id}", tag = "reports",
    params(("id" = String, Path, description = "Report UUID"), ("photo_id" = String, Path, description = "Photo UUID")),
    responses(
        (status = 200, description = "The photo (`Cache-Control: private` unless the report is PUBLIC)", body = Jpeg, content_type = "image/jpeg"),
        (status = 400, description = "Malformed id"), (status = 401, description = "Bad token"),
        (status = 404, description = "Unknown, not of this report, or the report is not visible")))]
pub async fn get_photo(
    State(app): State<App>,
    MaybeUser(p): MaybeUser,
    PhotoPath(report, photo): PhotoPath,
) -> ApiResult<Response> {
    serve(&app, p.as_ref(), report, photo, false).await
}

/// The photo's thumbnail (a JPEG within 320x320), for lists.
#[utoipa::path(get, path = "/reports/{id}/photos/{photo_id}/thumb", tag = "reports",
    params(("id" = String, Path, description = "Report UUID"), ("photo_id" = String, Path, description = "Photo UUID")),
    responses(
        (status = 200, description = "The thumbnail", body = Jpeg, content_type = "image/jpeg"),
        (status = 400, description = "Malformed id"), (status = 401, description = "Bad token"),
        (status = 404, description = "Unknown, not of this report, or the report is not visible")))]
pub async fn get_photo_thumb(
    State(app): State<App>,
    MaybeUser(p): MaybeUser,
    PhotoPath(report, photo): PhotoPath,
) -> ApiResult<Response> {
    serve(&app, p.as_ref(), report, photo, true).await
}
