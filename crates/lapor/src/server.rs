//! Start-up and shutdown: the one construction path for every role.

use crate::config::{EngineArgs, Role, ServeArgs};
use crate::engine::Engine;
use anyhow::Context;
use lapor_app::clock::Clock;
use lapor_app::ports::{EventConsumer, Outbox};
use lapor_app::security::Tokens;
use lapor_app::workers;
use lapor_app::{App, AppConfig};
use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A running Lapor: its app, the addresses it listens on, and the tasks to
/// stop on shutdown.
pub struct Running {
    pub app: App,
    pub addrs: Vec<SocketAddr>,
    http_cancel: CancellationToken,
    worker_cancel: CancellationToken,
    servers: JoinSet<std::io::Result<()>>,
    workers: JoinSet<()>,
    engine: Arc<Engine>,
    _lock: File,
}

/// Takes the data directory's lock so two processes never run the embedded
/// engine (or a rebuild) on the same files at once.
pub fn lock_data_dir(dir: &Path) -> anyhow::Result<File> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    // The databases hold personal data: only the owner may read them.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {} to its owner", dir.display()))?;
    }
    let path = dir.join("lapor.lock");
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    // A process that just stopped (or a child being spawned elsewhere in
    // this process, which briefly shares open files) may still hold it.
    for attempt in 0..30 {
        match f.try_lock() {
            Ok(()) => return Ok(f),
            Err(_) if attempt < 29 => std::thread::sleep(std::time::Duration::from_millis(100)),
            Err(_) => {}
        }
    }
    anyhow::bail!("{} is in use by another lapor process", dir.display())
}

/// Creates the photo directory (owner only: photos of PRIVATE and ANONYMOUS
/// reports are personal data) and, for a process that stores photos, checks
/// that it can write there, so a wrong `--photo-dir` fails at start rather
/// than at the first upload. An existing directory open to others is
/// restricted if this process owns it, and otherwise only warned about (a
/// shared mount may be owned by someone else).
fn prepare_photo_dir(dir: &Path, writes: bool) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).with_context(|| {
        format!(
            "creating the photo directory {} (--photo-dir)",
            dir.display()
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0
            && let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        {
            tracing::warn!(dir = %dir.display(), error = %e,
                "the photo directory is readable by other users and cannot be restricted");
        }
    }
    if writes {
        let probe = dir.join(format!(".write-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&probe, b"")
            .and_then(|()| std::fs::remove_file(&probe))
            .with_context(|| {
                format!(
                    "the photo directory {} is not writable (--photo-dir)",
                    dir.display()
                )
            })?;
    }
    Ok(())
}

/// Opens the engines (migrating them), builds the app once, starts the
/// enabled roles and binds the listeners.
pub async fn start(args: ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    args.validate()?;
    let lock = lock_data_dir(&args.engine.data_dir)?;
    let instance_id = args
        .instance_id
        .clone()
        .unwrap_or_else(|| AppConfig::default().instance_id);
    let http_roles = args.http_roles();
    if http_roles.command || http_roles.query {
        prepare_photo_dir(&args.photo_dir(), http_roles.command)?;
    }
    let engine = Arc::new(Engine::open(&args.engine, &instance_id).await?);
    let stores = engine.stores.clone();
    let bus = engine.bus.clone();
    let config = AppConfig {
        instance_id,
        hash_cost: args.hash_cost(),
        min_sla_seconds: args.min_sla_seconds,
        sla_tick: args.sla_tick(),
        roles: args.roles_label(),
        login_cache_ttl: Duration::from_secs(args.login_cache_secs),
        batch_linger: Duration::from_micros(args.batch_linger_us),
        photo_dir: args.photo_dir(),
        max_photo_bytes: args.max_photo_bytes,
        ..AppConfig::default()
    };
    let tokens = Tokens::new(&args.jwt_secret()?, args.token_ttl_secs);
    let app = App::new(config, stores.clone(), bus.clone(), clock, tokens).await?;
    if args.demo {
        let n = app
            .ensure_demo_users()
            .await
            .map_err(|e| anyhow::anyhow!("creating demo accounts: {e}"))?;
        if n > 0 {
            tracing::info!(created = n, "demo accounts created (password: password)");
        }
    }

    let worker_cancel = CancellationToken::new();
    let mut workers = JoinSet::new();
    let poll = app.config().poll_interval;
    let batch = app.config().batch_size;
    let linger = app.config().batch_linger;
    if args.runs(Role::Relay) {
        let outboxes: [Arc<dyn Outbox>; 3] = [
            stores.reporting.clone(),
            stores.operations.clone(),
            stores.workflow.clone(),
        ];
        for o in outboxes {
            workers.spawn(workers::relay::run(
                o,
                bus.clone(),
                app.signals().clone(),
                poll,
                batch as i64,
                linger,
                worker_cancel.clone(),
            ));
        }
        if let Some(redis) = engine.redis() {
            workers.spawn(trim_stream(
                redis,
                Duration::from_secs(args.engine.bus_trim_secs.max(1)),
                worker_cancel.clone(),
            ));
        }
        for url in engine.outbox_databases() {
            workers.spawn(listen_outbox(
                url,
                app.signals().clone(),
                worker_cancel.clone(),
            ));
        }
    }
    let mut consumers: Vec<Arc<dyn EventConsumer>> = vec![];
    if args.runs(Role::Projector) {
        consumers.extend(stores.read_models.iter().cloned());
        consumers.push(stores.reporting.clone());
    }
    if args.runs(Role::Operations) {
        consumers.push(stores.operations.clone());
    }
    if args.runs(Role::Workflow) {
        consumers.push(stores.workflow.clone());
        for _ in 0..args.sla_workers.max(1) {
            workers.spawn(workers::sla::run(app.clone(), worker_cancel.clone()));
        }
    }
    for c in consumers {
        workers.spawn(workers::consumer::run(
            c,
            bus.clone(),
            app.clock().clone(),
            poll,
            batch,
            linger,
            app.signals().clone(),
            worker_cancel.clone(),
        ));
    }
    workers.spawn(refresh_catalog(app.clone(), worker_cancel.clone()));

    let http_cancel = CancellationToken::new();
    let mut servers = JoinSet::new();
    let mut addrs = vec![];
    if http_roles.any() {
        let mut listen = vec![args.listen];
        listen.extend(args.compat_addrs());
        // The web app is served where commands are (it files reports and
        // reads every context), on the main address only.
        let web = (http_roles.command && !args.no_web).then(|| args.web_config());
        for (i, addr) in listen.into_iter().enumerate() {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            addrs.push(listener.local_addr()?);
            let mut router = lapor_http::router(app.clone(), http_roles);
            if let (0, Some(config)) = (i, &web) {
                router = router.merge(lapor_web::router(
                    app.clone(),
                    config.clone(),
                    http_cancel.clone(),
                ));
            }
            if args.max_in_flight > 0 {
                router = router.layer(axum::middleware::from_fn_with_state(
                    Arc::new(tokio::sync::Semaphore::new(args.max_in_flight)),
                    shed_load,
                ));
            }
            let stop = http_cancel.clone();
            servers.spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await
            });
        }
    }
    tracing::info!(?addrs, instance = %app.config().instance_id, roles = %app.config().roles,
        engine = engine.describe(), "lapor is running");
    Ok(Running {
        app,
        addrs,
        http_cancel,
        worker_cancel,
        servers,
        workers,
        engine,
        _lock: lock,
    })
}

/// Other instances may change agencies and categories: reload them now and
/// then (a change made here is visible here at once).
async fn refresh_catalog(app: App, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
        }
        if let Err(e) = app.refresh_catalog().await {
            tracing::warn!(error = %e, "reloading the catalog failed");
        }
    }
}

