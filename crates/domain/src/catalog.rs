//! Categories and agencies are data the city head manages; this module holds
//! their validated names and the routing rule (a category goes to exactly one
//! agency).

use crate::text::{TextError, bounded};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("unknown category '{0}'")]
    UnknownCategory(String),
    #[error("unknown agency '{0}'")]
    UnknownAgency(String),
    #[error("invalid category slug '{0}': use 1-40 lower-case letters, digits, '-' or '_'")]
    BadCategory(String),
    #[error("invalid agency code '{0}': use 1-40 upper-case letters, digits or '_'")]
    BadAgency(String),
    #[error("category '{0}' already exists: use that slug to rename or re-route it")]
    CategoryExists(String),
}

/// The longest agency or category name.
pub const MAX_NAME: usize = 120;

/// A display name of an agency or category: trimmed, 1 to [`MAX_NAME`]
/// characters, no NUL.
pub fn parse_name(raw: &str) -> Result<String, TextError> {
    bounded("name", raw, MAX_NAME)
}

/// A category slug such as `infrastruktur` or `air_bersih`. Parsing is
/// case-insensitive (seed 2 filters case-insensitively) and takes `-` for
/// `_`: there is one canonical form, lower case with underscores (like the
/// rest of Lapor's identifiers: agency codes, statuses), so `air-bersih`
/// and `Air_Bersih` name the same category.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CategorySlug(String);

