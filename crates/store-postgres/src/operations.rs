//! Operations on PostgreSQL (schema `operations`): cases routed to agencies,
//! their history and answers.
//!
//! What events cause here is decided by `lapor_app::reactions::operations`:
//! this adapter loads the state a reaction reads, executes the writes it
//! returns and records the event as applied, in one transaction.

use crate::db::{Db, Exec, ExecScalar, Tx, parse};
use crate::outbox::{self, impl_outbox};
use async_trait::async_trait;
use lapor_app::clock::{from_millis, millis};
use lapor_app::ports::{
    CaseState, EventConsumer, InboxFilter, InboxSort, OperationsStore, StoreError, StoreResult,
};
use lapor_app::reactions::operations::{self, Case, OperationsWrite};
use lapor_app::views::{AnswerView, CaseDetail, CaseHistoryEntry, CaseView, Listing, LocationView};
use lapor_domain::Timestamp;
use lapor_domain::analytics::{CaseFacts, OpenCases};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::{CaseAnswered, EventEnvelope, StatusUpdated};
use lapor_domain::ids::ReportId;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

const SCHEMA: &str = "operations";

pub struct PgOperations {
    pub(crate) db: Db,
    /// This instance's id as a relay of the outbox.
    pub(crate) relay: String,
}

impl PgOperations {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            relay: outbox::relay_id(),
        }
    }
}

impl_outbox!(PgOperations, "operations", "operations");

const COLS: &str = "report_id, agency, status, title, content, category, reporter_user_id, visibility, vote_count, \
                    escalation_level, lat, lon, address, created_at, updated_at";
/// What a [`CaseView`] is read from: the columns a new case is inserted
/// with, plus those that events fill in later.
const VIEW_COLS: &str = "report_id, agency, status, title, content, category, reporter_user_id, visibility, vote_count, \
                         escalation_level, lat, lon, address, created_at, updated_at, due_at";

fn case_view(r: &PgRow) -> StoreResult<CaseView> {
    let reporter: Option<String> = r.get(6);
    let lat: Option<f64> = r.get(10);
    let lon: Option<f64> = r.get(11);
    Ok(CaseView {
        report_id: parse(r.get::<&str, _>(0), "report id")?,
        owner_agency: parse(r.get::<&str, _>(1), "agency")?,
        status: parse(r.get::<&str, _>(2), "status")?,
        title: r.get(3),
        content: r.get(4),
        category: CategorySlug::parse(r.get::<&str, _>(5))
            .map_err(|e| StoreError::Other(e.into()))?,
        reporter_user_id: reporter.map(|u| parse(&u, "user id")).transpose()?,
        visibility: parse(r.get::<&str, _>(7), "visibility")?,
        vote_count: r.get(8),
        escalation_level: r.get(9),
        location: match (lat, lon) {
            (Some(lat), Some(lon)) => Some(LocationView {
                lat,
                lon,
                address: r.get(12),
            }),
            _ => None,
        },
        created_at: from_millis(r.get(13)),
        updated_at: from_millis(r.get(14)),
        due_at: r.get::<Option<i64>, _>(15).map(from_millis),
        // Set by the service from the application clock.
        is_overdue: false,
    })
}

fn push_inbox_where(qb: &mut QueryBuilder<'_, Postgres>, f: &InboxFilter) {
    qb.push(" WHERE withdrawn = 0");
    if let Some(a) = &f.agency {
        qb.push(" AND agency = ").push_bind(a.to_string());
    }
    if let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(c) = &f.category {
        qb.push(" AND category = ").push_bind(c.to_string());
    }
    if f.overdue_only {
        // Implies the predicate of the partial index cases_open_due.
        qb.push(" AND status IN ('RECEIVED', 'IN_PROGRESS') AND due_at < ")
            .push_bind(millis(f.now));
    }
}

/// Each sort order matches an index (migration 4002).
fn inbox_order(sort: InboxSort) -> &'static str {
    match sort {
        InboxSort::Newest => " ORDER BY created_at DESC, report_id DESC",
        InboxSort::Oldest => " ORDER BY created_at ASC, report_id ASC",
        InboxSort::Upvotes => " ORDER BY vote_count DESC, created_at DESC, report_id DESC",
        InboxSort::SlaDue => " ORDER BY due_at ASC NULLS LAST, created_at ASC, report_id ASC",
    }
}

/// What the operations reactions compare events with; `None` if there is
/// no case for the report. The row stays locked until the applying
/// transaction ends: the reaction reads the counts it may raise, and a
/// second operations instance must not raise them from a stale copy (on
/// SQLite the single writer gives the same guarantee).
async fn load(conn: &mut Tx, id: ReportId) -> StoreResult<Option<Case>> {
    let row = sqlx::query(
        "SELECT vote_count, escalation_level FROM operations.cases WHERE report_id = $1 FOR UPDATE",
    )
    .bind(id.to_string())
    .fetch_optional_in(conn)
    .await?;
    Ok(row.map(|r| Case {
        vote_count: r.get(0),
        escalation_level: r.get(1),
    }))
}

