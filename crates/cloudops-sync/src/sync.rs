//! The sync: accounts × regions × services read in parallel and written into the local index.
//!
//! Each *scope* (one account, one region, one service; S3 once per account) is read by its
//! own task, at most [`SyncOptions::scopes_in_flight`] at a time, and written into the index
//! as soon as it is read, while the others keep reading. A scope that fails does not stop the
//! others: the report lists its error, and its resources stay in the index untouched — stale,
//! with their old `last_seen` — until a later sync of that scope succeeds.
//!
//! A scope with a successful full sync on record is synced incrementally: on AWS, CloudTrail
//! LookupEvents since the last sync says which resources to re-read; when it cannot (no
//! CloudTrail, too many events, an error) the scope is listed again. Either way only changed
//! resources are rewritten and only changed texts re-embedded, because the index compares
//! content hashes. Removals happen only where the read was complete (a listing) or where a
//! targeted read found the resource gone.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use cloudops_core::time::now_rfc3339;
use cloudops_core::{AccountConfig, DataDir, Estate, Resource, ResourceType, Service, SyncSection};
use serde::Serialize;

use crate::cloudtrail::{self, ServiceChanges};
use crate::collect::ec2::Ec2Options;
use crate::collect::s3::S3Options;
use crate::collect::{self, Scope};
use crate::connect::{ConnectConfig, connect};
use crate::error::{Error, Result};
use crate::permissions::{AccountAccess, account_access};
use crate::state::{GLOBAL_REGION, ScopeKey, ScopeState, SyncState};

/// The account synced when `config.toml` lists none: the default credentials' account.
pub const DEFAULT_ACCOUNT: &str = "default";

/// What to sync and how.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Read every scope completely, even those with a full sync on record.
    pub full: bool,
    /// Only these accounts (by configured name); empty: all.
    pub accounts: Vec<String>,
    /// Only these services; empty: all.
    pub services: Vec<Service>,
    /// Endpoint, retries and timeouts.
    pub connect: ConnectConfig,
    /// Access keys per account name (from the keychain); accounts without one use their
    /// profile or the standard credential chain.
    pub credentials: BTreeMap<String, Credentials>,
    /// How to reach S3.
    pub s3: S3Options,
    /// What to read for EC2.
    pub ec2: Ec2Options,
    /// Scopes read at the same time.
    pub scopes_in_flight: usize,
    /// Narrow incremental syncs with CloudTrail LookupEvents.
    pub cloudtrail: bool,
    /// Send CloudTrail calls here instead of the common endpoint.
    pub cloudtrail_endpoint: Option<String>,
    /// The IAM actions the playbook library's operations need, per resource type: what the
    /// sync judges for each resource it reads ([`crate::permissions::AccountAccess`]) and
    /// records in its `permissions` fields. Empty: permissions are not read.
    pub needed_actions: Arc<BTreeMap<ResourceType, Vec<String>>>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            full: false,
            accounts: Vec::new(),
            services: Vec::new(),
            connect: ConnectConfig::default(),
            credentials: BTreeMap::new(),
            s3: S3Options::default(),
            ec2: Ec2Options::default(),
            scopes_in_flight: 8,
            cloudtrail: true,
            cloudtrail_endpoint: None,
            needed_actions: Arc::default(),
        }
    }
}

impl SyncOptions {
    /// Options from the `[sync]` section of `config.toml`. S3 path-style addressing is on
    /// when an endpoint is set there or in `AWS_ENDPOINT_URL`, unless the file says otherwise.
    pub fn from_config(section: &SyncSection) -> Self {
        let endpoint_in_env = std::env::var_os("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty());
        let defaults = SyncOptions::default();
        SyncOptions {
            connect: ConnectConfig {
                endpoint_url: section.endpoint_url.clone(),
                max_attempts: section.max_attempts.max(1),
                ..defaults.connect
            },
            s3: S3Options {
                force_path_style: section
                    .s3_force_path_style
                    .unwrap_or(section.endpoint_url.is_some() || endpoint_in_env),
            },
            ec2: Ec2Options {
                termination_protection: section.ec2_termination_protection,
                ..defaults.ec2
            },
            scopes_in_flight: section.scopes_in_flight.max(1),
            cloudtrail: section.cloudtrail,
            ..defaults
        }
    }
}

/// Whether a scope was read completely or only for its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// Every resource read; resources no longer there removed.
    Full,
    /// Only what changed since the last sync applied.
    Incremental,
}

/// How a scope's resources were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ReadMethod {
    /// Listed completely.
    Listing,
    /// Only the resources CloudTrail named were re-read.
    Cloudtrail,
}

