//! The citizen's report: the decisions of the reporting context.
//!
//! Each decision takes the current state, the caller and "now", and returns
//! the event to record (or why not). Storage applies the event's effect and
//! appends it to the outbox in one transaction.

use crate::Timestamp;
use crate::access::{Owner, Principal, Visibility};
use crate::catalog::{AgencyCode, Catalog, CatalogError, CategorySlug};
use crate::events::{
    DomainEvent, EventEnvelope, ReportCreated, ReportUpdated, ReportUpvoted, ReportWithdrawn,
};
use crate::ids::{ReportId, UserId};
use crate::lifecycle::Status;
use crate::text::{TextError, bounded, derive_title};
use thiserror::Error;

pub const MAX_TITLE: usize = 200;
pub const MAX_CONTENT: usize = 5000;
pub const MAX_ADDRESS: usize = 300;

#[derive(Debug, Error, PartialEq)]
pub enum ReportError {
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("{0}")]
    Location(&'static str),
    #[error("nothing to change: send title, description/content, category or location")]
    NoChanges,
    #[error("only the reporter may change or withdraw this report")]
    NotOwner,
    #[error("the report can only be edited while RECEIVED (it is {0})")]
    NotEditable(Status),
    #[error("the report is already {0} and can no longer be withdrawn")]
    NotWithdrawable(Status),
    #[error("the report has been withdrawn")]
    Withdrawn,
    #[error("only PUBLIC reports can be upvoted")]
    NotPublic,
    #[error("you cannot upvote your own report")]
    OwnReport,
    #[error("your account cannot file anonymous reports (it has no anonymous key)")]
    NoAnonymousKey,
}

pub use crate::location::Location;

// Parsing is a report rule (its errors are the report's); the type lives
// in `location` so the event contract does not depend on this module.
impl Location {
    pub fn parse(lat: f64, lon: f64, address: Option<&str>) -> Result<Self, ReportError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(ReportError::Location("lat must be between -90 and 90"));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ReportError::Location("lon must be between -180 and 180"));
        }
        let address = match address.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => Some(bounded("address", a, MAX_ADDRESS)?),
            None => None,
        };
        Ok(Self { lat, lon, address })
    }
}

/// What a citizen submits, before validation.
#[derive(Debug, Clone, Default)]
pub struct ReportDraft {
    pub title: Option<String>,
    pub content: String,
    pub category: String,
    pub visibility: Visibility,
    pub location: Option<Location>,
}

/// The write model of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: ReportId,
    pub owner: Owner,
    pub visibility: Visibility,
    pub title: String,
    pub content: String,
    pub category: CategorySlug,
    pub agency: AgencyCode,
    pub location: Option<Location>,
    /// Mirrors the case status (learned from operations' events).
    pub status: Status,
    pub withdrawn: bool,
    pub vote_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn title_and_content(title: Option<&str>, content: &str) -> Result<(String, String), ReportError> {
    let content = bounded("content", content, MAX_CONTENT)?;
    let title = match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => bounded("title", t, MAX_TITLE)?,
        None => derive_title(&content),
    };
    Ok((title, content))
}

/// Decides the creation of a report: validates, routes its category to the
/// responsible agency and fixes the owner (a pseudonym when ANONYMOUS).
pub fn create(
    draft: ReportDraft,
    by: &Principal,
    catalog: &Catalog,
    id: ReportId,
    now: Timestamp,
) -> Result<(Report, ReportCreated), ReportError> {
    let (title, content) = title_and_content(draft.title.as_deref(), &draft.content)?;
    let (category, agency) = catalog.route(&draft.category)?;
    let owner = by
        .owner_for(draft.visibility)
        .ok_or(ReportError::NoAnonymousKey)?;
    let report = Report {
        id,
        owner: owner.clone(),
        visibility: draft.visibility,
        title,
        content,
        category: category.slug.clone(),
        agency: agency.code.clone(),
        location: draft.location,
        status: Status::Received,
        withdrawn: false,
        vote_count: 0,
        created_at: now,
        updated_at: now,
    };
    let event = ReportCreated {
        report_id: id,
        reporter_user_id: owner.user_id(),
        owner,
        visibility: report.visibility,
        title: report.title.clone(),
        content: report.content.clone(),
        category: report.category.clone(),
        agency: report.agency.clone(),
        location: report.location.clone(),
        created_at: now,
    };
    Ok((report, event))
}

