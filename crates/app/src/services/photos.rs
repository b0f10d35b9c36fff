//! Photos of reports: sanitising uploads, attaching them to a report, and
//! serving them to whoever may see the report.
//!
//! An upload goes through two steps so the HTTP and web layers can check
//! everything before anything is stored:
//!
//! 1. [`App::prepare_photos`]: size and count limits, then every picture is
//!    decoded and re-encoded without metadata (`lapor_media::sanitize`) on
//!    the blocking pool. Nothing is stored; a bad file fails the whole batch.
//! 2. [`App::attach_photos`]: the owner rule and the per-report limit, then
//!    the files are written (atomically) and only then the database records
//!    the photos and the `report.photos_added` event in one transaction. An
//!    acknowledged photo therefore always has its file; a failed commit
//!    removes the files it wrote.

use crate::error::{AppError, ErrorCode};
use crate::ports::{NewPhoto, StoreError};
use crate::state::App;
use crate::views::PhotoRef;
use lapor_domain::access::{Principal, Visibility};
use lapor_domain::events::DomainEvent;
use lapor_domain::ids::{PhotoId, ReportId};
use lapor_domain::photo::{self, MAX_PHOTOS_PER_REPORT};
use lapor_domain::report::{Location, ReportChanges};
use lapor_media::{MediaError, Sanitized};
use std::time::Duration;

/// A sanitised upload, not stored yet.
#[derive(Debug, Clone)]
pub struct PreparedPhoto {
    sanitized: Sanitized,
}

impl PreparedPhoto {
    /// The position the original file carried (EXIF GPS), if any. It is
    /// not in the stored picture; use it only if the reporter chose to share
    /// their location (never for ANONYMOUS reports without asking).
    pub fn gps(&self) -> Option<(f64, f64)> {
        self.sanitized.gps
    }
    pub fn width(&self) -> u32 {
        self.sanitized.width
    }
    pub fn height(&self) -> u32 {
        self.sanitized.height
    }
    /// The sanitised JPEG that will be stored.
    pub fn image(&self) -> &[u8] {
        &self.sanitized.image
    }
    /// Its thumbnail (JPEG within 320x320).
    pub fn thumb(&self) -> &[u8] {
        &self.sanitized.thumb
    }
}

/// A photo file to send, and whether its report is PUBLIC (so shared caches
/// may keep it).
#[derive(Debug, Clone)]
pub struct PhotoFile {
    pub bytes: Vec<u8>,
    pub public: bool,
}

/// "1.5 MiB"-style sizes for messages.
fn human(bytes: usize) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024 * 1024 {
        let mib = bytes as f64 / MIB;
        if mib.fract() == 0.0 {
            format!("{mib:.0} MiB")
        } else {
            format!("{mib:.1} MiB")
        }
    } else if bytes >= 1024 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Names the file of a batch an error is about (1-based), for translations.
fn in_batch(e: AppError, i: usize, n: usize) -> AppError {
    e.with("index", i + 1).with("count", n)
}

/// "the photo" or "photo 2 of 3", for messages about one file of a batch.
fn which(i: usize, n: usize) -> String {
    if n == 1 {
        "the photo".into()
    } else {
        format!("photo {} of {n}", i + 1)
    }
}