/// Executes one of the reaction's writes, about report `id`.
async fn execute(conn: &mut Tx, id: ReportId, w: OperationsWrite) -> StoreResult<()> {
    let id = id.to_string();
    // Built only for an insert, and kept alive for the query that borrows it.
    let insert;
    let q = match w {
        OperationsWrite::Insert(c) => {
            insert = format!(
                "INSERT INTO operations.cases ({COLS}) VALUES ($1, $2, 'RECEIVED', $3, $4, $5, $6, $7, 0, 0, $8, $9, $10, $11, $11) \
                 ON CONFLICT (report_id) DO NOTHING"
            );
            sqlx::query(&insert)
                .bind(id)
                .bind(c.agency.to_string())
                .bind(c.title)
                .bind(c.content)
                .bind(c.category.to_string())
                .bind(c.reporter_user_id.map(|u| u.to_string()))
                .bind(c.visibility.as_str())
                .bind(c.location.as_ref().map(|l| l.lat))
                .bind(c.location.as_ref().map(|l| l.lon))
                .bind(c.location.and_then(|l| l.address))
                .bind(millis(c.created_at))
        }
        OperationsWrite::Edit {
            title,
            content,
            category,
            agency,
            location,
            at,
        } => sqlx::query(
            "UPDATE operations.cases SET title = $1, content = $2, category = $3, agency = $4, lat = $5, lon = $6, address = $7, updated_at = $8 \
             WHERE report_id = $9",
        )
        .bind(title)
        .bind(content)
        .bind(category.to_string())
        .bind(agency.to_string())
        .bind(location.as_ref().map(|l| l.lat))
        .bind(location.as_ref().map(|l| l.lon))
        .bind(location.and_then(|l| l.address))
        .bind(millis(at))
        .bind(id),
        OperationsWrite::Withdraw { at } => {
            sqlx::query("UPDATE operations.cases SET withdrawn = 1, updated_at = $1 WHERE report_id = $2")
                .bind(millis(at))
                .bind(id)
        }
        OperationsWrite::SetVoteCount(n) => {
            sqlx::query("UPDATE operations.cases SET vote_count = $1 WHERE report_id = $2")
                .bind(n)
                .bind(id)
        }
        OperationsWrite::SetEscalationLevel(n) => {
            sqlx::query("UPDATE operations.cases SET escalation_level = $1 WHERE report_id = $2")
                .bind(n)
                .bind(id)
        }
        OperationsWrite::SetDueAt(at) => {
            sqlx::query("UPDATE operations.cases SET due_at = $1 WHERE report_id = $2")
                .bind(millis(at))
                .bind(id)
        }
    };
    q.execute_in(conn).await?;
    Ok(())
}

async fn apply_one(conn: &mut Tx, e: &EventEnvelope, now: Timestamp) -> StoreResult<()> {
    let case = load(conn, e.report_id).await?;
    for w in operations::react(e, case.as_ref(), now).into_writes(e)? {
        execute(conn, e.report_id, w).await?;
    }
    Ok(())
}

#[async_trait]
impl EventConsumer for PgOperations {
    fn group(&self) -> String {
        "operations".into()
    }

    async fn apply(&self, events: &[EventEnvelope], now: Timestamp) -> StoreResult<usize> {
        if !events.iter().any(|e| operations::reacts_to(&e.event_type)) {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        let mut applied = 0;
        for e in events {
            if operations::reacts_to(&e.event_type)
                && outbox::first_time(&mut tx, SCHEMA, e).await?
            {
                apply_one(&mut tx, e, now).await?;
                applied += 1;
            }
        }
        tx.commit().await?;
        Ok(applied)
    }
}

#[async_trait]
impl OperationsStore for PgOperations {
    async fn inbox(&self, f: &InboxFilter) -> StoreResult<Listing<CaseView>> {
        let mut qb =
            QueryBuilder::<Postgres>::new(format!("SELECT {VIEW_COLS} FROM operations.cases"));
        push_inbox_where(&mut qb, f);
        let w = f.window();
        if let Some(c) = w.after {
            qb.push(" AND (created_at < ")
                .push_bind(c.created_at_ms)
                .push(" OR (created_at = ")
                .push_bind(c.created_at_ms)
                .push(" AND report_id < ")
                .push_bind(c.id.to_string())
                .push("))");
        }
        qb.push(inbox_order(f.sort));
        qb.push(" LIMIT ").push_bind(w.limit + 1);
        if let Some(o) = w.offset {
            qb.push(" OFFSET ").push_bind(o);
        }
        let rows = qb
            .build()
            .fetch_all_on(&self.db)
            .await?
            .iter()
            .map(case_view)
            .collect::<StoreResult<Vec<_>>>()?;
        let total = match w.offset {
            Some(_) => {
                let mut count =
                    QueryBuilder::<Postgres>::new("SELECT count(*) FROM operations.cases");
                push_inbox_where(&mut count, f);
                Some(count.build_query_scalar().fetch_one_on(&self.db).await?)
            }
            None => None,
        };
        Ok(f.page(rows, total))
    }

