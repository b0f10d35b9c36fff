//! Operations on SQLite: cases routed to agencies, their history and answers.

use crate::db::{Db, SqlxResultExt, parse};
use crate::outbox::{self, impl_outbox};
use async_trait::async_trait;
use lapor_app::clock::{from_millis, millis};
use lapor_app::ports::{
    CaseState, Cursor, EventConsumer, InboxFilter, OperationsStore, StoreError, StoreResult,
};
use lapor_app::views::{AnswerView, CaseDetail, CaseHistoryEntry, CaseView, Listing, LocationView};
use lapor_domain::catalog::CategorySlug;
use lapor_domain::events::{DomainEvent, EventEnvelope};
use lapor_domain::ids::ReportId;
use lapor_domain::lifecycle::Status;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

pub struct SqliteOperations {
    pub(crate) db: Db,
}

impl SqliteOperations {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl_outbox!(SqliteOperations, "operations");

const COLS: &str = "report_id, agency, status, title, content, category, reporter_user_id, visibility, vote_count, \
                    escalation_level, lat, lon, address, created_at, updated_at";

fn case_view(r: &SqliteRow) -> StoreResult<CaseView> {
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
    })
}

async fn apply_one(conn: &mut SqliteConnection, e: &EventEnvelope) -> StoreResult<()> {
    let Ok(event) = e.decode() else { return Ok(()) };
    match event {
        DomainEvent::ReportCreated(c) => {
            let at = millis(c.created_at);
            sqlx::query(&format!(
                "INSERT INTO cases ({COLS}) VALUES ($1, $2, 'RECEIVED', $3, $4, $5, $6, $7, 0, 0, $8, $9, $10, $11, $11) \
                 ON CONFLICT (report_id) DO NOTHING"
            ))
            .bind(c.report_id.to_string())
            .bind(c.agency.as_str())
            .bind(&c.title)
            .bind(&c.content)
            .bind(c.category.as_str())
            // The domain leaves this empty for ANONYMOUS reports.
            .bind(c.reporter_user_id.map(|u| u.to_string()))
            .bind(c.visibility.as_str())
            .bind(c.location.as_ref().map(|l| l.lat))
            .bind(c.location.as_ref().map(|l| l.lon))
            .bind(c.location.as_ref().and_then(|l| l.address.clone()))
            .bind(at)
            .execute(conn)
            .await
            .store()?;
        }
        DomainEvent::ReportUpdated(u) => {
            // A new category may route the case to another agency.
            let done = sqlx::query(
                "UPDATE cases SET title = $1, content = $2, category = $3, agency = $4, lat = $5, lon = $6, address = $7, updated_at = $8 \
                 WHERE report_id = $9",
            )
            .bind(&u.title)
            .bind(&u.content)
            .bind(u.category.as_str())
            .bind(u.agency.as_str())
            .bind(u.location.as_ref().map(|l| l.lat))
            .bind(u.location.as_ref().map(|l| l.lon))
            .bind(u.location.as_ref().and_then(|l| l.address.clone()))
            .bind(millis(u.updated_at))
            .bind(u.report_id.to_string())
            .execute(conn)
            .await
            .store()?;
            if done.rows_affected() == 0 {
                return lapor_app::ports::not_yet(e);
            }
        }
        DomainEvent::ReportWithdrawn(w) => {
            let done =
                sqlx::query("UPDATE cases SET withdrawn = 1, updated_at = $1 WHERE report_id = $2")
                    .bind(millis(w.withdrawn_at))
                    .bind(w.report_id.to_string())
                    .execute(conn)
                    .await
                    .store()?;
            if done.rows_affected() == 0 {
                return lapor_app::ports::not_yet(e);
            }
        }
        DomainEvent::ReportUpvoted(v) => {
            let done = sqlx::query(
                "UPDATE cases SET vote_count = max(vote_count, $1) WHERE report_id = $2",
            )
            .bind(v.vote_count)
            .bind(v.report_id.to_string())
            .execute(conn)
            .await
            .store()?;
            if done.rows_affected() == 0 {
                return lapor_app::ports::not_yet(e);
            }
        }
        DomainEvent::ReportEscalated(x) => {
            let done = sqlx::query("UPDATE cases SET escalation_level = max(escalation_level, $1) WHERE report_id = $2")
                .bind(x.escalation_level)
                .bind(x.report_id.to_string())
                .execute(conn)
                .await
                .store()?;
            if done.rows_affected() == 0 {
                return lapor_app::ports::not_yet(e);
            }
        }
        // Operations produced these itself.
        DomainEvent::StatusUpdated(_) | DomainEvent::CaseAnswered(_) => {}
    }
    Ok(())
}

#[async_trait]
impl EventConsumer for SqliteOperations {
    fn group(&self) -> String {
        "operations".into()
    }

    async fn apply(&self, events: &[EventEnvelope]) -> StoreResult<usize> {
        let mut tx = self.db.writer.begin().await.store()?;
        let mut applied = 0;
        for e in events {
            if outbox::first_time(&mut tx, e).await? {
                apply_one(&mut tx, e).await?;
                applied += 1;
            }
        }
        tx.commit().await.store()?;
        Ok(applied)
    }
}