impl App {
    /// Checks and sanitises uploaded files (see the module doc). Stores
    /// nothing. Errors: no file 400; more than five 409; a file over the size
    /// limit 413; not a JPEG, PNG or WebP 415; damaged 400; too many pixels
    /// 413.
    pub async fn prepare_photos(
        &self,
        uploads: Vec<bytes::Bytes>,
    ) -> Result<Vec<PreparedPhoto>, AppError> {
        let n = uploads.len();
        if n == 0 {
            return Err(AppError::invalid(
                ErrorCode::PhotosMissing,
                "send at least one photo (a JPEG, PNG or WebP file)",
            ));
        }
        if n > MAX_PHOTOS_PER_REPORT {
            return Err(AppError::conflict(
                ErrorCode::TooManyPhotos,
                format!("at most {MAX_PHOTOS_PER_REPORT} photos per report; {n} were sent"),
            )
            .with("max", MAX_PHOTOS_PER_REPORT));
        }
        let max = self.config().max_photo_bytes;
        for (i, u) in uploads.iter().enumerate() {
            if u.len() > max {
                return Err(in_batch(
                    AppError::too_large(
                        ErrorCode::PhotoTooLarge,
                        format!(
                            "{} is {}; the limit is {} per photo",
                            which(i, n),
                            human(u.len()),
                            human(max)
                        ),
                    ),
                    i,
                    n,
                )
                .with("size", human(u.len()))
                .with("limit", human(max)));
            }
            if u.is_empty() {
                return Err(in_batch(
                    AppError::invalid(ErrorCode::PhotoEmpty, format!("{} is empty", which(i, n))),
                    i,
                    n,
                ));
            }
        }
        let mut out = Vec::with_capacity(n);
        for (i, bytes) in uploads.into_iter().enumerate() {
            let permit =
                tokio::time::timeout(Duration::from_secs(10), self.media_slots().acquire())
                    .await
                    .map_err(|_| {
                        AppError::Unavailable(
                            "too many photo uploads at once; try again shortly".into(),
                        )
                    })?
                    .map_err(|e| AppError::Internal(e.into()))?;
            let result = tokio::task::spawn_blocking(move || lapor_media::sanitize(&bytes))
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            drop(permit);
            let sanitized = result.map_err(|e| match e {
                MediaError::Unsupported => in_batch(
                    AppError::unsupported_media(
                        ErrorCode::PhotoUnsupported,
                        format!(
                            "{} is not a supported image: send a JPEG, PNG or WebP photo",
                            which(i, n)
                        ),
                    ),
                    i,
                    n,
                ),
                MediaError::Corrupt(_) => in_batch(
                    AppError::invalid(
                        ErrorCode::PhotoDamaged,
                        format!(
                            "{} could not be read: the image is damaged or incomplete",
                            which(i, n)
                        ),
                    ),
                    i,
                    n,
                ),
                MediaError::TooLarge { .. } => in_batch(
                    AppError::too_large(
                        ErrorCode::PhotoTooManyPixels,
                        format!(
                            "{} has too many pixels: at most {} megapixels and {} pixels per side",
                            which(i, n),
                            lapor_media::MAX_PIXELS / 1_000_000,
                            lapor_media::MAX_SIDE
                        ),
                    ),
                    i,
                    n,
                )
                .with("megapixels", lapor_media::MAX_PIXELS / 1_000_000)
                .with("side", lapor_media::MAX_SIDE),
                MediaError::Encode(m) => AppError::Internal(anyhow::anyhow!("re-encoding: {m}")),
            })?;
            out.push(PreparedPhoto { sanitized });
        }
        Ok(out)
    }

    /// Checks, without decoding anything, that `by` may add `count` photos
    /// to the report now (owner, editable, room left). [`App::attach_photos`]
    /// checks again; this only refuses early what would be refused anyway.
    pub async fn check_photo_upload(
        &self,
        by: &Principal,
        report_id: ReportId,
        count: usize,
    ) -> Result<(), AppError> {
        let current = self.write_model(report_id).await?;
        self.hide_unless_visible(by, &current)?;
        let existing = self.stores().reporting.photos(report_id).await?.len();
        let ids = (0..count).map(|_| PhotoId::new_v7()).collect();
        photo::add(&current, existing, ids, by, self.now())?;
        Ok(())
    }

