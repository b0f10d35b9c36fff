//! Operations on SQLite: cases routed to agencies, their history and answers.
//!
//! What events cause here is decided by `lapor_app::reactions::operations`:
//! this adapter loads the state a reaction reads, executes the writes it
//! returns and records the event as applied, in one transaction.

use crate::db::{Db, Sql, SqlResultExt, collect, parse, text};
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
use rusqlite::{Connection, OptionalExtension, Row, params};

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
/// What a [`CaseView`] is read from: the columns a new case is inserted
/// with, plus those that events fill in later.
const VIEW_COLS: &str = "report_id, agency, status, title, content, category, reporter_user_id, visibility, vote_count, \
                         escalation_level, lat, lon, address, created_at, updated_at, due_at";

fn case_view(r: &Row<'_>) -> StoreResult<CaseView> {
    let reporter: Option<String> = r.get(6).store()?;
    let lat: Option<f64> = r.get(10).store()?;
    let lon: Option<f64> = r.get(11).store()?;
    Ok(CaseView {
        report_id: parse(&text(r, 0)?, "report id")?,
        owner_agency: parse(&text(r, 1)?, "agency")?,
        status: parse(&text(r, 2)?, "status")?,
        title: r.get(3).store()?,
        content: r.get(4).store()?,
        category: CategorySlug::parse(&text(r, 5)?).map_err(|e| StoreError::Other(e.into()))?,
        reporter_user_id: reporter.map(|u| parse(&u, "user id")).transpose()?,
        visibility: parse(&text(r, 7)?, "visibility")?,
        vote_count: r.get(8).store()?,
        escalation_level: r.get(9).store()?,
        location: match (lat, lon) {
            (Some(lat), Some(lon)) => Some(LocationView {
                lat,
                lon,
                address: r.get(12).store()?,
            }),
            _ => None,
        },
        created_at: from_millis(r.get(13).store()?),
        updated_at: from_millis(r.get(14).store()?),
        due_at: r.get::<_, Option<i64>>(15).store()?.map(from_millis),
        // Set by the service from the application clock.
        is_overdue: false,
    })
}

fn push_inbox_where(q: &mut Sql, f: &InboxFilter) {
    q.push(" WHERE withdrawn = 0");
    if let Some(a) = &f.agency {
        q.push(" AND agency = ").bind(a.to_string());
    }
    if let Some(s) = f.status {
        q.push(" AND status = ").bind(s.as_str().to_owned());
    }
    if let Some(c) = &f.category {
        q.push(" AND category = ").bind(c.to_string());
    }
    if f.overdue_only {
        // Written as in the partial index cases_open_due, so it is used.
        q.push(" AND status IN ('RECEIVED', 'IN_PROGRESS') AND due_at < ")
            .bind(millis(f.now));
    }
}

/// Each sort order matches an index (migration 4002).
fn inbox_order(sort: InboxSort) -> &'static str {
    match sort {
        InboxSort::Newest => " ORDER BY created_at DESC, report_id DESC",
        InboxSort::Oldest => " ORDER BY created_at ASC, report_id ASC",
        InboxSort::Upvotes => " ORDER BY vote_count DESC, created_at DESC, report_id DESC",
        InboxSort::SlaDue => " ORDER BY due_at IS NULL, due_at, created_at, report_id",
    }
}

/// What the operations reactions compare events with; `None` if there is
/// no case for the report.
fn load(conn: &Connection, id: ReportId) -> StoreResult<Option<Case>> {
    conn.prepare_cached("SELECT vote_count, escalation_level FROM cases WHERE report_id = ?1")
        .store()?
        .query_row([id.to_string()], |r| {
            Ok(Case {
                vote_count: r.get(0)?,
                escalation_level: r.get(1)?,
            })
        })
        .optional()
        .store()
}

