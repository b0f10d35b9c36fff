//! Workflow on PostgreSQL (schema `workflow`): SLA jobs, configuration,
//! escalations, notifications.
//!
//! What events cause here is decided by `lapor_app::reactions::workflow`:
//! this adapter loads the state a reaction reads, executes the writes it
//! returns and records the event as applied, in one transaction.

use crate::db::{Db, Exec, ExecScalar, Tx, parse};
use crate::outbox::{self, impl_outbox};
use crate::read::owner_refs;
use async_trait::async_trait;
use lapor_app::clock::{from_millis, millis};
use lapor_app::ports::{
    DueJob, EventConsumer, NewNotification, SlaConfig, SlaFilter, StoreError, StoreResult,
    WorkflowStore,
};
use lapor_app::reactions::workflow::{self, Job, WorkflowState, WorkflowWrite};
use lapor_app::views::{EscalationView, Listing, NotificationView, SlaView};
use lapor_domain::Timestamp;
use lapor_domain::access::{ListingScope, Owner};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::EventEnvelope;
use lapor_domain::ids::{NotificationId, ReportId};
use lapor_domain::notices::Notice;
use lapor_domain::sla::SlaJob;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

const SCHEMA: &str = "workflow";

pub struct PgWorkflow {
    pub(crate) db: Db,
    /// This instance's id as a relay of the outbox.
    pub(crate) relay: String,
}

impl PgWorkflow {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            relay: outbox::relay_id(),
        }
    }
}

impl_outbox!(PgWorkflow, "workflow", "workflow");

const JOB_COLS: &str = "report_id, owner, visibility, agency, category, sla_status, escalation_level, due_at, \
                        next_escalation_at, current_status, created_at, updated_at";

fn category(s: &str) -> StoreResult<CategorySlug> {
    CategorySlug::parse(s).map_err(|e| StoreError::Other(e.into()))
}

fn job(r: &PgRow) -> StoreResult<SlaJob> {
    Ok(SlaJob {
        agency: parse(r.get::<&str, _>(3), "agency")?,
        status: parse(r.get::<&str, _>(5), "sla status")?,
        escalation_level: r.get(6),
        due_at: from_millis(r.get(7)),
        next_escalation_at: r.get::<Option<i64>, _>(8).map(from_millis),
        current_status: parse(r.get::<&str, _>(9), "status")?,
    })
}

async fn config(conn: &mut Tx) -> StoreResult<SlaConfig> {
    let rows = sqlx::query("SELECT category, duration_seconds FROM workflow.sla_config")
        .fetch_all_in(conn)
        .await?;
    let mut cfg = SlaConfig {
        default_seconds: 86_400,
        per_category: vec![],
    };
    for r in rows {
        let cat: String = r.get(0);
        let secs: i64 = r.get(1);
        if cat.is_empty() {
            cfg.default_seconds = secs;
        } else {
            cfg.per_category.push((category(&cat)?, secs));
        }
    }
    cfg.per_category.sort();
    Ok(cfg)
}

async fn notify(conn: &mut Tx, n: &NewNotification) -> StoreResult<()> {
    let (kind, params, message) = n.notice.to_stored();
    sqlx::query("INSERT INTO workflow.notifications (id, recipient, report_id, kind, params, message, is_read, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)")
        .bind(n.id.to_string())
        .bind(n.recipient.to_string())
        .bind(n.report_id.to_string())
        .bind(kind)
        .bind(params)
        .bind(message)
        .bind(millis(n.created_at))
        .execute_in(conn)
        .await?;
    Ok(())
}

/// Loads a job for a read-modify-write, locking its row until the applying
/// transaction ends (so a concurrent escalation or a second workflow
/// instance cannot be overwritten by a stale copy; on SQLite the single
/// writer gives the same guarantee).
async fn load(conn: &mut Tx, id: ReportId) -> StoreResult<Option<Job>> {
    let row = sqlx::query(&format!(
        "SELECT {JOB_COLS} FROM workflow.sla_jobs WHERE report_id = $1 FOR UPDATE"
    ))
    .bind(id.to_string())
    .fetch_optional_in(conn)
    .await?;
    row.map(|r| {
        Ok(Job {
            owner: parse(r.get::<&str, _>(1), "owner")?,
            job: job(&r)?,
        })
    })
    .transpose()
}

