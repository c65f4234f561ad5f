//! `cloudops estate sync|status|watch`: the estate sync on the command line.
//!
//! Everything here is presentation: the sync itself is `cloudops_sync::sync`, shared with
//! the desktop app.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use cloudops_core::{ClientConfig, DataDir, Estate, Service};
use cloudops_sync::{ScopeKey, ScopeReport, SyncEvent, SyncReport, SyncRequest, SyncState};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// `estate sync` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    /// Read everything again, even where a full sync exists (removes what is gone).
    #[arg(long)]
    pub full: bool,
    /// Only this account (a name from config.toml); repeatable.
    #[arg(long = "account", value_name = "NAME")]
    pub accounts: Vec<String>,
    /// Only this service (ec2, rds, s3, lambda, elbv2); repeatable.
    #[arg(long = "service", value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `estate watch` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchArgs {
    /// Minutes between incremental syncs (default: config.toml `[sync]`, else 15).
    #[arg(long, value_name = "MINUTES")]
    pub incremental_every: Option<f64>,
    /// Minutes between full syncs (default: config.toml `[sync]`, else 360).
    #[arg(long, value_name = "MINUTES")]
    pub full_every: Option<f64>,
    /// Stop after this many syncs (default: run until interrupted).
    #[arg(long, value_name = "N")]
    pub max_syncs: Option<u64>,
}

