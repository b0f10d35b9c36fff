//! The identity context: users with unique names, looked up by name and
//! id and listed by role and agency; the catalog seeded once and edited.

use crate::fixtures::*;
use lapor_app::ports::UserRecord;
use lapor_domain::access::Role;
use lapor_domain::catalog::{Agency, Category};
use lapor_domain::ids::UserId;
use lapor_store_conformance::harness::TestStores;

pub async fn identity_users_and_catalog(s: &TestStores) {
    let id = &s.identity;
    let catalog = id.catalog().await.unwrap();
    assert_eq!(catalog.agencies().count(), 3);
    assert_eq!(catalog.categories().count(), 6);
    assert_eq!(id.catalog().await.unwrap(), catalog, "seeded once");
    id.upsert_agency(&Agency {
        code: agency("AGENCY_WATER"),
        name: "Dinas Air".into(),
    })
    .await
    .unwrap();
    id.upsert_agency(&Agency {
        code: agency("AGENCY_WATER"),
        name: "Dinas Sumber Daya Air".into(),
    })
    .await
    .unwrap();
    id.upsert_category(&Category {
        slug: cat("banjir"),
        name: "Banjir".into(),
        agency: agency("AGENCY_WATER"),
    })
    .await
    .unwrap();
    id.upsert_category(&Category {
        slug: cat("lainnya"),
        name: "Lainnya".into(),
        agency: agency("AGENCY_WATER"),
    })
    .await
    .unwrap();
    let catalog = id.catalog().await.unwrap();
    assert_eq!(
        catalog.agency(&agency("AGENCY_WATER")).unwrap().name,
        "Dinas Sumber Daya Air"
    );
    assert_eq!(
        catalog.category(&cat("lainnya")).unwrap().agency,
        agency("AGENCY_WATER")
    );
    assert_eq!(catalog.categories().count(), 7);

    let rec = |name: &str, role: Role, ag: Option<&str>| UserRecord {
        id: UserId::new_v7(),
        username: name.into(),
        password_hash: "$argon2id$v=19$...".into(),
        role,
        agency: ag.map(agency),
        sealed_anon_key: Some("v1.sealed".into()),
        created_at: at(0),
    };
    let alice = rec("alice", Role::Citizen, None);
    let zed = rec("Zed", Role::Supervisor, Some("AGENCY_INFRA"));
    let sup2 = rec("sup2", Role::Supervisor, Some("AGENCY_HEALTH"));
    for u in [&alice, &zed, &sup2] {
        id.insert_user(u).await.unwrap();
    }
    conflict(id.insert_user(&rec("alice", Role::Admin, None)).await);

    let got = id.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(
        (
            got.id,
            got.role,
            got.agency,
            got.sealed_anon_key,
            got.created_at
        ),
        (
            alice.id,
            Role::Citizen,
            None,
            alice.sealed_anon_key.clone(),
            at(0)
        )
    );
    assert!(id.user_by_username("ALICE").await.unwrap().is_none());
    let got = id.user_by_id(zed.id).await.unwrap().unwrap();
    assert_eq!(
        (got.username.as_str(), got.agency),
        ("Zed", Some(agency("AGENCY_INFRA")))
    );
    assert!(id.user_by_id(UserId::new_v7()).await.unwrap().is_none());

    // byte order, as on SQLite: "Zed" before "alice"
    let names = |v: Vec<UserRecord>| v.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(
        names(id.users(None, None).await.unwrap()),
        ["Zed", "alice", "sup2"]
    );
    assert_eq!(
        names(id.users(Some(Role::Supervisor), None).await.unwrap()),
        ["Zed", "sup2"]
    );
    assert_eq!(
        names(
            id.users(Some(Role::Supervisor), Some(&agency("AGENCY_HEALTH")))
                .await
                .unwrap()
        ),
        ["sup2"]
    );
    assert!(id.users(Some(Role::Admin), None).await.unwrap().is_empty());
}
