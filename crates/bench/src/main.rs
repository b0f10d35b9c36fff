//! `lapor-bench`: a load generator for Lapor's HTTP API (and the seeds'),
//! needing nothing but Rust.
//!
//! * `scenario`: seed 1's k6 scenario (closed loop, ramping virtual users).
//! * `rate`: an open-loop constant arrival rate (seed 2's levels), latency
//!   measured from each request's intended send time.
//!
//! Both print a k6-like summary and can write it as JSON; `--max-errors`
//! makes the exit code fail a CI job.

#![forbid(unsafe_code)]

mod client;
mod common;
mod rate;
mod scenario;
mod stats;

use clap::{Args, Parser, Subcommand};
use client::{Backend, Client};
use common::{Targets, parse_duration};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "lapor-bench",
    version,
    about = "Load generator for Lapor: the seed's k6 scenario and an open-loop constant-rate mode."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, serde::Serialize)]
struct Global {
    /// Base URL of the API (seed 1's reporting service, :8080).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    base: String,
    /// Base URL of the operations routes (inbox, status changes; seed 1:
    /// :8081). Default: --base.
    #[arg(long, global = true)]
    ops_base: Option<String>,
    /// Base URL of the workflow routes (SLA status; seed 1: :8082).
    /// Default: --base.
    #[arg(long, global = true)]
    workflow_base: Option<String>,
    /// Also write the summary as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// Exit with status 1 if more than this many errors occurred.
    #[arg(long, global = true)]
    max_errors: Option<u64>,
    /// HTTP client: hyper (lean, http:// only) or reqwest.
    #[arg(long, global = true, value_enum, default_value = "hyper")]
    client: Backend,
    /// Per-request timeout (e.g. 10s, 500ms).
    #[arg(long, global = true, default_value = "10s", value_parser = parse_duration)]
    #[serde(skip)]
    timeout: Duration,
    /// Generator threads (tokio workers). The generator shares the machine
    /// with the server, so fewer is often faster overall.
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Seed 1's k6 scenario: per iteration log in as a citizen and an
    /// officer, create a report, check it appears in /reports/me (sync),
    /// read the feeds, the inbox and SLA status, move a case, upvote, think.
    Scenario(ScenarioArgs),
    /// Open-loop constant arrival rate with a write/read mix.
    Rate(RateArgs),
}

#[derive(Args)]
struct ScenarioArgs {
    /// Virtual users at full ramp.
    #[arg(long, default_value_t = 150)]
    vus: usize,
    /// Time to ramp from 0 to --vus (part of --duration).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    ramp_up: Duration,
    /// Total time new iterations start in.
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    duration: Duration,
    /// No sleeps; the sync time becomes the time from the 201 until the
    /// report is first seen in /reports/me (polled every millisecond).
    #[arg(long)]
    no_think: bool,
    /// Think time bounds (uniform).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    think_min: Duration,
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    think_max: Duration,
    /// With think time: wait before the sync check (the seed: 1 s).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    sync_delay: Duration,
    /// Without think time: give up waiting for a report after this long
    /// (counted as an error).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    sync_timeout: Duration,
    /// Log in once per account and reuse the tokens (NOT the seed's
    /// scenario, which logs in twice per iteration; for isolating the cost
    /// of everything but login).
    #[arg(long)]
    login_once: bool,
    /// After --duration, how long running iterations may finish.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    graceful_stop: Duration,
}

#[derive(Args)]
struct RateArgs {
    /// Requests per second.
    #[arg(long, conflicts_with = "level")]
    rate: Option<f64>,
    /// Seed 2's levels: light (50/s), medium (100), heavy (250), extreme
    /// (500), stress (1000).
    #[arg(long)]
    level: Option<String>,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Share of writes (report creations); the rest are reads of
    /// /reports/public, /reports?page=N, /reports/{id} and /statistics.
    #[arg(long, default_value_t = 0.2)]
    write_ratio: f64,
    /// Connections (= requests in flight at most). Due requests wait for a
    /// free one, and the wait counts in their latency.
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// The reads to draw from (uniformly), comma-separated: public, page,
    /// id, statistics, me, inbox, sla, health (to calibrate the generator).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "public,page,id,statistics"
    )]
    reads: Vec<rate::Read>,
    /// After --duration, how long overdue requests may still be sent.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    grace: Duration,
}

fn main() {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.global.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("lapor-bench: {e:#}");
            std::process::exit(2);
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    let g = cli.global;
    let targets = Targets::new(&g.base, g.ops_base.as_deref(), g.workflow_base.as_deref())?;
    let client = Client::new(g.client, g.timeout)?;
    let mut config = serde_json::to_value(&g)?;
    config["timeout_s"] = g.timeout.as_secs_f64().into();
    let (mode, rec, elapsed) = match cli.command {
        Command::Scenario(a) => {
            if a.vus == 0 {
                anyhow::bail!("--vus must be at least 1");
            }
            let o = scenario::ScenarioOpts {
                vus: a.vus,
                ramp_up: a.ramp_up.min(a.duration),
                duration: a.duration,
                no_think: a.no_think,
                think_min: a.think_min,
                think_max: a.think_max,
                sync_delay: a.sync_delay,
                sync_timeout: a.sync_timeout,
                login_once: a.login_once,
                graceful_stop: a.graceful_stop,
            };
            config["scenario"] = serde_json::to_value(&o)?;
            let mode = format!(
                "scenario: {} VUs (ramp-up {:?}), {:?}, {}{}",
                o.vus,
                o.ramp_up,
                o.duration,
                if o.no_think {
                    "no think time".to_owned()
                } else {
                    format!("think {:?}-{:?}", o.think_min, o.think_max)
                },
                if o.login_once { ", login once" } else { "" }
            );
            eprintln!("lapor-bench {mode} against {}", targets.base.url);
            let (rec, elapsed) = scenario::run(client, targets, o).await;
            (mode, rec, elapsed)
        }
        Command::Rate(a) => {
            let rate = match (a.rate, a.level.as_deref()) {
                (Some(r), _) => r,
                (None, Some(l)) => rate::level_rate(l).ok_or_else(|| {
                    anyhow::anyhow!("unknown level '{l}': light, medium, heavy, extreme or stress")
                })?,
                (None, None) => anyhow::bail!("give --rate N or --level NAME"),
            };
            let o = rate::RateOpts {
                rate,
                duration: a.duration,
                write_ratio: a.write_ratio,
                connections: a.connections.max(1),
                reads: a.reads,
                grace: a.grace,
            };
            config["rate"] = serde_json::to_value(&o)?;
            let mode = format!(
                "rate: {rate} req/s for {:?}, {:.0}% writes, {} connections{}",
                o.duration,
                o.write_ratio * 100.0,
                o.connections,
                a.level.map(|l| format!(" (level {l})")).unwrap_or_default()
            );
            eprintln!("lapor-bench {mode} against {}", targets.base.url);
            let (rec, elapsed) = rate::run(client, targets, o).await?;
            (mode, rec, elapsed)
        }
    };
    let summary = rec.summarize(&mode, elapsed, config);
    print!("{}", summary.render());
    if let Some(path) = &g.json {
        std::fs::write(path, serde_json::to_vec_pretty(&summary)?)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        println!("\n  JSON summary: {}", path.display());
    }
    if summary.requests == 0 {
        eprintln!("lapor-bench: no request completed");
        return Ok(1);
    }
    if let Some(max) = g.max_errors
        && summary.errors > max
    {
        eprintln!(
            "lapor-bench: {} errors, more than --max-errors {max}",
            summary.errors
        );
        return Ok(1);
    }
    Ok(0)
}
