//! Who is acting and what they may see. Every query and command asks these
//! functions rather than deciding visibility on its own.
//!
//! ANONYMOUS reports are owned by an [`OwnerTag`]: a pseudonym derived from a
//! secret that only the reporter's password unlocks, so neither the agency
//! nor someone holding the database can map the report back to a person.

use crate::catalog::AgencyCode;
use crate::ids::UserId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Citizen,
    Officer,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
    /// Officers and supervisors belong to exactly one agency.
    pub fn needs_agency(self) -> bool {
        matches!(self, Role::Officer | Role::Supervisor)
    }
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Citizen)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid role '{0}': use citizen, officer, supervisor or admin")]
pub struct BadRole(pub String);

impl FromStr for Role {
    type Err = BadRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "citizen" => Ok(Role::Citizen),
            "officer" => Ok(Role::Officer),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            _ => Err(BadRole(s.to_owned())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Visibility {
    #[default]
    Public,
    Private,
    Anonymous,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "PUBLIC",
            Visibility::Private => "PRIVATE",
            Visibility::Anonymous => "ANONYMOUS",
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid visibility '{0}': use PUBLIC, PRIVATE or ANONYMOUS")]
pub struct BadVisibility(pub String);

impl FromStr for Visibility {
    type Err = BadVisibility;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PUBLIC" => Ok(Visibility::Public),
            "PRIVATE" => Ok(Visibility::Private),
            "ANONYMOUS" => Ok(Visibility::Anonymous),
            _ => Err(BadVisibility(s.to_owned())),
        }
    }
}

/// A reporter's pseudonym for ANONYMOUS reports (64 hex characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OwnerTag(String);

impl OwnerTag {
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who owns a report: a named user, or an anonymous pseudonym.
/// Stored and carried in events as `u:<uuid>` or `a:<tag>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    User(UserId),
    Anonymous(OwnerTag),
}

impl Owner {
    /// The named reporter, if the report is not anonymous.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Owner::User(u) => Some(*u),
            Owner::Anonymous(_) => None,
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::User(u) => write!(f, "u:{u}"),
            Owner::Anonymous(t) => write!(f, "a:{}", t.as_str()),
        }
    }
}

impl FromStr for Owner {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some(("u", id)) => id.parse().map(Owner::User).map_err(|e| e.to_string()),
            Some(("a", tag)) => OwnerTag::parse(tag)
                .map(Owner::Anonymous)
                .ok_or_else(|| "bad owner tag".into()),
            _ => Err(format!("bad owner reference '{s}'")),
        }
    }
}

impl Serialize for Owner {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Owner {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    pub agency: Option<AgencyCode>,
    /// The caller's anonymous pseudonym; lets them find their ANONYMOUS reports.
    pub owner_tag: Option<OwnerTag>,
}

impl Principal {
    /// The owner recorded on a new report with this visibility.
    pub fn owner_for(&self, visibility: Visibility) -> Option<Owner> {
        match visibility {
            Visibility::Anonymous => self.owner_tag.clone().map(Owner::Anonymous),
            _ => Some(Owner::User(self.user_id)),
        }
    }

    /// Every owner reference that belongs to this caller.
    pub fn owners(&self) -> Vec<Owner> {
        let mut v = vec![Owner::User(self.user_id)];
        if let Some(t) = &self.owner_tag {
            v.push(Owner::Anonymous(t.clone()));
        }
        v
    }

    pub fn owns(&self, owner: &Owner) -> bool {
        match owner {
            Owner::User(u) => *u == self.user_id,
            Owner::Anonymous(t) => self.owner_tag.as_ref() == Some(t),
        }
    }

    /// Officer or supervisor of this agency.
    pub fn is_staff_of(&self, agency: &AgencyCode) -> bool {
        self.role.needs_agency() && self.agency.as_ref() == Some(agency)
    }

    /// May work (see, change, answer) the cases of `agency`: its officers and
    /// supervisor, and the city head.
    pub fn works_cases_of(&self, agency: &AgencyCode) -> bool {
        self.role == Role::Admin || self.is_staff_of(agency)
    }

