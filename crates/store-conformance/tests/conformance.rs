//! The conformance suite: every behaviour of `lapor_store_conformance` on
//! every engine. `sqlite::<behaviour>` always runs (a temporary data
//! directory); `postgres::<behaviour>` runs when `LAPOR_TEST_DATABASE_URL`
//! is set and otherwise prints that it skipped. CI runs both (`.ci/run`).
//!
//! Every port method, and the behaviour that covers it:
//!
//! IdentityStore (identity.rs)
//!   insert_user, user_by_username, user_by_id, users,
//!   catalog, upsert_agency, upsert_category ...... identity_users_and_catalog
//!
//! AuditLog (audit.rs)
//!   append, list, all_in_order .................. audit_entries_chain_list_and_verify,
//!                                                  concurrent_appends_keep_one_chain
//!   (several instances appending) ............... PostgreSQL only: several_instances_append_to_one_audit_chain
//!
//! ReportingStore (reporting.rs)
//!   insert_report, report, update_report,
//!   withdraw_report, count_reports ............... reports_are_inserted_updated_and_withdrawn_under_conditions,
//!                                                  text_round_trips_unchanged
//!   add_vote ..................................... one_voter_racing_counts_once
//!   add_photos, photos ........................... photos_are_recorded_with_their_event_within_the_limit_and_projected
//!   EventConsumer: group, apply, reset (refused) . reporting_mirrors_case_status_idempotently
//!
//! Outbox of reporting, operations and workflow (outbox.rs)
//!   source, unrelayed, mark_relayed,
//!   unrelayed_count, replay ...................... outboxes_hand_out_mark_and_replay_their_events,
//!                                                  replay_pages_walk_the_whole_log
//!   (claims between two relay instances) ......... PostgreSQL only: two_relays_claim_rows_and_take_over_expired_claims
//!
//! ReadStore and its projector (read.rs)
//!   list_reports ................................. listings_follow_scopes_filters_and_paging,
//!                                                  listings_search_titles_and_text,
//!                                                  listing_totals_match_the_listed_reports_after_a_mixed_workload
//!   report, timelines, statistics, count_reports . the_projector_applies_events_once_and_rebuilds_identically
//!   EventConsumer: group, apply, reset ........... the_projector_applies_events_once_and_rebuilds_identically,
//!                                                  photos_are_recorded_with_their_event_within_the_limit_and_projected
//!   (several read databases) ..................... PostgreSQL only: several_read_databases_keep_their_own_state
//!
//! OperationsStore (operations.rs)
//!   inbox ........................................ operations_cases_follow_events_and_status_changes_race_safely,
//!                                                  inbox_sorts_filters_overdue_and_extracts_case_facts
//!   case_state, case_detail, case_titles,
//!   change_status, add_answer, count_cases ....... operations_cases_follow_events_and_status_changes_race_safely
//!   case_facts, open_cases ....................... inbox_sorts_filters_overdue_and_extracts_case_facts
//!   EventConsumer: group, apply, reset (refused) . operations_cases_follow_events_and_status_changes_race_safely
//!
//! WorkflowStore (workflow.rs)
//!   sla_config, set_sla_seconds .................. sla_configuration_is_kept
//!   sla_status ................................... workflow_jobs_escalate_once_and_notify,
//!                                                  sla_totals_match_the_listed_jobs_after_a_mixed_workload
//!   due_jobs, next_due, escalate, escalations,
//!   notifications, mark_read, count_jobs ......... workflow_jobs_escalate_once_and_notify
//!   EventConsumer: group, apply, reset (refused) . workflow_jobs_escalate_once_and_notify
//!   notifications of rows stored before 5003 ..... notifications_stored_before_typed_notices_read_back_as_legacy
//!
//! The engine as a whole (engine.rs)
//!   closed stores refuse writes .................. a_closed_engine_refuses_writes_as_unavailable
//!   EventConsumer::apply of every consumer, for
//!   events it does not act on .................... consumers_count_only_the_events_they_act_on
//!   unreachable server, redacted URLs ............ PostgreSQL only: a_closed_or_unreachable_database_is_unavailable
//!   PgBouncer (transaction pooling) .............. every PostgreSQL test, with LAPOR_TEST_PGBOUNCER_URL set
//!
//! Migrations (migrations.rs)
//!   same folders and versions on both engines .... migrations_pair_up
//!   PostgreSQL counters (3003, 3004, 5002) ....... PostgreSQL only: counters_kept_by_triggers_equal_count_star

