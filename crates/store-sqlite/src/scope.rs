//! Listing scopes as SQL, for every SQLite listing (report views, SLA jobs)
//! and for the totals summed from their counters.
//!
//! Who may see what is decided by the domain ([`ListingScope::terms`]):
//! everything, or the union of PUBLIC reports, the caller's own and (for
//! staff) their agency's. This module only renders that union, so no
//! listing writes its own visibility rule.

use crate::db::Sql;
use lapor_domain::access::{ListingScope, ScopeTerms};

/// How a table holds the facts a scope tests. Rows (report views, SLA jobs)
/// carry the visibility; counter tables a `public` flag. Owner and agency
/// columns have the same names everywhere.
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

/// The per-owner counter tables (`report_owner_counts`, `sla_owner_counts`).
pub const COUNTERS: Columns = Columns {
    public: "public = 1",
    owner: "owner",
    agency: "agency",
};

/// Appends ` AND (<the scope>)` to a WHERE clause, or nothing for a scope
/// that admits everything.
pub fn push_scope(q: &mut Sql, scope: &ListingScope, cols: Columns) {
    let Some(t) = scope.terms() else {
        return;
    };
    q.push(" AND (").push(cols.public);
    if !t.owners.is_empty() {
        q.push(" OR ")
            .push(cols.owner)
            .push(" IN ")
            .bind_list(t.owners);
    }
    if let Some(a) = t.agency {
        q.push(" OR ")
            .push(cols.agency)
            .push(" = ")
            .bind(a.to_string());
    }
    q.push(")");
}

/// Appends the number of rows in `scope`, summed from counters: `counts`
/// is keyed by (public, agency, ...), `owner_counts` by owner as well.
/// The sum is split so no row is counted twice: everything PUBLIC or of the
/// caller's agency from `counts`, plus the caller's own reports that this
/// left out (not PUBLIC, of another agency) from `owner_counts`. `filters`
/// appends the listing's other conditions (` AND ...`) to both sums.
pub fn push_scope_total(
    q: &mut Sql,
    scope: &ListingScope,
    counts: &str,
    owner_counts: &str,
    filters: &dyn Fn(&mut Sql),
) {
    let terms = scope.terms();
    q.push("(SELECT coalesce(sum(n), 0) FROM ")
        .push(counts)
        .push(" WHERE ");
    match terms {
        None => {
            q.push("1");
        }
        Some(ScopeTerms { agency: None, .. }) => {
            q.push(COUNTERS.public);
        }
        Some(ScopeTerms {
            agency: Some(a), ..
        }) => {
            q.push("(")
                .push(COUNTERS.public)
                .push(" OR agency = ")
                .bind(a.to_string())
                .push(")");
        }
    }
    filters(q);
    q.push(")");
    if let Some(t) = terms.filter(|t| !t.owners.is_empty()) {
        q.push(" + (SELECT coalesce(sum(n), 0) FROM ")
            .push(owner_counts)
            .push(" WHERE owner IN ")
            .bind_list(t.owners)
            .push(" AND public = 0");
        if let Some(a) = t.agency {
            q.push(" AND agency <> ").bind(a.to_string());
        }
        filters(q);
        q.push(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::access::{Owner, Visibility};
    use lapor_domain::catalog::AgencyCode;
    use lapor_domain::ids::UserId;
    use rusqlite::Connection;

    fn user(n: u128) -> Owner {
        Owner::User(UserId(uuid::Uuid::from_u128(n)))
    }
    fn agency(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }

    #[test]
    fn rows_test_the_stored_name_of_public() {
        assert_eq!(
            ROWS.public,
            format!("visibility = '{}'", Visibility::Public.as_str())
        );
    }

    /// Every combination of visibility, owner and agency as rows and as
    /// counters: for each scope, the rows the SQL selects are those the
    /// domain admits, and the counted total is their number.
    #[test]
    fn sql_scopes_select_what_the_domain_admits_and_totals_count_it() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE rows (id INTEGER, visibility TEXT, owner TEXT, agency TEXT);
             CREATE TABLE counts (public INTEGER, agency TEXT, n INTEGER);
             CREATE TABLE owner_counts (owner TEXT, public INTEGER, agency TEXT, n INTEGER);",
        )
        .unwrap();
        let owners = [user(1), user(2), user(3)];
        let agencies = [agency("AGENCY_INFRA"), agency("AGENCY_HEALTH")];
        let mut facts = Vec::new();
        for vis in [
            Visibility::Public,
            Visibility::Private,
            Visibility::Anonymous,
        ] {
            for o in &owners {
                for a in &agencies {
                    let id = facts.len() as i64;
                    c.execute(
                        "INSERT INTO rows VALUES (?1, ?2, ?3, ?4)",
                        rusqlite::params![id, vis.as_str(), o.to_string(), a.as_str()],
                    )
                    .unwrap();
                    let public = vis == Visibility::Public;
                    c.execute(
                        "INSERT INTO counts VALUES (?1, ?2, 1)",
                        rusqlite::params![public, a.as_str()],
                    )
                    .unwrap();
                    c.execute(
                        "INSERT INTO owner_counts VALUES (?1, ?2, ?3, 1)",
                        rusqlite::params![o.to_string(), public, a.as_str()],
                    )
                    .unwrap();
                    facts.push((vis, o.clone(), a.clone()));
                }
            }
        }
        let scopes = [
            ListingScope::PublicOnly,
            ListingScope::PublicAndOwn(vec![]),
            ListingScope::PublicAndOwn(vec![user(1)]),
            ListingScope::PublicAndOwn(vec![user(1), user(2)]),
            ListingScope::PublicOwnAndAgency(vec![user(1)], agency("AGENCY_INFRA")),
            ListingScope::PublicOwnAndAgency(vec![], agency("AGENCY_HEALTH")),
            ListingScope::All,
        ];
        for scope in scopes {
            let want: Vec<i64> = facts
                .iter()
                .enumerate()
                .filter(|(_, (v, o, a))| scope.admits(*v, Some(o), a))
                .map(|(i, _)| i as i64)
                .collect();
            let mut q = Sql::new("SELECT id FROM rows WHERE 1 = 1");
            push_scope(&mut q, &scope, ROWS);
            q.push(" ORDER BY id");
            let got: Vec<i64> =
                crate::db::collect(&c, &q.sql, q.params(), |r| Ok(r.get(0).unwrap())).unwrap();
            assert_eq!(got, want, "{scope:?}: {}", q.sql);

            let mut q = Sql::new("SELECT count(*) FROM owner_counts WHERE 1 = 1");
            push_scope(&mut q, &scope, COUNTERS);
            let n: i64 = c.query_row(&q.sql, q.params(), |r| r.get(0)).unwrap();
            assert_eq!(n as usize, want.len(), "{scope:?}: {}", q.sql);

            let mut q = Sql::new("SELECT ");
            push_scope_total(&mut q, &scope, "counts", "owner_counts", &|q| {
                q.push(" AND n = 1");
            });
            let n: i64 = c.query_row(&q.sql, q.params(), |r| r.get(0)).unwrap();
            assert_eq!(n as usize, want.len(), "{scope:?}: {}", q.sql);
        }
    }
}