/// Wakes this process's relays when another process appends to an outbox
/// in PostgreSQL (LISTEN/NOTIFY), so events leave within milliseconds rather
/// than at the next poll. Best effort: polling remains the safety net (and
/// is all there is behind PgBouncer in transaction mode, which cannot LISTEN).
async fn listen_outbox(
    url: String,
    signals: lapor_app::signals::Signals,
    cancel: CancellationToken,
) {
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(lapor_store_postgres::OUTBOX_CHANNEL).await {
                Ok(()) => loop {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        n = listener.recv() => match n {
                            Ok(_) => signals.outbox_appended(),
                            Err(e) => {
                                tracing::debug!(error = %e, "outbox listener lost its connection");
                                break;
                            }
                        },
                    }
                },
                Err(e) => {
                    tracing::debug!(error = %e, "cannot LISTEN for outbox appends; polling only")
                }
            },
            Err(e) => tracing::debug!(error = %e, "outbox listener cannot connect; polling only"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

/// Keeps the Redis stream short: removes entries every group has
/// acknowledged (never one still pending).
async fn trim_stream(
    bus: Arc<lapor_bus_redis::RedisBus>,
    every: Duration,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = bus.trim().await {
            tracing::warn!(error = %e, "trimming the event stream failed");
        }
        // Consumers of instances gone for an hour that own nothing.
        if let Err(e) = bus.prune_consumers(Duration::from_secs(3600)).await {
            tracing::warn!(error = %e, "pruning idle stream consumers failed");
        }
    }
}

