//! `lapor seed-data`: fills an embedded store with realistic reports for
//! growth tests and benchmarks.
//!
//! It goes through the application's own commands (the same path as the
//! HTTP API, minus HTTP), so every report has its event, case, SLA job and
//! read-model row exactly as if citizens had filed it: the app is started
//! with every role but the API, reports are created concurrently, the
//! consumers are awaited, then officers move a share of the cases on
//! (IN_PROGRESS, RESOLVED, REJECTED) and citizens upvote public reports.
//! The demo accounts are created too, so `lapor-bench` can log in.

use crate::config::{Role, ServeArgs};
use crate::server::{Running, start};
use anyhow::{Context, anyhow};
use lapor_app::App;
use lapor_app::clock::SystemClock;
use lapor_app::ports::Outbox;
use lapor_app::services::identity::NewUser;
use lapor_domain::access::{Principal, Role as UserRole, Visibility};
use lapor_domain::catalog::AgencyCode;
use lapor_domain::ids::{ReportId, UserId};
use lapor_domain::lifecycle::Status;
use lapor_domain::report::{Location, ReportDraft};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct SeedOpts {
    pub data_dir: PathBuf,
    /// Reports to create.
    pub reports: u64,
    /// Extra citizen accounts (`warga0001`..), besides the demo accounts.
    pub users: usize,
    /// Commands in flight at once.
    pub concurrency: usize,
    /// Mean upvotes per PUBLIC report.
    pub votes_per_report: f64,
}

const STREETS: [&str; 10] = [
    "Jl. Merdeka",
    "Jl. Sudirman",
    "Jl. Thamrin",
    "Jl. Gatot Subroto",
    "Jl. Rasuna Said",
    "Jl. Kebon Sirih",
    "Jl. Cikini Raya",
    "Jl. Fatmawati",
    "Jl. Pramuka",
    "Jl. Daan Mogot",
];

const PROBLEMS: [(&str, &str); 12] = [
    (
        "infrastruktur",
        "Jalan berlubang besar, membahayakan pengendara motor",
    ),
    (
        "infrastruktur",
        "Lampu penerangan jalan mati sejak minggu lalu",
    ),
    (
        "kebersihan",
        "Sampah menumpuk dan tidak diangkut selama seminggu",
    ),
    (
        "kebersihan",
        "Saluran air tersumbat sampah, banjir saat hujan",
    ),
    ("lainnya", "Pedagang kaki lima menutup seluruh trotoar"),
    ("lainnya", "Pohon tumbang menghalangi sebagian jalan"),
    ("kesehatan", "Puskesmas kehabisan obat untuk anak-anak"),
    ("kesehatan", "Banyak warga demam berdarah, mohon fogging"),
    (
        "keamanan",
        "Lampu lalu lintas rusak, sering terjadi kecelakaan",
    ),
    ("keamanan", "Tawuran pelajar setiap sore di dekat sekolah"),
    ("kriminalitas", "Pencurian motor di parkiran pasar"),
    ("kriminalitas", "Penjambretan di halte bus pada malam hari"),
];

/// What the seeded report should end as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Received,
    InProgress,
    Resolved,
    Rejected,
}

fn pick_target(rng: &mut impl Rng) -> Target {
    match rng.gen_range(0..100) {
        0..50 => Target::Received,
        50..75 => Target::InProgress,
        75..90 => Target::Resolved,
        _ => Target::Rejected,
    }
}

fn pick_visibility(rng: &mut impl Rng) -> Visibility {
    match rng.gen_range(0..100) {
        0..60 => Visibility::Public,
        60..85 => Visibility::Private,
        _ => Visibility::Anonymous,
    }
}

fn draft(rng: &mut impl Rng, n: u64) -> ReportDraft {
    let (category, problem) = PROBLEMS[rng.gen_range(0..PROBLEMS.len())];
    let street = STREETS[rng.gen_range(0..STREETS.len())];
    let number = rng.gen_range(1..200);
    // Most reports carry a location around Jakarta.
    let location = rng.gen_bool(0.85).then(|| {
        let lat = -6.1 - rng.gen_range(0.0..0.2);
        let lon = 106.7 + rng.gen_range(0.0..0.25);
        Location::parse(lat, lon, Some(&format!("{street} No. {number}")))
            .expect("coordinates in range")
    });
    ReportDraft {
        title: None,
        content: format!("{problem} ({street} No. {number}, laporan #{n})"),
        category: category.to_owned(),
        visibility: pick_visibility(rng),
        location,
    }
}

