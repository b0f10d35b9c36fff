//! The three outboxes (reporting, operations, workflow): events appended by
//! each context's commands are handed to the relay oldest first, marked
//! once relayed, and kept for replay.

use crate::fixtures::*;
use lapor_domain::access::Visibility;
use lapor_domain::events::EventEnvelope;
use lapor_domain::lifecycle::Status;
use lapor_store_conformance::harness::TestStores;

/// Runs one command per context that appends to its outbox, returning the
/// events each outbox should hold, in order.
async fn fill(s: &TestStores) -> [Vec<EventEnvelope>; 3] {
    let mut reporting = vec![];
    let mut reports = vec![];
    for i in 0..5 {
        let r = report(
            &user(),
            Visibility::Public,
            "infrastruktur",
            "AGENCY_INFRA",
            i,
        );
        let ev = created(&r);
        s.reporting.insert_report(&r, &ev).await.unwrap();
        reporting.push(ev);
        reports.push(r);
    }

    // operations appends its own commands' events, not the ones it applies
    let r = &reports[0];
    s.operations.apply(&[created(r)], now()).await.unwrap();
    let moved = status(r, Status::Received, Status::InProgress, 10);
    change_status(&*s.operations, moved.clone()).await.unwrap();
    let answer = answered(r, 11);
    add_answer(&*s.operations, answer.clone()).await.unwrap();

    // workflow appends sla.started for each report it starts a job for
    let batch: Vec<_> = reports[..3].iter().map(created).collect();
    s.workflow.apply(&batch, now()).await.unwrap();
    let workflow: Vec<EventEnvelope> = s
        .workflow
        .replay(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.event)
        .collect();
    assert_eq!(workflow.len(), 3);
    assert!(workflow.iter().all(|e| e.event_type == "sla.started"));
    [reporting, vec![moved, answer], workflow]
}

pub async fn outboxes_hand_out_mark_and_replay_their_events(s: &TestStores) {
    let expected = fill(s).await;
    for ((name, outbox), events) in s.outboxes().into_iter().zip(expected) {
        let n = events.len();
        assert_eq!(outbox.source(), name);
        assert_eq!(outbox.unrelayed_count().await.unwrap(), n as i64, "{name}");

        let first = outbox.unrelayed(2).await.unwrap();
        let seqs: Vec<i64> = first.iter().map(|o| o.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{name}: oldest first");
        assert_eq!(
            first.iter().map(|o| o.event.clone()).collect::<Vec<_>>(),
            events[..2],
            "{name}"
        );
        // reading again (after a failed publish) returns the same rows
        let again: Vec<i64> = outbox
            .unrelayed(2)
            .await
            .unwrap()
            .iter()
            .map(|o| o.seq)
            .collect();
        assert_eq!(again, seqs, "{name}");

        outbox.mark_relayed(&seqs).await.unwrap();
        outbox.mark_relayed(&[]).await.unwrap();
        // marking twice changes nothing
        outbox.mark_relayed(&seqs).await.unwrap();
        assert_eq!(
            outbox.unrelayed_count().await.unwrap(),
            n as i64 - 2,
            "{name}"
        );
        let rest = outbox.unrelayed(100).await.unwrap();
        assert_eq!(
            rest.iter().map(|o| o.event.clone()).collect::<Vec<_>>(),
            events[2..],
            "{name}"
        );
        outbox
            .mark_relayed(&rest.iter().map(|o| o.seq).collect::<Vec<_>>())
            .await
            .unwrap();
        assert_eq!(outbox.unrelayed_count().await.unwrap(), 0, "{name}");
        assert!(outbox.unrelayed(10).await.unwrap().is_empty(), "{name}");

        // replay reads everything, relayed or not, by position
        let all = outbox.replay(0, 100).await.unwrap();
        assert_eq!(
            all.iter().map(|o| o.event.clone()).collect::<Vec<_>>(),
            events,
            "{name}"
        );
        assert_eq!(
            all.iter().map(|o| o.seq).take(2).collect::<Vec<_>>(),
            seqs,
            "{name}: replay and relay share positions"
        );
        let page = outbox.replay(all[0].seq, 1).await.unwrap();
        assert_eq!(
            page.iter().map(|o| o.seq).collect::<Vec<_>>(),
            [all[1].seq],
            "{name}"
        );
        assert!(
            outbox.replay(all[n - 1].seq, 10).await.unwrap().is_empty(),
            "{name}"
        );
    }
}

/// A replay walked page by page sees every event once, in order, whatever
/// the page size.
pub async fn replay_pages_walk_the_whole_log(s: &TestStores) {
    let mut events = vec![];
    for i in 0..7 {
        let r = report(
            &user(),
            Visibility::Private,
            "kesehatan",
            "AGENCY_HEALTH",
            i,
        );
        let ev = created(&r);
        s.reporting.insert_report(&r, &ev).await.unwrap();
        events.push(ev);
    }
    for size in [1, 3, 7, 50] {
        let mut after = 0;
        let mut walked = vec![];
        loop {
            let page = s.reporting.replay(after, size).await.unwrap();
            assert!(page.len() as i64 <= size);
            let Some(last) = page.last() else { break };
            after = last.seq;
            walked.extend(page.into_iter().map(|o| o.event));
        }
        assert_eq!(walked, events, "page size {size}");
    }
}
