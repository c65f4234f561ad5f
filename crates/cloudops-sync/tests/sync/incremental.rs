//! The incremental sync's building blocks: CloudTrail narrowing against recorded LookupEvents
//! answers (moto has no LookupEvents), and the targeted re-reads against moto, which must give
//! exactly what the full collectors give.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_elasticloadbalancingv2::types::{LoadBalancerSchemeEnum, LoadBalancerTypeEnum};
use cloudops_core::{AccountConfig, Resource, Service};
use cloudops_sync::collect::{ec2, elbv2, lambda, rds, s3};
use cloudops_sync::{
    ChangesConfig, Connection, DELIVERY_OVERLAP, LookupStrategy, ServiceChanges, Targeted,
    changes_since, cloudtrail_client, connect,
};
use serde_json::Value;

use crate::collect::run_instances;
use crate::moto::{ACCOUNT, EMPTY_ZIP, Moto, credentials};

const REGION: &str = "us-east-1";

/// Recorded answers: (lookup attribute value, NextToken) → (HTTP status, fixture file).
type Answers = HashMap<(&'static str, Option<&'static str>), (u16, &'static str)>;

/// A stand-in for CloudTrail that answers LookupEvents with recorded responses, after
/// filling their placeholders; stopped when dropped.
struct RecordedCloudTrail {
    endpoint: String,
    port: u16,
    requests: Arc<Mutex<Vec<Value>>>,
    stop: Arc<AtomicBool>,
}

impl RecordedCloudTrail {
    fn start(answers: Answers, placeholders: &[(&str, String)]) -> RecordedCloudTrail {
        let directory =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sync/fixtures/cloudtrail");
        let answers: HashMap<(String, Option<String>), (u16, String)> = answers
            .into_iter()
            .map(|((attribute, token), (status, file))| {
                let mut body = std::fs::read_to_string(directory.join(file)).expect("fixture");
                for (placeholder, value) in placeholders {
                    body = body.replace(&format!("{{{{{placeholder}}}}}"), value);
                }
                assert!(!body.contains("{{"), "{file} has a placeholder left: {body}");
                ((attribute.to_owned(), token.map(str::to_owned)), (status, body))
            })
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopping) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    // A connection the client dropped is not the test's business.
                    let _ = answer(stream, &answers, &seen);
                }
            }
        });
        RecordedCloudTrail { endpoint: format!("http://127.0.0.1:{port}"), port, requests, stop }
    }

    /// The LookupEvents request bodies received, in order.
    fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("requests").clone()
    }
}

