//! The event bus on Redis Streams: [`RedisBus`] implements
//! [`lapor_app::ports::EventBus`] for deployments with several processes.
//!
//! # Keys and structures
//!
//! Every key starts with the configured prefix (`lapor` in production, a
//! fresh uuid per test), so several deployments or test runs can share one
//! Redis. Use a hash-tagged prefix such as `{lapor}` on Redis Cluster so the
//! scripts' keys share a slot.
//!
//! | key | type | what it holds |
//! |---|---|---|
//! | `<prefix>:events` | stream | every published event, once per `event_id` (within `dedupe_ttl`), in publish order. Entry fields: `event_id` (uuid), `event_type` (`report.created`, ...), `envelope` (the [`EventEnvelope`] as JSON). The entry id is the [`Delivery::tag`]. |
//! | consumer groups on `<prefix>:events` | stream groups | one per consuming role, named by the group passed to `fetch`/`ack` (`projector:read`, `reporting`, `operations`, `workflow`, ...). Created at id `0` on first use, so a new group sees the whole retained stream. Its last-delivered id is the group's position; its pending entries list (PEL) holds what was delivered but not acknowledged, per consumer. |
//! | consumers in each group | stream consumers | one per process, named by `consumer_name` (unique per process, e.g. the instance id). Consumers of dead processes can be forgotten with [`RedisBus::prune_consumers`] once their entries were claimed. |
//! | `<prefix>:published:<event_id>` | string `1`, TTL | dedupe marker: set when the event enters the stream, expires after `dedupe_ttl` (7 days). While it exists, publishing that `event_id` again adds nothing. |
//! | `<prefix>:counters:published` | integer | events added to the stream, ever ([`EventBus::published`]). |
//! | `<prefix>:counters:duplicates` | integer | publishes skipped as duplicates (relay retries, concurrent relays). |
//!
//! # Delivery
//!
//! * **publish** runs one Lua script per call: for each event, in order, it
//!   XADDs the entry only if the dedupe marker did not exist, then writes the
//!   marker. Two relays publishing the same outbox rows, or a relay that
//!   crashed before marking its rows, produce each event once in the stream.
//! * **fetch** (per group, as this process's consumer) returns, in this
//!   order: entries claimed from other consumers idle at least
//!   `claim_after` (`XAUTOCLAIM`; a consumer that died keeps entries pending
//!   until a live one claims them; they come first because they are older
//!   and later events may depend on them), the consumer's own pending
//!   entries (delivered before, never acknowledged; `XREADGROUP ... 0`),
//!   then new entries (`XREADGROUP ... >`). An entry whose envelope does not parse,
//!   or that was deleted from the stream, is acknowledged and skipped with a
//!   warning rather than delivered forever.
//! * **ack** is `XACK`; consumers acknowledge only after their apply
//!   committed, so delivery is at-least-once and consumers deduplicate on
//!   `event_id`.
//! * **wait** returns at once when the group may have work (entries past its
//!   last-delivered id, or entries pending for this consumer); otherwise it
//!   blocks in `XREAD BLOCK` on a dedicated connection, never on the shared
//!   multiplexed one.
//! * **trim** ([`RedisBus::trim`]) removes only entries that every group has
//!   acknowledged (`XTRIM MINID`, never `MAXLEN`). Nothing trims unless an
//!   operator calls it or `max_len_hint` is set. A group created after a
//!   trim does not see the trimmed history; rebuild such read models from
//!   the outboxes.
//!
//! # Failures
//!
//! Every command has a timeout (`command_timeout`, 2 s by default). When
//! Redis is unreachable or hung, methods return [`BusError::Unavailable`]
//! (and `wait` sleeps its timeout); the connection is re-established by
//! itself when Redis returns. [`RedisBus::connect`] does not need Redis to
//! be up, so processes start during an outage and catch up afterwards.

#![forbid(unsafe_code)]

mod entry_id;
mod reply;
mod scripts;