    async fn case_state(&self, id: ReportId) -> StoreResult<Option<CaseState>> {
        let row = sqlx::query(
            "SELECT agency, status, withdrawn FROM operations.cases WHERE report_id = $1",
        )
        .bind(id.to_string())
        .fetch_optional_on(&self.db)
        .await?;
        row.map(|r| {
            Ok(CaseState {
                report_id: id,
                agency: parse(r.get::<&str, _>(0), "agency")?,
                status: parse(r.get::<&str, _>(1), "status")?,
                withdrawn: r.get::<i64, _>(2) != 0,
            })
        })
        .transpose()
    }

    async fn case_titles(
        &self,
        ids: &[ReportId],
    ) -> StoreResult<Vec<(ReportId, AgencyCode, String)>> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        sqlx::query(
            "SELECT report_id, agency, title FROM operations.cases WHERE report_id = ANY($1)",
        )
        .bind(ids)
        .fetch_all_on(&self.db)
        .await?
        .iter()
        .map(|r| {
            Ok((
                parse(r.get::<&str, _>(0), "report id")?,
                parse(r.get::<&str, _>(1), "agency")?,
                r.get(2),
            ))
        })
        .collect()
    }

    async fn case_detail(&self, id: ReportId) -> StoreResult<Option<CaseDetail>> {
        let row = sqlx::query(&format!(
            "SELECT {VIEW_COLS} FROM operations.cases WHERE report_id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional_on(&self.db)
        .await?;
        let Some(case) = row.as_ref().map(case_view).transpose()? else {
            return Ok(None);
        };
        let history = sqlx::query(
            "SELECT old_status, new_status, reason, actor_user_id, changed_at FROM operations.case_history WHERE report_id = $1 ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all_on(&self.db)
        .await?
        .iter()
        .map(|r| {
            Ok(CaseHistoryEntry {
                old_status: parse(r.get::<&str, _>(0), "status")?,
                new_status: parse(r.get::<&str, _>(1), "status")?,
                reason: r.get(2),
                actor_user_id: parse(r.get::<&str, _>(3), "user id")?,
                changed_at: from_millis(r.get(4)),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        let answers = sqlx::query("SELECT id, officer_user_id, message, created_at FROM operations.answers WHERE report_id = $1 ORDER BY created_at, id")
            .bind(id.to_string())
            .fetch_all_on(&self.db)
            .await?
            .iter()
            .map(|r| {
                Ok(AnswerView {
                    id: parse(r.get::<&str, _>(0), "answer id")?,
                    report_id: id,
                    officer_user_id: parse(r.get::<&str, _>(1), "user id")?,
                    message: r.get(2),
                    created_at: from_millis(r.get(3)),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(CaseDetail {
            case,
            history,
            answers,
        }))
    }

    async fn change_status(&self, s: &StatusUpdated, event: &EventEnvelope) -> StoreResult<()> {
        let (id, expected) = (s.report_id, s.old_status);
        let at = millis(s.changed_at);
        let mut tx = self.db.begin().await?;
        let done = sqlx::query("UPDATE operations.cases SET status = $1, updated_at = $2 WHERE report_id = $3 AND status = $4 AND withdrawn = 0")
            .bind(s.new_status.as_str())
            .bind(at)
            .bind(id.to_string())
            .bind(expected.as_str())
            .execute_in(&mut tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("the case changed meanwhile".into()));
        }
        sqlx::query(
            "INSERT INTO operations.case_history (report_id, old_status, new_status, reason, actor_user_id, changed_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(s.old_status.as_str())
        .bind(s.new_status.as_str())
        .bind(&s.reason)
        .bind(s.actor_user_id.to_string())
        .bind(at)
        .execute_in(&mut tx)
        .await?;
        outbox::append(&mut tx, SCHEMA, event).await?;
        tx.commit().await
    }

    async fn add_answer(&self, a: &CaseAnswered, event: &EventEnvelope) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO operations.answers (id, report_id, officer_user_id, message, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(a.answer_id.to_string())
            .bind(a.report_id.to_string())
            .bind(a.officer_user_id.to_string())
            .bind(&a.message)
            .bind(millis(a.answered_at))
            .execute_in(&mut tx)
            .await?;
        sqlx::query("UPDATE operations.cases SET updated_at = $1 WHERE report_id = $2")
            .bind(millis(a.answered_at))
            .bind(a.report_id.to_string())
            .execute_in(&mut tx)
            .await?;
        outbox::append(&mut tx, SCHEMA, event).await?;
        tx.commit().await
    }

    async fn count_cases(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT count(*) FROM operations.cases")
            .fetch_one_on(&self.db)
            .await
    }

    async fn case_facts(
        &self,
        agency: Option<&AgencyCode>,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<CaseFacts>> {
        let period = |qb: &mut QueryBuilder<'_, Postgres>, alias: &str| {
            qb.push(format!(
                " WHERE {alias}withdrawn = 0 AND {alias}created_at >= "
            ))
            .push_bind(millis(from))
            .push(format!(" AND {alias}created_at < "))
            .push_bind(millis(to));
            if let Some(a) = agency {
                qb.push(format!(" AND {alias}agency = "))
                    .push_bind(a.to_string());
            }
        };
        // One transaction for the three queries. (Under READ COMMITTED a
        // status change between them may show in the history of a case read
        // before it; `record_action` then takes the final status from the
        // history, so the facts stay consistent.)
        let mut tx = self.db.begin().await?;
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT report_id, agency, category, status, escalation_level, created_at FROM operations.cases",
        );
        period(&mut qb, "");
        qb.push(" ORDER BY created_at, report_id");
        let mut facts = qb
            .build()
            .fetch_all_in(&mut tx)
            .await?
            .iter()
            .map(|r| {
                Ok(CaseFacts::new(
                    parse(r.get::<&str, _>(0), "report id")?,
                    parse(r.get::<&str, _>(1), "agency")?,
                    CategorySlug::parse(r.get::<&str, _>(2))
                        .map_err(|e| StoreError::Other(e.into()))?,
                    from_millis(r.get(5)),
                    parse(r.get::<&str, _>(3), "status")?,
                    r.get(4),
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let index: std::collections::HashMap<ReportId, usize> = facts
            .iter()
            .enumerate()
            .map(|(i, f)| (f.report_id, i))
            .collect();
        // Status changes, then answers (a status change wins a tie).
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT h.report_id, h.actor_user_id, h.changed_at, h.new_status FROM operations.case_history h \
             JOIN operations.cases c ON c.report_id = h.report_id",
        );
        period(&mut qb, "c.");
        qb.push(" ORDER BY h.id");
        let history = qb.build().fetch_all_in(&mut tx).await?;
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT a.report_id, a.officer_user_id, a.created_at, NULL::TEXT FROM operations.answers a \
             JOIN operations.cases c ON c.report_id = a.report_id",
        );
        period(&mut qb, "c.");
        qb.push(" ORDER BY a.created_at, a.id");
        let answers = qb.build().fetch_all_in(&mut tx).await?;
        tx.commit().await?;
        for r in history.iter().chain(answers.iter()) {
            let id: ReportId = parse(r.get::<&str, _>(0), "report id")?;
            let Some(&i) = index.get(&id) else { continue };
            let status: Option<String> = r.get(3);
            facts[i].record_action(
                from_millis(r.get(2)),
                parse(r.get::<&str, _>(1), "user id")?,
                status.map(|s| parse(&s, "status")).transpose()?,
            );
        }
        Ok(facts)
    }

    async fn open_cases(&self, agency: Option<&AgencyCode>) -> StoreResult<Vec<OpenCases>> {
        // Implies the predicate of the partial index cases_open_due.
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT c.agency, c.status, (SELECT h.actor_user_id FROM operations.case_history h \
             WHERE h.report_id = c.report_id AND h.new_status = 'IN_PROGRESS' ORDER BY h.id LIMIT 1), count(*) \
             FROM operations.cases c WHERE withdrawn = 0 AND status IN ('RECEIVED', 'IN_PROGRESS')",
        );
        if let Some(a) = agency {
            qb.push(" AND agency = ").push_bind(a.to_string());
        }
        qb.push(" GROUP BY 1, 2, 3");
        qb.build()
            .fetch_all_on(&self.db)
            .await?
            .iter()
            .map(|r| {
                let taken_by: Option<String> = r.get(2);
                Ok(OpenCases {
                    agency: parse(r.get::<&str, _>(0), "agency")?,
                    status: parse(r.get::<&str, _>(1), "status")?,
                    taken_by: taken_by.map(|u| parse(&u, "user id")).transpose()?,
                    count: r.get(3),
                })
            })
            .collect()
    }
}