/// Executes one of the reaction's writes, about report `id`.
fn execute(conn: &Connection, id: ReportId, w: OperationsWrite) -> StoreResult<()> {
    let id = id.to_string();
    let run = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> StoreResult<()> {
        conn.prepare_cached(sql).store()?.execute(p).store()?;
        Ok(())
    };
    match w {
        OperationsWrite::Insert(c) => run(
            &format!(
                "INSERT INTO cases ({COLS}) VALUES (?1, ?2, 'RECEIVED', ?3, ?4, ?5, ?6, ?7, 0, 0, ?8, ?9, ?10, ?11, ?11) \
                 ON CONFLICT (report_id) DO NOTHING"
            ),
            params![
                id,
                c.agency.as_str(),
                c.title,
                c.content,
                c.category.as_str(),
                c.reporter_user_id.map(|u| u.to_string()),
                c.visibility.as_str(),
                c.location.as_ref().map(|l| l.lat),
                c.location.as_ref().map(|l| l.lon),
                c.location.as_ref().and_then(|l| l.address.clone()),
                millis(c.created_at),
            ],
        ),
        OperationsWrite::Edit {
            title,
            content,
            category,
            agency,
            location,
            at,
        } => run(
            "UPDATE cases SET title = ?1, content = ?2, category = ?3, agency = ?4, lat = ?5, lon = ?6, address = ?7, updated_at = ?8 \
             WHERE report_id = ?9",
            params![
                title,
                content,
                category.as_str(),
                agency.as_str(),
                location.as_ref().map(|l| l.lat),
                location.as_ref().map(|l| l.lon),
                location.as_ref().and_then(|l| l.address.clone()),
                millis(at),
                id,
            ],
        ),
        OperationsWrite::Withdraw { at } => run(
            "UPDATE cases SET withdrawn = 1, updated_at = ?1 WHERE report_id = ?2",
            params![millis(at), id],
        ),
        OperationsWrite::SetVoteCount(n) => run(
            "UPDATE cases SET vote_count = ?1 WHERE report_id = ?2",
            params![n, id],
        ),
        OperationsWrite::SetEscalationLevel(n) => run(
            "UPDATE cases SET escalation_level = ?1 WHERE report_id = ?2",
            params![n, id],
        ),
        OperationsWrite::SetDueAt(at) => run(
            "UPDATE cases SET due_at = ?1 WHERE report_id = ?2",
            params![millis(at), id],
        ),
    }
}

fn apply_one(conn: &Connection, e: &EventEnvelope, now: Timestamp) -> StoreResult<()> {
    let case = load(conn, e.report_id)?;
    for w in operations::react(e, case.as_ref(), now).into_writes(e)? {
        execute(conn, e.report_id, w)?;
    }
    Ok(())
}

#[async_trait]
impl EventConsumer for SqliteOperations {
    fn group(&self) -> String {
        "operations".into()
    }

    async fn apply(&self, events: &[EventEnvelope], now: Timestamp) -> StoreResult<usize> {
        let events = outbox::relevant(events, operations::reacts_to);
        if events.is_empty() {
            return Ok(0);
        }
        self.db
            .write(move |c| outbox::apply_new(c, &events, |c, e| apply_one(c, e, now)))
            .await
    }
}

fn case_views(conn: &Connection, q: &Sql) -> StoreResult<Vec<CaseView>> {
    crate::db::collect(conn, &q.sql, q.params(), case_view)
}

#[async_trait]
impl OperationsStore for SqliteOperations {
    async fn inbox(&self, f: &InboxFilter) -> StoreResult<Listing<CaseView>> {
        let mut q = Sql::new(&format!("SELECT {VIEW_COLS} FROM cases"));
        push_inbox_where(&mut q, f);
        let w = f.window();
        if let Some(c) = w.after {
            q.push(" AND (created_at < ")
                .bind(c.created_at_ms)
                .push(" OR (created_at = ")
                .bind(c.created_at_ms)
                .push(" AND report_id < ")
                .bind(c.id.to_string())
                .push("))");
        }
        q.push(inbox_order(f.sort));
        q.push(" LIMIT ").bind(w.limit + 1);
        if let Some(o) = w.offset {
            q.push(" OFFSET ").bind(o);
        }
        let rows = self.db.read(|c| case_views(c, &q))?;
        let total = match w.offset {
            Some(_) => {
                let mut count = Sql::new("SELECT count(*) FROM cases");
                push_inbox_where(&mut count, f);
                Some(
                    self.db
                        .read_blocking(move |c| {
                            c.prepare_cached(&count.sql)
                                .store()?
                                .query_row(count.params(), |r| r.get(0))
                                .store()
                        })
                        .await?,
                )
            }
            None => None,
        };
        Ok(f.page(rows, total))
    }

    async fn case_state(&self, id: ReportId) -> StoreResult<Option<CaseState>> {
        self.db.read(|c| {
            let mut st = c
                .prepare_cached("SELECT agency, status, withdrawn FROM cases WHERE report_id = ?1")
                .store()?;
            let mut rows = st.query([id.to_string()]).store()?;
            let Some(r) = rows.next().store()? else {
                return Ok(None);
            };
            Ok(Some(CaseState {
                report_id: id,
                agency: parse(&text(r, 0)?, "agency")?,
                status: parse(&text(r, 1)?, "status")?,
                withdrawn: r.get::<_, i64>(2).store()? != 0,
            }))
        })
    }

