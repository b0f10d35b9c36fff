//! The workflow adapter executes the reactions' writes: notifications are
//! stored as kind + params and rows stored before (a sentence) read back as
//! legacy notices; a re-route carries the report's escalations along.
use lapor_app::clock::millis;
use lapor_app::ports::{EventConsumer, WorkflowStore};
use lapor_domain::Timestamp;
use lapor_domain::access::Owner;
use lapor_domain::access::{OwnerTag, Visibility};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::EventEnvelope;
use lapor_domain::events::{DomainEvent, ReportCreated, ReportEscalated, ReportUpdated};
use lapor_domain::ids::{NotificationId, ReportId};
use lapor_domain::lifecycle::Status;
use lapor_domain::notices::Notice;
use lapor_domain::sla;
use lapor_store_sqlite::{Db, SqliteWorkflow};
use time::macros::datetime;

const T0: Timestamp = datetime!(2026-03-01 10:00 UTC);

async fn store(dir: &tempfile::TempDir) -> SqliteWorkflow {
    let db = Db::open(
        &dir.path().join("workflow.db"),
        lapor_store_sqlite::Schema::Workflow,
    )
    .await
    .unwrap();
    SqliteWorkflow::new(db)
}

fn created(id: ReportId, owner: &Owner) -> EventEnvelope {
    DomainEvent::ReportCreated(ReportCreated {
        report_id: id,
        reporter_user_id: None,
        owner: owner.clone(),
        visibility: Visibility::Anonymous,
        title: "t".into(),
        content: "c".into(),
        category: CategorySlug::parse("infrastruktur").unwrap(),
        agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
        location: None,
        created_at: T0,
    })
    .into_envelope(T0)
}

/// Rows stored before notices were typed (a sentence, no parameters)
/// read back as legacy notices beside the typed ones.
#[tokio::test]
async fn notifications_read_back_typed_and_legacy() {
    let dir = tempfile::tempdir().unwrap();
    let wf = store(&dir).await;
    let owner = Owner::Anonymous(OwnerTag::parse(&"cd".repeat(32)).unwrap());
    let id = ReportId::new_v7();
    let (o, r) = (owner.to_string(), id.to_string());
    // As stored before migration 5003: a sentence, no parameters.
    rusqlite::Connection::open(dir.path().join("workflow.db"))
        .unwrap()
        .execute(
            "INSERT INTO notifications (id, recipient, report_id, kind, message, is_read, created_at) \
             VALUES (?1, ?2, ?3, 'status', 'Your report is now IN_PROGRESS (was RECEIVED)', 0, ?4)",
            rusqlite::params![NotificationId::new_v7().to_string(), o, r, millis(T0)],
        )
        .unwrap();
    wf.apply(&[created(id, &owner)], T0).await.unwrap();
    let answered = DomainEvent::CaseAnswered(lapor_domain::events::CaseAnswered {
        report_id: id,
        answer_id: lapor_domain::ids::AnswerId::new_v7(),
        owner_agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
        officer_user_id: lapor_domain::ids::UserId::new_v7(),
        message: "Tim menuju lokasi".into(),
        answered_at: T0 + time::Duration::minutes(1),
    })
    .into_envelope(T0);
    wf.apply(&[answered], T0).await.unwrap();
    let (notes, unread) = wf
        .notifications(std::slice::from_ref(&owner), false, 10)
        .await
        .unwrap();
    assert_eq!(unread, 2);
    assert_eq!(
        notes.iter().map(|n| n.notice.clone()).collect::<Vec<_>>(),
        [
            Notice::Answer {
                message: "Tim menuju lokasi".into()
            },
            Notice::Legacy {
                message: "Your report is now IN_PROGRESS (was RECEIVED)".into()
            },
        ]
    );
}

/// An escalation recorded for one agency moves with the report when its
/// category routes it to another.
#[tokio::test]
async fn a_reroute_carries_the_escalations_along() {
    let dir = tempfile::tempdir().unwrap();
    let wf = store(&dir).await;
    let owner = Owner::Anonymous(OwnerTag::parse(&"cd".repeat(32)).unwrap());
    let id = ReportId::new_v7();
    wf.apply(&[created(id, &owner)], T0).await.unwrap();
    let at = T0 + time::Duration::days(2);
    let due = wf.due_jobs(at, 10).await.unwrap();
    let esc = sla::escalation_due(&due[0].job, at, 86_400).unwrap();
    let mut job = due[0].job.clone();
    sla::apply_escalation(&mut job, &esc);
    let escalated = DomainEvent::ReportEscalated(ReportEscalated {
        report_id: id,
        reason: "SLA_BREACH".into(),
        escalation_level: 1,
        owner_agency: job.agency.clone(),
        escalated_at: at,
    })
    .into_envelope(at);
    assert!(wf.escalate(id, 0, &job, &[], &escalated).await.unwrap());
    let (infra, health) = (
        AgencyCode::parse("AGENCY_INFRA").unwrap(),
        AgencyCode::parse("AGENCY_HEALTH").unwrap(),
    );
    assert_eq!(wf.escalations(Some(&infra), 10).await.unwrap().len(), 1);
    let updated = DomainEvent::ReportUpdated(ReportUpdated {
        report_id: id,
        title: "t".into(),
        content: "c".into(),
        category: CategorySlug::parse("kesehatan").unwrap(),
        agency: health.clone(),
        location: None,
        updated_at: at,
    })
    .into_envelope(at);
    wf.apply(&[updated], at).await.unwrap();
    assert!(wf.escalations(Some(&infra), 10).await.unwrap().is_empty());
    let moved = wf.escalations(Some(&health), 10).await.unwrap();
    assert_eq!(
        moved
            .iter()
            .map(|e| (
                e.report_id,
                e.owner_agency.clone(),
                e.escalation_level,
                e.current_status
            ))
            .collect::<Vec<_>>(),
        [(id, health, 1, Status::Received)]
    );
}