/// Changes requested by the owner; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ReportChanges {
    pub title: Option<String>,
    pub content: Option<String>,
    pub category: Option<String>,
    pub location: Option<Location>,
}

/// The owner may edit a report while it is RECEIVED. A new category routes
/// the report again (possibly to another agency).
pub fn edit(
    report: &Report,
    changes: ReportChanges,
    by: &Principal,
    catalog: &Catalog,
    now: Timestamp,
) -> Result<ReportUpdated, ReportError> {
    if !by.owns(&report.owner) {
        return Err(ReportError::NotOwner);
    }
    if report.withdrawn {
        return Err(ReportError::Withdrawn);
    }
    if report.status != Status::Received {
        return Err(ReportError::NotEditable(report.status));
    }
    if changes.title.is_none()
        && changes.content.is_none()
        && changes.category.is_none()
        && changes.location.is_none()
    {
        return Err(ReportError::NoChanges);
    }
    let content = match &changes.content {
        Some(c) => bounded("content", c, MAX_CONTENT)?,
        None => report.content.clone(),
    };
    let title = match &changes.title {
        Some(t) => bounded("title", t, MAX_TITLE)?,
        None if changes.content.is_some() && report.title == derive_title(&report.content) => {
            derive_title(&content)
        }
        None => report.title.clone(),
    };
    let (category, agency) = match &changes.category {
        Some(c) => {
            let (cat, ag) = catalog.route(c)?;
            (cat.slug.clone(), ag.code.clone())
        }
        None => (report.category.clone(), report.agency.clone()),
    };
    Ok(ReportUpdated {
        report_id: report.id,
        title,
        content,
        category,
        agency,
        location: changes.location.or_else(|| report.location.clone()),
        updated_at: now,
    })
}

/// The owner may withdraw a report that is not yet closed.
pub fn withdraw(
    report: &Report,
    by: &Principal,
    now: Timestamp,
) -> Result<ReportWithdrawn, ReportError> {
    if !by.owns(&report.owner) {
        return Err(ReportError::NotOwner);
    }
    if report.withdrawn {
        return Err(ReportError::Withdrawn);
    }
    if report.status.is_final() {
        return Err(ReportError::NotWithdrawable(report.status));
    }
    Ok(ReportWithdrawn {
        report_id: report.id,
        agency: report.agency.clone(),
        withdrawn_at: now,
    })
}

/// Upvotes are for PUBLIC, live reports of someone else (a reporter's own
/// vote would only inflate their report's rank); "once per user" is
/// enforced by the store's unique key, since only it sees concurrent
/// requests.
pub fn upvote(
    report: &Report,
    by: &Principal,
    now: Timestamp,
) -> Result<ReportUpvoted, ReportError> {
    if report.withdrawn {
        return Err(ReportError::Withdrawn);
    }
    if report.visibility != Visibility::Public {
        return Err(ReportError::NotPublic);
    }
    if by.owns(&report.owner) {
        return Err(ReportError::OwnReport);
    }
    Ok(ReportUpvoted {
        report_id: report.id,
        voter_user_id: by.user_id,
        vote_count: report.vote_count + 1,
        created_at: now,
    })
}

