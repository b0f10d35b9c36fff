//! Listing scopes as SQL, for every PostgreSQL listing (report views, SLA
//! jobs).
//!
//! Who may see what is decided by the domain ([`ListingScope::terms`]):
//! everything, or the union of PUBLIC reports, the caller's own and (for
//! staff) their agency's. This module only renders that union, so no
//! listing writes its own visibility rule.

use lapor_domain::access::{ListingScope, Owner};
use sqlx::{Postgres, QueryBuilder};

/// How a table holds the facts a scope tests.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    /// The condition that holds for a PUBLIC row.
    pub public: &'static str,
    pub owner: &'static str,
    pub agency: &'static str,
}

/// Report views and SLA jobs. (A literal, not a parameter: the planner
/// matches it against the visibility indexes.)
pub const ROWS: Columns = Columns {
    public: "visibility = 'PUBLIC'",
    owner: "owner",
    agency: "agency",
};

/// Owner references as bound text, for `owner = ANY($n)`: one parameter
/// however many owners.
pub(crate) fn owner_refs(owners: &[Owner]) -> Vec<String> {
    owners.iter().map(|o| o.to_string()).collect()
}

/// Appends ` AND (<the scope>)` to a WHERE clause, or nothing for a scope
/// that admits everything.
pub fn push_scope(qb: &mut QueryBuilder<'_, Postgres>, scope: &ListingScope, cols: Columns) {
    let Some(t) = scope.terms() else {
        return;
    };
    qb.push(" AND (").push(cols.public);
    if !t.owners.is_empty() {
        qb.push(" OR ")
            .push(cols.owner)
            .push(" = ANY(")
            .push_bind(owner_refs(t.owners))
            .push(")");
    }
    if let Some(a) = t.agency {
        qb.push(" OR ")
            .push(cols.agency)
            .push(" = ")
            .push_bind(a.to_string());
    }
    qb.push(")");
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::access::Visibility;
    use lapor_domain::catalog::AgencyCode;
    use lapor_domain::ids::UserId;

    fn sql(scope: &ListingScope) -> String {
        let mut qb = QueryBuilder::<Postgres>::new("WHERE withdrawn = 0");
        push_scope(&mut qb, scope, ROWS);
        qb.into_sql()
    }

    #[test]
    fn rows_test_the_stored_name_of_public() {
        assert_eq!(
            ROWS.public,
            format!("visibility = '{}'", Visibility::Public.as_str())
        );
    }

    // What the clauses select is checked against the domain's rule on a
    // database by the conformance suite; here, their shape per scope.
    #[test]
    fn each_scope_renders_its_union() {
        let me = Owner::User(UserId(uuid::Uuid::from_u128(1)));
        let infra = AgencyCode::parse("AGENCY_INFRA").unwrap();
        assert_eq!(sql(&ListingScope::All), "WHERE withdrawn = 0");
        assert_eq!(
            sql(&ListingScope::PublicOnly),
            "WHERE withdrawn = 0 AND (visibility = 'PUBLIC')"
        );
        assert_eq!(
            sql(&ListingScope::PublicAndOwn(vec![me.clone()])),
            "WHERE withdrawn = 0 AND (visibility = 'PUBLIC' OR owner = ANY($1))"
        );
        assert_eq!(
            sql(&ListingScope::PublicOwnAndAgency(vec![me], infra.clone())),
            "WHERE withdrawn = 0 AND (visibility = 'PUBLIC' OR owner = ANY($1) OR agency = $2)"
        );
        assert_eq!(
            sql(&ListingScope::PublicOwnAndAgency(vec![], infra)),
            "WHERE withdrawn = 0 AND (visibility = 'PUBLIC' OR agency = $1)"
        );
    }
}