// The behaviours, one module per port family (each a `pub async fn(&TestStores)`
// that panics on a failure), and the event fixtures they apply.
#[path = "suite/audit.rs"]
mod audit;
#[path = "suite/engine.rs"]
mod engine;
#[path = "suite/fixtures.rs"]
mod fixtures;
#[path = "suite/identity.rs"]
mod identity;
#[path = "suite/migrations.rs"]
mod migrations;
#[path = "suite/operations.rs"]
mod operations;
#[path = "suite/outbox.rs"]
mod outbox;
/// Behaviours that only make sense on PostgreSQL.
#[path = "suite/postgres.rs"]
mod pg;
#[path = "suite/read.rs"]
mod read;
#[path = "suite/reporting.rs"]
mod reporting;
#[path = "suite/workflow.rs"]
mod workflow;

use lapor_store_conformance::Engine;

/// One test per behaviour on each engine: `sqlite::<name>` and
/// `postgres::<name>`.
macro_rules! on_every_engine {
    ($($module:ident::$name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let s = Engine::Sqlite.open().await.expect("SQLite always opens");
                    $module::$name(&s).await;
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(s) = Engine::Postgres.open().await else {
                        return;
                    };
                    $module::$name(&s).await;
                }
            )*
        }
    };
}

on_every_engine!(
    identity::identity_users_and_catalog,
    audit::audit_entries_chain_list_and_verify,
    audit::concurrent_appends_keep_one_chain,
    reporting::reports_are_inserted_updated_and_withdrawn_under_conditions,
    reporting::text_round_trips_unchanged,
    reporting::reporting_mirrors_case_status_idempotently,
    reporting::one_voter_racing_counts_once,
    reporting::photos_are_recorded_with_their_event_within_the_limit_and_projected,
    outbox::outboxes_hand_out_mark_and_replay_their_events,
    outbox::replay_pages_walk_the_whole_log,
    read::the_projector_applies_events_once_and_rebuilds_identically,
    read::listings_follow_scopes_filters_and_paging,
    read::listings_search_titles_and_text,
    read::listing_totals_match_the_listed_reports_after_a_mixed_workload,
    operations::operations_cases_follow_events_and_status_changes_race_safely,
    operations::inbox_sorts_filters_overdue_and_extracts_case_facts,
    workflow::sla_configuration_is_kept,
    workflow::workflow_jobs_escalate_once_and_notify,
    workflow::sla_totals_match_the_listed_jobs_after_a_mixed_workload,
    workflow::notifications_stored_before_typed_notices_read_back_as_legacy,
    engine::a_closed_engine_refuses_writes_as_unavailable,
    engine::consumers_count_only_the_events_they_act_on,
);

// ---------------------------------------------------------------- PostgreSQL only

/// Behaviours of what only the PostgreSQL engine has (several instances on
/// one database, several databases, a network server, trigger-kept
/// counters); each skips without `LAPOR_TEST_DATABASE_URL`.
mod postgres_only {
    use super::*;

    macro_rules! on_postgres {
        ($($name:ident),* $(,)?) => {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(s) = Engine::Postgres.open().await else {
                        return;
                    };
                    pg::$name(&s).await;
                }
            )*
        };
    }

    on_postgres!(
        two_relays_claim_rows_and_take_over_expired_claims,
        a_closed_or_unreachable_database_is_unavailable,
        counters_kept_by_triggers_equal_count_star,
        several_instances_append_to_one_audit_chain,
    );

    #[tokio::test]
    async fn several_read_databases_keep_their_own_state() {
        pg::several_read_databases_keep_their_own_state().await;
    }
}

// ---------------------------------------------------------------- migrations

/// Both engines have the same context folders (SQLite's `eventlog` aside)
/// and the same migration files in each, every one starting with a
/// `-- <version>:` comment.
#[test]
fn migrations_pair_up() {
    let problems = migrations::pairing_problems();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // the check sees the folders it compares
    let contexts = migrations::migrations(Engine::Postgres);
    assert!(contexts.len() >= 5, "{contexts:?}");
    assert_eq!(migrations::versions(Engine::Sqlite, "identity")[0], 1001);
}
