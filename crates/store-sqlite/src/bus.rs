//! The embedded event bus: a durable, ordered SQLite log (`eventlog.db`).
//!
//! * `events(seq, event_id UNIQUE, ...)`: every published event once;
//!   publishing an `event_id` again is ignored, so a relay that crashed
//!   after publishing but before marking its rows relayed creates no duplicate.
//! * `consumer_groups(name, acked_seq)`: each group's acknowledged position;
//!   a group fetches the events after it.
//!
//! New events wake waiting consumers through a `watch` channel (so delivery
//! takes microseconds, not a poll interval). Rebuilds replay the outboxes,
//! which keep every event, so this log may be pruned in the future.

use crate::db::{Db, SqlResultExt};
use async_trait::async_trait;
use lapor_app::clock::millis;
use lapor_app::ports::{BusError, Delivery, EventBus, GroupLag, StoreError};
use lapor_domain::events::EventEnvelope;
use rusqlite::{OptionalExtension, params};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

pub struct SqliteBus {
    db: Db,
    head: watch::Sender<i64>,
    /// Each group's acknowledged position, authoritative in memory and
    /// written to `consumer_groups` by a flusher every [`ACK_FLUSH`] (and on
    /// close), not once per batch: that was one commit per group per batch.
    /// A crash can lose the last few milliseconds of acks; those events are
    /// then delivered again, which changes nothing because every consumer
    /// records applied events in the same transaction as their effects.
    acked: Arc<Mutex<Positions>>,
    flusher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The most recently published events by sequence number, so the
    /// consumer groups (four of them in the embedded default) take new
    /// events from memory instead of each reading and parsing the log's
    /// JSON again. Filled only after the publishing transaction committed;
    /// a fetch serves from here only a run of consecutive sequence numbers
    /// starting right after the group's position, and reads the log
    /// otherwise (a lagging group, a rebuild, or an event whose publisher
    /// has not filled it in yet).
    recent: Mutex<BTreeMap<i64, EventEnvelope>>,
}

/// How many published events [`SqliteBus::recent`] keeps.
const RECENT: usize = 8192;

#[derive(Default)]
struct Positions {
    pos: HashMap<String, i64>,
    dirty: bool,
}

/// How often acknowledged positions are written to the log's database.
const ACK_FLUSH: Duration = Duration::from_millis(50);

async fn flush(db: &Db, acked: &Mutex<Positions>) -> Result<(), StoreError> {
    let rows: Vec<(String, i64)> = {
        let mut p = acked.lock().unwrap_or_else(|e| e.into_inner());
        if !p.dirty {
            return Ok(());
        }
        p.dirty = false;
        p.pos.iter().map(|(k, v)| (k.clone(), *v)).collect()
    };
    let out = db
        .write(move |c| {
            let mut st = c
                .prepare_cached(
                    "INSERT INTO consumer_groups (name, acked_seq) VALUES (?1, ?2) \
                     ON CONFLICT (name) DO UPDATE SET acked_seq = excluded.acked_seq",
                )
                .store()?;
            for (name, seq) in rows {
                st.execute(params![name, seq]).store()?;
            }
            Ok(())
        })
        .await;
    if out.is_err() {
        acked.lock().unwrap_or_else(|e| e.into_inner()).dirty = true;
    }
    out
}

fn bus_err(e: StoreError) -> BusError {
    match e {
        StoreError::Unavailable(m) => BusError::Unavailable(m),
        other => BusError::Other(anyhow::Error::new(other)),
    }
}

impl SqliteBus {
    pub async fn new(db: Db) -> anyhow::Result<Self> {
        let head: i64 = db.read(|c| {
            c.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
                .store()
        })?;
        let pos: HashMap<String, i64> = db.read(|c| {
            let mut st = c
                .prepare("SELECT name, acked_seq FROM consumer_groups")
                .store()?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .store()?
                .collect::<Result<_, _>>()
                .store()?;
            Ok(rows)
        })?;
        let acked = Arc::new(Mutex::new(Positions { pos, dirty: false }));
        let flusher = {
            let (db, acked) = (db.clone(), acked.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(ACK_FLUSH).await;
                    if let Err(e) = flush(&db, &acked).await {
                        tracing::warn!(error = %e, "could not record consumer positions; retrying");
                    }
                }
            })
        };
        Ok(Self {
            db,
            head: watch::channel(head).0,
            acked,
            flusher: Mutex::new(Some(flusher)),
            recent: Mutex::new(BTreeMap::new()),
        })
    }

    /// Writes the consumer positions and closes the log's database.
    pub async fn close(&self) {
        let flusher = self
            .flusher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(f) = flusher {
            f.abort();
        }
        if let Err(e) = flush(&self.db, &self.acked).await {
            tracing::warn!(error = %e, "could not record consumer positions at close");
        }
        self.db.close().await;
    }

    /// The consecutive run of cached events right after `after`, if any.
    fn recent_after(&self, after: i64, max: usize) -> Vec<Delivery> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent
            .range(after + 1..)
            .zip(after + 1..)
            .take_while(|((seq, _), expected)| *seq == expected)
            .take(max)
            .map(|((seq, event), _)| Delivery {
                tag: seq.to_string(),
                event: event.clone(),
            })
            .collect()
    }

    fn position(&self, group: &str) -> Option<i64> {
        self.acked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pos
            .get(group)
            .copied()
    }

    async fn acked(&self, group: &str) -> Result<i64, BusError> {
        if let Some(p) = self.position(group) {
            return Ok(p);
        }
        let pos: Option<i64> = self
            .db
            .read(|c| {
                c.prepare_cached("SELECT acked_seq FROM consumer_groups WHERE name = ?1")
                    .store()?
                    .query_row([group], |r| r.get(0))
                    .optional()
                    .store()
            })
            .map_err(bus_err)?;
        let p = match pos {
            Some(p) => p,
            None => {
                let group = group.to_owned();
                self.db
                    .write(move |c| {
                        c.execute(
                            "INSERT INTO consumer_groups (name, acked_seq) VALUES (?1, 0) ON CONFLICT DO NOTHING",
                            [group],
                        )
                        .store()
                    })
                    .await
                    .map_err(bus_err)?;
                0
            }
        };
        Ok(*self
            .acked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pos
            .entry(group.to_owned())
            .or_insert(p))
    }
}