impl ReadMethod {
    /// `listing` or `cloudtrail`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadMethod::Listing => "listing",
            ReadMethod::Cloudtrail => "cloudtrail",
        }
    }
}

/// What a sync did to the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Counts {
    /// Resources read from AWS.
    pub read: usize,
    /// Resources new to the index.
    pub added: usize,
    /// Resources rewritten because their content changed.
    pub changed: usize,
    /// Resources read but identical to the index (not rewritten).
    pub unchanged: usize,
    /// Resources removed because they are gone.
    pub removed: usize,
    /// Distinct texts embedded.
    pub embedded: usize,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.read += other.read;
        self.added += other.added;
        self.changed += other.changed;
        self.unchanged += other.unchanged;
        self.removed += other.removed;
        self.embedded += other.embedded;
    }
}

/// The outcome of one scope.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScopeReport {
    /// Account, region, service.
    pub scope: ScopeKey,
    /// The account id, when the account was reached.
    pub account_id: Option<String>,
    /// Full or incremental.
    pub mode: SyncMode,
    /// How it was read, when it was.
    pub method: Option<ReadMethod>,
    /// Why an incremental sync listed instead of using CloudTrail.
    pub fallback: Option<String>,
    /// What changed in the index.
    pub counts: Counts,
    /// Resources of this scope in the index afterwards.
    pub resources: usize,
    /// Milliseconds spent waiting for AWS.
    pub api_ms: u64,
    /// Milliseconds spent writing the index (embedding included).
    pub index_ms: u64,
    /// Why it failed; its previous data stays (stale).
    pub error: Option<String>,
    /// For a failed scope: when it last synced successfully, if ever.
    pub stale_since: Option<String>,
}

/// The outcome of a whole sync.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncReport {
    /// When it started (RFC 3339, UTC).
    pub started: String,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Every scope, ordered by account, region and service.
    pub scopes: Vec<ScopeReport>,
    /// The sum over successful scopes.
    pub totals: Counts,
    /// Resources in the index afterwards, per type.
    pub by_type: BTreeMap<String, usize>,
}

impl SyncReport {
    /// Scopes that synced.
    pub fn succeeded(&self) -> usize {
        self.scopes.iter().filter(|scope| scope.error.is_none()).count()
    }

    /// Scopes that failed.
    pub fn failed(&self) -> usize {
        self.scopes.len() - self.succeeded()
    }

    /// Milliseconds all scopes together waited for AWS (they overlap in wall time).
    pub fn api_ms(&self) -> u64 {
        self.scopes.iter().map(|scope| scope.api_ms).sum()
    }

    /// Milliseconds spent writing the index.
    pub fn index_ms(&self) -> u64 {
        self.scopes.iter().map(|scope| scope.index_ms).sum()
    }
}

/// Progress of a sync, for progress bars; serialized with its kind in `event`
/// (`{"event": "read", "scope": {…}, "resources": 12}`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// The scopes this sync will read (after the accounts were reached or failed).
    Planned {
        /// Them, in order.
        scopes: Vec<ScopeKey>,
    },
    /// A scope's read began.
    Started {
        /// The scope.
        scope: ScopeKey,
    },
    /// A scope was read and is being written into the index.
    Read {
        /// The scope.
        scope: ScopeKey,
        /// Resources read.
        resources: usize,
    },
    /// A scope is done, successfully or not.
    Finished {
        /// How it went.
        report: ScopeReport,
    },
    /// Something the operator should know that is not a scope's, e.g. a keychain entry that
    /// could not be read (the account then uses its profile or the standard chain). Never a
    /// secret.
    Note {
        /// What, in words.
        message: String,
    },
}

/// What an operator asks of a sync of a data directory, beyond its `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRequest {
    /// Read every scope completely, even those with a full sync on record.
    pub full: bool,
    /// Only these accounts (by configured name); empty: all.
    pub accounts: Vec<String>,
    /// Only these services; empty: all.
    pub services: Vec<Service>,
    /// The IAM actions the playbook library's operations need, per resource type (see
    /// [`SyncOptions::needed_actions`]); empty: permissions are not read.
    pub needed_actions: BTreeMap<ResourceType, Vec<String>>,
}