use async_trait::async_trait;
use entry_id::EntryId;
use lapor_app::ports::{BusError, Delivery, EventBus, GroupLag};
use lapor_domain::events::EventEnvelope;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::{StreamInfoGroup, StreamInfoGroupsReply};
use redis::{
    AsyncConnectionConfig, Client, Cmd, ErrorKind, RedisError, RedisResult, Script, Value, cmd,
};
use reply::RawEntry;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How a [`RedisBus`] behaves; the defaults suit production.
#[derive(Debug, Clone)]
pub struct RedisBusSettings {
    /// Entries pending this long with another consumer are claimed by
    /// `fetch` (that consumer is presumed dead). Default 30 s; keep it well
    /// above the time a batch takes to apply.
    pub claim_after: Duration,
    /// Upper bound for any one command, so a hung Redis cannot hang
    /// callers. Default 2 s.
    pub command_timeout: Duration,
    /// How long a published `event_id` is remembered for deduplication.
    /// Default 7 days; a republish after that may duplicate an entry, which
    /// consumers then skip by `event_id`.
    pub dedupe_ttl: Duration,
    /// When set, a publish that leaves the stream longer than this calls
    /// [`RedisBus::trim`]. It is a hint only: trimming never drops entries a
    /// group has not acknowledged, so a lagging group keeps the stream long.
    /// Default `None` (never trim automatically).
    pub max_len_hint: Option<u64>,
}

impl Default for RedisBusSettings {
    fn default() -> Self {
        Self {
            claim_after: Duration::from_secs(30),
            command_timeout: Duration::from_secs(2),
            dedupe_ttl: Duration::from_secs(7 * 24 * 3600),
            max_len_hint: None,
        }
    }
}

struct Keys {
    stream: String,
    published: String,
    duplicates: String,
    dedupe_prefix: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        Self {
            stream: format!("{prefix}:events"),
            published: format!("{prefix}:counters:published"),
            duplicates: format!("{prefix}:counters:duplicates"),
            dedupe_prefix: format!("{prefix}:published:"),
        }
    }
}

/// At most this many XAUTOCLAIM calls per fetch (each scans up to ten times
/// the batch size in the pending list); the scan resumes at the next fetch.
const CLAIM_ROUNDS: usize = 4;
/// Connections kept for blocking reads (one per concurrently waiting group).
const MAX_IDLE_BLOCKING: usize = 16;
/// The lag fallback counts at most this many pages of entries.
const COUNT_PAGES: usize = 100;
const COUNT_PAGE: usize = 1_000;

/// The Redis Streams event bus. See the module documentation for the keys.
pub struct RedisBus {
    client: Client,
    /// Shared, multiplexed, reconnecting: every non-blocking command.
    conn: ConnectionManager,
    /// Dedicated connections for `XREAD BLOCK`, reused between waits.
    blocking: Mutex<Vec<MultiplexedConnection>>,
    keys: Keys,
    consumer: String,
    settings: RedisBusSettings,
    publish_script: Script,
    trim_script: Script,
    prune_script: Script,
    /// Groups this process has created (or found) already.
    known_groups: Mutex<HashSet<String>>,
    /// Where the next XAUTOCLAIM scan of each group starts.
    claim_cursors: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for RedisBus {
    // The client holds the URL, which may contain a password: not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("stream", &self.keys.stream)
            .field("consumer", &self.consumer)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn has_code(e: &RedisError, code: &str) -> bool {
    e.code() == Some(code) || e.to_string().contains(code)
}

/// Whether an error means "Redis cannot serve us right now" (retry later)
/// rather than a bug or a misconfiguration.
fn is_unavailable(e: &RedisError) -> bool {
    use redis::ServerErrorKind as S;
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::Server(
                S::BusyLoading | S::TryAgain | S::ClusterDown | S::MasterDown | S::ReadOnly
            )
        )
        || ["BUSY", "OOM", "MISCONF"]
            .iter()
            .any(|c| e.code() == Some(*c))
}

fn bus_err(e: RedisError) -> BusError {
    if is_unavailable(&e) {
        BusError::Unavailable(e.to_string())
    } else {
        BusError::Other(anyhow::anyhow!("redis: {e}"))
    }
}

fn timed_out(what: &str, after: Duration) -> RedisError {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what}: no answer from Redis within {after:?}"),
    )
    .into()
}

fn is_no_such_key(e: &RedisError) -> bool {
    e.to_string().to_ascii_lowercase().contains("no such key")
}