impl Running {
    /// The main API address.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Stops accepting requests, lets in-flight ones finish (their writes are
    /// committed before they answer), then stops the workers after their
    /// current batch, and closes the databases.
    pub async fn shutdown(mut self) {
        self.http_cancel.cancel();
        while let Some(r) = self.servers.join_next().await {
            if let Ok(Err(e)) = r {
                tracing::warn!(error = %e, "server stopped with an error");
            }
        }
        self.worker_cancel.cancel();
        while self.workers.join_next().await.is_some() {}
        self.engine.close().await;
        tracing::info!("lapor stopped");
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn outboxes(stores: &lapor_app::Stores) -> [&dyn Outbox; 3] {
    [
        stores.reporting.as_ref(),
        stores.operations.as_ref(),
        stores.workflow.as_ref(),
    ]
}

/// Rebuilds every read model from the outboxes (which keep every event).
/// Stop the projectors first.
pub async fn rebuild_projections(args: &EngineArgs) -> anyhow::Result<usize> {
    let _lock = lock_data_dir(&args.data_dir)?;
    let engine = Engine::open(args, "rebuild").await?;
    let mut n = 0;
    for model in &engine.stores.read_models {
        n = lapor_app::maintenance::rebuild(
            model.as_ref(),
            &outboxes(&engine.stores),
            &lapor_app::clock::SystemClock,
            1000,
        )
        .await?;
    }
    engine.close().await;
    Ok(n)
}

/// Walks the audit trail's hash chain from the first entry: `Ok(n)` when all
/// `n` entries are intact, otherwise the first broken one (edited, deleted,
/// inserted or reordered).
pub async fn verify_audit(
    args: &EngineArgs,
) -> anyhow::Result<Result<i64, lapor_domain::audit::ChainBreak>> {
    let engine = Engine::open(args, "audit-verify").await?;
    let verdict = lapor_app::services::audit::verify_log(engine.stores.audit.as_ref()).await;
    engine.close().await;
    Ok(verdict?)
}

/// Runs the migrations of every configured PostgreSQL database.
pub async fn migrate(args: &EngineArgs) -> anyhow::Result<()> {
    let mut args = args.clone();
    args.skip_migrations = false;
    let engine = Engine::open(&args, "migrate").await?;
    engine.close().await;
    Ok(())
}

/// Compares what the write side holds with what every consumer has built
/// and how far each consumer group is behind. Returns true when in sync.
pub async fn check_sync(args: &EngineArgs) -> anyhow::Result<bool> {
    let engine = Engine::open(args, "check-sync").await?;
    let stores = &engine.stores;
    let written = stores.reporting.count_reports().await?;
    let cases = stores.operations.count_cases().await?;
    let jobs = stores.workflow.count_jobs().await?;
    println!("engine:                   {}", engine.describe());
    println!("reports written:          {written}");
    println!("cases in operations:      {cases}");
    println!("SLA jobs in workflow:     {jobs}");
    let mut in_sync = cases == written && jobs == written;
    // Each read database is checked on its own (a replica may lag alone).
    for (group, read) in &engine.reads {
        let count = read.count_reports().await?;
        println!("read model {group:<22} {count} reports");
        in_sync &= count == written;
    }
    println!(
        "events published:         {}",
        engine.bus.published().await?
    );
    for g in engine.bus.lag().await? {
        println!(
            "consumer group {:<20} position {:>12}, pending {}",
            g.group, g.position, g.pending
        );
        in_sync &= g.pending == 0;
    }
    for o in outboxes(stores) {
        let rest = o.unrelayed_count().await?;
        println!("outbox {:<12} unrelayed {rest}", o.source());
        in_sync &= rest == 0;
    }
    engine.close().await;
    println!(
        "{}",
        if in_sync {
            "IN SYNC"
        } else {
            "NOT IN SYNC (consumers may still be catching up)"
        }
    );
    Ok(in_sync)
}

/// Load shedding: at most `--max-in-flight` requests are handled at once
/// (128 by default: on two cores more in flight only adds queueing delay);
/// any more are answered 503 with `Retry-After: 1` straight away. Past
/// saturation an open-loop load would otherwise queue without bound (every
/// request answered ever later); shed requests did nothing, so a client
/// retrying later loses nothing, and a 201 still means committed.
async fn shed_load(
    axum::extract::State(limit): axum::extract::State<Arc<tokio::sync::Semaphore>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // Health checks, and event streams that stay open for a session (the
    // web app's live updates), never take a slot.
    let streaming = req
        .headers()
        .get(axum::http::header::ACCEPT)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if streaming || matches!(req.uri().path(), "/health" | "/app/live") {
        return next.run(req).await;
    }
    match limit.try_acquire() {
        Ok(_permit) => next.run(req).await,
        Err(_) => {
            let mut res = lapor_http::error::ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "overloaded: too many requests in progress; retry shortly",
            )
            .into_response();
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
            res
        }
    }
}