/// Syncs a data directory: its `config.toml`'s accounts (or the standard credentials'
/// account in the default region), each with the access key the keychain holds for it, into
/// `estate`, recording each scope in `state`. The one entry point of the CLI's `estate sync`
/// and the desktop's "Sync now"; keychain problems arrive as [`SyncEvent::Note`]s.
pub async fn sync_home(
    data: &DataDir,
    estate: Arc<Estate>,
    state: &SyncState,
    request: &SyncRequest,
    events: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Result<SyncReport> {
    let config = data.load_config()?;
    let mut options = SyncOptions::from_config(&config.sync);
    options.full = request.full;
    options.accounts = request.accounts.clone();
    options.services = request.services.clone();
    options.needed_actions = Arc::new(request.needed_actions.clone());
    let region = default_region().await;
    let accounts = accounts_to_sync(&config.accounts, &options, region.as_deref())?;
    // The keychain may block (a D-Bus round trip, an unlock prompt): off the async threads.
    let keyed = accounts.clone();
    let (credentials, notes) =
        tokio::task::spawn_blocking(move || crate::credentials::stored_credentials(&keyed))
            .await
            .map_err(|error| Error::Keychain(format!("the keychain read stopped: {error}")))?;
    for note in notes {
        events(SyncEvent::Note { message: note });
    }
    options.credentials = credentials;
    sync(estate, state, &accounts, &options, events).await
}

/// The accounts a sync covers: the configured ones (filtered by `options.accounts`) with
/// their regions, or the default credentials' account in the default region when none is
/// configured. `default_region` is used for accounts without regions.
pub fn accounts_to_sync(
    configured: &[AccountConfig],
    options: &SyncOptions,
    default_region: Option<&str>,
) -> Result<Vec<AccountConfig>> {
    let mut accounts: Vec<AccountConfig> = if configured.is_empty() {
        vec![AccountConfig { name: DEFAULT_ACCOUNT.to_owned(), ..Default::default() }]
    } else {
        configured.to_vec()
    };
    for wanted in &options.accounts {
        if !accounts.iter().any(|account| &account.name == wanted) {
            let known: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
            return Err(Error::Config(format!(
                "no account named {wanted:?}; configured: {}",
                known.join(", ")
            )));
        }
    }
    if !options.accounts.is_empty() {
        accounts.retain(|account| options.accounts.contains(&account.name));
    }
    let mut names = HashSet::new();
    for account in &mut accounts {
        if !names.insert(account.name.clone()) {
            return Err(Error::Config(format!("account {:?} is configured twice", account.name)));
        }
        if account.role_arn.is_some() && account.profile.is_some() {
            return Err(Error::Config(format!(
                "account {:?} sets both role_arn and profile; put the role in the profile or drop one",
                account.name
            )));
        }
        if account.regions.is_empty() {
            match default_region {
                Some(region) => account.regions = vec![region.to_owned()],
                None => {
                    return Err(Error::Config(format!(
                        "account {:?} has no regions and no default region is set \
                         (set AWS_REGION, a region in the AWS profile, or `regions` in config.toml)",
                        account.name
                    )));
                }
            }
        }
        for region in &account.regions {
            if !is_region(region) {
                return Err(Error::Config(format!(
                    "account {:?}: {region:?} is not an AWS region code",
                    account.name
                )));
            }
        }
        let mut seen = HashSet::new();
        account.regions.retain(|region| seen.insert(region.clone()));
    }
    Ok(accounts)
}

/// The region of the standard chain (`AWS_REGION`, the profile's region), if any.
pub async fn default_region() -> Option<String> {
    crate::connect::config_loader().load().await.region().map(|region| region.as_ref().to_owned())
}

fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts.last().is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()))
}