/// A report that needs a status change or votes after creation.
struct Followup {
    id: ReportId,
    agency: AgencyCode,
    target: Target,
    public: bool,
    /// Reporters may not upvote their own reports.
    reporter: UserId,
}

/// Seeds the data directory; prints progress and a summary on stdout.
pub async fn seed(opts: SeedOpts) -> anyhow::Result<()> {
    let mut args = ServeArgs::for_dir(&opts.data_dir);
    args.role = vec![
        Role::Relay,
        Role::Projector,
        Role::Operations,
        Role::Workflow,
    ];
    args.demo = true;
    // No API is needed; should a role still open a listener, keep it on an
    // ephemeral loopback port so it never clashes with a running server.
    args.listen = "127.0.0.1:0".parse().expect("socket address");
    let running = start(args, Arc::new(SystemClock))
        .await
        .context("opening the data directory")?;
    let res = seed_running(&running, &opts).await;
    running.shutdown().await;
    res
}

fn app_err(e: lapor_app::AppError) -> anyhow::Error {
    anyhow!("{e}")
}

async fn seed_running(running: &Running, opts: &SeedOpts) -> anyhow::Result<()> {
    let app = running.app.clone();
    let all = Instant::now();

    // Accounts: the demo ones plus `users` citizens, all with password
    // "password" (hashed with the configured argon2id cost).
    let t = Instant::now();
    let names: Vec<String> = (1..=opts.users).map(|i| format!("warga{i:04}")).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for name in names.clone() {
        let app = app.clone();
        tasks.spawn(async move {
            match app
                .create_user(NewUser {
                    username: name,
                    password: "password".into(),
                    role: UserRole::Citizen,
                    agency: None,
                })
                .await
            {
                Ok(_) | Err(lapor_app::AppError::Conflict(_)) => Ok(()),
                Err(e) => Err(app_err(e)),
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let mut citizens = vec![];
    for name in ["citizen1", "citizen2", "citizen3"]
        .into_iter()
        .map(str::to_owned)
        .chain(names)
    {
        citizens.push(
            app.login(&name, "password")
                .await
                .map_err(app_err)?
                .principal,
        );
    }
    let mut officers: HashMap<AgencyCode, Principal> = HashMap::new();
    for name in ["officer1", "officer2", "officer3"] {
        let p = app
            .login(name, "password")
            .await
            .map_err(app_err)?
            .principal;
        if let Some(a) = p.agency.clone() {
            officers.insert(a, p);
        }
    }
    let admin = app
        .login("admin", "password")
        .await
        .map_err(app_err)?
        .principal;
    println!(
        "accounts: {} citizens ready in {:.1} s",
        citizens.len(),
        t.elapsed().as_secs_f64()
    );

    // Phase 1: reports.
    let t = Instant::now();
    let citizens = Arc::new(citizens);
    let next = Arc::new(AtomicU64::new(0));
    let total = opts.reports;
    let step = (total / 10).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..opts.concurrency.max(1) {
        let (app, citizens, next) = (app.clone(), citizens.clone(), next.clone());
        tasks.spawn(async move {
            let mut rng = StdRng::from_entropy();
            let mut follow = vec![];
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let by = &citizens[rng.gen_range(0..citizens.len())];
                let report = app
                    .create_report(by, draft(&mut rng, n + 1))
                    .await
                    .map_err(app_err)?;
                let target = pick_target(&mut rng);
                let public = report.visibility == Visibility::Public;
                if target != Target::Received || public {
                    follow.push(Followup {
                        id: report.id,
                        agency: report.agency,
                        target,
                        public,
                        reporter: by.user_id,
                    });
                }
                if (n + 1) % step == 0 {
                    println!("  {} reports created", n + 1);
                }
            }
            anyhow::Ok(follow)
        });
    }
    let mut follow = vec![];
    while let Some(r) = tasks.join_next().await {
        follow.extend(r??);
    }
    let created_s = t.elapsed().as_secs_f64();
    println!(
        "reports: {total} created in {created_s:.1} s ({:.0}/s)",
        total as f64 / created_s.max(1e-9)
    );
    let t = Instant::now();
    settle(&app).await?;
    println!(
        "consumers caught up {:.1} s later",
        t.elapsed().as_secs_f64()
    );

    // Phase 2: officers work a share of the cases; citizens upvote.
    let t = Instant::now();
    let follow = Arc::new(follow);
    let next = Arc::new(AtomicU64::new(0));
    let officers = Arc::new(officers);
    let mut tasks = tokio::task::JoinSet::new();
    let mean_votes = opts.votes_per_report.max(0.0);
    for _ in 0..opts.concurrency.max(1) {
        let (app, citizens, next, follow, officers, admin) = (
            app.clone(),
            citizens.clone(),
            next.clone(),
            follow.clone(),
            officers.clone(),
            admin.clone(),
        );
        tasks.spawn(async move {
            let mut rng = StdRng::from_entropy();
            let (mut moves, mut votes) = (0u64, 0u64);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(f) = follow.get(i) else { break };
                let by = officers.get(&f.agency).unwrap_or(&admin);
                let steps: &[(Status, Option<&str>)] = match f.target {
                    Target::Received => &[],
                    Target::InProgress => &[(Status::InProgress, None)],
                    Target::Resolved => &[(Status::InProgress, None), (Status::Resolved, None)],
                    Target::Rejected => &[(
                        Status::Rejected,
                        Some("Bukan wewenang dinas kami; sudah diteruskan"),
                    )],
                };
                for (to, reason) in steps {
                    app.change_status(by, f.id, *to, *reason)
                        .await
                        .map_err(app_err)?;
                    moves += 1;
                }
                if f.public && mean_votes > 0.0 {
                    // Geometric number of votes with the given mean: a few
                    // popular reports, most with none or one.
                    let p = 1.0 / (1.0 + mean_votes);
                    let mut n = 0;
                    while n < citizens.len() && !rng.gen_bool(p) {
                        n += 1;
                    }
                    let start = rng.gen_range(0..citizens.len());
                    for k in 0..n {
                        let voter = &citizens[(start + k) % citizens.len()];
                        if voter.user_id == f.reporter {
                            continue;
                        }
                        match app.upvote(voter, f.id).await {
                            Ok(_) => votes += 1,
                            Err(lapor_app::AppError::Conflict(_)) => {}
                            Err(e) => return Err(app_err(e)),
                        }
                    }
                }
            }
            anyhow::Ok((moves, votes))
        });
    }
    let (mut moves, mut votes) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (m, v) = r??;
        moves += m;
        votes += v;
    }
    println!(
        "status changes: {moves}, upvotes: {votes} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    settle(&app).await?;
    println!(
        "consumers caught up {:.1} s later",
        t.elapsed().as_secs_f64()
    );
    println!(
        "seeded {total} reports into {} in {:.1} s",
        opts.data_dir.display(),
        all.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Waits until every outbox is relayed and every consumer group has
/// nothing pending.
async fn settle(app: &App) -> anyhow::Result<()> {
    let mut last_report = Instant::now();
    loop {
        let outboxes: [&dyn Outbox; 3] = [
            app.stores().reporting.as_ref(),
            app.stores().operations.as_ref(),
            app.stores().workflow.as_ref(),
        ];
        let mut unrelayed = 0;
        for o in outboxes {
            unrelayed += o.unrelayed_count().await?;
        }
        let lag = app.bus().lag().await?;
        let pending: i64 = lag.iter().map(|g| g.pending).sum();
        if unrelayed == 0 && lag.len() >= 4 && pending == 0 {
            return Ok(());
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            let groups: Vec<String> = lag
                .iter()
                .map(|g| format!("{} {}", g.group, g.pending))
                .collect();
            println!("  waiting for consumers: pending {}", groups.join(", "));
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_valid_and_around_jakarta() {
        let mut rng = StdRng::seed_from_u64(7);
        for n in 0..200 {
            let d = draft(&mut rng, n);
            assert!(PROBLEMS.iter().any(|(c, _)| *c == d.category));
            if let Some(l) = d.location {
                assert!((-6.3..=-6.1).contains(&l.lat), "{}", l.lat);
                assert!((106.7..=106.95).contains(&l.lon), "{}", l.lon);
            }
        }
    }

    #[test]
    fn status_mix() {
        let mut rng = StdRng::seed_from_u64(1);
        let n = 10_000;
        let received = (0..n)
            .filter(|_| pick_target(&mut rng) == Target::Received)
            .count();
        assert!((4_500..5_500).contains(&received), "{received}");
    }
}