    async fn case_titles(
        &self,
        ids: &[ReportId],
    ) -> StoreResult<Vec<(ReportId, AgencyCode, String)>> {
        let mut q = Sql::new("SELECT report_id, agency, title FROM cases WHERE report_id IN ");
        q.bind_list(ids);
        self.db.read(|c| {
            crate::db::collect(c, &q.sql, q.params(), |r| {
                Ok((
                    parse(&text(r, 0)?, "report id")?,
                    parse(&text(r, 1)?, "agency")?,
                    r.get(2).store()?,
                ))
            })
        })
    }

    async fn case_detail(&self, id: ReportId) -> StoreResult<Option<CaseDetail>> {
        self.db.read(|c| {
            let mut q = Sql::new(&format!("SELECT {VIEW_COLS} FROM cases WHERE report_id = "));
            q.bind(id.to_string());
            let Some(case) = case_views(c, &q)?.pop() else {
                return Ok(None);
            };
            let history = collect(
                c,
                "SELECT old_status, new_status, reason, actor_user_id, changed_at FROM case_history WHERE report_id = ?1 ORDER BY id",
                [id.to_string()],
                |r| {
                    Ok(CaseHistoryEntry {
                        old_status: parse(&text(r, 0)?, "status")?,
                        new_status: parse(&text(r, 1)?, "status")?,
                        reason: r.get(2).store()?,
                        actor_user_id: parse(&text(r, 3)?, "user id")?,
                        changed_at: from_millis(r.get(4).store()?),
                    })
                },
            )?;
            let answers = collect(
                c,
                "SELECT id, officer_user_id, message, created_at FROM answers WHERE report_id = ?1 ORDER BY created_at, id",
                [id.to_string()],
                |r| {
                    Ok(AnswerView {
                        id: parse(&text(r, 0)?, "answer id")?,
                        report_id: id,
                        officer_user_id: parse(&text(r, 1)?, "user id")?,
                        message: r.get(2).store()?,
                        created_at: from_millis(r.get(3).store()?),
                    })
                },
            )?;
            Ok(Some(CaseDetail {
                case,
                history,
                answers,
            }))
        })
    }

    async fn change_status(&self, s: &StatusUpdated, event: &EventEnvelope) -> StoreResult<()> {
        let (s, id, expected) = (s.clone(), s.report_id, s.old_status);
        let at = millis(s.changed_at);
        let event = event.clone();
        self.db
            .write(move |c| {
                let done = c
                    .prepare_cached("UPDATE cases SET status = ?1, updated_at = ?2 WHERE report_id = ?3 AND status = ?4 AND withdrawn = 0")
                    .store()?
                    .execute(params![s.new_status.as_str(), at, id.to_string(), expected.as_str()])
                    .store()?;
                if done != 1 {
                    return Err(StoreError::Conflict("the case changed meanwhile".into()));
                }
                c.prepare_cached(
                    "INSERT INTO case_history (report_id, old_status, new_status, reason, actor_user_id, changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .store()?
                .execute(params![
                    id.to_string(),
                    s.old_status.as_str(),
                    s.new_status.as_str(),
                    s.reason,
                    s.actor_user_id.to_string(),
                    at
                ])
                .store()?;
                outbox::append(c, &event)
            })
            .await
    }

    async fn add_answer(&self, a: &CaseAnswered, event: &EventEnvelope) -> StoreResult<()> {
        let a = a.clone();
        let event = event.clone();
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO answers (id, report_id, officer_user_id, message, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        a.answer_id.to_string(),
                        a.report_id.to_string(),
                        a.officer_user_id.to_string(),
                        a.message,
                        millis(a.answered_at)
                    ],
                )
                .store()?;
                c.execute(
                    "UPDATE cases SET updated_at = ?1 WHERE report_id = ?2",
                    params![millis(a.answered_at), a.report_id.to_string()],
                )
                .store()?;
                outbox::append(c, &event)
            })
            .await
    }

    async fn count_cases(&self) -> StoreResult<i64> {
        self.db
            .read_blocking(|c| {
                c.query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
                    .store()
            })
            .await
    }

    async fn case_facts(
        &self,
        agency: Option<&AgencyCode>,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<CaseFacts>> {
        let agency = agency.cloned();
        self.db
            .read_blocking(move |c| {
                // One read transaction: the three queries see the same snapshot.
                c.execute_batch("BEGIN").store()?;
                let out = case_facts(c, agency.as_ref(), from, to);
                let _ = c.execute_batch("COMMIT");
                out
            })
            .await
    }

    async fn open_cases(&self, agency: Option<&AgencyCode>) -> StoreResult<Vec<OpenCases>> {
        // Written as in the partial index cases_open_due, so it is used.
        let mut q = Sql::new(
            "SELECT c.agency, c.status, (SELECT h.actor_user_id FROM case_history h \
             WHERE h.report_id = c.report_id AND h.new_status = 'IN_PROGRESS' ORDER BY h.id LIMIT 1), count(*) \
             FROM cases c WHERE withdrawn = 0 AND status IN ('RECEIVED', 'IN_PROGRESS')",
        );
        if let Some(a) = agency {
            q.push(" AND agency = ").bind(a.to_string());
        }
        q.push(" GROUP BY 1, 2, 3");
        self.db
            .read_blocking(move |c| {
                let mut st = c.prepare(&q.sql).store()?;
                let mut rows = st.query(q.params()).store()?;
                let mut out = Vec::new();
                while let Some(r) = rows.next().store()? {
                    let taken_by: Option<String> = r.get(2).store()?;
                    out.push(OpenCases {
                        agency: parse(&text(r, 0)?, "agency")?,
                        status: parse(&text(r, 1)?, "status")?,
                        taken_by: taken_by.map(|u| parse(&u, "user id")).transpose()?,
                        count: r.get(3).store()?,
                    });
                }
                Ok(out)
            })
            .await
    }
}