#[async_trait]
impl EventBus for SqliteBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError> {
        if events.is_empty() {
            return Ok(());
        }
        let rows = events
            .iter()
            .map(|e| {
                Ok((
                    e.event_id.to_string(),
                    e.event_type.clone(),
                    e.report_id.to_string(),
                    serde_json::to_string(e).map_err(|e| BusError::Other(e.into()))?,
                ))
            })
            .collect::<Result<Vec<_>, BusError>>()?;
        // (position in `events`, sequence number) of each event that was new.
        let inserted: Vec<(usize, i64)> = self
            .db
            .write(move |c| {
                let now = millis(time::OffsetDateTime::now_utc());
                let mut st = c
                    .prepare_cached(
                        "INSERT INTO events (event_id, event_type, report_id, envelope, published_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                         ON CONFLICT (event_id) DO NOTHING RETURNING seq",
                    )
                    .store()?;
                let mut out = Vec::with_capacity(rows.len());
                for (i, (id, ty, report, json)) in rows.into_iter().enumerate() {
                    let seq: Option<i64> = st
                        .query_row(params![id, ty, report, json, now], |r| r.get(0))
                        .optional()
                        .store()?;
                    if let Some(seq) = seq {
                        out.push((i, seq));
                    }
                }
                Ok(out)
            })
            .await
            .map_err(bus_err)?;
        let Some(head) = inserted.iter().map(|(_, seq)| *seq).max() else {
            return Ok(());
        };
        {
            let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            for (i, seq) in inserted {
                recent.insert(seq, events[i].clone());
            }
            while recent.len() > RECENT {
                recent.pop_first();
            }
        }
        self.head.send_if_modified(|h| {
            if head > *h {
                *h = head;
                true
            } else {
                false
            }
        });
        Ok(())
    }

    async fn fetch(&self, group: &str, max: usize) -> Result<Vec<Delivery>, BusError> {
        let after = self.acked(group).await?;
        if after >= *self.head.borrow() {
            return Ok(vec![]);
        }
        let cached = self.recent_after(after, max);
        if !cached.is_empty() {
            return Ok(cached);
        }
        self.db
            .read(|c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT seq, envelope FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                    )
                    .store()?;
                let mut rows = st.query([after, max as i64]).store()?;
                let mut out = Vec::new();
                while let Some(r) = rows.next().store()? {
                    let seq: i64 = r.get(0).store()?;
                    let env: String = r.get(1).store()?;
                    let event =
                        serde_json::from_str(&env).map_err(|e| StoreError::Other(e.into()))?;
                    out.push(Delivery {
                        tag: seq.to_string(),
                        event,
                    });
                }
                Ok(out)
            })
            .map_err(bus_err)
    }

    async fn ack(&self, group: &str, deliveries: &[Delivery]) -> Result<(), BusError> {
        let Some(last) = deliveries
            .iter()
            .filter_map(|d| d.tag.parse::<i64>().ok())
            .max()
        else {
            return Ok(());
        };
        let mut p = self.acked.lock().unwrap_or_else(|e| e.into_inner());
        let pos = p.pos.entry(group.to_owned()).or_insert(0);
        if last > *pos {
            *pos = last;
            p.dirty = true;
        }
        Ok(())
    }

    async fn wait(&self, group: &str, timeout: Duration) {
        let Ok(acked) = self.acked(group).await else {
            tokio::time::sleep(timeout).await;
            return;
        };
        let mut rx = self.head.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|head| *head > acked)).await;
    }

    async fn reset_group(&self, group: &str) -> Result<(), BusError> {
        let name = group.to_owned();
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO consumer_groups (name, acked_seq) VALUES (?1, 0) ON CONFLICT (name) DO UPDATE SET acked_seq = 0",
                    [name],
                )
                .store()
            })
            .await
            .map_err(bus_err)?;
        self.acked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pos
            .insert(group.to_owned(), 0);
        Ok(())
    }

    async fn lag(&self) -> Result<Vec<GroupLag>, BusError> {
        let head = *self.head.borrow();
        let p = self.acked.lock().unwrap_or_else(|e| e.into_inner());
        let mut groups: Vec<GroupLag> = p
            .pos
            .iter()
            .map(|(name, pos)| GroupLag {
                group: name.clone(),
                position: pos.to_string(),
                pending: head - pos,
            })
            .collect();
        groups.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(groups)
    }

    async fn published(&self) -> Result<i64, BusError> {
        self.db
            .read_blocking(|c| {
                c.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
                    .store()
            })
            .await
            .map_err(bus_err)
    }
}