impl Drop for RecordedCloudTrail {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one HTTP/1.1 request and answers the recorded response for its lookup attribute and
/// NextToken (an empty page when none is recorded), closing the connection.
fn answer(
    stream: TcpStream,
    answers: &HashMap<(String, Option<String>), (u16, String)>,
    requests: &Mutex<Vec<Value>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut content_length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let attribute = request["LookupAttributes"][0]["AttributeValue"].as_str().unwrap_or_default();
    let token = request["NextToken"].as_str().map(str::to_owned);
    let empty = (200, r#"{"Events":[]}"#.to_owned());
    let (status, body) = answers.get(&(attribute.to_owned(), token)).unwrap_or(&empty);
    requests.lock().expect("requests").push(request);
    let reason = if *status == 200 { "OK" } else { "Bad Request" };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         x-amzn-RequestId: 6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

async fn connection(moto: &Moto) -> Connection {
    let account = AccountConfig {
        name: "production".into(),
        regions: vec![REGION.into()],
        ..Default::default()
    };
    connect(&account, REGION, Some(credentials()), &moto.connect_config()).await.expect("connect")
}

fn targeted(changes: Option<&ServiceChanges>) -> BTreeSet<String> {
    match changes {
        Some(ServiceChanges::Targeted { ids }) => ids.clone(),
        other => panic!("expected targeted changes, got {other:?}"),
    }
}

fn ids(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

/// The resources with these ids, from a full collector's answer.
fn with_ids(resources: &[Resource], wanted: &BTreeSet<String>) -> Vec<Resource> {
    let mut resources: Vec<Resource> =
        resources.iter().filter(|r| wanted.contains(&r.id)).cloned().collect();
    resources.sort_by(|a, b| a.arn.cmp(&b.arn));
    resources
}

fn sorted(mut targeted: Targeted) -> Targeted {
    targeted.found.sort_by(|a, b| a.arn.cmp(&b.arn));
    targeted.missing_arns.sort();
    targeted
}

/// A small postgres DB instance named `identifier`.
pub async fn create_postgres(rds: &aws_sdk_rds::Client, identifier: &str) {
    rds.create_db_instance()
        .db_instance_identifier(identifier)
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin_user")
        .master_user_password("password-123")
        .send()
        .await
        .expect("create db");
}

/// The ARN of a new `lambda-exec` role (moto's CreateFunction checks that the role exists).
pub async fn lambda_role(config: &aws_config::SdkConfig) -> String {
    let created = aws_sdk_iam::Client::new(config)
        .create_role()
        .role_name("lambda-exec")
        .assume_role_policy_document("{}")
        .send()
        .await
        .expect("create role");
    created.role().expect("role").arn().to_owned()
}

/// A network load balancer in a new VPC; returns (ARN, name, VPC id, subnet id).
async fn network_load_balancer(connection: &Connection) -> (String, String, String, String) {
    let ec2 = connection.ec2();
    let vpc = ec2.create_vpc().cidr_block("10.2.0.0/16").send().await.expect("vpc");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_owned();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.2.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .expect("subnet");
    let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_owned();
    let created = connection
        .elbv2()
        .create_load_balancer()
        .name("ingest-nlb")
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::Internal)
        .subnets(&subnet_id)
        .send()
        .await
        .expect("create nlb");
    let arn = created.load_balancers()[0].load_balancer_arn().expect("arn").to_owned();
    (arn, "ingest-nlb".to_owned(), vpc_id, subnet_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudtrail_narrows_each_service_and_falls_back_alone() {
    let moto = Moto::start();
    let connection = connection(&moto).await;
    let scope = &connection.scope;
    let config = &connection.sdk_config;

    // EC2: two instances, one of them stopped since the last sync.
    let instance_ids = run_instances(config, &["web-01", "web-02"]).await;
    let (stopped, running) = (&instance_ids[0], &instance_ids[1]);
    connection.ec2().stop_instances().instance_ids(stopped).send().await.expect("stop");

    // S3: one bucket tagged since, another one deleted since.
    let s3_client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config).force_path_style(true).build(),
    );
    for bucket in ["acme-pg-dumps", "acme-old-exports"] {
        s3_client.create_bucket().bucket(bucket).send().await.expect("create bucket");
    }
    s3_client.delete_bucket().bucket("acme-old-exports").send().await.expect("delete bucket");

    // RDS: one instance modified since, another deleted since.
    let rds_client = connection.rds();
    for identifier in ["pg-main", "pg-scratch"] {
        create_postgres(&rds_client, identifier).await;
    }
    rds_client
        .delete_db_instance()
        .db_instance_identifier("pg-scratch")
        .skip_final_snapshot(true)
        .send()
        .await
        .expect("delete db");

    // ELBv2: a load balancer created since.
    let (lb_arn, lb_name, vpc_id, subnet_id) = network_load_balancer(&connection).await;

    let recorded = RecordedCloudTrail::start(
        [
            (("ec2.amazonaws.com", None), (200, "ec2-stop-instances.json")),
            (("s3.amazonaws.com", None), (200, "s3-delete-bucket.json")),
            (("rds.amazonaws.com", None), (200, "rds-page-1.json")),
            (("rds.amazonaws.com", Some(RDS_NEXT_TOKEN)), (200, "rds-page-2.json")),
            (("lambda.amazonaws.com", None), (400, "throttled.json")),
            (
                ("elasticloadbalancing.amazonaws.com", None),
                (200, "elbv2-create-load-balancer.json"),
            ),
            (("false", None), (200, "write-events.json")),
        ]
        .into(),
        &[
            ("ACCOUNT", ACCOUNT.to_owned()),
            ("REGION", REGION.to_owned()),
            ("STOPPED_INSTANCE", stopped.clone()),
            ("RUNNING_INSTANCE", running.clone()),
            ("LOAD_BALANCER_ARN", lb_arn.clone()),
            ("LOAD_BALANCER_NAME", lb_name),
            ("VPC", vpc_id),
            ("SUBNET", subnet_id),
        ],
    );
    let client = cloudtrail_client(config, Some(&recorded.endpoint));
    let since = SystemTime::now() - Duration::from_secs(3600);
    let limits = ChangesConfig { page_interval: Duration::ZERO, ..ChangesConfig::default() };
    let changes = changes_since(&client, since, &Service::ALL, &limits).await;

    // The read-only DescribeInstances naming the running instance is not a change.
    let ec2_ids = targeted(changes.get(Service::Ec2));
    assert_eq!(ec2_ids, ids(&[stopped]));
    let s3_ids = targeted(changes.get(Service::S3));
    assert_eq!(s3_ids, ids(&["acme-old-exports", "acme-pg-dumps"]));
    // Both pages: pg-main from the first, pg-scratch from the second.
    let rds_ids = targeted(changes.get(Service::Rds));
    assert_eq!(rds_ids, ids(&["pg-main", "pg-scratch"]));
    // The classic load balancer's event is not an ELBv2 change.
    let elbv2_ids = targeted(changes.get(Service::Elbv2));
    assert_eq!(elbv2_ids, ids(&[&lb_arn]));
    match changes.get(Service::Lambda) {
        Some(ServiceChanges::Relist { reason }) => {
            assert!(reason.starts_with("cloudtrail LookupEvents: ThrottlingException"), "{reason}")
        }
        other => panic!("a throttled lookup relists lambda alone: {other:?}"),
    }

    // One lookup per service (two pages for RDS; the throttled one retried by the SDK up to
    // its 2 attempts), each from 20 minutes before the last sync.
    let requests = recorded.requests();
    let to = |source: &str| -> Vec<&Value> {
        requests.iter().filter(|r| r["LookupAttributes"][0]["AttributeValue"] == source).collect()
    };
    for source in ["ec2.amazonaws.com", "s3.amazonaws.com", "elasticloadbalancing.amazonaws.com"] {
        assert_eq!(to(source).len(), 1, "{source}: {requests:#?}");
    }
    assert_eq!(to("lambda.amazonaws.com").len(), 2, "{requests:#?}");
    let rds_requests = to("rds.amazonaws.com");
    assert_eq!(rds_requests.len(), 2);
    assert_eq!(rds_requests[0].get("NextToken"), None);
    assert_eq!(rds_requests[1]["NextToken"], RDS_NEXT_TOKEN);
    assert_eq!(rds_requests[0]["LookupAttributes"][0]["AttributeKey"], "EventSource");
    assert_eq!(rds_requests[0]["MaxResults"], 50);
    let start = requests[0]["StartTime"].as_f64().expect("StartTime in epoch seconds");
    let expected = (since - DELIVERY_OVERLAP).duration_since(UNIX_EPOCH).expect("after 1970");
    assert!((start - expected.as_secs_f64()).abs() < 1.0, "{start} vs {expected:?}");

    // The targeted re-reads give what the full collectors give, and the deleted ARNs.
    let options = ec2::Ec2Options::default();
    let reread =
        sorted(ec2::collect_ids(&connection.ec2(), scope, options, &ec2_ids).await.expect("ec2"));
    let full = ec2::collect(&connection.ec2(), scope, options).await.expect("full ec2");
    assert_eq!(reread.found, with_ids(&full, &ec2_ids));
    assert_eq!(reread.found[0].state, "stopped");
    assert!(reread.missing_arns.is_empty());

    let s3_options = s3::S3Options { force_path_style: true };
    let reread = sorted(s3::collect_ids(config, scope, s3_options, &s3_ids).await.expect("s3"));
    let full = s3::collect(config, scope, s3_options).await.expect("full s3");
    assert_eq!(reread.found, with_ids(&full, &s3_ids));
    assert_eq!(reread.found.len(), 1);
    assert_eq!(reread.missing_arns, ["arn:aws:s3:::acme-old-exports"]);

    let reread = sorted(rds::collect_ids(&rds_client, scope, &rds_ids).await.expect("rds"));
    let full = rds::collect(&rds_client, scope).await.expect("full rds");
    assert_eq!(reread.found, with_ids(&full, &rds_ids));
    assert_eq!(reread.found.len(), 1);
    assert_eq!(reread.missing_arns, [format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:pg-scratch")]);

    let reread =
        sorted(elbv2::collect_ids(&connection.elbv2(), scope, &elbv2_ids).await.expect("elbv2"));
    let full = elbv2::collect(&connection.elbv2(), scope).await.expect("full elbv2");
    assert_eq!(reread.found, full);
    assert_eq!(reread.found[0].attribute_str("type"), Some("network"));
    assert!(reread.missing_arns.is_empty());

    // The one-lookup strategy: the region's write events, grouped by event source.
    let write_events = ChangesConfig { strategy: LookupStrategy::WriteEvents, ..limits };
    let changes =
        changes_since(&client, since, &[Service::Ec2, Service::S3, Service::Rds], &write_events)
            .await;
    assert_eq!(targeted(changes.get(Service::Ec2)), ids(&[stopped]));
    assert_eq!(targeted(changes.get(Service::S3)), ids(&["acme-old-exports", "acme-pg-dumps"]));
    assert_eq!(targeted(changes.get(Service::Rds)), BTreeSet::new());
    let last = recorded.requests().pop().expect("a request");
    assert_eq!(last["LookupAttributes"][0]["AttributeKey"], "ReadOnly");
}

/// The NextToken in `rds-page-1.json`.
const RDS_NEXT_TOKEN: &str = "kbOt5LlZe++mErCebpy2TgaMgmDvF1kYGFcH64JSjIbZFjsuvrSqg66b5YGssKutDYIyII4lrP4IDbeQdiObkp9YiAm7uNr2PsmH6+K8R6B4rnUb0xsy2Xn7t0x0EXAMPLE";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targeted_rereads_report_what_is_gone() {
    let moto = Moto::start();
    let connection = connection(&moto).await;
    let scope = &connection.scope;

    // EC2: a terminated instance still shows, as in a full listing; an unknown id is missing.
    let instance_ids = run_instances(&connection.sdk_config, &["batch-01"]).await;
    let terminated = &instance_ids[0];
    connection
        .ec2()
        .terminate_instances()
        .instance_ids(terminated)
        .send()
        .await
        .expect("terminate");
    let unknown = "i-0123456789abcdef0";
    let wanted = ids(&[terminated, unknown]);
    let options = ec2::Ec2Options { termination_protection: false, page_size: 1000 };
    let reread = ec2::collect_ids(&connection.ec2(), scope, options, &wanted).await.expect("ec2");
    let full = ec2::collect(&connection.ec2(), scope, options).await.expect("full ec2");
    assert_eq!(reread.found, full);
    assert_eq!(reread.found[0].state, "terminated");
    assert_eq!(reread.missing_arns, [format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{unknown}")]);

    // Lambda: GetFunction gives what ListFunctions and ListTags give; an unknown name is missing.
    let role_arn = lambda_role(&connection.sdk_config).await;
    connection
        .lambda()
        .create_function()
        .function_name("resizer")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role_arn)
        .handler("app.handler")
        .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(EMPTY_ZIP.into()).build())
        .tags("team", "media")
        .send()
        .await
        .expect("create function");
    let wanted = ids(&["resizer", "gone-job"]);
    let reread = lambda::collect_ids(&connection.lambda(), scope, &wanted).await.expect("lambda");
    let full = lambda::collect(&connection.lambda(), scope).await.expect("full lambda");
    assert_eq!(reread.found, full);
    assert_eq!(reread.found[0].tags["team"], "media");
    assert_eq!(
        reread.missing_arns,
        [format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:gone-job")]
    );

    // ELBv2: one unknown ARN fails DescribeLoadBalancers as a whole; each is then asked alone.
    let (lb_arn, ..) = network_load_balancer(&connection).await;
    let gone = format!(
        "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/old-nlb/0123456789abcdef"
    );
    let wanted = ids(&[&lb_arn, &gone]);
    let reread = elbv2::collect_ids(&connection.elbv2(), scope, &wanted).await.expect("elbv2");
    let full = elbv2::collect(&connection.elbv2(), scope).await.expect("full elbv2");
    assert_eq!(reread.found, full);
    assert_eq!(reread.missing_arns, [gone]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_lookup_events_every_service_is_listed_again() {
    // moto does not implement LookupEvents and answers 500: no service can be narrowed.
    let moto = Moto::start();
    let connection = connection(&moto).await;
    let client = cloudtrail_client(&connection.sdk_config, None);
    let since = SystemTime::now() - Duration::from_secs(600);
    let limits = ChangesConfig { page_interval: Duration::ZERO, ..ChangesConfig::default() };
    let changes = changes_since(&client, since, &[Service::Ec2, Service::Lambda], &limits).await;
    assert_eq!(changes.services.len(), 2);
    for (service, change) in &changes.services {
        match change {
            ServiceChanges::Relist { reason } => {
                assert!(reason.starts_with("cloudtrail LookupEvents: "), "{service}: {reason}")
            }
            targeted => panic!("{service} cannot be narrowed without LookupEvents: {targeted:?}"),
        }
    }

    // A last sync older than the event history is not even looked up.
    let long_ago = SystemTime::now() - Duration::from_secs(91 * 24 * 3600);
    let changes = changes_since(&client, long_ago, &[Service::S3], &limits).await;
    assert!(
        matches!(changes.get(Service::S3), Some(ServiceChanges::Relist { reason }) if reason.contains("90-day"))
    );
}
