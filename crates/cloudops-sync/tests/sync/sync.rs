//! The whole sync against moto: full then incremental, and the failures AWS has that moto
//! does not (throttling, a failing service, a role that cannot be assumed, an interrupted
//! sync), injected by `aws_proxy.py` in front of moto.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_config::SdkConfig;
use cloudops_core::{AccountConfig, Estate, EstateConfig, LookupRequest, Resource, Service};
use cloudops_sync::{
    ConnectConfig, ReadMethod, ScopeKey, SyncMode, SyncOptions, SyncReport, SyncState, sdk_config,
};
use tempfile::TempDir;

use crate::collect::run_instances;
use crate::incremental::{create_postgres, lambda_role};
use crate::moto::{ACCOUNT, EMPTY_ZIP, Moto, credentials};

const REGION: &str = "us-east-1";

/// An estate and sync state in a temporary directory.
struct Local {
    // Fields drop in order: the index must close before its directory goes.
    estate: Arc<Estate>,
    state: SyncState,
    _directory: TempDir,
}

impl Local {
    fn new() -> Local {
        let directory = tempfile::tempdir().expect("tempdir");
        let config = EstateConfig::default();
        let estate =
            Arc::new(Estate::open(directory.path().join("estate"), config).expect("estate"));
        let state = SyncState::open(directory.path().join("sync-state")).expect("state");
        Local { _directory: directory, estate, state }
    }

    async fn sync(&self, accounts: &[AccountConfig], options: &SyncOptions) -> SyncReport {
        cloudops_sync::sync(Arc::clone(&self.estate), &self.state, accounts, options, &|_| {})
            .await
            .expect("sync writes the index")
    }

    fn all(&self) -> Vec<Resource> {
        let mut all = Vec::new();
        self.estate
            .for_each(|r| {
                all.push(r);
                Ok(())
            })
            .expect("for_each");
        all.sort_by(|a, b| a.arn.cmp(&b.arn));
        all
    }

    fn named(&self, name: &str) -> Option<Resource> {
        self.all().into_iter().find(|r| r.name == name)
    }
}

fn account(name: &str) -> AccountConfig {
    AccountConfig { name: name.into(), regions: vec![REGION.into()], ..Default::default() }
}

fn options(endpoint: &str) -> SyncOptions {
    SyncOptions {
        connect: ConnectConfig {
            endpoint_url: Some(endpoint.to_owned()),
            max_attempts: 2,
            ..ConnectConfig::default()
        },
        credentials: [
            ("production".to_owned(), credentials()),
            ("staging".to_owned(), credentials()),
        ]
        .into(),
        s3: cloudops_sync::collect::s3::S3Options { force_path_style: true },
        ..SyncOptions::default()
    }
}

async fn base_config(moto: &Moto) -> SdkConfig {
    sdk_config(REGION, None, Some(credentials()), &moto.connect_config()).await
}

fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config).force_path_style(true).build(),
    )
}

async fn tag_bucket(config: &SdkConfig, bucket: &str, key: &str, value: &str) {
    let tag = aws_sdk_s3::types::Tag::builder().key(key).value(value).build().expect("tag");
    s3(config)
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(aws_sdk_s3::types::Tagging::builder().tag_set(tag).build().expect("tagging"))
        .send()
        .await
        .expect("tag bucket");
}

async fn create_function(config: &SdkConfig, name: &str) {
    let existing =
        aws_sdk_iam::Client::new(config).get_role().role_name("lambda-exec").send().await;
    let role_arn = match existing {
        Ok(found) => found.role().expect("role").arn().to_owned(),
        Err(_) => lambda_role(config).await,
    };
    aws_sdk_lambda::Client::new(config)
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role_arn)
        .handler("app.handler")
        .description(format!("{name} handler"))
        .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(EMPTY_ZIP.into()).build())
        .send()
        .await
        .expect("create function");
}

/// 3 instances, 1 database, 2 buckets, 1 function in moto's default account.
async fn small_estate(config: &SdkConfig) -> Vec<String> {
    let ids = run_instances(config, &["web-01", "web-02", "batch-01"]).await;
    create_postgres(&aws_sdk_rds::Client::new(config), "pg-main").await;
    for bucket in ["acme-pg-dumps", "acme-logs"] {
        s3(config).create_bucket().bucket(bucket).send().await.expect("create bucket");
    }
    tag_bucket(config, "acme-pg-dumps", "purpose", "postgres-dumps").await;
    create_function(config, "thumbnailer").await;
    ids
}

