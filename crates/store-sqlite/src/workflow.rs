//! Workflow on SQLite: SLA jobs, configuration, escalations, notifications.
//!
//! What events cause here is decided by `lapor_app::reactions::workflow`:
//! this adapter loads the state a reaction reads, executes the writes it
//! returns and records the event as applied, in one transaction.

use crate::db::{Db, Sql, SqlResultExt, collect, parse, text};
use crate::outbox::{self, impl_outbox};
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
use rusqlite::{Connection, Row, params};

pub struct SqliteWorkflow {
    pub(crate) db: Db,
}

impl SqliteWorkflow {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl_outbox!(SqliteWorkflow, "workflow");

const JOB_COLS: &str = "report_id, owner, visibility, agency, category, sla_status, escalation_level, due_at, \
                        next_escalation_at, current_status, created_at, updated_at";

fn category(s: &str) -> StoreResult<CategorySlug> {
    CategorySlug::parse(s).map_err(|e| StoreError::Other(e.into()))
}

fn job(r: &Row<'_>) -> StoreResult<SlaJob> {
    Ok(SlaJob {
        agency: parse(&text(r, 3)?, "agency")?,
        status: parse(&text(r, 5)?, "sla status")?,
        escalation_level: r.get(6).store()?,
        due_at: from_millis(r.get(7).store()?),
        next_escalation_at: r.get::<_, Option<i64>>(8).store()?.map(from_millis),
        current_status: parse(&text(r, 9)?, "status")?,
    })
}

fn config(conn: &Connection) -> StoreResult<SlaConfig> {
    let mut st = conn
        .prepare_cached("SELECT category, duration_seconds FROM sla_config")
        .store()?;
    let mut rows = st.query([]).store()?;
    let mut cfg = SlaConfig {
        default_seconds: 86_400,
        per_category: vec![],
    };
    while let Some(r) = rows.next().store()? {
        let cat: String = r.get(0).store()?;
        let secs: i64 = r.get(1).store()?;
        if cat.is_empty() {
            cfg.default_seconds = secs;
        } else {
            cfg.per_category.push((category(&cat)?, secs));
        }
    }
    cfg.per_category.sort();
    Ok(cfg)
}

fn notify(conn: &Connection, n: &NewNotification) -> StoreResult<()> {
    let (kind, params, message) = n.notice.to_stored();
    conn.prepare_cached("INSERT INTO notifications (id, recipient, report_id, kind, params, message, is_read, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)")
        .store()?
        .execute(params![
            n.id.to_string(),
            n.recipient.to_string(),
            n.report_id.to_string(),
            kind,
            params,
            message,
            millis(n.created_at)
        ])
        .store()?;
    Ok(())
}

fn load(conn: &Connection, id: ReportId) -> StoreResult<Option<Job>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {JOB_COLS} FROM sla_jobs WHERE report_id = ?1"
        ))
        .store()?;
    let mut rows = st.query([id.to_string()]).store()?;
    let Some(r) = rows.next().store()? else {
        return Ok(None);
    };
    Ok(Some(Job {
        owner: parse(&text(r, 1)?, "owner")?,
        job: job(r)?,
    }))
}

fn save(conn: &Connection, id: ReportId, j: &SlaJob, at: Timestamp) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE sla_jobs SET sla_status = ?1, escalation_level = ?2, next_escalation_at = ?3, current_status = ?4, updated_at = ?5 \
         WHERE report_id = ?6",
    )
    .store()?
    .execute(params![
        j.status.as_str(),
        j.escalation_level,
        j.next_escalation_at.map(millis),
        j.current_status.as_str(),
        millis(at),
        id.to_string()
    ])
    .store()?;
    Ok(())
}