/// Syncs `accounts` (from [`accounts_to_sync`]) into `estate`, recording each scope in
/// `state`. Failing scopes are reported, not returned as errors; an error means the index or
/// the state could not be written.
pub async fn sync(
    estate: Arc<Estate>,
    state: &SyncState,
    accounts: &[AccountConfig],
    options: &SyncOptions,
    events: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Result<SyncReport> {
    let clock = Instant::now();
    let started = now_rfc3339();
    let started_unix =
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let services: Vec<Service> = if options.services.is_empty() {
        Service::ALL.to_vec()
    } else {
        Service::ALL.into_iter().filter(|s| options.services.contains(s)).collect()
    };

    // What the index holds per scope, to find what is gone after a complete read.
    let mut existing = {
        let estate = Arc::clone(&estate);
        tokio::task::spawn_blocking(move || existing_by_scope(&estate))
            .await
            .map_err(|error| Error::State(format!("reading the index failed: {error}")))??
    };

    // Reach every account (credentials, role, account id) concurrently.
    let mut reaching = tokio::task::JoinSet::new();
    for account in accounts.iter().cloned() {
        let credentials = options.credentials.get(&account.name).cloned();
        let connect = options.connect.clone();
        let judge_access = !options.needed_actions.is_empty();
        reaching.spawn(async move {
            let reached = reach(&account, credentials, &connect, judge_access).await;
            (account, reached)
        });
    }
    let mut jobs = Vec::new();
    let mut reports = Vec::new();
    while let Some(joined) = reaching.join_next().await {
        let (account, reached) = joined.map_err(join_error)?;
        let keys = scope_keys(&account, &services);
        match reached {
            Ok(reached) => {
                for key in keys {
                    let previous = state.get(&key)?;
                    let mode = if options.full || !previous.has_full_sync() {
                        SyncMode::Full
                    } else {
                        SyncMode::Incremental
                    };
                    let region = if key.service.is_global() {
                        account.regions[0].clone()
                    } else {
                        key.region.clone()
                    };
                    let Some(sdk_config) = reached.configs.get(&region).cloned() else {
                        continue;
                    };
                    let since = match mode {
                        SyncMode::Incremental => previous
                            .last_success_unix
                            .map(|secs| UNIX_EPOCH + Duration::from_secs(secs)),
                        SyncMode::Full => None,
                    };
                    jobs.push(Job {
                        scope: Scope {
                            account_id: reached.account_id.clone(),
                            account_name: account.name.clone(),
                            region,
                            last_seen: started.clone(),
                        },
                        key,
                        sdk_config,
                        mode,
                        since,
                        previous,
                        trail: None,
                        access: reached.access.clone(),
                    });
                }
            }
            Err(error) => {
                // The whole account failed: every scope keeps its data, stale.
                for key in keys {
                    let previous = state.get(&key)?;
                    let report = failed_report(key, None, SyncMode::Full, &previous, &error, 0);
                    record_failure(state, &report, previous, &started)?;
                    reports.push(report);
                }
            }
        }
    }
    share_trails(&mut jobs);
    let mut planned: Vec<ScopeKey> = jobs.iter().map(|job| job.key.clone()).collect();
    planned.extend(reports.iter().map(|report| report.scope.clone()));
    planned.sort();
    events(SyncEvent::Planned { scopes: planned });
    for report in &reports {
        events(SyncEvent::Finished { report: report.clone() });
    }

    // Read scopes in parallel; write each into the index as soon as it is read.
    let options = Arc::new(options.clone());
    let known_protection = Arc::new(std::mem::take(&mut existing.termination_protection));
    let permits = Arc::new(tokio::sync::Semaphore::new(options.scopes_in_flight.max(1)));
    let mut reading = tokio::task::JoinSet::new();
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel::<ScopeKey>();
    for job in jobs {
        let options = Arc::clone(&options);
        let permits = Arc::clone(&permits);
        let started_tx = started_tx.clone();
        let known_protection = Arc::clone(&known_protection);
        reading.spawn(async move {
            let _permit = permits.acquire_owned().await;
            // The receiver lives as long as the sync; a send fails only after it returned.
            let _ = started_tx.send(job.key.clone());
            let clock = Instant::now();
            let mut read = read_scope(&job, &options, &known_protection).await;
            if let (Ok(read), Some(access)) = (&mut read, &job.access) {
                access.record(&mut read.resources, &options.needed_actions).await;
            }
            (job, read, clock.elapsed())
        });
    }
    drop(started_tx);
    loop {
        tokio::select! {
            Some(scope) = started_rx.recv() => events(SyncEvent::Started { scope }),
            joined = reading.join_next() => {
                let Some(joined) = joined else { break };
                let (job, read, api_time) = joined.map_err(join_error)?;
                let report = match read {
                    Ok(read) => {
                        events(SyncEvent::Read {
                            scope: job.key.clone(),
                            resources: read.resources.len(),
                        });
                        let in_index = existing
                            .by_scope
                            .get(&(job.scope.account_id.clone(), job.key.region.clone(), job.key.service))
                            .cloned()
                            .unwrap_or_default();
                        let report =
                            write_scope(Arc::clone(&estate), &job, read, in_index, api_time).await?;
                        record_success(state, &report, job.previous.clone(), &started, started_unix)?;
                        report
                    }
                    Err(error) => {
                        let report = failed_report(
                            job.key.clone(),
                            Some(job.scope.account_id.clone()),
                            job.mode,
                            &job.previous,
                            &error,
                            millis(api_time),
                        );
                        record_failure(state, &report, job.previous.clone(), &started)?;
                        report
                    }
                };
                events(SyncEvent::Finished { report: report.clone() });
                reports.push(report);
            }
        }
    }

    reports.sort_by(|a, b| a.scope.cmp(&b.scope));
    let mut totals = Counts::default();
    for report in reports.iter().filter(|report| report.error.is_none()) {
        totals.add(&report.counts);
    }
    let by_type = {
        let estate = Arc::clone(&estate);
        tokio::task::spawn_blocking(move || estate.stats()).await.map_err(join_error)??.by_type
    };
    Ok(SyncReport {
        started,
        duration_ms: millis(clock.elapsed()),
        scopes: reports,
        totals,
        by_type,
    })
}

/// Gives the incremental regional scopes of each account and region one shared CloudTrail
/// lookup for all their services.
fn share_trails(jobs: &mut [Job]) {
    let mut groups: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (index, job) in jobs.iter().enumerate() {
        if job.since.is_some() && !job.key.service.is_global() {
            groups
                .entry((job.key.account.clone(), job.key.region.clone()))
                .or_default()
                .push(index);
        }
    }
    for members in groups.into_values() {
        let trail = Arc::new(Trail {
            services: members.iter().map(|&index| jobs[index].key.service).collect(),
            cell: tokio::sync::OnceCell::new(),
        });
        for index in members {
            jobs[index].trail = Some(Arc::clone(&trail));
        }
    }
}

/// Writes a scope's read into the index (off the async threads: embedding is CPU work).
async fn write_scope(
    estate: Arc<Estate>,
    job: &Job,
    read: Read,
    in_index: HashSet<String>,
    api_time: Duration,
) -> Result<ScopeReport> {
    let clock = Instant::now();
    let method = read.method;
    let fallback = read.fallback.clone();
    let (counts, resources) = tokio::task::spawn_blocking(move || apply(&estate, &in_index, &read))
        .await
        .map_err(join_error)??;
    Ok(ScopeReport {
        scope: job.key.clone(),
        account_id: Some(job.scope.account_id.clone()),
        mode: job.mode,
        method: Some(method),
        fallback,
        counts,
        resources,
        api_ms: millis(api_time),
        index_ms: millis(clock.elapsed()),
        error: None,
        stale_since: None,
    })
}

/// One scope to read.
struct Job {
    key: ScopeKey,
    scope: Scope,
    sdk_config: SdkConfig,
    mode: SyncMode,
    since: Option<SystemTime>,
    previous: ScopeState,
    /// The CloudTrail lookup shared by the incremental scopes of one account and region.
    trail: Option<Arc<Trail>>,
    /// What the account's credentials may do, when permissions are read.
    access: Option<Arc<AccountAccess>>,
}

/// What CloudTrail says changed in one account and region, looked up once on first need.
struct Trail {
    services: Vec<Service>,
    cell: tokio::sync::OnceCell<cloudtrail::Changes>,
}

/// What reading a scope produced.
#[derive(Debug)]
struct Read {
    resources: Vec<Resource>,
    /// ARNs found gone by a targeted read.
    missing: Vec<String>,
    /// Whether `resources` is the whole scope (so anything else in the index is gone).
    complete: bool,
    method: ReadMethod,
    fallback: Option<String>,
}

/// An account reached: its id, an SDK configuration per region, and what its credentials
/// may do (when asked).
struct Reached {
    account_id: String,
    configs: HashMap<String, SdkConfig>,
    access: Option<Arc<AccountAccess>>,
}

async fn reach(
    account: &AccountConfig,
    credentials: Option<Credentials>,
    config: &ConnectConfig,
    judge_access: bool,
) -> Result<Reached> {
    let connection = connect(account, &account.regions[0], credentials, config).await?;
    // Other regions share the credentials provider, so a role is assumed once.
    let configs = account
        .regions
        .iter()
        .map(|region| {
            let regional = connection.sdk_config.to_builder().region(Region::new(region.clone()));
            (region.clone(), regional.build())
        })
        .collect();
    let access = if judge_access {
        Some(Arc::new(account_access(&connection.sdk_config).await))
    } else {
        None
    };
    Ok(Reached { account_id: connection.scope.account_id, configs, access })
}

/// The scopes of `account` for `services`: each region's, and one global scope per global
/// service.
pub(crate) fn scope_keys(account: &AccountConfig, services: &[Service]) -> Vec<ScopeKey> {
    let mut keys = Vec::new();
    for service in services {
        if service.is_global() {
            keys.push(ScopeKey::new(&account.name, GLOBAL_REGION, *service));
        } else {
            for region in &account.regions {
                keys.push(ScopeKey::new(&account.name, region, *service));
            }
        }
    }
    keys
}

async fn read_scope(
    job: &Job,
    options: &SyncOptions,
    known_protection: &HashMap<String, bool>,
) -> Result<Read> {
    let mut fallback = None;
    if let (SyncMode::Incremental, Some(since)) = (job.mode, job.since) {
        if !options.cloudtrail {
            fallback = Some("CloudTrail is turned off".to_owned());
        } else if job.key.service.is_global() {
            fallback = Some(
                "S3 bucket events are recorded in each bucket's region; listing instead".to_owned(),
            );
        } else if let Some(trail) = &job.trail {
            // One lookup per account and region serves its regional scopes (LookupEvents
            // allows 2 calls per second there).
            let changes = trail
                .cell
                .get_or_init(|| async {
                    // Narrowing is an optimisation with a listing to fall back on: a failing
                    // lookup must not spend minutes in the backoff meant for listings.
                    let config = job
                        .sdk_config
                        .to_builder()
                        .retry_config(RetryConfig::standard().with_max_attempts(2))
                        .build();
                    let client = cloudtrail::cloudtrail_client(
                        &config,
                        options.cloudtrail_endpoint.as_deref(),
                    );
                    let config = cloudtrail::ChangesConfig::default();
                    cloudtrail::changes_since(&client, since, &trail.services, &config).await
                })
                .await;
            match changes.get(job.key.service) {
                Some(ServiceChanges::Targeted { ids }) => {
                    return read_targeted(job, options, ids).await;
                }
                Some(ServiceChanges::Relist { reason }) => fallback = Some(reason.clone()),
                None => fallback = Some("CloudTrail gave no answer for the service".to_owned()),
            }
        }
    }
    let resources = list(job, options, known_protection).await?;
    Ok(Read {
        resources,
        missing: Vec::new(),
        complete: true,
        method: ReadMethod::Listing,
        fallback,
    })
}

async fn list(
    job: &Job,
    options: &SyncOptions,
    known_protection: &HashMap<String, bool>,
) -> Result<Vec<Resource>> {
    let config = &job.sdk_config;
    let scope = &job.scope;
    match job.key.service {
        Service::Ec2 => {
            let client = aws_sdk_ec2::Client::new(config);
            match job.mode {
                SyncMode::Full => collect::ec2::collect(&client, scope, options.ec2).await,
                SyncMode::Incremental => {
                    collect::ec2::collect_with_known(&client, scope, options.ec2, known_protection)
                        .await
                }
            }
        }
        Service::Rds => collect::rds::collect(&aws_sdk_rds::Client::new(config), scope).await,
        Service::S3 => collect::s3::collect(config, scope, options.s3).await,
        Service::Lambda => {
            collect::lambda::collect(&aws_sdk_lambda::Client::new(config), scope).await
        }
        Service::Elbv2 => {
            let client = aws_sdk_elasticloadbalancingv2::Client::new(config);
            collect::elbv2::collect(&client, scope).await
        }
    }
}

async fn read_targeted(job: &Job, options: &SyncOptions, ids: &BTreeSet<String>) -> Result<Read> {
    let targeted = read_ids(job.key.service, &job.sdk_config, &job.scope, options, ids).await?;
    Ok(Read {
        resources: targeted.found,
        missing: targeted.missing_arns,
        complete: false,
        method: ReadMethod::Cloudtrail,
        fallback: None,
    })
}

/// Re-reads the resources `ids` of `service` in one scope.
async fn read_ids(
    service: Service,
    config: &SdkConfig,
    scope: &Scope,
    options: &SyncOptions,
    ids: &BTreeSet<String>,
) -> Result<collect::Targeted> {
    match service {
        Service::Ec2 => {
            let client = aws_sdk_ec2::Client::new(config);
            collect::ec2::collect_ids(&client, scope, options.ec2, ids).await
        }
        Service::Rds => {
            collect::rds::collect_ids(&aws_sdk_rds::Client::new(config), scope, ids).await
        }
        Service::S3 => collect::s3::collect_ids(config, scope, options.s3, ids).await,
        Service::Lambda => {
            collect::lambda::collect_ids(&aws_sdk_lambda::Client::new(config), scope, ids).await
        }
        Service::Elbv2 => {
            let client = aws_sdk_elasticloadbalancingv2::Client::new(config);
            collect::elbv2::collect_ids(&client, scope, ids).await
        }
    }
}

/// What [`refresh`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefreshReport {
    /// Resources read again and written (changed or not).
    pub refreshed: usize,
    /// Resources that no longer exist, removed from the index.
    pub removed: usize,
    /// Scopes that could not be read, with why; their resources keep the old facts.
    pub failures: Vec<String>,
}

