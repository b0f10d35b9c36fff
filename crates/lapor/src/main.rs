//! `lapor`: the citizen reporting platform in one binary.

#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Parser, Subcommand};
use lapor::config::{EngineArgs, ServeArgs};
use lapor_app::clock::SystemClock;
use lapor_domain::access::Role;
use std::path::PathBuf;
use std::sync::Arc;

/// mimalloc instead of glibc malloc: request handling allocates many small,
/// short-lived objects across threads (rows, views, JSON), where glibc's
/// arenas showed up as ~15% of server CPU (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "lapor",
    version,
    about = "Lapor: citizen reports routed to the responsible agency, worked in real time, escalated when overdue."
)]
struct Cli {
    /// Log format: text or json.
    #[arg(long, env = "LAPOR_LOG_FORMAT", default_value = "text", global = true)]
    log_format: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Lapor (every role in one process on the embedded engine by default).
    Serve(ServeArgs),
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Rebuild every read model from the retained outboxes (stop the
    /// projectors first).
    RebuildProjections {
        #[command(flatten)]
        engine: EngineArgs,
        /// Confirms that the read models may be wiped and rebuilt.
        #[arg(long)]
        yes: bool,
    },
    /// Compare the write side with every read store and consumer position;
    /// exits 1 when they differ.
    CheckSync {
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// The audit trail of staff actions.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run the PostgreSQL migrations (needed once before instances start
    /// with --skip-migrations, e.g. behind PgBouncer).
    Migrate {
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Fill a data directory with realistic reports (for growth tests and
    /// benchmarks; stop the server first). Also creates the demo accounts.
    SeedData {
        #[arg(long, env = "LAPOR_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
        /// How many reports to create.
        #[arg(long)]
        reports: u64,
        /// Extra citizen accounts (warga0001.., password "password").
        #[arg(long, default_value_t = 50)]
        users: usize,
        /// Commands in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Mean upvotes per PUBLIC report.
        #[arg(long, default_value_t = 1.0)]
        votes: f64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account (staff or citizen).
    Add {
        #[arg(long)]
        username: String,
        /// citizen, officer, supervisor or admin.
        #[arg(long)]
        role: Role,
        /// The agency of an officer or supervisor, e.g. AGENCY_INFRA.
        #[arg(long)]
        agency: Option<String>,
        /// The password (or set LAPOR_USER_PASSWORD; avoid passing it on the
        /// command line on shared machines).
        #[arg(long, env = "LAPOR_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit trail's hash chain; exits 1 naming the first edited,
    /// deleted, inserted or reordered entry.
    Verify {
        #[command(flatten)]
        engine: EngineArgs,
    },
}

fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("LAPOR_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(&cli.log_format);
    match cli.command {
        Command::Serve(args) => {
            tracing::debug!(?args, "configuration");
            let running = lapor::server::start(args, Arc::new(SystemClock)).await?;
            running.run_until_signal().await;
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    agency,
                    password,
                    engine,
                },
        } => {
            let mut args = ServeArgs::for_dir(&engine.data_dir);
            args.engine = engine;
            args.role = vec![];
            let running = lapor::server::start(args, Arc::new(SystemClock)).await?;
            let res = running
                .app
                .create_user(lapor_app::services::identity::NewUser {
                    username,
                    password,
                    role,
                    agency,
                })
                .await;
            running.shutdown().await;
            let user = res.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("created {} {} ({})", user.role, user.username, user.id);
        }
        Command::RebuildProjections { engine, yes } => {
            if !yes {
                anyhow::bail!("this wipes and rebuilds every read model; run again with --yes");
            }
            let n = lapor::server::rebuild_projections(&engine)
                .await
                .context("rebuilding projections")?;
            println!("rebuilt the read models from {n} events");
        }
        Command::Migrate { engine } => {
            lapor::server::migrate(&engine).await.context("migrating")?;
            println!("migrated");
        }
        Command::SeedData {
            data_dir,
            reports,
            users,
            concurrency,
            votes,
        } => {
            lapor::seed::seed(lapor::seed::SeedOpts {
                data_dir,
                reports,
                users,
                concurrency,
                votes_per_report: votes,
            })
            .await?;
        }
        Command::Audit {
            command: AuditCommand::Verify { engine },
        } => match lapor::server::verify_audit(&engine)
            .await
            .context("reading the audit trail")?
        {
            Ok(n) => println!("audit trail intact: {n} entries"),
            Err(broken) => {
                eprintln!("{broken}");
                std::process::exit(1);
            }
        },
        Command::CheckSync { engine } => {
            let ok = lapor::server::check_sync(&engine).await?;
            if !ok {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