    /// Supervisors and the city head configure SLAs and see escalations.
    pub fn is_manager(&self) -> bool {
        matches!(self.role, Role::Supervisor | Role::Admin)
    }
}

/// The facts about a report that decide who may see it.
#[derive(Debug, Clone, Copy)]
pub struct ReportAccess<'a> {
    pub visibility: Visibility,
    pub owner: &'a Owner,
    pub agency: &'a AgencyCode,
}

/// PUBLIC reports are for everyone; PRIVATE and ANONYMOUS ones only for their
/// reporter and the responsible agency (and the city head).
pub fn can_view(viewer: Option<&Principal>, r: ReportAccess<'_>) -> bool {
    if r.visibility == Visibility::Public {
        return true;
    }
    match viewer {
        None => false,
        Some(p) => p.owns(r.owner) || p.works_cases_of(r.agency),
    }
}

/// Whether a response to `viewer` may name the reporter. Never for
/// ANONYMOUS reports, whoever asks; otherwise the reporter themself and the
/// staff who work the case.
pub fn may_see_reporter(viewer: Option<&Principal>, r: ReportAccess<'_>) -> bool {
    if r.visibility == Visibility::Anonymous {
        return false;
    }
    match viewer {
        None => false,
        Some(p) => p.owns(r.owner) || p.works_cases_of(r.agency),
    }
}

/// Which reports a listing may contain for a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingScope {
    /// Unauthenticated: PUBLIC only.
    PublicOnly,
    /// A citizen: PUBLIC plus their own.
    PublicAndOwn(Vec<Owner>),
    /// Staff: PUBLIC plus their own plus their agency's.
    PublicOwnAndAgency(Vec<Owner>, AgencyCode),
    /// The city head: everything.
    All,
}

/// A scope other than [`ListingScope::All`] as the union it admits: every
/// PUBLIC report, the reports of these owners, and (for staff) every report
/// of this agency. Query builders render this, so the rule is written once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeTerms<'a> {
    pub owners: &'a [Owner],
    pub agency: Option<&'a AgencyCode>,
}

impl ListingScope {
    /// The union this scope admits; `None` for [`ListingScope::All`]
    /// (everything, no condition).
    pub fn terms(&self) -> Option<ScopeTerms<'_>> {
        match self {
            ListingScope::All => None,
            ListingScope::PublicOnly => Some(ScopeTerms {
                owners: &[],
                agency: None,
            }),
            ListingScope::PublicAndOwn(owners) => Some(ScopeTerms {
                owners,
                agency: None,
            }),
            ListingScope::PublicOwnAndAgency(owners, agency) => Some(ScopeTerms {
                owners,
                agency: Some(agency),
            }),
        }
    }

    /// Whether a listing in this scope may show a report with these facts
    /// (an unknown owner matches no owner term).
    pub fn admits(
        &self,
        visibility: Visibility,
        owner: Option<&Owner>,
        agency: &AgencyCode,
    ) -> bool {
        match self.terms() {
            None => true,
            Some(t) => {
                visibility == Visibility::Public
                    || owner.is_some_and(|o| t.owners.contains(o))
                    || t.agency == Some(agency)
            }
        }
    }

    /// Whether this scope admits every report of `owner`, whatever its
    /// visibility and agency (the caller's own reports; everything for the
    /// city head).
    pub fn admits_every_report_of(&self, owner: &Owner) -> bool {
        self.terms().is_none_or(|t| t.owners.contains(owner))
    }
}

pub fn listing_scope(viewer: Option<&Principal>) -> ListingScope {
    match viewer {
        None => ListingScope::PublicOnly,
        Some(p) if p.role == Role::Admin => ListingScope::All,
        Some(p) => match (&p.agency, p.role.needs_agency()) {
            (Some(a), true) => ListingScope::PublicOwnAndAgency(p.owners(), a.clone()),
            _ => ListingScope::PublicAndOwn(p.owners()),
        },
    }
}