/// Executes one of the reaction's writes, about report `id`.
fn execute(conn: &Connection, id: ReportId, w: WorkflowWrite) -> StoreResult<()> {
    match w {
        WorkflowWrite::StartJob(n) => {
            let j = &n.job;
            conn.prepare_cached(&format!(
                "INSERT INTO sla_jobs ({JOB_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) ON CONFLICT (report_id) DO NOTHING"
            ))
            .store()?
            .execute(params![
                id.to_string(),
                n.owner.to_string(),
                n.visibility.as_str(),
                j.agency.as_str(),
                n.category.as_str(),
                j.status.as_str(),
                j.escalation_level,
                millis(j.due_at),
                j.next_escalation_at.map(millis),
                j.current_status.as_str(),
                millis(n.created_at),
            ])
            .store()?;
        }
        WorkflowWrite::Emit(event) => outbox::append(conn, &event)?,
        WorkflowWrite::ReRoute {
            agency,
            category,
            at,
        } => {
            conn.prepare_cached(
                "UPDATE sla_jobs SET agency = ?1, category = ?2, updated_at = ?3 WHERE report_id = ?4",
            )
            .store()?
            .execute(params![
                agency.as_str(),
                category.as_str(),
                millis(at),
                id.to_string()
            ])
            .store()?;
            conn.prepare_cached("UPDATE escalations SET agency = ?1 WHERE report_id = ?2")
                .store()?
                .execute(params![agency.as_str(), id.to_string()])
                .store()?;
        }
        WorkflowWrite::SaveJob { job, at } => save(conn, id, &job, at)?,
        WorkflowWrite::Notify(n) => notify(conn, &n)?,
    }
    Ok(())
}

fn apply_one(
    conn: &Connection,
    e: &EventEnvelope,
    config: &SlaConfig,
    now: Timestamp,
) -> StoreResult<()> {
    let job = load(conn, e.report_id)?;
    let state = WorkflowState {
        job: job.as_ref(),
        config,
    };
    for w in workflow::react(e, state, now).into_writes(e)? {
        execute(conn, e.report_id, w)?;
    }
    Ok(())
}

#[async_trait]
impl EventConsumer for SqliteWorkflow {
    fn group(&self) -> String {
        "workflow".into()
    }

    async fn apply(&self, events: &[EventEnvelope], now: Timestamp) -> StoreResult<usize> {
        let events = outbox::relevant(events, workflow::reacts_to);
        if events.is_empty() {
            return Ok(0);
        }
        self.db
            .write(move |c| {
                // Once per batch: a new job's duration comes from it.
                let cfg = config(c)?;
                outbox::apply_new(c, &events, |c, e| apply_one(c, e, &cfg, now))
            })
            .await
    }
}

fn push_scope(q: &mut Sql, scope: &ListingScope) {
    crate::scope::push_scope(q, scope, crate::scope::ROWS);
}

fn push_sla_where(q: &mut Sql, f: &SlaFilter) {
    q.push(" WHERE 1 = 1");
    push_scope(q, &f.scope);
    if let Some(id) = f.report_id {
        q.push(" AND report_id = ").bind(id.to_string());
    }
    if let Some(s) = f.sla_status {
        q.push(" AND sla_status = ").bind(s.as_str().to_owned());
    }
    if f.overdue_only {
        q.push(" AND sla_status IN ('PENDING', 'ESCALATED') AND due_at < ")
            .bind(millis(f.now));
    }
}

/// The total of an SLA listing from the counters that triggers keep
/// (migration 5002): a sum over a few rows whatever the number of jobs.
/// `None` when the filter needs a scan (one report, overdue only).
fn counted_sla_total(c: &Connection, f: &SlaFilter) -> StoreResult<Option<i64>> {
    if f.report_id.is_some() || f.overdue_only {
        return Ok(None);
    }
    let status = |q: &mut Sql| {
        if let Some(s) = f.sla_status {
            q.push(" AND sla_status = ").bind(s.as_str().to_owned());
        }
    };
    let mut q = Sql::new("SELECT ");
    crate::scope::push_scope_total(&mut q, &f.scope, "sla_counts", "sla_owner_counts", &status);
    let total = c
        .prepare_cached(&q.sql)
        .store()?
        .query_row(q.params(), |r| r.get(0))
        .store()?;
    Ok(Some(total))
}

impl SqliteWorkflow {
    /// The total of an SLA listing by `count(*)` and from the counters
    /// (`None`: needs a scan); tests compare the two.
    pub fn sla_totals(&self, f: &SlaFilter) -> StoreResult<(i64, Option<i64>)> {
        self.db.read(|c| {
            let mut count = Sql::new("SELECT count(*) FROM sla_jobs");
            push_sla_where(&mut count, f);
            let scanned = c
                .prepare_cached(&count.sql)
                .store()?
                .query_row(count.params(), |r| r.get(0))
                .store()?;
            Ok((scanned, counted_sla_total(c, f)?))
        })
    }
}