async fn save(conn: &mut Tx, id: ReportId, j: &SlaJob, at: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "UPDATE workflow.sla_jobs SET sla_status = $1, escalation_level = $2, next_escalation_at = $3, current_status = $4, updated_at = $5 \
         WHERE report_id = $6",
    )
    .bind(j.status.as_str())
    .bind(j.escalation_level)
    .bind(j.next_escalation_at.map(millis))
    .bind(j.current_status.as_str())
    .bind(millis(at))
    .bind(id.to_string())
    .execute_in(conn)
    .await?;
    Ok(())
}

/// Executes one of the reaction's writes, about report `id`.
async fn execute(conn: &mut Tx, id: ReportId, w: WorkflowWrite) -> StoreResult<()> {
    match w {
        WorkflowWrite::StartJob(n) => {
            let j = &n.job;
            sqlx::query(&format!(
                "INSERT INTO workflow.sla_jobs ({JOB_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (report_id) DO NOTHING"
            ))
            .bind(id.to_string())
            .bind(n.owner.to_string())
            .bind(n.visibility.as_str())
            .bind(j.agency.as_str())
            .bind(n.category.as_str())
            .bind(j.status.as_str())
            .bind(j.escalation_level)
            .bind(millis(j.due_at))
            .bind(j.next_escalation_at.map(millis))
            .bind(j.current_status.as_str())
            .bind(millis(n.created_at))
            .execute_in(conn)
            .await?;
        }
        WorkflowWrite::Emit(event) => outbox::append(conn, SCHEMA, &event).await?,
        WorkflowWrite::ReRoute {
            agency,
            category,
            at,
        } => {
            sqlx::query("UPDATE workflow.sla_jobs SET agency = $1, category = $2, updated_at = $3 WHERE report_id = $4")
                .bind(agency.as_str())
                .bind(category.as_str())
                .bind(millis(at))
                .bind(id.to_string())
                .execute_in(conn)
                .await?;
            sqlx::query("UPDATE workflow.escalations SET agency = $1 WHERE report_id = $2")
                .bind(agency.as_str())
                .bind(id.to_string())
                .execute_in(conn)
                .await?;
        }
        WorkflowWrite::SaveJob { job, at } => save(conn, id, &job, at).await?,
        WorkflowWrite::Notify(n) => notify(conn, &n).await?,
    }
    Ok(())
}

async fn apply_one(
    conn: &mut Tx,
    e: &EventEnvelope,
    config: &SlaConfig,
    now: Timestamp,
) -> StoreResult<()> {
    let job = load(conn, e.report_id).await?;
    let state = WorkflowState {
        job: job.as_ref(),
        config,
    };
    for w in workflow::react(e, state, now).into_writes(e)? {
        execute(conn, e.report_id, w).await?;
    }
    Ok(())
}

#[async_trait]
impl EventConsumer for PgWorkflow {
    fn group(&self) -> String {
        "workflow".into()
    }