/// Re-reads `resources` from AWS (a targeted describe per account, region and service) and
/// writes what changed into `estate`: how the index learns what an execution did.
pub async fn refresh(
    estate: Arc<Estate>,
    resources: &[Resource],
    configured: &[AccountConfig],
    options: &SyncOptions,
) -> Result<RefreshReport> {
    let mut groups: BTreeMap<(String, String, Service), BTreeSet<String>> = BTreeMap::new();
    for resource in resources {
        let Some(service) = Service::for_resource_type(&resource.resource_type) else { continue };
        let id = if service == Service::Elbv2 { resource.arn.clone() } else { resource.id.clone() };
        let account = if configured.is_empty() {
            DEFAULT_ACCOUNT.to_owned()
        } else {
            resource.account_name.clone()
        };
        groups.entry((account, resource.region.clone(), service)).or_default().insert(id);
    }
    let mut report = RefreshReport::default();
    for ((account_name, region, service), ids) in groups {
        let account = match configured.iter().find(|a| a.name == account_name) {
            Some(account) => account.clone(),
            None if configured.is_empty() => {
                AccountConfig { name: DEFAULT_ACCOUNT.to_owned(), ..Default::default() }
            }
            None => {
                report.failures.push(format!("account {account_name:?} is not configured"));
                continue;
            }
        };
        let credentials = options.credentials.get(&account.name).cloned();
        let read = async {
            let connection = connect(&account, &region, credentials, &options.connect).await?;
            read_ids(service, &connection.sdk_config, &connection.scope, options, &ids).await
        };
        match read.await {
            Ok(mut targeted) => {
                // What the last sync judged of the permissions stays until the next one.
                for fresh in &mut targeted.found {
                    if let Some(known) = resources.iter().find(|r| r.arn == fresh.arn) {
                        fresh.permissions.clone_from(&known.permissions);
                        fresh.permissions_denied.clone_from(&known.permissions_denied);
                        fresh.permissions_unknown.clone_from(&known.permissions_unknown);
                    }
                }
                let estate = Arc::clone(&estate);
                let (refreshed, removed) = tokio::task::spawn_blocking(move || {
                    estate.upsert(&targeted.found)?;
                    let removed = if targeted.missing_arns.is_empty() {
                        0
                    } else {
                        estate.remove(&targeted.missing_arns)?
                    };
                    Ok::<_, Error>((targeted.found.len(), removed))
                })
                .await
                .map_err(join_error)??;
                report.refreshed += refreshed;
                report.removed += removed;
            }
            Err(error) => report
                .failures
                .push(format!("{account_name} {region} {}: {error}", service.as_str())),
        }
    }
    Ok(report)
}