/// Collects one fetch's deliveries, skipping ids already taken and setting
/// aside entries that cannot be delivered.
struct Batch {
    max: usize,
    seen: HashSet<String>,
    deliveries: Vec<Delivery>,
    poison: Vec<(String, String)>,
}

impl Batch {
    fn new(max: usize) -> Self {
        Self {
            max,
            seen: HashSet::new(),
            deliveries: Vec::new(),
            poison: Vec::new(),
        }
    }

    fn room(&self) -> usize {
        self.max.saturating_sub(self.deliveries.len())
    }

    fn take(&mut self, entries: Vec<RawEntry>) {
        for e in entries {
            if !self.seen.insert(e.id.clone()) {
                continue;
            }
            let Some(fields) = e.fields else {
                self.poison
                    .push((e.id, "entry no longer in the stream".to_owned()));
                continue;
            };
            let parsed = fields
                .get("envelope")
                .ok_or_else(|| "no envelope field".to_owned())
                .and_then(|json| {
                    serde_json::from_str::<EventEnvelope>(json).map_err(|err| err.to_string())
                });
            match parsed {
                Ok(event) => self.deliveries.push(Delivery { tag: e.id, event }),
                Err(why) => self.poison.push((e.id, why)),
            }
        }
    }
}

impl RedisBus {
    /// Opens the bus. Only the URL is checked here: when Redis is down the
    /// bus is still created (with a warning) and its methods return
    /// [`BusError::Unavailable`] until Redis is back.
    ///
    /// `prefix` starts every key; `consumer_name` names this process in
    /// every consumer group and must be unique per process (two processes
    /// with one name would share their pending entries).
    pub async fn connect(
        url: &str,
        prefix: &str,
        consumer_name: &str,
        settings: RedisBusSettings,
    ) -> Result<Self, BusError> {
        if prefix.is_empty() || consumer_name.is_empty() {
            return Err(BusError::Other(anyhow::anyhow!(
                "the Redis bus needs a key prefix and a consumer name"
            )));
        }
        let client = Client::open(url)
            .map_err(|e| BusError::Other(anyhow::anyhow!("invalid Redis URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.command_timeout))
            .set_response_timeout(Some(settings.command_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| BusError::Other(anyhow::anyhow!("redis: {e}")))?;
        let bus = Self {
            client,
            conn,
            blocking: Mutex::new(Vec::new()),
            keys: Keys::new(prefix),
            consumer: consumer_name.to_owned(),
            settings,
            publish_script: Script::new(scripts::PUBLISH),
            trim_script: Script::new(&scripts::trim()),
            prune_script: Script::new(&scripts::prune_consumers()),
            known_groups: Mutex::new(HashSet::new()),
            claim_cursors: Mutex::new(HashMap::new()),
        };
        if let Err(e) = bus.ping().await {
            tracing::warn!(error = %e, "Redis bus not reachable yet; will retry on use");
        }
        Ok(bus)
    }

    /// The stream's key (`<prefix>:events`).
    pub fn stream_key(&self) -> &str {
        &self.keys.stream
    }

    /// Whether Redis answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), BusError> {
        self.q::<String>(&cmd("PING"))
            .await
            .map(|_| ())
            .map_err(bus_err)
    }

    /// Removes the entries every consumer group has acknowledged and
    /// returns how many. Entries pending in any group, or not yet delivered
    /// to any group, stay; with no groups nothing is removed.
    pub async fn trim(&self) -> Result<u64, BusError> {
        let mut conn = self.conn.clone();
        let mut inv = self.trim_script.prepare_invoke();
        inv.key(&self.keys.stream);
        let removed: i64 = self
            .timed("trim", inv.invoke_async(&mut conn))
            .await
            .map_err(bus_err)?;
        Ok(removed.max(0) as u64)
    }

    /// Forgets consumers (in every group) that own no pending entry and
    /// have been idle at least `min_idle`, such as the consumers of
    /// processes that exited; never this process's own consumer.
    pub async fn prune_consumers(&self, min_idle: Duration) -> Result<u64, BusError> {
        let mut conn = self.conn.clone();
        let mut inv = self.prune_script.prepare_invoke();
        inv.key(&self.keys.stream)
            .arg(min_idle.as_millis() as u64)
            .arg(&self.consumer);
        let removed: i64 = self
            .timed("prune consumers", inv.invoke_async(&mut conn))
            .await
            .map_err(bus_err)?;
        Ok(removed.max(0) as u64)
    }

    async fn timed<T>(
        &self,
        what: &str,
        f: impl Future<Output = RedisResult<T>>,
    ) -> RedisResult<T> {
        let limit = self.settings.command_timeout;
        match tokio::time::timeout(limit, f).await {
            Ok(r) => r,
            Err(_) => Err(timed_out(what, limit)),
        }
    }

    /// Runs one command on the shared connection, with the timeout.
    async fn q<T: redis::FromRedisValue>(&self, c: &Cmd) -> RedisResult<T> {
        let mut conn = self.conn.clone();
        self.timed("command", c.query_async(&mut conn)).await
    }

    async fn ensure_group(&self, group: &str) -> RedisResult<()> {
        if lock(&self.known_groups).contains(group) {
            return Ok(());
        }
        let created = self
            .q::<()>(
                cmd("XGROUP")
                    .arg("CREATE")
                    .arg(&self.keys.stream)
                    .arg(group)
                    .arg("0")
                    .arg("MKSTREAM"),
            )
            .await;
        match created {
            Ok(()) => {}
            Err(e) if has_code(&e, "BUSYGROUP") => {}
            Err(e) => return Err(e),
        }
        lock(&self.known_groups).insert(group.to_owned());
        Ok(())
    }

    /// Runs `op` with the group in place; if the group vanished meanwhile
    /// (stream deleted), creates it again and retries once.
    async fn with_group<T, F, Fut>(&self, group: &str, op: F) -> RedisResult<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        self.ensure_group(group).await?;
        match op().await {
            Err(e) if has_code(&e, "NOGROUP") => {
                lock(&self.known_groups).remove(group);
                lock(&self.claim_cursors).remove(group);
                self.ensure_group(group).await?;
                op().await
            }
            other => other,
        }
    }

    fn read_group(&self, group: &str, count: usize, from: &str) -> Cmd {
        let mut c = cmd("XREADGROUP");
        c.arg("GROUP")
            .arg(group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(count)
            .arg("STREAMS")
            .arg(&self.keys.stream)
            .arg(from);
        c
    }

    async fn fetch_once(&self, group: &str, max: usize) -> RedisResult<Vec<Delivery>> {
        let mut batch = Batch::new(max);
        // 1. Entries other consumers have left pending too long. They are
        //    older than anything this consumer holds, and events it holds
        //    may depend on them (an event about a report whose creation a
        //    dead consumer took): taking them first keeps a batch that
        //    waits for them from being retried forever.
        self.claim(group, &mut batch).await?;
        // 2. Our own history: delivered to this consumer name, never acked.
        if batch.room() > 0 {
            let own: Value = self.q(&self.read_group(group, batch.room(), "0")).await?;
            batch.take(reply::read_reply(own));
        }
        // 3. New entries.
        if batch.room() > 0 {
            let new: Value = self.q(&self.read_group(group, batch.room(), ">")).await?;
            batch.take(reply::read_reply(new));
        }
        if !batch.poison.is_empty() {
            for (id, why) in &batch.poison {
                tracing::warn!(group, entry = %id, reason = %why, "skipping undeliverable stream entry");
            }
            let mut ack = cmd("XACK");
            ack.arg(&self.keys.stream).arg(group);
            for (id, _) in &batch.poison {
                ack.arg(id);
            }
            self.q::<i64>(&ack).await?;
        }
        Ok(batch.deliveries)
    }

    async fn claim(&self, group: &str, batch: &mut Batch) -> RedisResult<()> {
        let min_idle = self.settings.claim_after.as_millis() as u64;
        let mut cursor = lock(&self.claim_cursors)
            .get(group)
            .cloned()
            .unwrap_or_else(|| "0-0".to_owned());
        for _ in 0..CLAIM_ROUNDS {
            let room = batch.room();
            if room == 0 {
                break;
            }
            let v: Value = self
                .q(cmd("XAUTOCLAIM")
                    .arg(&self.keys.stream)
                    .arg(group)
                    .arg(&self.consumer)
                    .arg(min_idle)
                    .arg(&cursor)
                    .arg("COUNT")
                    .arg(room))
                .await?;
            let Some((next, claimed)) = reply::autoclaim(v) else {
                tracing::warn!(group, "unexpected XAUTOCLAIM reply; not claiming");
                cursor = "0-0".to_owned();
                break;
            };
            if !claimed.is_empty() {
                tracing::info!(
                    group,
                    claimed = claimed.len(),
                    "claimed entries left pending by another consumer"
                );
            }
            batch.take(claimed);
            cursor = next;
            if cursor == "0-0" {
                break;
            }
        }
        lock(&self.claim_cursors).insert(group.to_owned(), cursor);
        Ok(())
    }

    /// Every group on the stream (none if the stream does not exist).
    async fn groups(&self) -> RedisResult<Vec<StreamInfoGroup>> {
        match self
            .q::<StreamInfoGroupsReply>(cmd("XINFO").arg("GROUPS").arg(&self.keys.stream))
            .await
        {
            Ok(r) => Ok(r.groups),
            Err(e) if is_no_such_key(&e) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    async fn last_entry(&self) -> RedisResult<Option<EntryId>> {
        let v: Value = self
            .q(cmd("XREVRANGE")
                .arg(&self.keys.stream)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1))
            .await?;
        Ok(reply::entries(v)
            .into_iter()
            .next()
            .and_then(|e| e.id.parse().ok()))
    }

    async fn has_own_pending(&self, group: &str) -> RedisResult<bool> {
        let v: Value = self
            .q(cmd("XPENDING")
                .arg(&self.keys.stream)
                .arg(group)
                .arg("-")
                .arg("+")
                .arg(1)
                .arg(&self.consumer))
            .await?;
        Ok(matches!(v, Value::Array(ref a) if !a.is_empty()))
    }

    /// Entries after `id` (lag fallback when Redis cannot tell); counts at
    /// most `COUNT_PAGES * COUNT_PAGE`.
    async fn count_after(&self, id: EntryId) -> RedisResult<i64> {
        let mut from = id.next();
        let mut total = 0i64;
        for _ in 0..COUNT_PAGES {
            let v: Value = self
                .q(cmd("XRANGE")
                    .arg(&self.keys.stream)
                    .arg(from.to_string())
                    .arg("+")
                    .arg("COUNT")
                    .arg(COUNT_PAGE))
                .await?;
            let page = reply::entries(v);
            total += page.len() as i64;
            let last = page.last().and_then(|e| e.id.parse::<EntryId>().ok());
            match last {
                Some(last) if page.len() == COUNT_PAGE => from = last.next(),
                _ => break,
            }
        }
        Ok(total)
    }

    /// Returns immediately if the group may have work; otherwise blocks
    /// until an entry newer than the stream's last one appears, or timeout.
    async fn wait_once(&self, group: &str, timeout: Duration) -> RedisResult<()> {
        let mut block_from = EntryId::ZERO;
        if let Some(last) = self.last_entry().await? {
            let groups = self.groups().await?;
            let Some(g) = groups.into_iter().find(|g| g.name == group) else {
                // fetch creates the group at 0: everything retained is new.
                return Ok(());
            };
            let delivered: EntryId = g.last_delivered_id.parse().unwrap_or(EntryId::ZERO);
            if last > delivered {
                return Ok(());
            }
            if g.pending > 0 && self.has_own_pending(group).await? {
                return Ok(());
            }
            block_from = last.max(delivered);
        }
        self.block_after(block_from, timeout).await
    }

    async fn blocking_conn(&self) -> RedisResult<MultiplexedConnection> {
        if let Some(c) = lock(&self.blocking).pop() {
            return Ok(c);
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.settings.command_timeout))
            .set_response_timeout(None);
        self.timed(
            "connect",
            self.client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await
    }

    async fn block_after(&self, after: EntryId, timeout: Duration) -> RedisResult<()> {
        // BLOCK 0 would mean "forever".
        let ms = timeout.as_millis().clamp(1, u64::MAX as u128) as u64;
        let mut conn = self.blocking_conn().await?;
        let mut c = cmd("XREAD");
        c.arg("BLOCK")
            .arg(ms)
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(&self.keys.stream)
            .arg(after.to_string());
        let limit = timeout + self.settings.command_timeout;
        // If this future is dropped (the caller was cancelled) or fails, the
        // connection is dropped with it, never reused mid-command.
        match tokio::time::timeout(limit, c.query_async::<Value>(&mut conn)).await {
            Ok(Ok(_)) => {
                let mut pool = lock(&self.blocking);
                if pool.len() < MAX_IDLE_BLOCKING {
                    pool.push(conn);
                }
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(timed_out("XREAD BLOCK", limit)),
        }
    }

    async fn reset_once(&self, group: &str) -> RedisResult<()> {
        // No ENTRIESREAD: Redis then estimates the group's read counter from
        // the retained stream, which stays right after a trim (ENTRIESREAD 0
        // would count trimmed entries as lag).
        self.q::<()>(
            cmd("XGROUP")
                .arg("SETID")
                .arg(&self.keys.stream)
                .arg(group)
                .arg("0"),
        )
        .await
    }
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut inv = self.publish_script.prepare_invoke();
        inv.key(&self.keys.stream)
            .key(&self.keys.published)
            .key(&self.keys.duplicates)
            .arg(self.settings.dedupe_ttl.as_secs().max(1));
        for e in events {
            let json = serde_json::to_string(e).map_err(|e| BusError::Other(e.into()))?;
            let id = e.event_id.to_string();
            inv.key(format!("{}{id}", self.keys.dedupe_prefix))
                .arg(id)
                .arg(&e.event_type)
                .arg(json);
        }
        let mut conn = self.conn.clone();
        let (added, len): (i64, u64) = self
            .timed("publish", inv.invoke_async(&mut conn))
            .await
            .map_err(bus_err)?;
        if (added as usize) < events.len() {
            tracing::debug!(
                skipped = events.len() - added as usize,
                "events already in the stream were not published again"
            );
        }
        if let Some(hint) = self.settings.max_len_hint
            && len > hint
        {
            match self.trim().await {
                Ok(n) => tracing::debug!(removed = n, "trimmed acknowledged stream entries"),
                Err(e) => tracing::warn!(error = %e, "could not trim the event stream"),
            }
        }
        Ok(())
    }

    async fn fetch(&self, group: &str, max: usize) -> Result<Vec<Delivery>, BusError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        self.with_group(group, || self.fetch_once(group, max))
            .await
            .map_err(bus_err)
    }

    async fn ack(&self, group: &str, deliveries: &[Delivery]) -> Result<(), BusError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let mut c = cmd("XACK");
        c.arg(&self.keys.stream).arg(group);
        for d in deliveries {
            c.arg(&d.tag);
        }
        self.q::<i64>(&c).await.map(|_| ()).map_err(bus_err)
    }

    async fn wait(&self, group: &str, timeout: Duration) {
        let start = Instant::now();
        if let Err(e) = self.wait_once(group, timeout).await {
            tracing::debug!(group, error = %e, "bus wait failed; sleeping instead");
            tokio::time::sleep(timeout.saturating_sub(start.elapsed())).await;
        }
    }

    async fn reset_group(&self, group: &str) -> Result<(), BusError> {
        self.with_group(group, || self.reset_once(group))
            .await
            .map_err(bus_err)?;
        lock(&self.claim_cursors).remove(group);
        Ok(())
    }

    async fn lag(&self) -> Result<Vec<GroupLag>, BusError> {
        let groups = self.groups().await.map_err(bus_err)?;
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let undelivered = match g.lag {
                Some(lag) => lag as i64,
                None => {
                    let from = g.last_delivered_id.parse().unwrap_or(EntryId::ZERO);
                    self.count_after(from).await.map_err(bus_err)?
                }
            };
            out.push(GroupLag {
                group: g.name,
                position: g.last_delivered_id,
                pending: undelivered + g.pending as i64,
            });
        }
        out.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(out)
    }

    async fn published(&self) -> Result<i64, BusError> {
        let n: Option<i64> = self
            .q(cmd("GET").arg(&self.keys.published))
            .await
            .map_err(bus_err)?;
        Ok(n.unwrap_or(0))
    }
}