/// The event of a vote the store recorded: `vote_count` is the count the
/// store computed in the transaction that recorded the vote (only it sees
/// concurrent votes), so the store passes it in and the domain builds the
/// event.
pub fn upvoted(
    report_id: ReportId,
    voter: UserId,
    vote_count: i64,
    at: Timestamp,
) -> EventEnvelope {
    DomainEvent::ReportUpvoted(ReportUpvoted {
        report_id,
        voter_user_id: voter,
        vote_count,
        created_at: at,
    })
    .into_envelope(at)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::access::{OwnerTag, Role};
    use crate::ids::UserId;
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2026-03-01 08:00 UTC);

    /// A citizen whose anonymous tag is `t` repeated (photo tests use it too).
    pub(crate) fn citizen(t: char) -> Principal {
        Principal {
            user_id: UserId::new_v7(),
            username: "citizen".into(),
            role: Role::Citizen,
            agency: None,
            owner_tag: OwnerTag::parse(&t.to_string().repeat(64)),
        }
    }

    fn draft(vis: Visibility) -> ReportDraft {
        ReportDraft {
            title: None,
            content: "Lampu jalan mati di Jl. Merdeka".into(),
            category: "Infrastruktur".into(),
            visibility: vis,
            location: Some(Location::parse(-6.2, 106.8, Some("Jl. Merdeka 1")).unwrap()),
        }
    }

    #[test]
    fn given_a_draft_when_created_then_it_is_routed_and_received() {
        let c = citizen('a');
        let (r, ev) = create(
            draft(Visibility::Public),
            &c,
            &Catalog::seed(),
            ReportId::new_v7(),
            NOW,
        )
        .unwrap();
        assert_eq!(r.status, Status::Received);
        assert_eq!(r.agency.as_str(), "AGENCY_INFRA");
        assert_eq!(r.category.as_str(), "infrastruktur");
        assert_eq!(r.title, "Lampu jalan mati di Jl. Merdeka");
        assert_eq!(ev.reporter_user_id, Some(c.user_id));
    }

    #[test]
    fn given_an_anonymous_draft_then_no_user_id_is_recorded() {
        let c = citizen('b');
        let (r, ev) = create(
            draft(Visibility::Anonymous),
            &c,
            &Catalog::seed(),
            ReportId::new_v7(),
            NOW,
        )
        .unwrap();
        assert_eq!(r.owner.user_id(), None);
        assert_eq!(ev.reporter_user_id, None);
        assert!(c.owns(&r.owner));
        assert!(!ev.owner.to_string().contains(&c.user_id.to_string()));
    }

    #[test]
    fn bad_drafts_are_refused() {
        let c = citizen('a');
        let cat = Catalog::seed();
        let mut d = draft(Visibility::Public);
        d.category = "banjir".into();
        assert!(matches!(
            create(d, &c, &cat, ReportId::new_v7(), NOW),
            Err(ReportError::Catalog(_))
        ));
        let mut d = draft(Visibility::Public);
        d.content = "   ".into();
        assert!(matches!(
            create(d, &c, &cat, ReportId::new_v7(), NOW),
            Err(ReportError::Text(_))
        ));
        assert!(Location::parse(91.0, 0.0, None).is_err());
        assert!(Location::parse(0.0, f64::NAN, None).is_err());
    }

    #[test]
    fn given_coordinates_when_parsed_then_each_axis_is_bounded_and_the_address_trimmed() {
        let ok = Location::parse(-90.0, 180.0, Some("  Jl. Merdeka 1 ")).unwrap();
        assert_eq!(
            ok,
            Location {
                lat: -90.0,
                lon: 180.0,
                address: Some("Jl. Merdeka 1".into())
            }
        );
        assert_eq!(
            Location::parse(90.5, 0.0, None),
            Err(ReportError::Location("lat must be between -90 and 90"))
        );
        assert_eq!(
            Location::parse(0.0, 180.5, None),
            Err(ReportError::Location("lon must be between -180 and 180"))
        );
        assert_eq!(
            Location::parse(0.0, -180.5, None),
            Err(ReportError::Location("lon must be between -180 and 180"))
        );
        // A blank address is no address, not an error.
        assert_eq!(
            Location::parse(1.0, 2.0, Some("   ")).unwrap().address,
            None
        );
    }

    #[test]
    fn given_a_blank_title_then_it_is_derived_and_a_given_one_is_trimmed() {
        let c = citizen('a');
        let cat = Catalog::seed();
        let mut d = draft(Visibility::Public);
        d.title = Some("   ".into());
        let (r, _) = create(d, &c, &cat, ReportId::new_v7(), NOW).unwrap();
        assert_eq!(r.title, "Lampu jalan mati di Jl. Merdeka");
        let mut d = draft(Visibility::Public);
        d.title = Some("  Lampu mati ".into());
        let (r, ev) = create(d, &c, &cat, ReportId::new_v7(), NOW).unwrap();
        assert_eq!(
            (r.title.as_str(), ev.title.as_str()),
            ("Lampu mati", "Lampu mati")
        );
    }

    #[test]
    fn given_a_derived_title_when_the_content_changes_then_the_title_follows_it() {
        let owner = citizen('a');
        let cat = Catalog::seed();
        let (r, _) = create(
            draft(Visibility::Public),
            &owner,
            &cat,
            ReportId::new_v7(),
            NOW,
        )
        .unwrap();
        let ch = ReportChanges {
            content: Some("Jalan berlubang\ndekat pasar".into()),
            ..Default::default()
        };
        let ev = edit(&r, ch, &owner, &cat, NOW).unwrap();
        assert_eq!(ev.title, "Jalan berlubang");
        assert_eq!(ev.content, "Jalan berlubang\ndekat pasar");
    }

    #[test]
    fn given_a_title_of_its_own_when_the_content_changes_then_the_title_stays() {
        let owner = citizen('a');
        let cat = Catalog::seed();
        let mut d = draft(Visibility::Public);
        d.title = Some("Lampu mati".into());
        let (r, _) = create(d, &owner, &cat, ReportId::new_v7(), NOW).unwrap();
        let ch = ReportChanges {
            content: Some("Jalan berlubang".into()),
            ..Default::default()
        };
        assert_eq!(edit(&r, ch, &owner, &cat, NOW).unwrap().title, "Lampu mati");
        let ch = ReportChanges {
            category: Some("kesehatan".into()),
            ..Default::default()
        };
        let ev = edit(&r, ch, &owner, &cat, NOW).unwrap();
        assert_eq!(
            (ev.title.as_str(), ev.content.as_str()),
            ("Lampu mati", r.content.as_str())
        );
    }

    #[test]
    fn only_the_owner_edits_and_only_while_received() {
        let owner = citizen('a');
        let cat = Catalog::seed();
        let (mut r, _) = create(
            draft(Visibility::Private),
            &owner,
            &cat,
            ReportId::new_v7(),
            NOW,
        )
        .unwrap();
        let ch = ReportChanges {
            category: Some("kesehatan".into()),
            ..Default::default()
        };
        assert_eq!(
            edit(&r, ch.clone(), &citizen('z'), &cat, NOW),
            Err(ReportError::NotOwner)
        );
        let ev = edit(&r, ch.clone(), &owner, &cat, NOW).unwrap();
        assert_eq!(
            ev.agency.as_str(),
            "AGENCY_HEALTH",
            "a new category routes again"
        );
        assert_eq!(
            edit(&r, ReportChanges::default(), &owner, &cat, NOW),
            Err(ReportError::NoChanges)
        );
        r.status = Status::InProgress;
        assert_eq!(
            edit(&r, ch, &owner, &cat, NOW),
            Err(ReportError::NotEditable(Status::InProgress))
        );
    }

    #[test]
    fn withdrawal_and_upvotes() {
        let owner = citizen('a');
        let cat = Catalog::seed();
        let (mut r, _) = create(
            draft(Visibility::Public),
            &owner,
            &cat,
            ReportId::new_v7(),
            NOW,
        )
        .unwrap();
        assert!(upvote(&r, &citizen('c'), NOW).is_ok());
        assert_eq!(withdraw(&r, &citizen('c'), NOW), Err(ReportError::NotOwner));
        assert!(withdraw(&r, &owner, NOW).is_ok());
        r.withdrawn = true;
        assert_eq!(upvote(&r, &owner, NOW), Err(ReportError::Withdrawn));
        let (mut p, _) = create(
            draft(Visibility::Private),
            &owner,
            &cat,
            ReportId::new_v7(),
            NOW,
        )
        .unwrap();
        assert_eq!(upvote(&p, &owner, NOW), Err(ReportError::NotPublic));
        p.status = Status::Resolved;
        assert_eq!(
            withdraw(&p, &owner, NOW),
            Err(ReportError::NotWithdrawable(Status::Resolved))
        );
    }

    #[test]
    fn given_a_public_report_when_its_reporter_upvotes_it_then_it_is_refused() {
        let owner = citizen('a');
        let (r, _) = create(
            draft(Visibility::Public),
            &owner,
            &Catalog::seed(),
            ReportId::new_v7(),
            NOW,
        )
        .unwrap();
        assert_eq!(upvote(&r, &owner, NOW), Err(ReportError::OwnReport));
        let other = citizen('b');
        let v = upvote(&r, &other, NOW).unwrap();
        assert_eq!((v.voter_user_id, v.vote_count), (other.user_id, 1));
    }

    #[test]
    fn the_upvoted_event_carries_the_count_the_store_computed() {
        let (id, voter) = (ReportId::new_v7(), UserId::new_v7());
        let e = upvoted(id, voter, 7, NOW);
        assert_eq!(
            (e.event_type.as_str(), e.report_id, e.timestamp),
            ("report.upvoted", id, NOW)
        );
        assert_eq!(
            e.decode().unwrap(),
            DomainEvent::ReportUpvoted(ReportUpvoted {
                report_id: id,
                voter_user_id: voter,
                vote_count: 7,
                created_at: NOW,
            })
        );
    }
}