#[async_trait]
impl WorkflowStore for SqliteWorkflow {
    async fn sla_status(&self, f: &SlaFilter) -> StoreResult<Listing<SlaView>> {
        let mut q = Sql::new(&format!("SELECT {JOB_COLS} FROM sla_jobs"));
        push_sla_where(&mut q, f);
        q.push(" ORDER BY created_at DESC, report_id DESC LIMIT ")
            .bind(f.per_page)
            .push(" OFFSET ")
            .bind((f.page - 1) * f.per_page);
        let now = f.now;
        let items = self.db.read(|c| {
            let mut st = c.prepare_cached(&q.sql).store()?;
            let mut rows = st.query(q.params()).store()?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().store()? {
                let j = job(r)?;
                out.push(SlaView {
                    report_id: parse(&text(r, 0)?, "report id")?,
                    category: category(&text(r, 4)?)?,
                    owner_agency: j.agency.clone(),
                    due_at: j.due_at,
                    sla_status: j.status,
                    escalation_level: j.escalation_level,
                    current_status: j.current_status,
                    is_overdue: j.is_overdue(now),
                    created_at: from_millis(r.get(10).store()?),
                    updated_at: from_millis(r.get(11).store()?),
                    visibility: parse(&text(r, 2)?, "visibility")?,
                    owner: None,
                });
            }
            Ok(out)
        })?;
        let total = match self.db.read(|c| counted_sla_total(c, f))? {
            Some(t) => t,
            None => {
                // One report or overdue-only (time-dependent): count rows.
                let mut count = Sql::new("SELECT count(*) FROM sla_jobs");
                push_sla_where(&mut count, f);
                self.db
                    .read_blocking(move |c| {
                        c.prepare_cached(&count.sql)
                            .store()?
                            .query_row(count.params(), |r| r.get(0))
                            .store()
                    })
                    .await?
            }
        };
        Ok(Listing {
            items,
            total: Some(total),
            next_cursor: None,
        })
    }

    async fn sla_config(&self) -> StoreResult<SlaConfig> {
        self.db.read(config)
    }