#[async_trait]
impl OperationsStore for SqliteOperations {
    async fn inbox(&self, f: &InboxFilter) -> StoreResult<Listing<CaseView>> {
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("SELECT {COLS} FROM cases WHERE withdrawn = 0"));
        if let Some(a) = &f.agency {
            qb.push(" AND agency = ").push_bind(a.to_string());
        }
        if let Some(s) = f.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(c) = &f.category {
            qb.push(" AND category = ").push_bind(c.to_string());
        }
        if let Some(c) = f.after {
            qb.push(" AND (created_at < ")
                .push_bind(c.created_at_ms)
                .push(" OR (created_at = ")
                .push_bind(c.created_at_ms)
                .push(" AND report_id < ")
                .push_bind(c.id.to_string())
                .push("))");
        }
        qb.push(" ORDER BY created_at DESC, report_id DESC LIMIT ")
            .push_bind(f.limit + 1);
        let rows = qb.build().fetch_all(&self.db.reader).await.store()?;
        let mut items = rows
            .iter()
            .map(case_view)
            .collect::<StoreResult<Vec<_>>>()?;
        let more = items.len() as i64 > f.limit;
        items.truncate(f.limit as usize);
        let next_cursor = match (more, items.last()) {
            (true, Some(l)) => Some(
                Cursor {
                    created_at_ms: millis(l.created_at),
                    id: l.report_id,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(Listing {
            items,
            total: None,
            next_cursor,
        })
    }

    async fn case_state(&self, id: ReportId) -> StoreResult<Option<CaseState>> {
        let row = sqlx::query("SELECT agency, status, withdrawn FROM cases WHERE report_id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.db.reader)
            .await
            .store()?;
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

    async fn case_detail(&self, id: ReportId) -> StoreResult<Option<CaseDetail>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM cases WHERE report_id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.db.reader)
            .await
            .store()?;
        let Some(case) = row.as_ref().map(case_view).transpose()? else {
            return Ok(None);
        };
        let history = sqlx::query(
            "SELECT old_status, new_status, reason, actor_user_id, changed_at FROM case_history WHERE report_id = $1 ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&self.db.reader)
        .await
        .store()?
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
        let answers = sqlx::query("SELECT id, officer_user_id, message, created_at FROM answers WHERE report_id = $1 ORDER BY created_at, id")
            .bind(id.to_string())
            .fetch_all(&self.db.reader)
            .await
            .store()?
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

    async fn change_status(
        &self,
        id: ReportId,
        expected: Status,
        event: &EventEnvelope,
    ) -> StoreResult<()> {
        let Ok(DomainEvent::StatusUpdated(s)) = event.decode() else {
            return Err(StoreError::Other(anyhow::anyhow!(
                "change_status needs a report.status.updated event"
            )));
        };
        let at = millis(s.changed_at);
        let mut tx = self.db.writer.begin().await.store()?;
        let done = sqlx::query("UPDATE cases SET status = $1, updated_at = $2 WHERE report_id = $3 AND status = $4 AND withdrawn = 0")
            .bind(s.new_status.as_str())
            .bind(at)
            .bind(id.to_string())
            .bind(expected.as_str())
            .execute(&mut *tx)
            .await
            .store()?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("the case changed meanwhile".into()));
        }
        sqlx::query(
            "INSERT INTO case_history (report_id, old_status, new_status, reason, actor_user_id, changed_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(s.old_status.as_str())
        .bind(s.new_status.as_str())
        .bind(&s.reason)
        .bind(s.actor_user_id.to_string())
        .bind(at)
        .execute(&mut *tx)
        .await
        .store()?;
        outbox::append(&mut tx, event).await?;
        tx.commit().await.store()
    }

    async fn add_answer(&self, event: &EventEnvelope) -> StoreResult<()> {
        let Ok(DomainEvent::CaseAnswered(a)) = event.decode() else {
            return Err(StoreError::Other(anyhow::anyhow!(
                "add_answer needs a case.answered event"
            )));
        };
        let mut tx = self.db.writer.begin().await.store()?;
        sqlx::query("INSERT INTO answers (id, report_id, officer_user_id, message, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(a.answer_id.to_string())
            .bind(a.report_id.to_string())
            .bind(a.officer_user_id.to_string())
            .bind(&a.message)
            .bind(millis(a.answered_at))
            .execute(&mut *tx)
            .await
            .store()?;
        sqlx::query("UPDATE cases SET updated_at = $1 WHERE report_id = $2")
            .bind(millis(a.answered_at))
            .bind(a.report_id.to_string())
            .execute(&mut *tx)
            .await
            .store()?;
        outbox::append(&mut tx, event).await?;
        tx.commit().await.store()
    }

    async fn count_cases(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT count(*) FROM cases")
            .fetch_one(&self.db.reader)
            .await
            .store()
    }
}