type ScopeIndex = HashMap<(String, String, Service), HashSet<String>>;

/// What the index holds before the sync: ARNs per (account id, region or `global`, service),
/// and EC2 termination protection per instance ARN where known.
#[derive(Default)]
struct Existing {
    by_scope: ScopeIndex,
    termination_protection: HashMap<String, bool>,
}

fn existing_by_scope(estate: &Estate) -> Result<Existing> {
    let mut existing = Existing::default();
    estate.for_each(|resource| {
        if let Some(service) = Service::for_resource_type(&resource.resource_type) {
            if service == Service::Ec2 {
                let flag = resource.constraints.other.get("termination_protection");
                if let Some(protected) = flag.and_then(serde_json::Value::as_bool) {
                    existing.termination_protection.insert(resource.arn.clone(), protected);
                }
            }
            let region = if service.is_global() {
                GLOBAL_REGION.to_owned()
            } else {
                resource.region.clone()
            };
            existing
                .by_scope
                .entry((resource.account_id.clone(), region, service))
                .or_default()
                .insert(resource.arn);
        }
        Ok(())
    })?;
    Ok(existing)
}

/// Writes one scope's read into the index; returns the counts and the scope's size after.
fn apply(estate: &Estate, in_index: &HashSet<String>, read: &Read) -> Result<(Counts, usize)> {
    let upserted = estate.upsert(&read.resources)?;
    let gone: Vec<String> = if read.complete {
        let seen: HashSet<&str> = read.resources.iter().map(|r| r.arn.as_str()).collect();
        in_index.iter().filter(|arn| !seen.contains(arn.as_str())).cloned().collect()
    } else {
        read.missing.clone()
    };
    let removed = if gone.is_empty() { 0 } else { estate.remove(&gone)? };
    let counts = Counts {
        read: read.resources.len(),
        added: upserted.added,
        changed: upserted.changed,
        unchanged: upserted.unchanged,
        removed,
        embedded: upserted.embedded,
    };
    let resources = if read.complete {
        read.resources.iter().map(|r| r.arn.as_str()).collect::<HashSet<_>>().len()
    } else {
        (in_index.len() + upserted.added).saturating_sub(removed)
    };
    Ok((counts, resources))
}