    async fn set_sla_seconds(
        &self,
        category: Option<&CategorySlug>,
        seconds: i64,
    ) -> StoreResult<()> {
        let cat = category.map(|c| c.to_string()).unwrap_or_default();
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO sla_config (category, duration_seconds) VALUES (?1, ?2) \
                     ON CONFLICT (category) DO UPDATE SET duration_seconds = excluded.duration_seconds",
                    params![cat, seconds],
                )
                .store()?;
                Ok(())
            })
            .await
    }

    async fn due_jobs(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<DueJob>> {
        self.db.read(|c| {
            collect(
                c,
                &format!(
                    "SELECT {JOB_COLS} FROM sla_jobs WHERE next_escalation_at IS NOT NULL AND next_escalation_at <= ?1 \
                     AND sla_status IN ('PENDING', 'ESCALATED') ORDER BY next_escalation_at LIMIT ?2"
                ),
                params![millis(now), limit],
                |r| {
                    Ok(DueJob {
                        report_id: parse(&text(r, 0)?, "report id")?,
                        category: category(&text(r, 4)?)?,
                        owner: parse(&text(r, 1)?, "owner")?,
                        job: job(r)?,
                    })
                },
            )
        })
    }

    async fn next_due(&self) -> StoreResult<Option<Timestamp>> {
        let at: Option<i64> = self.db.read(|c| {
            c.prepare_cached(
                "SELECT min(next_escalation_at) FROM sla_jobs WHERE next_escalation_at IS NOT NULL AND sla_status IN ('PENDING', 'ESCALATED')",
            )
            .store()?
            .query_row([], |r| r.get(0))
            .store()
        })?;
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
        let j = j.clone();
        let notifications = notifications.to_vec();
        let event = event.clone();
        self.db
            .write(move |c| {
                let done = c
                    .prepare_cached(
                        "UPDATE sla_jobs SET sla_status = ?1, escalation_level = ?2, next_escalation_at = ?3, updated_at = ?4 \
                         WHERE report_id = ?5 AND escalation_level = ?6 AND sla_status IN ('PENDING', 'ESCALATED')",
                    )
                    .store()?
                    .execute(params![
                        j.status.as_str(),
                        j.escalation_level,
                        j.next_escalation_at.map(millis),
                        millis(event.timestamp),
                        id.to_string(),
                        expected_level
                    ])
                    .store()?;
                if done != 1 {
                    return Ok(false);
                }
                c.prepare_cached("INSERT INTO escalations (report_id, level, agency, escalated_at) VALUES (?1, ?2, ?3, ?4)")
                    .store()?
                    .execute(params![
                        id.to_string(),
                        j.escalation_level,
                        j.agency.as_str(),
                        millis(event.timestamp)
                    ])
                    .store()?;
                for n in &notifications {
                    notify(c, n)?;
                }
                outbox::append(c, &event)?;
                Ok(true)
            })
            .await
    }

    async fn notifications(
        &self,
        recipients: &[Owner],
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<(Vec<NotificationView>, i64)> {
        let mut q = Sql::new(
            "SELECT id, report_id, kind, params, message, is_read, created_at FROM notifications WHERE recipient IN ",
        );
        q.bind_list(recipients);
        if unread_only {
            q.push(" AND is_read = 0");
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(limit);
        let mut count =
            Sql::new("SELECT count(*) FROM notifications WHERE is_read = 0 AND recipient IN ");
        count.bind_list(recipients);
        self.db.read(|c| {
            let items = collect(c, &q.sql, q.params(), |r| {
                Ok(NotificationView {
                    id: parse(&text(r, 0)?, "notification id")?,
                    report_id: parse(&text(r, 1)?, "report id")?,
                    notice: Notice::stored(
                        &text(r, 2)?,
                        r.get::<_, Option<String>>(3).store()?.as_deref(),
                        &text(r, 4)?,
                    ),
                    is_read: r.get::<_, i64>(5).store()? != 0,
                    created_at: from_millis(r.get(6).store()?),
                })
            })?;
            let unread: i64 = c
                .prepare_cached(&count.sql)
                .store()?
                .query_row(count.params(), |r| r.get(0))
                .store()?;
            Ok((items, unread))
        })
    }

    async fn mark_read(
        &self,
        recipients: &[Owner],
        id: Option<NotificationId>,
    ) -> StoreResult<u64> {
        let mut q =
            Sql::new("UPDATE notifications SET is_read = 1 WHERE is_read = 0 AND recipient IN ");
        q.bind_list(recipients);
        if let Some(id) = id {
            q.push(" AND id = ").bind(id.to_string());
        }
        self.db
            .write(move |c| {
                let n = c.execute(&q.sql, q.params()).store()?;
                Ok(n as u64)
            })
            .await
    }

    async fn escalations(
        &self,
        agency: Option<&AgencyCode>,
        limit: i64,
    ) -> StoreResult<Vec<EscalationView>> {
        let agency = agency.map(|a| a.to_string());
        self.db.read(|c| {
            collect(
                c,
                "SELECT e.report_id, e.agency, e.level, j.current_status, j.due_at, e.escalated_at FROM escalations e \
                 JOIN sla_jobs j ON j.report_id = e.report_id WHERE (?1 IS NULL OR e.agency = ?1) \
                 ORDER BY e.escalated_at DESC, e.level DESC LIMIT ?2",
                params![agency, limit],
                |r| {
                    Ok(EscalationView {
                        report_id: parse(&text(r, 0)?, "report id")?,
                        owner_agency: parse(&text(r, 1)?, "agency")?,
                        escalation_level: r.get(2).store()?,
                        current_status: parse(&text(r, 3)?, "status")?,
                        due_at: from_millis(r.get(4).store()?),
                        escalated_at: from_millis(r.get(5).store()?),
                    })
                },
            )
        })
    }

    async fn count_jobs(&self) -> StoreResult<i64> {
        self.db
            .read_blocking(|c| {
                c.query_row("SELECT count(*) FROM sla_jobs", [], |r| r.get(0))
                    .store()
            })
            .await
    }
}
