//! `cloudops`: the command-line front end of CloudOps. A thin layer over `cloudops-core`.
#![forbid(unsafe_code)]

mod accounts;
mod ask;
mod estate_sync;
mod history;
mod mcp;
mod output;
mod query;

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use cloudops_core::{
    ClientConfig, DataDir, EnrichedRequest, ErrorKind, Estate, HashEmbedder, IdentifiedResource,
    LookupRequest, LookupResponse, Progress, Resource, ResourceType, UserContext, demo, parse_tag,
};
use cloudops_playbooks::{Library, Origin, Planner};

/// Local-first AWS operations: find any resource in your estate, offline.
#[derive(Debug, Parser)]
#[command(name = "cloudops", version, about)]
struct Cli {
    /// The data directory (config.toml and all local state). Default: $CLOUDOPS_HOME, else
    /// the platform data directory.
    #[arg(long, global = true, env = "CLOUDOPS_HOME")]
    home: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage the local copy of the estate.
    #[command(subcommand)]
    Estate(EstateCommand),
    /// Access keys for configured accounts, kept in the OS keychain.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Find resources: an id, ARN, name, typo, description, scope or key=value tags.
    Find(FindArgs),
    /// Count, group and list resources with filters, from the local estate, saying how
    /// complete and fresh the answer is.
    Query(query::QueryArgs),
    /// Saved checks: databases without backups, public databases and buckets, missing
    /// required tags, long-stopped instances, deprecated Lambda runtimes.
    Check(query::CheckArgs),
    /// Do something: resolve the resources locally, plan, verify, approve, execute with
    /// the AWS CLI, record it in the audit trail. A question is answered from the estate.
    Ask(ask::AskArgs),
    /// Resume an execution that was interrupted before it ended.
    Resume(ask::ResumeArgs),
    /// The audit trail: executions, one in full, or a check of the hash chain.
    History(history::HistoryArgs),
    /// Serve agents over MCP (stdio): find resources, plan changes, request executions
    /// that only a person approves (`cloudops approve`).
    Mcp,
    /// Executions agents requested, waiting for a person's approval.
    Pending(ask::PendingArgs),
    /// Approve and run an execution an agent requested (same confirmation rules as `ask`).
    Approve(ask::ApproveArgs),
    /// Reject an execution an agent requested; nothing runs.
    Reject(ask::RejectArgs),
    /// Work with playbook libraries.
    #[command(subcommand)]
    Playbooks(PlaybooksCommand),
    /// Load the built-in demo estate (3,187 resources) and run example lookups.
    Demo {
        /// Only load the demo estate; run no lookups.
        #[arg(long)]
        load_only: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AccountsCommand {
    /// Store an access key pair for a configured account in the OS keychain. The secret is
    /// read from the terminal without echo, or from standard input with --stdin; never from
    /// an argument.
    Add {
        /// The account's name in config.toml.
        name: String,
        /// Read the access key id, the secret (and an optional session token) as lines of
        /// standard input.
        #[arg(long)]
        stdin: bool,
    },
    /// The configured accounts and whether the keychain holds a key for each (never the
    /// secret).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete an account's stored key from the keychain.
    Remove {
        /// The account's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum EstateCommand {
    /// Sync the AWS estate into the local index: full the first time, incremental after.
    Sync(estate_sync::SyncArgs),
    /// Per account, region and service: last syncs, counts, staleness, last error.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sync on a schedule: incremental every 15 minutes, full every 6 hours (configurable).
    Watch(estate_sync::WatchArgs),
    /// Import resources from a JSON Lines file (`-` for standard input); upserts by ARN.
    Import {
        /// The file: one `Resource` object per line.
        file: PathBuf,
    },
    /// Print every resource as JSON Lines.
    Export,
    /// Counts per type, account and region; the embedding model in use.
    Stats {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the demo estate as JSON Lines (for trying `import`).
    Demo,
}

#[derive(Debug, Subcommand)]
enum PlaybooksCommand {
    /// Validate every playbook under DIR; prints `file:line:column: problem` for each bad
    /// file and exits 2 when there is any.
    Lint {
        /// The library directory.
        dir: PathBuf,
    },
    /// List the playbooks of DIR (default: the built-in library).
    List {
        /// The library directory.
        dir: Option<PathBuf>,
    },
    /// Print the JSON Schema of the playbook format (for editors).
    Schema,
}

#[derive(Debug, clap::Args)]
struct FindArgs {
    /// What to look for, e.g. "pg-main", "production database", "env=prod app=main".
    #[arg(required_unless_present = "batch")]
    query: Option<String>,
    /// Only this resource type (ec2_instance, rds_instance, s3_bucket, lambda_function,
    /// elb_load_balancer).
    #[arg(long = "type", value_name = "TYPE")]
    resource_type: Option<String>,
    /// Only this account (name or id).
    #[arg(long)]
    account: Option<String>,
    /// Only this region.
    #[arg(long)]
    region: Option<String>,
    /// Only resources in this state (running, stopped, available…).
    #[arg(long)]
    state: Option<String>,
    /// Only resources with this tag: `key=value`, `key:value`, or `key="a value"`; repeat
    /// for several (all must match).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    /// At most this many results.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Print JSON (one object; with --batch, one object per line).
    #[arg(long)]
    json: bool,
    /// Answer one query per line of FILE (`-` for standard input) in a single process.
    #[arg(long, value_name = "FILE", conflicts_with = "query")]
    batch: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(match kind_of(&error) {
                ErrorKind::InvalidInput => 2,
                ErrorKind::NotFound => 3,
                ErrorKind::Conflict => 4,
                ErrorKind::Unavailable => 5,
                ErrorKind::Internal => 1,
            })
        }
    }
}

/// Whose fault `error` is, from the library error inside it (`Internal` when none is).
fn kind_of(error: &anyhow::Error) -> ErrorKind {
    error
        .downcast_ref::<cloudops_core::Error>()
        .map(cloudops_core::Error::kind)
        .or_else(|| error.downcast_ref::<cloudops_playbooks::Error>().map(|e| e.kind()))
        .or_else(|| error.downcast_ref::<cloudops_sync::Error>().map(|e| e.kind()))
        .or_else(|| error.downcast_ref::<cloudops_assist::Error>().map(|e| e.kind()))
        .unwrap_or(ErrorKind::Internal)
}

fn home_dir(explicit: Option<PathBuf>) -> Result<PathBuf> {
    Ok(DataDir::locate(explicit)?.root().to_path_buf())
}

fn open_estate(home: &Path) -> Result<Estate> {
    open_estate_with(home, cloudops_embed::open_estate)
}

/// [`open_estate`] for a command that only reads the index (a question, a query, a check):
/// the language model is loaded only if something is embedded after all.
fn open_estate_for_reading(home: &Path) -> Result<Estate> {
    open_estate_with(home, cloudops_embed::open_estate_for_reading)
}

fn open_estate_with(
    home: &Path,
    open: impl FnOnce(PathBuf, &ClientConfig) -> cloudops_core::Result<Estate>,
) -> Result<Estate> {
    let config = ClientConfig::load(home)?;
    open(DataDir::new(home).estate(), &config)
        .with_context(|| format!("cannot open the estate in {}", home.display()))
}

fn run(cli: Cli) -> Result<ExitCode> {
    let home = home_dir(cli.home)?;
    match cli.command {
        Command::Estate(EstateCommand::Demo) => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            for resource in demo::generate(&demo::DemoConfig::default()) {
                serde_json::to_writer(&mut out, &resource)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Estate(EstateCommand::Import { file }) => {
            let estate = open_estate(&home)?;
            warn_about(&estate);
            import(&estate, &file)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Estate(EstateCommand::Export) => {
            let estate = open_estate(&home)?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            estate.for_each(|resource| {
                serde_json::to_writer(&mut out, &resource)
                    .map_err(|e| cloudops_core::Error::InvalidInput(e.to_string()))?;
                out.write_all(b"\n").map_err(|e| cloudops_core::Error::InvalidInput(e.to_string()))
            })?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Estate(EstateCommand::Stats { json }) => {
            let estate = open_estate(&home)?;
            let stats = estate.stats()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                print!("{}", output::stats_table(&stats));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Estate(EstateCommand::Sync(args)) => estate_sync::sync(&home, args),
        Command::Estate(EstateCommand::Status { json }) => estate_sync::status(&home, json),
        Command::Estate(EstateCommand::Watch(args)) => estate_sync::watch(&home, args),
        Command::Accounts(AccountsCommand::Add { name, stdin }) => {
            accounts::add(&home, &name, stdin)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Accounts(AccountsCommand::List { json }) => {
            accounts::list(&home, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Accounts(AccountsCommand::Remove { name }) => {
            accounts::remove(&home, &name)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Find(args) => find(&home, args),
        Command::Query(args) => query::query(&home, args),
        Command::Check(args) => query::check(&home, args),
        Command::Ask(args) => ask::ask(&home, args),
        Command::Resume(args) => ask::resume(&home, args),
        Command::History(args) => history::run(&home, args),
        Command::Mcp => mcp::serve(&home),
        Command::Pending(args) => ask::pending(&home, args),
        Command::Approve(args) => ask::approve(&home, args),
        Command::Reject(args) => ask::reject(&home, args),
        Command::Demo { load_only } => run_demo(&home, load_only),
        Command::Playbooks(command) => playbooks(command),
    }
}

fn warn_about(estate: &Estate) {
    for warning in estate.warnings() {
        eprintln!("note: {warning}");
    }
}

/// Reads JSON Lines in bounded batches so a large file never sits in memory whole.
fn import(estate: &Estate, file: &Path) -> Result<()> {
    let reader = open_input(file)?;
    let show_progress = std::io::stderr().is_terminal();
    let mut batch = Vec::new();
    let mut total = cloudops_core::UpsertReport::default();
    let mut read = 0usize;
    let started = std::time::Instant::now();
    let flush = |batch: &mut Vec<Resource>,
                 total: &mut cloudops_core::UpsertReport,
                 read: usize|
     -> Result<()> {
        let report = estate.upsert_with_progress(batch, &mut |progress: Progress| {
            if show_progress {
                eprint!(
                    "\rimporting: {} resources read, batch {}/{}   ",
                    read, progress.done, progress.total
                );
            }
        })?;
        total.added += report.added;
        total.changed += report.changed;
        total.unchanged += report.unchanged;
        total.embedded += report.embedded;
        batch.clear();
        Ok(())
    };
    for (number, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let resource: Resource = serde_json::from_str(&line).map_err(|e| {
            cloudops_core::Error::InvalidRecord { line: number + 1, message: e.to_string() }
        })?;
        batch.push(resource);
        read += 1;
        if batch.len() == 20_000 {
            flush(&mut batch, &mut total, read)?;
        }
    }
    flush(&mut batch, &mut total, read)?;
    if show_progress {
        eprintln!();
    }
    eprintln!(
        "imported {read} resources in {:.1}s: {} added, {} changed, {} unchanged; {} texts embedded",
        started.elapsed().as_secs_f64(),
        total.added,
        total.changed,
        total.unchanged,
        total.embedded
    );
    Ok(())
}

fn lookup_request(args: &FindArgs, query: String) -> Result<LookupRequest> {
    Ok(LookupRequest {
        query,
        tags: args.tags.iter().map(|tag| parse_tag(tag)).collect::<Result<_, _>>()?,
        resource_type: args
            .resource_type
            .as_deref()
            .map(|t| t.parse::<ResourceType>().unwrap_or_else(|never| match never {})),
        account: args.account.clone(),
        region: args.region.clone(),
        state: args.state.clone(),
        limit: Some(args.limit),
        lexical_only: false,
    })
}

fn find(home: &Path, args: FindArgs) -> Result<ExitCode> {
    if let Some(kind) = &args.resource_type
        && let Ok(ResourceType::Other(name)) = kind.parse::<ResourceType>()
    {
        bail!(cloudops_core::Error::InvalidInput(format!(
            "unknown resource type {name:?}; use one of: {}",
            ResourceType::KNOWN.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let estate = open_estate(home)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    if let Some(batch) = &args.batch {
        let reader = open_input(batch)?;
        for line in reader.lines() {
            let query = line?;
            if query.trim().is_empty() {
                continue;
            }
            let response = estate.lookup(&lookup_request(&args, query)?)?;
            write_response(&mut out, &response, args.json)?;
            if !args.json {
                writeln!(out)?;
            }
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let query = args.query.clone().unwrap_or_default();
    let response = estate.lookup(&lookup_request(&args, query)?)?;
    write_response(&mut out, &response, args.json)?;
    out.flush()?;
    Ok(if response.results.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// One lookup's answer: the `--json` object on one line, or the table.
fn write_response(out: &mut impl Write, response: &LookupResponse, json: bool) -> Result<()> {
    if json {
        serde_json::to_writer(&mut *out, &output::json_response(response))?;
        out.write_all(b"\n")?;
    } else {
        write!(out, "{}", output::table(response))?;
    }
    Ok(())
}

/// A file, or standard input for `-`.
fn open_input(path: &Path) -> Result<Box<dyn BufRead>> {
    if path == Path::new("-") {
        return Ok(Box::new(BufReader::new(std::io::stdin().lock())));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Box::new(BufReader::new(file)))
}

const DEMO_QUERIES: &[&str] = &[
    "Stop pg-instance-main1",
    "pg-main",
    "pg-main1",
    "production database",
    "env=prod app=main",
    "reboot the checkout servers in staging",
    "the bucket with the postgres dumps",
    "chekout-sheduler-stg-03",
    "the function that makes thumbnails for product pictures",
];

fn run_demo(home: &Path, load_only: bool) -> Result<ExitCode> {
    let estate = open_estate(home)?;
    warn_about(&estate);
    let stats = estate.stats()?;
    if stats.resources == 0 {
        let resources = demo::generate(&demo::DemoConfig::default());
        eprintln!(
            "loading the demo estate ({} resources) into {}",
            resources.len(),
            estate.path().display()
        );
        let show_progress = std::io::stderr().is_terminal();
        let started = std::time::Instant::now();
        let report = estate.upsert_with_progress(&resources, &mut |p: Progress| {
            if show_progress {
                eprint!("\rindexing {}/{}   ", p.done, p.total);
            }
        })?;
        if show_progress {
            eprintln!();
        }
        eprintln!(
            "indexed {} resources in {:.1}s ({} distinct texts embedded)",
            report.added,
            started.elapsed().as_secs_f64(),
            report.embedded
        );
    } else {
        eprintln!(
            "using the estate in {} ({} resources)",
            estate.path().display(),
            stats.resources
        );
    }
    if load_only {
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    for query in DEMO_QUERIES {
        let response = estate.lookup(&LookupRequest {
            query: (*query).into(),
            limit: Some(3),
            ..LookupRequest::default()
        })?;
        writeln!(out, "$ cloudops find {query:?} --limit 3")?;
        write!(out, "{}", output::table(&response))?;
        writeln!(out)?;
    }
    // The design's flow, offline: the resource found for the prompt becomes an enriched
    // request, and the built-in playbooks plan it in process. Nothing is executed.
    let prompt = DEMO_QUERIES[0];
    let found =
        estate.lookup(&LookupRequest { query: prompt.into(), ..LookupRequest::default() })?;
    if let Some(result) = found.results.first().filter(|_| !found.ambiguous) {
        let request = EnrichedRequest {
            prompt: prompt.into(),
            identified_resources: vec![IdentifiedResource::from_resource(&result.resource, |_| {
                true
            })],
            user_context: UserContext::default(),
            parameters: Default::default(),
        };
        let planner = Planner::new(Library::builtin(), Arc::new(HashEmbedder))?;
        let plan = planner.plan(&request)?;
        writeln!(out, "$ plan {prompt:?} with the built-in playbooks (in process; nothing runs)")?;
        write!(out, "{}", output::plan(&plan))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn playbooks(command: PlaybooksCommand) -> Result<ExitCode> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    match command {
        PlaybooksCommand::Lint { dir } => {
            let library = Library::load(&dir)
                .with_context(|| format!("cannot read the library in {}", dir.display()))?;
            for problem in library.problems() {
                writeln!(out, "{}", output::clean(&problem.to_string()))?;
            }
            let bad: std::collections::BTreeSet<&str> =
                library.problems().iter().map(|p| p.file.as_str()).collect();
            let origin = match library.origin() {
                Origin::Directory { commit: Some(commit), dirty, .. } => {
                    format!(
                        " at commit {commit}{}",
                        if *dirty { " (with uncommitted changes)" } else { "" }
                    )
                }
                _ => String::new(),
            };
            writeln!(
                out,
                "{} playbooks valid, {} files with problems{origin}",
                library.len(),
                bad.len()
            )?;
            out.flush()?;
            Ok(if bad.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
        }
        PlaybooksCommand::List { dir } => {
            let library = match dir {
                Some(dir) => Library::load(&dir)
                    .with_context(|| format!("cannot read the library in {}", dir.display()))?,
                None => Library::builtin(),
            };
            for loaded in library.playbooks() {
                let playbook = &loaded.playbook;
                writeln!(
                    out,
                    "{:<44} {:<8} {}",
                    playbook.id,
                    playbook.version,
                    output::clean(&playbook.title)
                )?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        PlaybooksCommand::Schema => {
            serde_json::to_writer_pretty(&mut out, &cloudops_playbooks::json_schema())?;
            writeln!(out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