fn scope(report: &SyncReport, service: Service) -> &cloudops_sync::ScopeReport {
    report
        .scopes
        .iter()
        .find(|s| s.scope.service == service)
        .unwrap_or_else(|| panic!("no {service} scope in {report:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_then_incremental_applies_exactly_the_changes() {
    let moto = Moto::start();
    let config = base_config(&moto).await;
    let ids = small_estate(&config).await;
    let local = Local::new();
    let accounts = [account("production")];
    let options = options(&moto.endpoint);

    let full = local.sync(&accounts, &options).await;
    assert_eq!(full.failed(), 0, "{full:#?}");
    assert_eq!(full.scopes.len(), 5, "ec2, rds, s3 (once), lambda, elbv2");
    assert!(full.scopes.iter().all(|s| s.mode == SyncMode::Full));
    assert_eq!(full.totals.read, 7);
    assert_eq!((full.totals.added, full.totals.changed, full.totals.removed), (7, 0, 0));
    assert_eq!(scope(&full, Service::Ec2).resources, 3);
    assert_eq!(scope(&full, Service::S3).scope.region, "global");
    assert_eq!(full.by_type.get("ec2_instance"), Some(&3));
    let web = local.named("web-01").expect("web-01 synced");
    assert_eq!((web.account_id.as_str(), web.account_name.as_str()), (ACCOUNT, "production"));
    assert_eq!(web.state, "running");
    let found = local
        .estate
        .lookup(&LookupRequest { query: "pg-main".into(), ..Default::default() })
        .expect("lookup");
    assert_eq!(found.results[0].resource.name, "pg-main");

    // Nothing changed: an incremental sync rewrites and embeds nothing.
    let same = local.sync(&accounts, &options).await;
    assert!(same.scopes.iter().all(|s| s.mode == SyncMode::Incremental), "{same:#?}");
    assert_eq!((same.totals.added, same.totals.changed, same.totals.removed), (0, 0, 0));
    assert_eq!((same.totals.unchanged, same.totals.embedded), (7, 0));
    // moto has no LookupEvents: each regional scope falls back to listing, and says why.
    let ec2 = scope(&same, Service::Ec2);
    assert_eq!(ec2.method, Some(ReadMethod::Listing));
    assert!(ec2.fallback.is_some(), "{ec2:#?}");

    // Stop an instance, retag a bucket, delete a bucket, add a function.
    aws_sdk_ec2::Client::new(&config)
        .stop_instances()
        .instance_ids(&ids[1])
        .send()
        .await
        .expect("stop");
    tag_bucket(&config, "acme-pg-dumps", "purpose", "nightly-postgres-dumps").await;
    s3(&config).delete_bucket().bucket("acme-logs").send().await.expect("delete bucket");
    create_function(&config, "resizer").await;

    let incremental = local.sync(&accounts, &options).await;
    assert_eq!(incremental.failed(), 0, "{incremental:#?}");
    let totals = incremental.totals;
    assert_eq!((totals.added, totals.changed, totals.removed), (1, 2, 1), "{incremental:#?}");
    assert_eq!(totals.unchanged, 4);
    // Only the new function's and the retagged bucket's texts are embedded again; a state
    // change keeps the stored vector.
    assert_eq!(totals.embedded, 2, "{incremental:#?}");
    assert_eq!(scope(&incremental, Service::Ec2).counts.changed, 1);
    assert_eq!(scope(&incremental, Service::S3).counts.removed, 1);
    assert_eq!(local.named("web-02").expect("web-02").state, "stopped");
    assert!(local.named("acme-logs").is_none(), "deleted bucket removed");
    assert_eq!(
        local.named("acme-pg-dumps").expect("bucket").tags["purpose"],
        "nightly-postgres-dumps"
    );
    assert!(local.named("resizer").is_some());
    assert_eq!(local.all().len(), 7);

    // The state records every scope.
    let recorded =
        local.state.get(&ScopeKey::new("production", REGION, Service::Ec2)).expect("get");
    assert!(recorded.has_full_sync() && recorded.last_incremental.is_some());
    assert_eq!((recorded.resources, recorded.changed), (3, 1));
    assert_eq!(local.state.all().expect("all").len(), 5);

    // --full reads everything again and still changes nothing that did not change.
    let forced = local.sync(&accounts, &SyncOptions { full: true, ..options.clone() }).await;
    assert!(forced.scopes.iter().all(|s| s.mode == SyncMode::Full));
    assert_eq!((forced.totals.added, forced.totals.changed, forced.totals.removed), (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_accounts_and_services() {
    let moto = Moto::start();
    let config = base_config(&moto).await;
    small_estate(&config).await;
    let local = Local::new();
    let options =
        SyncOptions { services: vec![Service::Ec2, Service::S3], ..options(&moto.endpoint) };
    let report = local.sync(&[account("production")], &options).await;
    let mut services: Vec<Service> = report.scopes.iter().map(|s| s.scope.service).collect();
    services.sort();
    assert_eq!(services, [Service::Ec2, Service::S3]);
    assert_eq!(local.all().len(), 5);
}

/// `aws_proxy.py` in front of moto; killed on drop.
struct Proxy {
    child: Child,
    endpoint: String,
}

impl Proxy {
    fn start(moto: &Moto, args: &[&str]) -> Proxy {
        let python = crate::moto::venv_python();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sync/aws_proxy.py");
        let mut child = Command::new(python)
            .arg(script)
            .args(["--target", &moto.endpoint])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aws_proxy.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port line");
        let port = line.trim().strip_prefix("PORT ").expect("PORT line").to_owned();
        Proxy { child, endpoint: format!("http://127.0.0.1:{port}") }
    }

    /// Counts per service: forwarded, throttled, failed, denied.
    fn stats(&self) -> serde_json::Value {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to proxy");
        use std::io::{Read, Write};
        write!(
            stream,
            "GET /__proxy_stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .expect("ask stats");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read stats");
        let body = answer.split("\r\n\r\n").nth(1).expect("a body");
        serde_json::from_str(body).expect("stats JSON")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_survived_by_retrying() {
    let moto = Moto::start();
    let config = base_config(&moto).await;
    small_estate(&config).await;
    let proxy = Proxy::start(&moto, &["--throttle-every", "3"]);
    let local = Local::new();
    let mut options = options(&proxy.endpoint);
    options.connect.max_attempts = 10;
    let report = local.sync(&[account("production")], &options).await;
    assert_eq!(report.failed(), 0, "{report:#?}");
    assert_eq!(report.totals.added, 7);
    let stats = proxy.stats();
    let throttled: u64 = stats
        .as_object()
        .expect("object")
        .values()
        .map(|s| s["throttled"].as_u64().unwrap_or(0))
        .sum();
    assert!(throttled >= 5, "the proxy throttled calls: {stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_service_keeps_its_data_stale_and_the_rest_syncs() {
    let moto = Moto::start();
    let config = base_config(&moto).await;
    small_estate(&config).await;
    let local = Local::new();
    let accounts = [account("production")];
    let first = local.sync(&accounts, &options(&moto.endpoint)).await;
    assert_eq!(first.failed(), 0);

    // Lambda's endpoint now fails; meanwhile an instance stops.
    let ids: Vec<String> =
        local.all().iter().filter(|r| r.name == "web-01").map(|r| r.id.clone()).collect();
    aws_sdk_ec2::Client::new(&config)
        .stop_instances()
        .instance_ids(&ids[0])
        .send()
        .await
        .expect("stop");
    let proxy = Proxy::start(&moto, &["--fail-service", "lambda"]);
    let report = local.sync(&accounts, &options(&proxy.endpoint)).await;
    assert_eq!((report.succeeded(), report.failed()), (4, 1), "{report:#?}");
    let lambda = scope(&report, Service::Lambda);
    let error = lambda.error.as_deref().expect("lambda failed");
    assert!(error.contains("lambda ListFunctions"), "{error}");
    assert_eq!(lambda.stale_since.as_deref(), Some(first.started.as_str()));
    assert_eq!(lambda.resources, 1, "its resource is kept");
    assert!(local.named("thumbnailer").is_some(), "the failed scope's data stays");
    assert_eq!(local.named("web-01").expect("web-01").state, "stopped", "other scopes synced");

    let recorded =
        local.state.get(&ScopeKey::new("production", REGION, Service::Lambda)).expect("get");
    assert!(recorded.is_stale());
    assert_eq!(recorded.last_success(), Some(first.started.as_str()));

    // The next good sync clears the staleness.
    let healed = local.sync(&accounts, &options(&moto.endpoint)).await;
    assert_eq!(healed.failed(), 0);
    let recorded =
        local.state.get(&ScopeKey::new("production", REGION, Service::Lambda)).expect("get");
    assert!(!recorded.is_stale());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_cannot_be_assumed_fails_only_its_account() {
    let moto = Moto::start();
    let config = base_config(&moto).await;
    small_estate(&config).await;
    let denied = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole";
    let proxy = Proxy::start(&moto, &["--deny-role", denied]);
    let local = Local::new();
    let staging = AccountConfig { role_arn: Some(denied.into()), ..account("staging") };
    let report = local.sync(&[account("production"), staging], &options(&proxy.endpoint)).await;
    assert_eq!((report.succeeded(), report.failed()), (5, 5), "{report:#?}");
    for failed in report.scopes.iter().filter(|s| s.error.is_some()) {
        assert_eq!(failed.scope.account, "staging");
        let error = failed.error.as_deref().unwrap_or_default();
        assert!(error.contains("AccessDenied") || error.contains("AssumeRole"), "{error}");
    }
    assert_eq!(local.all().len(), 7, "production synced");
    assert_eq!(proxy.stats()["sts"]["denied"].as_u64().map(|n| n > 0), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_sync_is_completed_by_the_next() {
    let moto = Moto::start();
    let config = base_config(&moto).await;
    small_estate(&config).await;
    let local = Local::new();
    let accounts = [account("production")];
    let options = SyncOptions { scopes_in_flight: 1, ..options(&moto.endpoint) };

    // Stop the sync as soon as the first scope is written.
    let finished = Arc::new(AtomicUsize::new(0));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stop_tx = std::sync::Mutex::new(Some(stop_tx));
    let counter = Arc::clone(&finished);
    let events = move |event: cloudops_sync::SyncEvent| {
        if let cloudops_sync::SyncEvent::Finished { .. } = event {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Some(tx) = stop_tx.lock().ok().and_then(|mut tx| tx.take()) {
                let _ = tx.send(());
            }
        }
    };
    let sync =
        cloudops_sync::sync(Arc::clone(&local.estate), &local.state, &accounts, &options, &events);
    tokio::select! {
        _ = sync => panic!("the sync finished before it was interrupted"),
        _ = stop_rx => {}
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(finished.load(Ordering::SeqCst), 1);
    assert_eq!(local.state.all().expect("all").len(), 1, "one scope recorded");

    let report = local.sync(&accounts, &options).await;
    assert_eq!(report.failed(), 0);
    let modes: Vec<SyncMode> = report.scopes.iter().map(|s| s.mode).collect();
    assert_eq!(modes.iter().filter(|m| **m == SyncMode::Full).count(), 4, "{modes:?}");
    assert_eq!(local.all().len(), 7);
    assert_eq!(local.state.all().expect("all").len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_listings_ask_only_new_instances_for_termination_protection() {
    let moto = Moto::start();
    let config = base_config(&moto).await;
    small_estate(&config).await;
    let proxy = Proxy::start(&moto, &[]);
    let local = Local::new();
    let accounts = [account("production")];
    let options = SyncOptions { services: vec![Service::Ec2], ..options(&proxy.endpoint) };
    let calls = |proxy: &Proxy| {
        proxy.stats()["ec2"]["actions"]["DescribeInstanceAttribute"].as_u64().unwrap_or(0)
    };

    local.sync(&accounts, &options).await;
    assert_eq!(calls(&proxy), 3, "a full sync asks about every instance");
    local.sync(&accounts, &options).await;
    assert_eq!(calls(&proxy), 3, "an incremental listing reuses what the index knows");
    run_instances(&config, &["web-03"]).await;
    let report = local.sync(&accounts, &options).await;
    assert_eq!(calls(&proxy), 4, "only the new instance is asked about");
    assert_eq!(report.totals.added, 1);
    let web = local.named("web-01").expect("web-01");
    assert_eq!(
        web.constraints.other.get("termination_protection"),
        Some(&serde_json::Value::Bool(false))
    );
}
