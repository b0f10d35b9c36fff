//! Photos of a report: who may add them, while when, and how many.
//!
//! The pictures themselves are sanitised elsewhere (`lapor-media`); here are
//! the rules, decided like the report's other changes: from the current state,
//! the caller and "now", returning the event to record.

use crate::Timestamp;
use crate::access::Principal;
use crate::events::PhotosAdded;
use crate::ids::PhotoId;
use crate::lifecycle::Status;
use crate::report::Report;
use thiserror::Error;

/// At most this many photos per report.
pub const MAX_PHOTOS_PER_REPORT: usize = 5;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("send at least one photo")]
    NoPhotos,
    #[error("only the reporter may add photos to this report")]
    NotOwner,
    #[error("photos can only be added while the report is RECEIVED (it is {0})")]
    NotEditable(Status),
    #[error("the report has been withdrawn")]
    Withdrawn,
    #[error(
        "a report has at most {max} photos: it has {existing}, so at most {} more can be added",
        max.saturating_sub(*existing)
    )]
    TooMany { existing: usize, max: usize },
}

/// How many more photos a report with `existing` photos can take.
pub fn room_for(existing: usize) -> usize {
    MAX_PHOTOS_PER_REPORT.saturating_sub(existing)
}

/// Checks a batch size before any work is done on the pictures (the report
/// may already have some: see [`add`] for the full decision).
pub fn check_count(existing: usize, adding: usize) -> Result<(), PhotoError> {
    if adding == 0 {
        return Err(PhotoError::NoPhotos);
    }
    if existing + adding > MAX_PHOTOS_PER_REPORT {
        return Err(PhotoError::TooMany {
            existing,
            max: MAX_PHOTOS_PER_REPORT,
        });
    }
    Ok(())
}

/// The owner may add photos while the report is editable (RECEIVED and not
/// withdrawn, as for edits), up to [`MAX_PHOTOS_PER_REPORT`] in all.
pub fn add(
    report: &Report,
    existing: usize,
    photo_ids: Vec<PhotoId>,
    by: &Principal,
    now: Timestamp,
) -> Result<PhotosAdded, PhotoError> {
    if !by.owns(&report.owner) {
        return Err(PhotoError::NotOwner);
    }
    if report.withdrawn {
        return Err(PhotoError::Withdrawn);
    }
    if report.status != Status::Received {
        return Err(PhotoError::NotEditable(report.status));
    }
    check_count(existing, photo_ids.len())?;
    Ok(PhotosAdded {
        report_id: report.id,
        photo_ids,
        agency: report.agency.clone(),
        added_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Visibility;
    use crate::catalog::Catalog;
    use crate::ids::ReportId;
    use crate::report::tests::citizen;
    use crate::report::{ReportDraft, create};
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2026-03-01 08:00 UTC);

    fn report(by: &Principal, visibility: Visibility) -> Report {
        let draft = ReportDraft {
            title: None,
            content: "Jalan berlubang".into(),
            category: "infrastruktur".into(),
            visibility,
            location: None,
        };
        create(draft, by, &Catalog::seed(), ReportId::new_v7(), NOW)
            .unwrap()
            .0
    }

    fn ids(n: usize) -> Vec<PhotoId> {
        (0..n).map(|_| PhotoId::new_v7()).collect()
    }

    #[test]
    fn given_an_owner_when_adding_photos_then_the_event_names_them() {
        let owner = citizen('a');
        let r = report(&owner, Visibility::Private);
        let photos = ids(2);
        let ev = add(&r, 0, photos.clone(), &owner, NOW).unwrap();
        assert_eq!(ev.report_id, r.id);
        assert_eq!(ev.photo_ids, photos);
        assert_eq!(ev.agency, r.agency);
        assert_eq!(ev.added_at, NOW);
    }

    #[test]
    fn anonymous_reports_take_photos_from_their_pseudonymous_owner_only() {
        let owner = citizen('b');
        let r = report(&owner, Visibility::Anonymous);
        assert!(add(&r, 0, ids(1), &owner, NOW).is_ok());
        // Same person without the tag in their token: not recognisably the owner.
        let mut untagged = owner.clone();
        untagged.owner_tag = None;
        assert_eq!(
            add(&r, 0, ids(1), &untagged, NOW),
            Err(PhotoError::NotOwner)
        );
    }

    #[test]
    fn others_may_not_add_photos() {
        let r = report(&citizen('a'), Visibility::Public);
        assert_eq!(
            add(&r, 0, ids(1), &citizen('z'), NOW),
            Err(PhotoError::NotOwner)
        );
    }

    #[test]
    fn at_most_five_photos_per_report() {
        let owner = citizen('a');
        let r = report(&owner, Visibility::Public);
        assert!(add(&r, 0, ids(5), &owner, NOW).is_ok());
        assert!(add(&r, 4, ids(1), &owner, NOW).is_ok());
        assert_eq!(
            add(&r, 5, ids(1), &owner, NOW),
            Err(PhotoError::TooMany {
                existing: 5,
                max: 5
            })
        );
        assert_eq!(
            add(&r, 0, ids(6), &owner, NOW),
            Err(PhotoError::TooMany {
                existing: 0,
                max: 5
            })
        );
        assert_eq!(add(&r, 0, vec![], &owner, NOW), Err(PhotoError::NoPhotos));
        assert_eq!(room_for(3), 2);
        assert_eq!(room_for(7), 0);
        let msg = PhotoError::TooMany {
            existing: 3,
            max: 5,
        }
        .to_string();
        assert!(msg.contains("at most 5") && msg.contains("2 more"), "{msg}");
    }

    #[test]
    fn photos_follow_the_edit_rule() {
        let owner = citizen('a');
        let mut r = report(&owner, Visibility::Public);
        r.status = Status::InProgress;
        assert_eq!(
            add(&r, 0, ids(1), &owner, NOW),
            Err(PhotoError::NotEditable(Status::InProgress))
        );
        r.status = Status::Received;
        r.withdrawn = true;
        assert_eq!(add(&r, 0, ids(1), &owner, NOW), Err(PhotoError::Withdrawn));
    }
}