    async fn apply(&self, events: &[EventEnvelope], now: Timestamp) -> StoreResult<usize> {
        if !events.iter().any(|e| workflow::reacts_to(&e.event_type)) {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        // Once per batch: a new job's duration comes from it.
        let cfg = config(&mut tx).await?;
        let mut applied = 0;
        for e in events {
            if workflow::reacts_to(&e.event_type) && outbox::first_time(&mut tx, SCHEMA, e).await? {
                apply_one(&mut tx, e, &cfg, now).await?;
                applied += 1;
            }
        }
        tx.commit().await?;
        Ok(applied)
    }
}

fn push_scope(qb: &mut QueryBuilder<'_, Postgres>, scope: &ListingScope) {
    crate::scope::push_scope(qb, scope, crate::scope::ROWS);
}

fn push_sla_where(qb: &mut QueryBuilder<'_, Postgres>, f: &SlaFilter) {
    qb.push(" WHERE 1 = 1");
    push_scope(qb, &f.scope);
    if let Some(id) = f.report_id {
        qb.push(" AND report_id = ").push_bind(id.to_string());
    }
    if let Some(s) = f.sla_status {
        qb.push(" AND sla_status = ").push_bind(s.as_str());
    }
    if f.overdue_only {
        qb.push(" AND sla_status IN ('PENDING', 'ESCALATED') AND due_at < ")
            .push_bind(millis(f.now));
    }
}

#[async_trait]
impl WorkflowStore for PgWorkflow {
    async fn sla_status(&self, f: &SlaFilter) -> StoreResult<Listing<SlaView>> {
        let mut qb =
            QueryBuilder::<Postgres>::new(format!("SELECT {JOB_COLS} FROM workflow.sla_jobs"));
        push_sla_where(&mut qb, f);
        qb.push(" ORDER BY created_at DESC, report_id DESC LIMIT ")
            .push_bind(f.per_page)
            .push(" OFFSET ")
            .push_bind((f.page - 1) * f.per_page);
        let rows = qb.build().fetch_all_on(&self.db).await?;
        let items = rows
            .iter()
            .map(|r| {
                let j = job(r)?;
                Ok(SlaView {
                    report_id: parse(r.get::<&str, _>(0), "report id")?,
                    category: category(r.get::<&str, _>(4))?,
                    owner_agency: j.agency.clone(),
                    due_at: j.due_at,
                    sla_status: j.status,
                    escalation_level: j.escalation_level,
                    current_status: j.current_status,
                    is_overdue: j.is_overdue(f.now),
                    created_at: from_millis(r.get(10)),
                    updated_at: from_millis(r.get(11)),
                    visibility: parse(r.get::<&str, _>(2), "visibility")?,
                    owner: None,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM workflow.sla_jobs");
        push_sla_where(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one_on(&self.db).await?;
        Ok(Listing {
            items,
            total: Some(total),
            next_cursor: None,
        })
    }

    async fn sla_config(&self) -> StoreResult<SlaConfig> {
        let mut tx = self.db.begin().await?;
        let cfg = config(&mut tx).await?;
        tx.commit().await?;
        Ok(cfg)
    }

    async fn set_sla_seconds(
        &self,
        category: Option<&CategorySlug>,
        seconds: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO workflow.sla_config (category, duration_seconds) VALUES ($1, $2) \
             ON CONFLICT (category) DO UPDATE SET duration_seconds = excluded.duration_seconds",
        )
        .bind(category.map(|c| c.to_string()).unwrap_or_default())
        .bind(seconds)
        .execute_on(&self.db)
        .await?;
        Ok(())
    }

    async fn due_jobs(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<DueJob>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLS} FROM workflow.sla_jobs WHERE next_escalation_at IS NOT NULL AND next_escalation_at <= $1 \
             AND sla_status IN ('PENDING', 'ESCALATED') ORDER BY next_escalation_at LIMIT $2"
        ))
        .bind(millis(now))
        .bind(limit)
        .fetch_all_on(&self.db)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DueJob {
                    report_id: parse(r.get::<&str, _>(0), "report id")?,
                    category: category(r.get::<&str, _>(4))?,
                    owner: parse(r.get::<&str, _>(1), "owner")?,
                    job: job(r)?,
                })
            })
            .collect()
    }

    async fn next_due(&self) -> StoreResult<Option<Timestamp>> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT min(next_escalation_at) FROM workflow.sla_jobs WHERE next_escalation_at IS NOT NULL AND sla_status IN ('PENDING', 'ESCALATED')",
        )
            .fetch_one_on(&self.db)
            .await?;
        Ok(at.map(from_millis))
    }

    async fn escalate(
        &self,
        id: ReportId,
        expected_level: i64,
        j: &SlaJob,
        notifications: &[NewNotification],
        event: &EventEnvelope,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "UPDATE workflow.sla_jobs SET sla_status = $1, escalation_level = $2, next_escalation_at = $3, updated_at = $4 \
             WHERE report_id = $5 AND escalation_level = $6 AND sla_status IN ('PENDING', 'ESCALATED')",
        )
        .bind(j.status.as_str())
        .bind(j.escalation_level)
        .bind(j.next_escalation_at.map(millis))
        .bind(millis(event.timestamp))
        .bind(id.to_string())
        .bind(expected_level)
        .execute_in(&mut tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("INSERT INTO workflow.escalations (report_id, level, agency, escalated_at) VALUES ($1, $2, $3, $4)")
            .bind(id.to_string())
            .bind(j.escalation_level)
            .bind(j.agency.as_str())
            .bind(millis(event.timestamp))
            .execute_in(&mut tx)
            .await?;
        for n in notifications {
            notify(&mut tx, n).await?;
        }
        outbox::append(&mut tx, SCHEMA, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn notifications(
        &self,
        recipients: &[Owner],
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<(Vec<NotificationView>, i64)> {
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT id, report_id, kind, params, message, is_read, created_at FROM workflow.notifications WHERE recipient = ANY(",
        );
        qb.push_bind(owner_refs(recipients)).push(")");
        if unread_only {
            qb.push(" AND is_read = 0");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(limit);
        let rows = qb.build().fetch_all_on(&self.db).await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(NotificationView {
                    id: parse(r.get::<&str, _>(0), "notification id")?,
                    report_id: parse(r.get::<&str, _>(1), "report id")?,
                    notice: Notice::stored(r.get(2), r.get(3), r.get(4)),
                    is_read: r.get::<i64, _>(5) != 0,
                    created_at: from_millis(r.get(6)),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let mut count = QueryBuilder::<Postgres>::new(
            "SELECT count(*) FROM workflow.notifications WHERE is_read = 0 AND recipient = ANY(",
        );
        count.push_bind(owner_refs(recipients)).push(")");
        let unread: i64 = count.build_query_scalar().fetch_one_on(&self.db).await?;
        Ok((items, unread))
    }

    async fn mark_read(
        &self,
        recipients: &[Owner],
        id: Option<NotificationId>,
    ) -> StoreResult<u64> {
        let mut qb = QueryBuilder::<Postgres>::new(
            "UPDATE workflow.notifications SET is_read = 1 WHERE is_read = 0 AND recipient = ANY(",
        );
        qb.push_bind(owner_refs(recipients)).push(")");
        if let Some(id) = id {
            qb.push(" AND id = ").push_bind(id.to_string());
        }
        Ok(qb.build().execute_on(&self.db).await?.rows_affected())
    }

    async fn escalations(
        &self,
        agency: Option<&AgencyCode>,
        limit: i64,
    ) -> StoreResult<Vec<EscalationView>> {
        let rows = sqlx::query(
            "SELECT e.report_id, e.agency, e.level, j.current_status, j.due_at, e.escalated_at FROM workflow.escalations e \
             JOIN workflow.sla_jobs j ON j.report_id = e.report_id WHERE ($1 IS NULL OR e.agency = $1) \
             ORDER BY e.escalated_at DESC, e.level DESC LIMIT $2",
        )
        .bind(agency.map(|a| a.to_string()))
        .bind(limit)
        .fetch_all_on(&self.db)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EscalationView {
                    report_id: parse(r.get::<&str, _>(0), "report id")?,
                    owner_agency: parse(r.get::<&str, _>(1), "agency")?,
                    escalation_level: r.get(2),
                    current_status: parse(r.get::<&str, _>(3), "status")?,
                    due_at: from_millis(r.get(4)),
                    escalated_at: from_millis(r.get(5)),
                })
            })
            .collect()
    }

    async fn count_jobs(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT count(*) FROM workflow.sla_jobs")
            .fetch_one_on(&self.db)
            .await
    }
}