/// Why a staff member may not look at an agency's cases.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScopeError {
    #[error("your account belongs to no agency")]
    NoAgency,
    #[error("you can only see your own agency")]
    OtherAgency,
}

/// The agency whose cases `by` looks at when asking for `requested`:
/// the city head any agency or, with none requested, every agency (`None`);
/// officers and supervisors only their own (also when none is requested).
pub fn agency_scope(
    by: &Principal,
    requested: Option<AgencyCode>,
) -> Result<Option<AgencyCode>, ScopeError> {
    if by.role == Role::Admin {
        return Ok(requested);
    }
    let own = by.agency.clone().ok_or(ScopeError::NoAgency)?;
    match requested {
        Some(r) if r != own => Err(ScopeError::OtherAgency),
        _ => Ok(Some(own)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(c: char) -> OwnerTag {
        OwnerTag::parse(&c.to_string().repeat(64)).unwrap()
    }
    fn principal(role: Role, agency: Option<&str>, t: char) -> Principal {
        Principal {
            user_id: UserId::new_v7(),
            username: "u".into(),
            role,
            agency: agency.map(|a| AgencyCode::parse(a).unwrap()),
            owner_tag: Some(tag(t)),
        }
    }

    #[test]
    fn private_and_anonymous_reports_are_for_reporter_and_agency_only() {
        let reporter = principal(Role::Citizen, None, 'a');
        let other = principal(Role::Citizen, None, 'b');
        let infra = principal(Role::Officer, Some("AGENCY_INFRA"), 'c');
        let health = principal(Role::Officer, Some("AGENCY_HEALTH"), 'd');
        let admin = principal(Role::Admin, None, 'e');
        let agency = AgencyCode::parse("AGENCY_INFRA").unwrap();
        for vis in [Visibility::Private, Visibility::Anonymous] {
            let owner = reporter.owner_for(vis).unwrap();
            let r = ReportAccess {
                visibility: vis,
                owner: &owner,
                agency: &agency,
            };
            assert!(can_view(Some(&reporter), r));
            assert!(can_view(Some(&infra), r));
            assert!(can_view(Some(&admin), r));
            assert!(!can_view(Some(&other), r));
            assert!(!can_view(Some(&health), r));
            assert!(!can_view(None, r));
        }
    }

    #[test]
    fn anonymous_reporters_are_never_revealed() {
        let reporter = principal(Role::Citizen, None, 'a');
        let infra = principal(Role::Officer, Some("AGENCY_INFRA"), 'c');
        let agency = AgencyCode::parse("AGENCY_INFRA").unwrap();
        let owner = reporter.owner_for(Visibility::Anonymous).unwrap();
        assert_eq!(
            owner.user_id(),
            None,
            "an anonymous owner carries no user id"
        );
        let r = ReportAccess {
            visibility: Visibility::Anonymous,
            owner: &owner,
            agency: &agency,
        };
        assert!(!may_see_reporter(Some(&infra), r));
        assert!(!may_see_reporter(Some(&reporter), r));
        let owner = reporter.owner_for(Visibility::Private).unwrap();
        let r = ReportAccess {
            visibility: Visibility::Private,
            owner: &owner,
            agency: &agency,
        };
        assert!(may_see_reporter(Some(&infra), r));
        assert!(!may_see_reporter(None, r));
    }

    #[test]
    fn owners_round_trip_through_text() {
        let o = Owner::Anonymous(tag('f'));
        assert_eq!(o.to_string().parse::<Owner>().unwrap(), o);
        let u = Owner::User(UserId::new_v7());
        assert_eq!(u.to_string().parse::<Owner>().unwrap(), u);
        assert!("x:1".parse::<Owner>().is_err());
    }

    #[test]
    fn scopes_follow_roles() {
        assert_eq!(listing_scope(None), ListingScope::PublicOnly);
        let c = principal(Role::Citizen, None, 'a');
        assert!(matches!(listing_scope(Some(&c)), ListingScope::PublicAndOwn(o) if o.len() == 2));
        let s = principal(Role::Supervisor, Some("AGENCY_SAFETY"), 'b');
        assert!(
            matches!(listing_scope(Some(&s)), ListingScope::PublicOwnAndAgency(_, a) if a.as_str() == "AGENCY_SAFETY")
        );
        assert_eq!(
            listing_scope(Some(&principal(Role::Admin, None, 'c'))),
            ListingScope::All
        );
    }

    #[test]
    fn scopes_admit_public_own_and_agency_reports_as_can_view_does() {
        let me = principal(Role::Citizen, None, 'a');
        let other = principal(Role::Citizen, None, 'b');
        let officer = principal(Role::Officer, Some("AGENCY_INFRA"), 'c');
        let admin = principal(Role::Admin, None, 'd');
        let infra = AgencyCode::parse("AGENCY_INFRA").unwrap();
        let health = AgencyCode::parse("AGENCY_HEALTH").unwrap();
        let viewers = [None, Some(&me), Some(&other), Some(&officer), Some(&admin)];
        let owners = [
            me.owner_for(Visibility::Private).unwrap(),
            me.owner_for(Visibility::Anonymous).unwrap(),
            other.owner_for(Visibility::Private).unwrap(),
            officer.owner_for(Visibility::Private).unwrap(),
        ];
        // A listing shows exactly the reports its caller may view.
        for viewer in viewers {
            let scope = listing_scope(viewer);
            for vis in [
                Visibility::Public,
                Visibility::Private,
                Visibility::Anonymous,
            ] {
                for owner in &owners {
                    for agency in [&infra, &health] {
                        let r = ReportAccess {
                            visibility: vis,
                            owner,
                            agency,
                        };
                        assert_eq!(
                            scope.admits(vis, Some(owner), agency),
                            can_view(viewer, r),
                            "{scope:?} {vis} {owner} {agency}"
                        );
                    }
                }
            }
        }
        assert!(!ListingScope::PublicAndOwn(me.owners()).admits(Visibility::Private, None, &infra));
        assert!(ListingScope::All.admits(Visibility::Private, None, &infra));
    }

    #[test]
    fn a_scope_admits_every_report_of_its_own_owners_only() {
        let me = principal(Role::Citizen, None, 'a');
        let mine = me.owner_for(Visibility::Anonymous).unwrap();
        let theirs = principal(Role::Citizen, None, 'b').owners()[0].clone();
        let infra = AgencyCode::parse("AGENCY_INFRA").unwrap();
        let own = ListingScope::PublicAndOwn(me.owners());
        assert!(own.admits_every_report_of(&mine));
        assert!(!own.admits_every_report_of(&theirs));
        let staff = ListingScope::PublicOwnAndAgency(me.owners(), infra);
        assert!(staff.admits_every_report_of(&mine));
        assert!(!staff.admits_every_report_of(&theirs));
        assert!(!ListingScope::PublicOnly.admits_every_report_of(&mine));
        assert!(ListingScope::All.admits_every_report_of(&theirs));
        assert_eq!(ListingScope::All.terms(), None);
        assert_eq!(
            ListingScope::PublicOnly.terms(),
            Some(ScopeTerms {
                owners: &[],
                agency: None
            })
        );
    }

    #[test]
    fn roles_print_and_parse_their_names() {
        let names = ["citizen", "officer", "supervisor", "admin"];
        let roles = [Role::Citizen, Role::Officer, Role::Supervisor, Role::Admin];
        for (name, role) in names.into_iter().zip(roles) {
            assert_eq!(role.as_str(), name);
            assert_eq!(role.to_string(), name);
            assert_eq!(name.parse::<Role>(), Ok(role));
            assert_eq!(
                format!(" {} ", name.to_uppercase()).parse::<Role>(),
                Ok(role)
            );
        }
        assert_eq!("mayor".parse::<Role>(), Err(BadRole("mayor".into())));
    }

    #[test]
    fn only_officers_and_supervisors_belong_to_an_agency_and_only_citizens_are_not_staff() {
        let facts = |r: Role| (r.needs_agency(), r.is_staff());
        assert_eq!(facts(Role::Citizen), (false, false));
        assert_eq!(facts(Role::Officer), (true, true));
        assert_eq!(facts(Role::Supervisor), (true, true));
        assert_eq!(facts(Role::Admin), (false, true));
    }

    #[test]
    fn supervisors_and_the_city_head_are_managers() {
        let manager = |role| principal(role, Some("AGENCY_INFRA"), 'a').is_manager();
        assert!(!manager(Role::Citizen));
        assert!(!manager(Role::Officer));
        assert!(manager(Role::Supervisor));
        assert!(manager(Role::Admin));
    }

    #[test]
    fn an_admin_with_an_agency_is_not_its_staff_but_works_its_cases() {
        let infra = AgencyCode::parse("AGENCY_INFRA").unwrap();
        let admin = principal(Role::Admin, Some("AGENCY_INFRA"), 'a');
        assert!(!admin.is_staff_of(&infra));
        assert!(admin.works_cases_of(&infra));
        let citizen = principal(Role::Citizen, Some("AGENCY_INFRA"), 'b');
        assert!(!citizen.is_staff_of(&infra));
        assert!(!citizen.works_cases_of(&infra));
    }

    #[test]
    fn visibilities_print_and_parse_their_names() {
        let names = ["PUBLIC", "PRIVATE", "ANONYMOUS"];
        let all = [
            Visibility::Public,
            Visibility::Private,
            Visibility::Anonymous,
        ];
        for (name, vis) in names.into_iter().zip(all) {
            assert_eq!(vis.as_str(), name);
            assert_eq!(vis.to_string(), name);
            assert_eq!(name.to_lowercase().parse::<Visibility>(), Ok(vis));
        }
    }

    #[test]
    fn owner_tags_are_64_lower_case_hex_characters() {
        assert!(OwnerTag::parse(&"0f".repeat(32)).is_some());
        assert_eq!(
            OwnerTag::parse(&"0f".repeat(32)).unwrap().as_str(),
            "0f".repeat(32)
        );
        // Right characters, wrong length.
        assert_eq!(OwnerTag::parse(&"a".repeat(63)), None);
        assert_eq!(OwnerTag::parse(&"a".repeat(65)), None);
        // Right length, wrong characters.
        assert_eq!(OwnerTag::parse(&"g".repeat(64)), None);
        assert_eq!(OwnerTag::parse(&"A".repeat(64)), None);
        assert_eq!(OwnerTag::parse(&format!("{}A", "a".repeat(63))), None);
    }

    #[test]
    fn visibility_parses_case_insensitively() {
        assert_eq!("private".parse::<Visibility>(), Ok(Visibility::Private));
        assert!("secret".parse::<Visibility>().is_err());
    }

    #[test]
    fn staff_see_their_own_agency_and_the_city_head_any() {
        let infra = AgencyCode::parse("AGENCY_INFRA").unwrap();
        let health = AgencyCode::parse("AGENCY_HEALTH").unwrap();
        let p = |role, agency: Option<&AgencyCode>| Principal {
            user_id: UserId::new_v7(),
            username: "x".into(),
            role,
            agency: agency.cloned(),
            owner_tag: None,
        };
        let officer = p(Role::Officer, Some(&infra));
        assert_eq!(agency_scope(&officer, None), Ok(Some(infra.clone())));
        assert_eq!(
            agency_scope(&officer, Some(infra.clone())),
            Ok(Some(infra.clone()))
        );
        assert_eq!(
            agency_scope(&officer, Some(health.clone())),
            Err(ScopeError::OtherAgency)
        );
        assert_eq!(
            agency_scope(&p(Role::Supervisor, None), None),
            Err(ScopeError::NoAgency)
        );
        let head = p(Role::Admin, None);
        assert_eq!(agency_scope(&head, None), Ok(None));
        assert_eq!(agency_scope(&head, Some(health.clone())), Ok(Some(health)));
    }
}