    /// Attaches prepared photos to a report: only its owner (ANONYMOUS
    /// reports: the pseudonymous owner), only while it is editable
    /// (RECEIVED, as for edits), at most five in all. Files first, then the
    /// database (see the module doc). Returns the new photos.
    pub async fn attach_photos(
        &self,
        by: &Principal,
        report_id: ReportId,
        photos: Vec<PreparedPhoto>,
    ) -> Result<Vec<PhotoRef>, AppError> {
        let current = self.write_model(report_id).await?;
        self.hide_unless_visible(by, &current)?;
        let existing = self.stores().reporting.photos(report_id).await?.len();
        let ids: Vec<PhotoId> = photos.iter().map(|_| PhotoId::new_v7()).collect();
        let now = self.now();
        let added = photo::add(&current, existing, ids.clone(), by, now)?;
        let records: Vec<NewPhoto> = ids
            .iter()
            .zip(&photos)
            .map(|(id, p)| NewPhoto {
                id: *id,
                width: p.width(),
                height: p.height(),
                bytes: p.image().len() as i64,
            })
            .collect();

        let files = self.photo_files();
        let mut saved: Vec<PhotoId> = Vec::with_capacity(ids.len());
        for (id, p) in ids.iter().zip(&photos) {
            if let Err(e) = files.save(report_id, *id, p.image(), p.thumb()).await {
                self.remove_photo_files(report_id, &saved).await;
                return Err(e.into());
            }
            saved.push(*id);
        }
        let event = DomainEvent::PhotosAdded(added).into_envelope(now);
        if let Err(e) = self
            .stores()
            .reporting
            .add_photos(report_id, &records, MAX_PHOTOS_PER_REPORT, &event)
            .await
        {
            self.remove_photo_files(report_id, &saved).await;
            return Err(match e {
                StoreError::Conflict(m) => AppError::conflict(ErrorCode::ConcurrentUpdate, m),
                other => other.into(),
            });
        }
        self.signals().outbox_appended();
        Ok(ids
            .into_iter()
            .map(|id| PhotoRef::new(report_id, id))
            .collect())
    }

    /// Sets the report's location from a photo's GPS position, if the
    /// reporter chose to share it and the report has no location yet (an
    /// explicit location is never overwritten). Returns whether it was set.
    /// The usual edit rules apply (owner, RECEIVED).
    pub async fn share_photo_location(
        &self,
        by: &Principal,
        report_id: ReportId,
        (lat, lon): (f64, f64),
    ) -> Result<bool, AppError> {
        let current = self.write_model(report_id).await?;
        self.hide_unless_visible(by, &current)?;
        if current.location.is_some() {
            return Ok(false);
        }
        let location = Location::parse(lat, lon, None)?;
        let changes = ReportChanges {
            location: Some(location),
            ..Default::default()
        };
        self.edit_report(by, report_id, changes).await?;
        Ok(true)
    }

    async fn remove_photo_files(&self, report_id: ReportId, ids: &[PhotoId]) {
        for id in ids {
            if let Err(e) = self.photo_files().remove(report_id, *id).await {
                tracing::warn!(%report_id, photo_id = %id, error = %e,
                    "could not remove the file of a photo that was not recorded");
            }
        }
    }

    /// A photo (or its thumbnail) of a report, for whoever may see the
    /// report (the same rule as [`App::get_report`]: 404 otherwise). A photo
    /// id that does not belong to the report is 404 too.
    pub async fn photo_file(
        &self,
        viewer: Option<&Principal>,
        report_id: ReportId,
        photo_id: PhotoId,
        thumb: bool,
    ) -> Result<Vec<u8>, AppError> {
        Ok(self.photo(viewer, report_id, photo_id, thumb).await?.bytes)
    }

    /// [`App::photo_file`], also telling whether the report is PUBLIC.
    pub async fn photo(
        &self,
        viewer: Option<&Principal>,
        report_id: ReportId,
        photo_id: PhotoId,
        thumb: bool,
    ) -> Result<PhotoFile, AppError> {
        let report = self.get_report(viewer, report_id).await?;
        let listed = report.photos.iter().any(|p| p.id == photo_id)
            // Just added and not projected yet: the write side knows.
            || self
                .stores()
                .reporting
                .photos(report_id)
                .await?
                .contains(&photo_id);
        if !listed {
            return Err(AppError::not_found(
                ErrorCode::PhotoNotFound,
                "photo not found",
            ));
        }
        let bytes = self
            .photo_files()
            .read(report_id, photo_id, thumb)
            .await?
            .ok_or_else(|| {
                tracing::error!(%report_id, %photo_id, thumb, "a recorded photo has no file");
                AppError::not_found(ErrorCode::PhotoNotFound, "photo not found")
            })?;
        Ok(PhotoFile {
            bytes,
            public: report.visibility == Visibility::Public,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human(8 * 1024 * 1024), "8 MiB");
        assert_eq!(human(1536 * 1024), "1.5 MiB");
        assert_eq!(human(2048), "2 KiB");
        assert_eq!(human(10), "10 bytes");
        assert_eq!(which(0, 1), "the photo");
        assert_eq!(which(1, 3), "photo 2 of 3");
    }
}