fn case_facts(
    c: &Connection,
    agency: Option<&AgencyCode>,
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<CaseFacts>> {
    let period = |q: &mut Sql, alias: &str| {
        q.push(&format!(
            " WHERE {alias}withdrawn = 0 AND {alias}created_at >= "
        ))
        .bind(millis(from))
        .push(&format!(" AND {alias}created_at < "))
        .bind(millis(to));
        if let Some(a) = agency {
            q.push(&format!(" AND {alias}agency = "))
                .bind(a.to_string());
        }
    };
    let mut q = Sql::new(
        "SELECT report_id, agency, category, status, escalation_level, created_at FROM cases",
    );
    period(&mut q, "");
    q.push(" ORDER BY created_at, report_id");
    let mut facts = Vec::new();
    {
        let mut st = c.prepare(&q.sql).store()?;
        let mut rows = st.query(q.params()).store()?;
        while let Some(r) = rows.next().store()? {
            facts.push(CaseFacts::new(
                parse(&text(r, 0)?, "report id")?,
                parse(&text(r, 1)?, "agency")?,
                CategorySlug::parse(&text(r, 2)?).map_err(|e| StoreError::Other(e.into()))?,
                from_millis(r.get(5).store()?),
                parse(&text(r, 3)?, "status")?,
                r.get(4).store()?,
            ));
        }
    }
    let index: std::collections::HashMap<ReportId, usize> = facts
        .iter()
        .enumerate()
        .map(|(i, f)| (f.report_id, i))
        .collect();
    // Status changes, then answers (a status change wins a tie).
    let mut history = Sql::new(
        "SELECT h.report_id, h.actor_user_id, h.changed_at, h.new_status FROM case_history h \
         JOIN cases c ON c.report_id = h.report_id",
    );
    period(&mut history, "c.");
    history.push(" ORDER BY h.id");
    let mut answers = Sql::new(
        "SELECT a.report_id, a.officer_user_id, a.created_at, NULL FROM answers a \
         JOIN cases c ON c.report_id = a.report_id",
    );
    period(&mut answers, "c.");
    answers.push(" ORDER BY a.created_at, a.id");
    for q in [history, answers] {
        let mut st = c.prepare(&q.sql).store()?;
        let mut rows = st.query(q.params()).store()?;
        while let Some(r) = rows.next().store()? {
            let id: ReportId = parse(&text(r, 0)?, "report id")?;
            let Some(&i) = index.get(&id) else { continue };
            let status: Option<String> = r.get(3).store()?;
            facts[i].record_action(
                from_millis(r.get(2).store()?),
                parse(&text(r, 1)?, "user id")?,
                status.map(|s| parse(&s, "status")).transpose()?,
            );
        }
    }
    Ok(facts)
}