/// Runs one sync and prints its summary. Exit code 5 only when no scope could be synced.
pub fn sync(home: &Path, args: SyncArgs) -> Result<ExitCode> {
    let runtime = runtime()?;
    let estate = Arc::new(crate::open_estate(home)?);
    crate::warn_about(&estate);
    let report =
        runtime.block_on(run_sync(home, &estate, &args, std::io::stderr().is_terminal()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", summary(&report));
    }
    Ok(exit_code(&report))
}

fn exit_code(report: &SyncReport) -> ExitCode {
    if !report.scopes.is_empty() && report.succeeded() == 0 {
        ExitCode::from(5)
    } else {
        ExitCode::SUCCESS
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn run_sync(
    home: &Path,
    estate: &Arc<Estate>,
    args: &SyncArgs,
    progress_bars: bool,
) -> Result<SyncReport> {
    let data = DataDir::new(home);
    // What the library's operations need is judged per resource (the permissions fields).
    let library = cloudops_assist::library(&data.load_config()?)?;
    let request = SyncRequest {
        full: args.full,
        accounts: args.accounts.clone(),
        services: args
            .services
            .iter()
            .map(|name| name.parse::<Service>())
            .collect::<Result<_, _>>()?,
        needed_actions: cloudops_assist::needed_actions(&library),
    };
    let state = SyncState::open(data.sync_state())?;
    let display = Progress::new(progress_bars);
    let report = cloudops_sync::sync_home(&data, Arc::clone(estate), &state, &request, &|event| {
        display.event(event)
    })
    .await?;
    display.clear();
    Ok(report)
}

/// Progress per scope: a spinner each on a terminal, one line per finished scope otherwise.
struct Progress {
    bars: Option<MultiProgress>,
    scopes: Mutex<HashMap<ScopeKey, ProgressBar>>,
}

impl Progress {
    fn new(terminal: bool) -> Self {
        let bars = terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { bars, scopes: Mutex::new(HashMap::new()) }
    }

    fn event(&self, event: SyncEvent) {
        if let SyncEvent::Note { message } = &event {
            let line = format!("note: {}", crate::output::clean(message));
            match &self.bars {
                Some(bars) => {
                    let _ = bars.println(line);
                }
                None => eprintln!("{line}"),
            }
            return;
        }
        let Some(bars) = &self.bars else {
            if let SyncEvent::Finished { report } = event {
                eprintln!("{}", scope_line(&report));
            }
            return;
        };
        let Ok(mut scopes) = self.scopes.lock() else { return };
        match event {
            SyncEvent::Planned { scopes: keys } => {
                for key in keys {
                    let bar = bars.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:<40} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(key.to_string());
                    bar.set_message("waiting");
                    scopes.insert(key, bar);
                }
            }
            SyncEvent::Started { scope } => {
                if let Some(bar) = scopes.get(&scope) {
                    bar.set_message("reading");
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
            }
            SyncEvent::Read { scope, resources } => {
                if let Some(bar) = scopes.get(&scope) {
                    bar.set_message(format!("indexing {resources} resources"));
                }
            }
            SyncEvent::Finished { report } => {
                if let Some(bar) = scopes.get(&report.scope) {
                    bar.finish_with_message(scope_outcome(&report));
                }
            }
            SyncEvent::Note { .. } => {}
        }
    }

    fn clear(&self) {
        if let Some(bars) = &self.bars {
            // The bars go; the summary printed next is the record.
            let _ = bars.clear();
        }
    }
}

fn scope_outcome(report: &ScopeReport) -> String {
    match &report.error {
        Some(error) => format!(
            "FAILED ({}): {error}",
            report
                .stale_since
                .as_deref()
                .map(|since| format!("kept {} resources from {since}, stale", report.resources))
                .unwrap_or_else(|| "never synced".to_owned())
        ),
        None => {
            let counts = &report.counts;
            format!(
                "{} resources ({} read via {}): +{} ~{} -{}, {} embedded, {:.1}s",
                report.resources,
                counts.read,
                report.method.map(|m| m.as_str()).unwrap_or("-"),
                counts.added,
                counts.changed,
                counts.removed,
                counts.embedded,
                (report.api_ms + report.index_ms) as f64 / 1000.0
            )
        }
    }
}

fn scope_line(report: &ScopeReport) -> String {
    format!("{:<40} {}", report.scope.to_string(), scope_outcome(report))
}

/// The human summary: counts per type, totals, time, failures.
fn summary(report: &SyncReport) -> String {
    let mut text = String::new();
    let totals = &report.totals;
    let modes: BTreeMap<&str, usize> = report
        .scopes
        .iter()
        .filter(|scope| scope.error.is_none())
        .fold(BTreeMap::new(), |mut modes, scope| {
            let mode = match scope.mode {
                cloudops_sync::SyncMode::Full => "full",
                cloudops_sync::SyncMode::Incremental => "incremental",
            };
            *modes.entry(mode).or_default() += 1;
            modes
        });
    let modes: Vec<String> = modes.iter().map(|(mode, n)| format!("{n} {mode}")).collect();
    text.push_str(&format!(
        "synced {} of {} scopes ({}) in {:.1}s (AWS calls {:.1}s, index {:.1}s, summed over scopes)\n",
        report.succeeded(),
        report.scopes.len(),
        if modes.is_empty() { "none".to_owned() } else { modes.join(", ") },
        report.duration_ms as f64 / 1000.0,
        report.api_ms() as f64 / 1000.0,
        report.index_ms() as f64 / 1000.0,
    ));
    text.push_str(&format!(
        "read {}: {} added, {} changed, {} unchanged, {} removed; {} texts embedded\n",
        totals.read,
        totals.added,
        totals.changed,
        totals.unchanged,
        totals.removed,
        totals.embedded
    ));
    text.push_str("in the index:");
    for (resource_type, count) in &report.by_type {
        text.push_str(&format!(" {resource_type} {count},"));
    }
    if text.ends_with(',') {
        text.pop();
    }
    text.push('\n');
    for scope in report.scopes.iter().filter(|scope| scope.error.is_some()) {
        text.push_str(&format!("failed: {}\n", scope_line(scope)));
    }
    text
}

/// `estate status`: per scope, the last syncs, counts, staleness and last error.
pub fn status(home: &Path, json: bool) -> Result<ExitCode> {
    let state = SyncState::open(DataDir::new(home).sync_state())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&state.status()?)?);
        return Ok(ExitCode::SUCCESS);
    }
    let scopes = state.all()?;
    if scopes.is_empty() {
        println!("never synced: run `cloudops estate sync`");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<40} {:<13} {:<21} {:<21} {:>9} {:>13}  status",
        "scope", "account", "last full", "last incremental", "resources", "+/~/-"
    );
    for (key, scope) in &scopes {
        let status = match &scope.last_error {
            Some(error) => {
                format!("STALE since {}: {error}", scope.last_success().unwrap_or("never"))
            }
            None => format!("ok ({})", scope.method.as_deref().unwrap_or("-")),
        };
        println!(
            "{:<40} {:<13} {:<21} {:<21} {:>9} {:>13}  {status}",
            key.to_string(),
            scope.account_id.as_deref().unwrap_or("-"),
            scope.last_full.as_deref().unwrap_or("-"),
            scope.last_incremental.as_deref().unwrap_or("-"),
            scope.resources,
            format!("{}/{}/{}", scope.added, scope.changed, scope.removed),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `estate watch`: incremental syncs every N minutes and full syncs every M, until
/// interrupted (or `--max-syncs`).
pub fn watch(home: &Path, args: WatchArgs) -> Result<ExitCode> {
    let config = ClientConfig::load(home)?;
    let incremental = minutes(args.incremental_every, config.sync.incremental_every_minutes)?;
    let full = minutes(args.full_every, config.sync.full_every_minutes)?;
    let runtime = runtime()?;
    let estate = Arc::new(crate::open_estate(home)?);
    crate::warn_about(&estate);
    eprintln!(
        "watching: incremental every {:.1} min, full every {:.1} min (Ctrl-C stops)",
        incremental.as_secs_f64() / 60.0,
        full.as_secs_f64() / 60.0
    );
    let max_syncs = args.max_syncs;
    let mut last_full: Option<SystemTime> = None;
    let mut syncs = 0u64;
    runtime.block_on(async {
        loop {
            let now = SystemTime::now();
            let full_due =
                last_full.is_none_or(|at| now.duration_since(at).unwrap_or_default() >= full);
            let once = SyncArgs {
                full: full_due,
                accounts: Vec::new(),
                services: Vec::new(),
                json: false,
            };
            let started = SystemTime::now();
            let stamp = cloudops_core::time::now_rfc3339();
            match run_sync(home, &estate, &once, false).await {
                Ok(report) => {
                    eprint!("[{stamp}] {}", summary(&report));
                    if full_due && report.failed() == 0 {
                        last_full = Some(started);
                    }
                }
                Err(error) => eprintln!("[{stamp}] sync failed: {error:#}"),
            }
            syncs += 1;
            if max_syncs.is_some_and(|max| syncs >= max) {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(incremental) => {}
                _ = tokio::signal::ctrl_c() => break,
            }
        }
    });
    Ok(ExitCode::SUCCESS)
}

fn minutes(flag: Option<f64>, configured: u64) -> Result<Duration> {
    let minutes = flag.unwrap_or(configured as f64);
    anyhow::ensure!(
        minutes.is_finite() && minutes > 0.0,
        "intervals must be positive minutes, got {minutes}"
    );
    Ok(Duration::from_secs_f64(minutes * 60.0))
}
