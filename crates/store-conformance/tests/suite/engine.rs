//! Behaviour of the engine as a whole rather than of one port: a closed
//! engine refuses writes as unavailable (HTTP 503), not with an internal
//! error or a hang; every consumer counts only the events it acts on.

use crate::fixtures::*;
use lapor_app::ports::{EventConsumer, StoreError};
use lapor_domain::access::Visibility;
use lapor_domain::lifecycle::Status;
use lapor_store_conformance::harness::TestStores;

pub async fn a_closed_engine_refuses_writes_as_unavailable(s: &TestStores) {
    let r = report(&user(), Visibility::Public, "kebersihan", "AGENCY_INFRA", 0);
    s.reporting.insert_report(&r, &created(&r)).await.unwrap();
    s.close().await;
    let other = report(&user(), Visibility::Public, "kebersihan", "AGENCY_INFRA", 1);
    let e = s
        .reporting
        .insert_report(&other, &created(&other))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    let e = s.projector.apply(&[created(&r)], now()).await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    let e = s.workflow.set_sla_seconds(None, 60).await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
}

/// A consumer handed events it does not act on (another context's
/// concern, or its own events coming back through the bus) changes nothing
/// and counts none of them as applied.
pub async fn consumers_count_only_the_events_they_act_on(s: &TestStores) {
    let r = report(&user(), Visibility::Public, "kebersihan", "AGENCY_INFRA", 0);
    s.reporting.insert_report(&r, &created(&r)).await.unwrap();
    let (operations, workflow): (&dyn EventConsumer, &dyn EventConsumer) =
        (&*s.operations, &*s.workflow);
    for consumer in [&*s.projector, operations, workflow] {
        consumer.apply(&[created(&r)], now()).await.unwrap();
    }
    let photos = new_photos(1);
    let cases: [(&str, &dyn EventConsumer, Vec<_>); 4] = [
        (
            "reporting",
            &*s.reporting,
            vec![
                created(&r),
                upvoted(&r, 1, 1),
                answered(&r, 2),
                escalated(&r, 1, 3),
                sla_started(&r, 60),
            ],
        ),
        ("projector:read", &*s.projector, vec![sla_started(&r, 60)]),
        (
            "operations",
            operations,
            vec![
                status(&r, Status::Received, Status::InProgress, 4),
                answered(&r, 5),
                photos_added(&r, &photos, 6),
            ],
        ),
        (
            "workflow",
            workflow,
            vec![
                escalated(&r, 1, 7),
                upvoted(&r, 1, 8),
                photos_added(&r, &photos, 9),
                sla_started(&r, 60),
            ],
        ),
    ];
    let mut counted = vec![];
    for (name, consumer, ignored) in cases {
        let n = consumer.apply(&ignored, now()).await.unwrap();
        if n != 0 {
            counted.push(format!("{name} counted {n} of {}", ignored.len()));
        }
    }
    // and they changed nothing
    assert_eq!(
        s.operations.case_state(r.id).await.unwrap().unwrap().status,
        Status::Received
    );
    assert_eq!(
        s.reporting.report(r.id).await.unwrap().unwrap().vote_count,
        0
    );
    assert!(
        counted.is_empty(),
        "events a consumer does not act on were counted as applied: {}",
        counted.join("; ")
    );
}