fn failed_report(
    scope: ScopeKey,
    account_id: Option<String>,
    mode: SyncMode,
    previous: &ScopeState,
    error: &Error,
    api_ms: u64,
) -> ScopeReport {
    ScopeReport {
        scope,
        account_id: account_id.or_else(|| previous.account_id.clone()),
        mode,
        method: None,
        fallback: None,
        counts: Counts::default(),
        resources: previous.resources,
        api_ms,
        index_ms: 0,
        error: Some(error.to_string()),
        stale_since: previous.last_success().map(str::to_owned),
    }
}

fn record_failure(
    state: &SyncState,
    report: &ScopeReport,
    previous: ScopeState,
    started: &str,
) -> Result<()> {
    let record = ScopeState {
        account_id: report.account_id.clone(),
        last_attempt: Some(started.to_owned()),
        duration_ms: report.api_ms,
        last_error: report.error.clone(),
        ..previous
    };
    state.put(&report.scope, &record)
}

fn record_success(
    state: &SyncState,
    report: &ScopeReport,
    previous: ScopeState,
    started: &str,
    started_unix: u64,
) -> Result<()> {
    let mut record = ScopeState {
        account_id: report.account_id.clone(),
        last_success_unix: Some(started_unix),
        last_attempt: Some(started.to_owned()),
        resources: report.resources,
        added: report.counts.added,
        changed: report.counts.changed,
        removed: report.counts.removed,
        embedded: report.counts.embedded,
        duration_ms: report.api_ms + report.index_ms,
        method: report.method.map(|method| method.as_str().to_owned()),
        last_error: None,
        ..previous
    };
    match report.mode {
        SyncMode::Full => record.last_full = Some(started.to_owned()),
        SyncMode::Incremental => record.last_incremental = Some(started.to_owned()),
    }
    state.put(&report.scope, &record)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn join_error(error: tokio::task::JoinError) -> Error {
    if error.is_panic() {
        std::panic::resume_unwind(error.into_panic());
    }
    Error::State(format!("a sync task was cancelled: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, regions: &[&str]) -> AccountConfig {
        AccountConfig {
            name: name.into(),
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn no_configured_account_means_the_default_one() {
        let accounts =
            accounts_to_sync(&[], &SyncOptions::default(), Some("eu-west-1")).expect("accounts");
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].name, DEFAULT_ACCOUNT);
        assert_eq!(accounts[0].regions, ["eu-west-1"]);
        let error = accounts_to_sync(&[], &SyncOptions::default(), None).expect_err("no region");
        assert!(error.to_string().contains("AWS_REGION"), "{error}");
    }

    #[test]
    fn accounts_are_filtered_and_checked() {
        let configured = [account("production", &["us-west-2", "us-west-2"]), account("dev", &[])];
        let options = SyncOptions { accounts: vec!["production".into()], ..Default::default() };
        let accounts = accounts_to_sync(&configured, &options, None).expect("accounts");
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].regions, ["us-west-2"], "duplicates dropped");

        let options = SyncOptions { accounts: vec!["prod".into()], ..Default::default() };
        let error = accounts_to_sync(&configured, &options, None).expect_err("unknown");
        assert!(error.to_string().contains("production, dev"), "{error}");

        let bad = [account("x", &["us-west-2; rm -rf /"])];
        assert!(accounts_to_sync(&bad, &SyncOptions::default(), None).is_err());
        let twice = [account("x", &["us-east-1"]), account("x", &["us-east-1"])];
        assert!(accounts_to_sync(&twice, &SyncOptions::default(), None).is_err());
    }

    #[test]
    fn s3_is_one_scope_per_account() {
        let keys = scope_keys(&account("p", &["us-east-1", "eu-west-1"]), &Service::ALL);
        assert_eq!(keys.len(), 9);
        assert_eq!(keys.iter().filter(|k| k.service == Service::S3).count(), 1);
        assert!(keys.iter().any(|k| k.service == Service::S3 && k.region == GLOBAL_REGION));
    }

    #[test]
    fn region_codes() {
        for ok in ["us-east-1", "eu-west-1", "us-gov-west-1", "ap-southeast-4"] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in ["", "us", "us-east", "US-EAST-1", "us-east-1 ", "us--1"] {
            assert!(!is_region(bad), "{bad}");
        }
    }
}