impl CategorySlug {
    pub fn parse(raw: &str) -> Result<Self, CatalogError> {
        let s = raw.trim().to_ascii_lowercase().replace('-', "_");
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(s))
        } else {
            Err(CatalogError::BadCategory(raw.to_owned()))
        }
    }

    /// Whether `raw` is written in the canonical form already (up to case
    /// and surrounding space, which parsing has always ignored).
    fn spelled_canonically(&self, raw: &str) -> bool {
        raw.trim().eq_ignore_ascii_case(&self.0)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CategorySlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An agency code such as `AGENCY_INFRA`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgencyCode(String);

impl AgencyCode {
    pub fn parse(raw: &str) -> Result<Self, CatalogError> {
        let s = raw.trim().to_ascii_uppercase();
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(s))
        } else {
            Err(CatalogError::BadAgency(raw.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for AgencyCode {
    type Err = CatalogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl std::str::FromStr for CategorySlug {
    type Err = CatalogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    pub code: AgencyCode,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub slug: CategorySlug,
    pub name: String,
    pub agency: AgencyCode,
}

/// A consistent snapshot of agencies and categories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    agencies: BTreeMap<AgencyCode, Agency>,
    categories: BTreeMap<CategorySlug, Category>,
}

impl Catalog {
    /// Builds a catalog; every category must route to a known agency.
    pub fn new(agencies: Vec<Agency>, categories: Vec<Category>) -> Result<Self, CatalogError> {
        let agencies: BTreeMap<_, _> = agencies.into_iter().map(|a| (a.code.clone(), a)).collect();
        for c in &categories {
            if !agencies.contains_key(&c.agency) {
                return Err(CatalogError::UnknownAgency(c.agency.to_string()));
            }
        }
        let categories = categories
            .into_iter()
            .map(|c| (c.slug.clone(), c))
            .collect();
        Ok(Self {
            agencies,
            categories,
        })
    }

    /// The seed set from PRODUCT.md, installed into an empty store.
    pub fn seed() -> Self {
        let a = |code: &str, name: &str| Agency {
            code: AgencyCode::parse(code).expect("seed agency"),
            name: name.into(),
        };
        let c = |slug: &str, name: &str, agency: &str| Category {
            slug: CategorySlug::parse(slug).expect("seed category"),
            name: name.into(),
            agency: AgencyCode::parse(agency).expect("seed agency"),
        };
        Self::new(
            vec![
                a("AGENCY_INFRA", "Dinas Infrastruktur"),
                a("AGENCY_HEALTH", "Dinas Kesehatan"),
                a("AGENCY_SAFETY", "Dinas Keamanan"),
            ],
            vec![
                c("infrastruktur", "Infrastruktur", "AGENCY_INFRA"),
                c("kebersihan", "Kebersihan", "AGENCY_INFRA"),
                c("lainnya", "Lainnya", "AGENCY_INFRA"),
                c("kesehatan", "Kesehatan", "AGENCY_HEALTH"),
                c("keamanan", "Keamanan", "AGENCY_SAFETY"),
                c("kriminalitas", "Kriminalitas", "AGENCY_SAFETY"),
            ],
        )
        .expect("seed catalog is consistent")
    }

    /// Routing: the one agency responsible for a category.
    pub fn route(&self, category: &str) -> Result<(&Category, &Agency), CatalogError> {
        let slug = CategorySlug::parse(category)
            .map_err(|_| CatalogError::UnknownCategory(category.to_owned()))?;
        let cat = self
            .categories
            .get(&slug)
            .ok_or_else(|| CatalogError::UnknownCategory(category.to_owned()))?;
        let agency = self
            .agencies
            .get(&cat.agency)
            .ok_or_else(|| CatalogError::UnknownAgency(cat.agency.to_string()))?;
        Ok((cat, agency))
    }

    /// The slug under which the city head may save a category: a new slug,
    /// or an existing one written as it is (which renames or re-routes it).
    /// Another spelling of an existing slug (`air-bersih` when `air_bersih`
    /// exists) is refused, so one category never shows up twice.
    pub fn slug_to_save(&self, raw: &str) -> Result<CategorySlug, CatalogError> {
        let slug = CategorySlug::parse(raw)?;
        if self.categories.contains_key(&slug) && !slug.spelled_canonically(raw) {
            return Err(CatalogError::CategoryExists(slug.0));
        }
        Ok(slug)
    }

    pub fn category(&self, slug: &CategorySlug) -> Option<&Category> {
        self.categories.get(slug)
    }
    pub fn agency(&self, code: &AgencyCode) -> Option<&Agency> {
        self.agencies.get(code)
    }
    pub fn agencies(&self) -> impl Iterator<Item = &Agency> {
        self.agencies.values()
    }
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }
    pub fn categories_of<'a>(
        &'a self,
        agency: &'a AgencyCode,
    ) -> impl Iterator<Item = &'a Category> + 'a {
        self.categories
            .values()
            .filter(move |c| &c.agency == agency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_routing_matches_the_product_brief() {
        let cat = Catalog::seed();
        for (c, a) in [
            ("infrastruktur", "AGENCY_INFRA"),
            ("kebersihan", "AGENCY_INFRA"),
            ("lainnya", "AGENCY_INFRA"),
            ("kesehatan", "AGENCY_HEALTH"),
            ("keamanan", "AGENCY_SAFETY"),
            ("kriminalitas", "AGENCY_SAFETY"),
        ] {
            assert_eq!(cat.route(c).unwrap().1.code.as_str(), a, "{c}");
        }
    }

    #[test]
    fn routing_is_case_insensitive_and_rejects_unknown() {
        let cat = Catalog::seed();
        assert_eq!(
            cat.route("KeSeHaTaN").unwrap().1.code.as_str(),
            "AGENCY_HEALTH"
        );
        assert_eq!(
            cat.route("banjir"),
            Err(CatalogError::UnknownCategory("banjir".into()))
        );
        assert!(cat.route("'; drop table").is_err());
    }

    #[test]
    fn slugs_have_one_canonical_form() {
        for raw in ["air_bersih", "air-bersih", " Air-Bersih ", "AIR_BERSIH"] {
            assert_eq!(CategorySlug::parse(raw).unwrap().as_str(), "air_bersih");
        }
        assert!(CategorySlug::parse("air bersih").is_err());
        assert!(CategorySlug::parse("air\0bersih").is_err());
    }

    #[test]
    fn slugs_and_codes_are_1_to_40_of_their_characters() {
        assert_eq!(
            CategorySlug::parse(&"a".repeat(40)).unwrap().as_str(),
            "a".repeat(40)
        );
        assert_eq!(
            CategorySlug::parse(&"a".repeat(41)),
            Err(CatalogError::BadCategory("a".repeat(41)))
        );
        assert_eq!(
            CategorySlug::parse("  "),
            Err(CatalogError::BadCategory("  ".into()))
        );
        assert_eq!(
            "rt_05".parse::<CategorySlug>().unwrap().to_string(),
            "rt_05"
        );
        assert!(CategorySlug::parse("é").is_err());

        assert_eq!(
            AgencyCode::parse(" agency_rt05 ").unwrap().as_str(),
            "AGENCY_RT05"
        );
        assert_eq!(
            AgencyCode::parse(&"A".repeat(40)).unwrap().to_string(),
            "A".repeat(40)
        );
        assert_eq!(
            AgencyCode::parse(&"A".repeat(41)),
            Err(CatalogError::BadAgency("A".repeat(41)))
        );
        assert_eq!(
            AgencyCode::parse(""),
            Err(CatalogError::BadAgency("".into()))
        );
        assert_eq!(
            "AGENCY-INFRA".parse::<AgencyCode>(),
            Err(CatalogError::BadAgency("AGENCY-INFRA".into()))
        );
    }

    #[test]
    fn a_catalog_answers_by_slug_by_code_and_by_agency() {
        let cat = Catalog::seed();
        let infra = AgencyCode::parse("AGENCY_INFRA").unwrap();
        let slug = |s| CategorySlug::parse(s).unwrap();
        assert_eq!(cat.category(&slug("kesehatan")).unwrap().name, "Kesehatan");
        assert_eq!(cat.category(&slug("banjir")), None);
        assert_eq!(cat.agency(&infra).unwrap().name, "Dinas Infrastruktur");
        assert_eq!(cat.agency(&AgencyCode::parse("NOPE").unwrap()), None);
        let of_infra: Vec<&str> = cat.categories_of(&infra).map(|c| c.slug.as_str()).collect();
        assert_eq!(of_infra, ["infrastruktur", "kebersihan", "lainnya"]);
        assert_eq!(cat.categories().count(), 6);
        assert_eq!(cat.agencies().count(), 3);
    }

    #[test]
    fn another_spelling_of_an_existing_category_is_refused() {
        let cat = Catalog::new(
            Catalog::seed().agencies().cloned().collect(),
            vec![Category {
                slug: CategorySlug::parse("air_bersih").unwrap(),
                name: "Air bersih".into(),
                agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
            }],
        )
        .unwrap();
        // The slug as it is: saving renames or re-routes it.
        assert_eq!(
            cat.slug_to_save("air_bersih").unwrap().as_str(),
            "air_bersih"
        );
        assert_eq!(
            cat.slug_to_save("AIR_BERSIH").unwrap().as_str(),
            "air_bersih"
        );
        // Another spelling: a conflict, not a second category.
        assert_eq!(
            cat.slug_to_save("air-bersih"),
            Err(CatalogError::CategoryExists("air_bersih".into()))
        );
        // New slugs are saved in the canonical form.
        assert_eq!(
            cat.slug_to_save("tanah-longsor").unwrap().as_str(),
            "tanah_longsor"
        );
        // Routing finds a category by any spelling.
        assert_eq!(cat.route("air-bersih").unwrap().0.name, "Air bersih");
    }

    #[test]
    fn names_are_bounded_and_free_of_nul() {
        assert_eq!(parse_name("  Dinas Air ").unwrap(), "Dinas Air");
        assert_eq!(
            parse_name("Dinas\0Air"),
            Err(TextError::Nul { field: "name" })
        );
        assert!(parse_name(&"x".repeat(MAX_NAME + 1)).is_err());
    }

    #[test]
    fn a_category_must_route_to_a_known_agency() {
        let err = Catalog::new(
            vec![],
            vec![Category {
                slug: CategorySlug::parse("x").unwrap(),
                name: "X".into(),
                agency: AgencyCode::parse("NOPE").unwrap(),
            }],
        );
        assert_eq!(err, Err(CatalogError::UnknownAgency("NOPE".into())));
    }
}
