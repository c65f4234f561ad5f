//! A deterministic synthetic estate: the embedded default for demos, and the data behind the
//! evaluation set and the benchmarks.
//!
//! The shape follows the design's example estate (2,500 EC2 instances, 150 RDS instances,
//! 430 buckets, 85 functions, 22 load balancers over three accounts and three regions), with
//! the naming habits of real estates: numbered siblings, the same service deployed to every
//! account, environment spelled three ways, owners and teams in tags, descriptions on
//! functions. The same seed always yields the same estate.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use crate::model::{Constraints, Resource, ResourceType};

/// How large an estate to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// EC2 instances.
    pub ec2: usize,
    /// RDS DB instances.
    pub rds: usize,
    /// S3 buckets.
    pub s3: usize,
    /// Lambda functions.
    pub lambda: usize,
    /// ELBv2 load balancers.
    pub elb: usize,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for DemoConfig {
    /// The design's estate: 3,187 resources.
    fn default() -> Self {
        DemoConfig { ec2: 2_500, rds: 150, s3: 430, lambda: 85, elb: 22, seed: 7 }
    }
}

impl DemoConfig {
    /// An estate of about `total` resources with the default mix.
    pub fn with_total(total: usize) -> Self {
        let base = DemoConfig::default();
        let scale = |count: usize| (count * total).div_ceil(3_187).max(1);
        DemoConfig {
            ec2: scale(base.ec2),
            rds: scale(base.rds),
            s3: scale(base.s3),
            lambda: scale(base.lambda),
            elb: scale(base.elb),
            seed: base.seed,
        }
    }
}

/// A demo account: name and id.
pub const ACCOUNTS: [(&str, &str); 3] =
    [("production", "123456789012"), ("staging", "987654321098"), ("development", "456789012345")];

/// The demo regions.
pub const REGIONS: [&str; 3] = ["us-west-2", "us-east-1", "eu-west-1"];

const APPS: &[&str] = &[
    "checkout",
    "payments",
    "orders",
    "inventory",
    "search",
    "catalog",
    "auth",
    "billing",
    "notifications",
    "analytics",
    "reporting",
    "recommendations",
    "shipping",
    "cart",
    "users",
    "gateway",
    "ledger",
    "fraud",
    "pricing",
    "media",
    "loyalty",
    "reviews",
    "returns",
];
const ROLES: &[&str] = &["web", "api", "worker", "batch", "cache", "consumer", "scheduler"];
const TEAMS: &[&str] = &["core", "platform", "data", "growth", "sre", "commerce", "identity"];
const OWNERS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
];
const INSTANCE_TYPES: &[&str] =
    &["t3.micro", "t3.medium", "m5.large", "m5.xlarge", "c5.2xlarge", "r5.large", "m6g.large"];
const DB_CLASSES: &[&str] =
    &["db.t3.medium", "db.r5.large", "db.r6g.xlarge", "db.m5.large", "db.r5.2xlarge"];
const BUCKET_PURPOSES: &[&str] = &[
    "assets",
    "logs",
    "uploads",
    "exports",
    "backups",
    "artifacts",
    "reports",
    "media",
    "config",
    "archive",
    "data",
    "tmp",
];
const LAMBDA_VERBS: &[(&str, &str)] = &[
    ("sync", "Synchronizes {app} records with the downstream store"),
    ("cleanup", "Deletes expired {app} records every hour"),
    ("notify", "Sends {app} notifications to subscribers"),
    ("export", "Exports {app} data to the reporting bucket"),
    ("validate", "Validates incoming {app} events before processing"),
    ("aggregate", "Aggregates {app} metrics into daily rollups"),
    ("reindex", "Rebuilds the {app} search index from the primary database"),
];

/// Splitmix64: tiny, fast, and stable across platforms and releases (the estate must not
/// change when a dependency does).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn hex(&mut self, length: usize) -> String {
        let mut out = String::with_capacity(length);
        while out.len() < length {
            out.push_str(&format!("{:016x}", self.next()));
        }
        out.truncate(length);
        out
    }
}

/// The environment tag value, spelled as real estates spell it.
fn env_spelling(rng: &mut Rng, account: &str) -> &'static str {
    match account {
        "production" => rng.pick::<&str>(&["prod", "production", "prod"]),
        "staging" => rng.pick::<&str>(&["staging", "stg"]),
        _ => rng.pick::<&str>(&["dev", "development"]),
    }
}

fn env_short(account: &str) -> &'static str {
    match account {
        "production" => "prod",
        "staging" => "stg",
        _ => "dev",
    }
}

fn region_short(region: &str) -> &'static str {
    match region {
        "us-west-2" => "usw2",
        "us-east-1" => "use1",
        _ => "euw1",
    }
}

struct Builder {
    rng: Rng,
    resources: Vec<Resource>,
    names: HashSet<(String, String)>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: ResourceType,
        id: String,
        name: String,
        account: usize,
        region: &str,
        state: &str,
        tags: BTreeMap<String, String>,
        attributes: BTreeMap<String, serde_json::Value>,
        constraints: Constraints,
        dependencies: Vec<String>,
    ) {
        let (account_name, account_id) = ACCOUNTS[account];
        let arn = match kind {
            ResourceType::Ec2Instance => {
                format!("arn:aws:ec2:{region}:{account_id}:instance/{id}")
            }
            ResourceType::RdsInstance => format!("arn:aws:rds:{region}:{account_id}:db:{id}"),
            ResourceType::S3Bucket => format!("arn:aws:s3:::{id}"),
            ResourceType::LambdaFunction => {
                format!("arn:aws:lambda:{region}:{account_id}:function:{id}")
            }
            ResourceType::ElbLoadBalancer => {
                let suffix = self.rng.hex(16);
                format!(
                    "arn:aws:elasticloadbalancing:{region}:{account_id}:loadbalancer/app/{id}/{suffix}"
                )
            }
            ResourceType::Other(_) => format!("arn:aws:unknown:{region}:{account_id}:{id}"),
        };
        self.resources.push(Resource {
            arn,
            resource_type: kind,
            id,
            name,
            account_id: account_id.to_owned(),
            account_name: account_name.to_owned(),
            region: region.to_owned(),
            state: state.to_owned(),
            tags,
            attributes,
            constraints,
            permissions: Vec::new(),
            permissions_denied: Vec::new(),
            permissions_unknown: Vec::new(),
            dependencies,
            last_seen: "2026-11-25T08:00:00Z".to_owned(),
        });
    }

    /// Claims a (kind, name) pair; false when taken, so generated names stay unique per kind
    /// and account unless duplication is the point.
    fn claim(&mut self, kind: &ResourceType, name: &str, account: usize, region: &str) -> bool {
        self.names.insert((format!("{kind}/{account}/{region}"), name.to_owned()))
    }

    fn base_tags(&mut self, app: &str, account: usize) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        tags.insert("env".to_owned(), env_spelling(&mut self.rng, ACCOUNTS[account].0).to_owned());
        tags.insert("app".to_owned(), app.to_owned());
        tags.insert("team".to_owned(), (*self.rng.pick(TEAMS)).to_owned());
        let owner = *self.rng.pick(OWNERS);
        tags.insert("owner".to_owned(), format!("{owner}@example.com"));
        if self.rng.chance(40) {
            tags.insert("cost-center".to_owned(), format!("cc-{}", 100 + self.rng.below(40)));
        }
        tags
    }
}

/// Generates the synthetic estate described by `config`.
pub fn generate(config: &DemoConfig) -> Vec<Resource> {
    let mut builder =
        Builder { rng: Rng(config.seed), resources: Vec::new(), names: HashSet::new() };
    add_landmarks(&mut builder);
    let rds = config.rds.saturating_sub(count(&builder, &ResourceType::RdsInstance));
    add_rds(&mut builder, rds);
    let ec2 = config.ec2.saturating_sub(count(&builder, &ResourceType::Ec2Instance));
    add_ec2(&mut builder, ec2);
    let s3 = config.s3.saturating_sub(count(&builder, &ResourceType::S3Bucket));
    add_s3(&mut builder, s3);
    let lambda = config.lambda.saturating_sub(count(&builder, &ResourceType::LambdaFunction));
    add_lambda(&mut builder, lambda);
    let elb = config.elb.saturating_sub(count(&builder, &ResourceType::ElbLoadBalancer));
    add_elb(&mut builder, elb);
    builder.resources
}

/// The design's estate grown to at least `total` resources, for measurements at scale: the
/// default estate (so every query of [`evaluation_set`] over it keeps its answer) plus
/// estates of other seeds, whose names repeat the same habits and so add near-duplicates to
/// beat. ARNs stay unique.
pub fn grown(total: usize) -> Vec<Resource> {
    let base = DemoConfig::default();
    let mut resources = generate(&base);
    if total <= resources.len() {
        return resources;
    }
    let mut arns: HashSet<String> = resources.iter().map(|r| r.arn.clone()).collect();
    // Every estate starts with the same landmarks; the second one's are dropped as repeats.
    let mut landmarks =
        Builder { rng: Rng(base.seed), resources: Vec::new(), names: HashSet::new() };
    add_landmarks(&mut landmarks);
    // Bucket names (their ARNs) can repeat across seeds too: top up until there are enough.
    let mut seed = base.seed;
    while resources.len() < total {
        seed += 1;
        let wanted = total - resources.len() + landmarks.resources.len();
        let more = DemoConfig { seed, ..DemoConfig::with_total(wanted) };
        resources.extend(generate(&more).into_iter().filter(|r| arns.insert(r.arn.clone())));
    }
    resources
}

fn count(builder: &Builder, kind: &ResourceType) -> usize {
    builder.resources.iter().filter(|r| &r.resource_type == kind).count()
}

fn attrs(pairs: &[(&str, serde_json::Value)]) -> BTreeMap<String, serde_json::Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Hand-written resources with distinctive purposes: the design's pg-instance-main1 and the
/// targets of the evaluation set's description queries.
fn add_landmarks(b: &mut Builder) {
    let db = |engine: &str, version: &str, class: &str, multi_az: bool| {
        attrs(&[
            ("engine", json!(engine)),
            ("engine_version", json!(version)),
            ("instance_class", json!(class)),
            ("multi_az", json!(multi_az)),
        ])
    };
    let db_constraints = |multi_az: bool, replicas: bool, protection: bool| Constraints {
        can_stop: Some(!replicas),
        has_read_replicas: Some(replicas),
        deletion_protection: Some(protection),
        automated_backups_enabled: Some(true),
        multi_az: Some(multi_az),
        other: BTreeMap::new(),
    };
    // The design's example: a Multi-AZ production Postgres in us-west-2. No generated
    // resource belongs to the `main` app.
    {
        let (name, account, region, multi_az) = ("pg-instance-main1", 0, "us-west-2", true);
        b.claim(&ResourceType::RdsInstance, name, account, region);
        let mut tag_map = tags(&[
            ("environment", ACCOUNTS[account].0),
            ("app", "main"),
            ("team", "core"),
            ("owner", "dba@example.com"),
        ]);
        tag_map.insert("Name".into(), name.into());
        b.push(
            ResourceType::RdsInstance,
            name.into(),
            name.into(),
            account,
            region,
            "available",
            tag_map,
            db("postgres", "14.7", "db.r5.xlarge", multi_az),
            db_constraints(multi_az, false, account == 0),
            vec![],
        );
    }
    b.push(
        ResourceType::RdsInstance,
        "analytics-warehouse-pg".into(),
        "analytics-warehouse-pg".into(),
        0,
        "us-east-1",
        "available",
        tags(&[
            ("env", "prod"),
            ("app", "analytics"),
            ("purpose", "data-warehouse"),
            ("team", "data"),
        ]),
        db("postgres", "15.4", "db.r6g.4xlarge", true),
        db_constraints(true, false, true),
        vec![],
    );

    type Landmark<'a> = (&'a str, usize, &'a str, &'a [(&'a str, &'a str)]);
    let buckets: &[Landmark<'_>] = &[
        ("acme-pg-dumps-prod", 0, "us-west-2", &[("purpose", "database-backups"), ("app", "main")]),
        (
            "acme-ml-training-datasets",
            0,
            "us-east-1",
            &[("purpose", "machine-learning"), ("team", "data")],
        ),
        (
            "acme-cdn-static-assets-prod",
            0,
            "us-east-1",
            &[("purpose", "website-static-content"), ("app", "web")],
        ),
        (
            "acme-invoices-archive",
            0,
            "eu-west-1",
            &[("purpose", "invoice-pdf-archive"), ("app", "billing")],
        ),
        (
            "acme-terraform-state",
            0,
            "us-west-2",
            &[("purpose", "infrastructure-as-code-state"), ("team", "platform")],
        ),
        (
            "acme-cloudtrail-audit-logs",
            0,
            "us-east-1",
            &[("purpose", "security-audit-trail"), ("team", "security")],
        ),
        (
            "acme-customer-support-attachments",
            0,
            "us-west-2",
            &[("purpose", "support-ticket-files"), ("app", "support")],
        ),
    ];
    for (name, account, region, extra) in buckets {
        let mut tag_map = tags(extra);
        tag_map.insert("env".into(), "prod".into());
        b.claim(&ResourceType::S3Bucket, name, *account, region);
        b.push(
            ResourceType::S3Bucket,
            (*name).into(),
            (*name).into(),
            *account,
            region,
            "available",
            tag_map,
            attrs(&[("versioning", json!("Enabled"))]),
            Constraints::default(),
            vec![],
        );
    }

    let functions: &[(&str, &str, &str)] = &[
        ("img-thumbnailer-prod", "Generates thumbnails for uploaded product photos", "nodejs20.x"),
        (
            "orders-refund-processor-prod",
            "Processes refund requests from the orders queue",
            "python3.12",
        ),
        (
            "nightly-cost-report",
            "Emails the nightly AWS cost report to the finance team",
            "python3.12",
        ),
        (
            "user-signup-welcome-email",
            "Sends a welcome email to new users after they register",
            "nodejs20.x",
        ),
        (
            "stripe-webhook-handler",
            "Receives payment webhooks from Stripe and records them",
            "go1.x",
        ),
        (
            "log-shipper-elastic",
            "Ships CloudWatch log groups to the Elasticsearch cluster",
            "python3.12",
        ),
        ("pdf-invoice-renderer", "Renders customer invoices as PDF documents", "java21"),
        (
            "fraud-score-model",
            "Scores transactions for fraud with the latest ML model",
            "python3.12",
        ),
        ("slack-oncall-pager", "Posts on-call alerts to the incident Slack channel", "nodejs20.x"),
        ("db-snapshot-pruner", "Deletes RDS snapshots older than thirty days", "python3.12"),
    ];
    for (name, description, runtime) in functions {
        b.claim(&ResourceType::LambdaFunction, name, 0, "us-west-2");
        b.push(
            ResourceType::LambdaFunction,
            (*name).into(),
            (*name).into(),
            0,
            "us-west-2",
            "Active",
            tags(&[("env", "production"), ("team", "platform")]),
            attrs(&[("description", json!(description)), ("runtime", json!(runtime))]),
            Constraints::default(),
            vec![],
        );
    }

    let hosts: &[(&str, &str, &str)] = &[
        ("jenkins-ci-master", "us-west-2", "continuous-integration"),
        ("bastion-prod-use1", "us-east-1", "ssh-jump-host"),
        ("vpn-gateway-prod", "us-west-2", "openvpn-endpoint"),
        ("grafana-monitoring", "us-west-2", "dashboards"),
        ("kafka-broker-prod-1", "us-east-1", "event-streaming"),
        ("kafka-broker-prod-2", "us-east-1", "event-streaming"),
    ];
    for (name, region, purpose) in hosts {
        let id = format!("i-0{}", b.rng.hex(16));
        let vpc = format!("vpc-{}", b.rng.hex(8));
        b.claim(&ResourceType::Ec2Instance, name, 0, region);
        b.push(
            ResourceType::Ec2Instance,
            id,
            (*name).into(),
            0,
            region,
            "running",
            tags(&[("Name", name), ("env", "prod"), ("purpose", purpose), ("team", "sre")]),
            attrs(&[("instance_type", json!("m5.large"))]),
            Constraints { can_stop: Some(true), ..Constraints::default() },
            vec![vpc],
        );
    }
}

fn add_ec2(b: &mut Builder, total: usize) {
    let mut made = 0;
    while made < total {
        // A fleet: one app, role, account and region, with numbered siblings.
        let app = *b.rng.pick(APPS);
        let role = *b.rng.pick(ROLES);
        let account = b.rng.below(ACCOUNTS.len());
        let region = *b.rng.pick(&REGIONS);
        let size = (2 + b.rng.below(if account == 0 { 24 } else { 8 })).min(total - made);
        let env = env_short(ACCOUNTS[account].0);
        let zone_hint =
            if b.rng.chance(30) { format!("-{}", region_short(region)) } else { String::new() };
        let instance_type = *b.rng.pick(INSTANCE_TYPES);
        let vpc = format!("vpc-{}", b.rng.hex(8));
        let mut number = 1;
        let mut in_fleet = 0;
        while in_fleet < size {
            let name = format!("{app}-{role}-{env}{zone_hint}-{number:02}");
            number += 1;
            if !b.claim(&ResourceType::Ec2Instance, &name, account, region) {
                continue;
            }
            let id = format!("i-0{}", b.rng.hex(16));
            let mut tag_map = b.base_tags(app, account);
            tag_map.insert("Name".into(), name.clone());
            tag_map.insert("role".into(), role.into());
            let state =
                if b.rng.chance(if account == 0 { 4 } else { 20 }) { "stopped" } else { "running" };
            let private_ip = format!("10.{}.{}.{}", account, b.rng.below(256), b.rng.below(256));
            b.push(
                ResourceType::Ec2Instance,
                id,
                name,
                account,
                region,
                state,
                tag_map,
                attrs(&[
                    ("instance_type", json!(instance_type)),
                    ("private_ip", json!(private_ip)),
                ]),
                Constraints {
                    can_stop: Some(true),
                    deletion_protection: Some(account == 0),
                    ..Constraints::default()
                },
                vec![vpc.clone()],
            );
            in_fleet += 1;
        }
        made += in_fleet;
    }
}

fn add_rds(b: &mut Builder, total: usize) {
    let engines = [
        ("postgres", "pg", "15.4"),
        ("mysql", "mysql", "8.0.35"),
        ("aurora-postgresql", "aurora", "15.4"),
        ("mariadb", "mariadb", "10.11"),
    ];
    let mut made = 0;
    let mut attempts = 0;
    while made < total && attempts < total * 50 {
        attempts += 1;
        let app = *b.rng.pick(APPS);
        let (engine, short, version) = *b.rng.pick(&engines);
        let account = b.rng.below(ACCOUNTS.len());
        let region = *b.rng.pick(&REGIONS);
        let env = env_short(ACCOUNTS[account].0);
        let serial =
            if attempts > APPS.len() * 12 { format!("-{}", attempts) } else { String::new() };
        let name = format!("{app}-{short}-{env}{serial}");
        if !b.claim(&ResourceType::RdsInstance, &name, account, region) {
            continue;
        }
        let multi_az = account == 0 && b.rng.chance(70);
        let replicas = if account == 0 && made + 1 < total && b.rng.chance(35) {
            1 + b.rng.below(2)
        } else {
            0
        };
        let class = *b.rng.pick(DB_CLASSES);
        let mut tag_map = b.base_tags(app, account);
        tag_map.insert("engine".into(), short.into());
        let primary_arn = format!("arn:aws:rds:{region}:{}:db:{name}", ACCOUNTS[account].1);
        let state = if b.rng.chance(8) { "stopped" } else { "available" };
        b.push(
            ResourceType::RdsInstance,
            name.clone(),
            name.clone(),
            account,
            region,
            state,
            tag_map.clone(),
            attrs(&[
                ("engine", json!(engine)),
                ("engine_version", json!(version)),
                ("instance_class", json!(class)),
                ("multi_az", json!(multi_az)),
            ]),
            Constraints {
                can_stop: Some(replicas == 0),
                has_read_replicas: Some(replicas > 0),
                deletion_protection: Some(account == 0),
                automated_backups_enabled: Some(account != 2),
                multi_az: Some(multi_az),
                other: BTreeMap::new(),
            },
            vec![],
        );
        made += 1;
        for replica in 1..=replicas {
            if made >= total {
                break;
            }
            let replica_name = format!("{name}-replica-{replica}");
            b.claim(&ResourceType::RdsInstance, &replica_name, account, region);
            let mut replica_attrs = attrs(&[
                ("engine", json!(engine)),
                ("engine_version", json!(version)),
                ("instance_class", json!(class)),
                ("multi_az", json!(false)),
            ]);
            replica_attrs.insert("read_replica_source".into(), json!(primary_arn));
            b.push(
                ResourceType::RdsInstance,
                replica_name.clone(),
                replica_name,
                account,
                region,
                "available",
                tag_map.clone(),
                replica_attrs,
                Constraints {
                    can_stop: Some(false),
                    has_read_replicas: Some(false),
                    deletion_protection: Some(false),
                    automated_backups_enabled: Some(false),
                    multi_az: Some(false),
                    other: BTreeMap::new(),
                },
                vec![primary_arn.clone()],
            );
            made += 1;
        }
    }
}

fn add_s3(b: &mut Builder, total: usize) {
    let mut made = 0;
    let mut attempts = 0;
    while made < total && attempts < total * 50 {
        attempts += 1;
        let app = *b.rng.pick(APPS);
        let purpose = *b.rng.pick(BUCKET_PURPOSES);
        let account = b.rng.below(ACCOUNTS.len());
        let region = *b.rng.pick(&REGIONS);
        let env = env_short(ACCOUNTS[account].0);
        let name = if attempts > APPS.len() * BUCKET_PURPOSES.len() {
            format!("acme-{app}-{purpose}-{env}-{region}-{attempts}")
        } else {
            format!("acme-{app}-{purpose}-{env}-{region}")
        };
        // Bucket names are global.
        if !b.claim(&ResourceType::S3Bucket, &name, 0, "global") {
            continue;
        }
        let mut tag_map = b.base_tags(app, account);
        tag_map.insert("purpose".into(), purpose.into());
        let versioning = if b.rng.chance(50) { "Enabled" } else { "Suspended" };
        b.push(
            ResourceType::S3Bucket,
            name.clone(),
            name,
            account,
            region,
            "available",
            tag_map,
            attrs(&[("versioning", json!(versioning))]),
            Constraints::default(),
            vec![],
        );
        made += 1;
    }
}

fn add_lambda(b: &mut Builder, total: usize) {
    let mut made = 0;
    let mut attempts = 0;
    while made < total && attempts < total * 50 {
        attempts += 1;
        let app = *b.rng.pick(APPS);
        let (verb, description) = *b.rng.pick(LAMBDA_VERBS);
        // The same function deployed to every account, under the same name.
        let base = if attempts > APPS.len() * LAMBDA_VERBS.len() {
            format!("{app}-{verb}-{attempts}")
        } else {
            format!("{app}-{verb}")
        };
        let region = *b.rng.pick(&REGIONS);
        for account in 0..ACCOUNTS.len() {
            if made >= total || !b.claim(&ResourceType::LambdaFunction, &base, account, region) {
                continue;
            }
            let tag_map = b.base_tags(app, account);
            let runtime = *b.rng.pick(&["python3.12", "nodejs20.x", "java21", "provided.al2023"]);
            let memory_mb = 128 << b.rng.below(4);
            b.push(
                ResourceType::LambdaFunction,
                base.clone(),
                base.clone(),
                account,
                region,
                "Active",
                tag_map,
                attrs(&[
                    ("description", json!(description.replace("{app}", app))),
                    ("runtime", json!(runtime)),
                    ("memory_mb", json!(memory_mb)),
                ]),
                Constraints::default(),
                vec![],
            );
            made += 1;
        }
    }
}

fn add_elb(b: &mut Builder, total: usize) {
    let mut made = 0;
    let mut attempts = 0;
    while made < total && attempts < total * 50 {
        attempts += 1;
        let app = *b.rng.pick(APPS);
        let account = b.rng.below(ACCOUNTS.len());
        let region = *b.rng.pick(&REGIONS);
        let kind = if b.rng.chance(75) { "alb" } else { "nlb" };
        let env = env_short(ACCOUNTS[account].0);
        let serial = if attempts > APPS.len() * 6 { format!("-{attempts}") } else { String::new() };
        let name = format!("{app}-{kind}-{env}{serial}");
        if !b.claim(&ResourceType::ElbLoadBalancer, &name, account, region) {
            continue;
        }
        let tag_map = b.base_tags(app, account);
        let vpc = format!("vpc-{}", b.rng.hex(8));
        let subnets = vec![format!("subnet-{}", b.rng.hex(8)), format!("subnet-{}", b.rng.hex(8))];
        let mut dependencies = vec![vpc];
        let scheme = if b.rng.chance(60) { "internet-facing" } else { "internal" };
        dependencies.extend(subnets);
        b.push(
            ResourceType::ElbLoadBalancer,
            name.clone(),
            name,
            account,
            region,
            "active",
            tag_map,
            attrs(&[
                ("type", json!(if kind == "alb" { "application" } else { "network" })),
                ("scheme", json!(scheme)),
            ]),
            Constraints { deletion_protection: Some(account == 0), ..Constraints::default() },
            dependencies,
        );
        made += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_estate_has_the_design_shape() {
        let estate = generate(&DemoConfig::default());
        let count = |kind: ResourceType| estate.iter().filter(|r| r.resource_type == kind).count();
        assert_eq!(count(ResourceType::Ec2Instance), 2_500);
        assert_eq!(count(ResourceType::RdsInstance), 150);
        assert_eq!(count(ResourceType::S3Bucket), 430);
        assert_eq!(count(ResourceType::LambdaFunction), 85);
        assert_eq!(count(ResourceType::ElbLoadBalancer), 22);
        let arns: HashSet<&str> = estate.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(arns.len(), estate.len(), "ARNs are unique");
        assert_eq!(generate(&DemoConfig::default()), estate, "deterministic");
    }

    #[test]
    fn scales() {
        let estate = generate(&DemoConfig::with_total(20_000));
        assert!(estate.len() >= 20_000, "{}", estate.len());
        let arns: HashSet<&str> = estate.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(arns.len(), estate.len());
    }

    #[test]
    fn grown_estate_keeps_the_default_one() {
        let default = generate(&DemoConfig::default());
        let estate = grown(12_000);
        assert!(estate.len() >= 12_000, "{}", estate.len());
        assert_eq!(&estate[..default.len()], &default[..], "the default estate comes first");
        let arns: HashSet<&str> = estate.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(arns.len(), estate.len(), "ARNs are unique");
        assert_eq!(grown(100), default, "no smaller than the default estate");
    }
}

/// A query with the resource it must find first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabelledQuery {
    /// The category: `exact`, `id_arn`, `partial`, `near_duplicate`, `typo`, `semantic`,
    /// `scoped` or `tag`.
    pub category: String,
    /// What the operator types.
    pub query: String,
    /// The ARN of the one right answer.
    pub expected_arn: String,
}

/// Description queries, written by hand, for the landmark resources (by name).
const SEMANTIC_QUERIES: &[(&str, &str)] = &[
    ("the bucket with the postgres dumps", "acme-pg-dumps-prod"),
    ("where are the database backups stored", "acme-pg-dumps-prod"),
    ("bucket holding machine learning training data", "acme-ml-training-datasets"),
    ("the bucket that serves the website's static files", "acme-cdn-static-assets-prod"),
    ("where the invoice pdfs are archived", "acme-invoices-archive"),
    ("the terraform state bucket", "acme-terraform-state"),
    ("bucket with the security audit trail", "acme-cloudtrail-audit-logs"),
    ("files attached to customer support tickets", "acme-customer-support-attachments"),
    ("the production postgres of the main app", "pg-instance-main1"),
    ("the analytics data warehouse", "analytics-warehouse-pg"),
    ("the function that makes thumbnails for product pictures", "img-thumbnailer-prod"),
    ("lambda that handles refunds", "orders-refund-processor-prod"),
    ("the function that sends the cost report to finance", "nightly-cost-report"),
    ("function that emails new customers when they sign up", "user-signup-welcome-email"),
    ("the lambda receiving stripe payment callbacks", "stripe-webhook-handler"),
    ("function forwarding logs to elasticsearch", "log-shipper-elastic"),
    ("what renders invoices as pdf", "pdf-invoice-renderer"),
    ("the fraud detection model function", "fraud-score-model"),
    ("lambda that pages the on-call engineer in slack", "slack-oncall-pager"),
    ("function cleaning up old database snapshots", "db-snapshot-pruner"),
    ("the CI build server", "jenkins-ci-master"),
    ("the ssh jump host in production", "bastion-prod-use1"),
    ("the vpn box", "vpn-gateway-prod"),
    ("the monitoring dashboards server", "grafana-monitoring"),
    ("first kafka broker", "kafka-broker-prod-1"),
    // Paraphrases that share no word with the resource: only meaning finds these.
    ("giving customers their money back", "orders-refund-processor-prod"),
    ("greeting newcomers by mail", "user-signup-welcome-email"),
    ("spending summary for the accountants", "nightly-cost-report"),
    ("chat alerts for whoever is on duty", "slack-oncall-pager"),
    ("shrinking uploaded pictures", "img-thumbnailer-prod"),
];

fn name_tokens(name: &str) -> Vec<String> {
    crate::document::typed_words(name).collect()
}

/// Whether every query token is a prefix of a distinct-or-same token of the name.
fn tokens_cover(query: &[String], name: &[String]) -> bool {
    query.iter().all(|q| name.iter().any(|t| t.starts_with(q.as_str())))
}

fn typo(word: &str, variant: usize) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let position = 1 + variant % (chars.len() - 2);
    match variant % 3 {
        0 => {
            chars.remove(position);
        }
        1 => chars.swap(position, position + 1),
        _ => {
            let replacement = if chars[position] == 'e' { 'a' } else { 'e' };
            chars[position] = replacement;
        }
    }
    chars.into_iter().collect()
}

/// The labelled evaluation set for `resources` (the demo estate): about 25 queries in each
/// category. Ground truth comes from the data alone — a query is kept only when exactly one
/// resource satisfies it by construction (unique name, unique token cover, unique tag set) —
/// never from the engine being evaluated.
pub fn evaluation_set(resources: &[Resource]) -> Vec<LabelledQuery> {
    let mut out = Vec::new();
    let mut push = |category: &str, query: String, expected: &Resource| {
        out.push(LabelledQuery {
            category: category.to_owned(),
            query,
            expected_arn: expected.arn.clone(),
        });
    };
    let mut name_count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for resource in resources {
        *name_count.entry(resource.name.to_lowercase()).or_default() += 1;
    }
    let unique_names: Vec<&Resource> =
        resources.iter().filter(|r| name_count[&r.name.to_lowercase()] == 1).collect();
    let tokens: Vec<Vec<String>> = resources.iter().map(|r| name_tokens(&r.name)).collect();
    let covered_by_one =
        |query: &[String]| tokens.iter().filter(|name| tokens_cover(query, name)).count() == 1;
    let stride = |items: usize, wanted: usize| (items / wanted.max(1)).max(1);

    // exact: unique names, across types.
    let step = stride(unique_names.len(), 25);
    for resource in unique_names.iter().step_by(step).take(25) {
        push("exact", resource.name.clone(), resource);
    }

    // id_arn: instance ids, ARNs of every type, id prefixes of 12 characters.
    let instances: Vec<&Resource> =
        resources.iter().filter(|r| r.resource_type == ResourceType::Ec2Instance).collect();
    for resource in instances.iter().step_by(stride(instances.len(), 9)).take(9) {
        push("id_arn", resource.id.clone(), resource);
    }
    for resource in resources.iter().step_by(stride(resources.len(), 8)).take(8) {
        push("id_arn", resource.arn.clone(), resource);
    }
    for resource in instances.iter().skip(3).step_by(stride(instances.len(), 8)).take(8) {
        let prefix: String = resource.id.chars().take(12).collect();
        if instances.iter().filter(|r| r.id.starts_with(&prefix)).count() == 1 {
            push("id_arn", prefix, resource);
        }
    }

    // partial: drop a word of the name, or cut the last word short, when that still
    // points at one resource only.
    let mut partial = 0;
    for (index, resource) in resources.iter().enumerate().step_by(7) {
        if partial >= 25 {
            break;
        }
        let name = &tokens[index];
        if name.len() < 3 {
            continue;
        }
        let mut candidates: Vec<Vec<String>> = Vec::new();
        for drop in 1..name.len() - 1 {
            let mut query = name.clone();
            query.remove(drop);
            candidates.push(query);
        }
        let mut cut = name.clone();
        if let Some(last) = cut.last_mut()
            && last.chars().any(|c| c.is_ascii_digit())
            && last.chars().any(|c| c.is_alphabetic())
        {
            *last = last.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned();
            candidates.push(cut);
        }
        if let Some(query) = candidates.into_iter().find(|q| covered_by_one(q)) {
            push("partial", query.join("-"), resource);
            partial += 1;
        }
    }
    // The design's examples.
    if let Some(main1) = resources.iter().find(|r| r.name == "pg-instance-main1") {
        for query in ["pg-main1", "pg-instance-main", "instance main1"] {
            push("partial", query.to_owned(), main1);
        }
    }

    // near_duplicate: one of many numbered siblings, written loosely ("checkout web prod 7").
    let siblings: Vec<&Resource> = unique_names
        .iter()
        .copied()
        .filter(|r| {
            r.resource_type == ResourceType::Ec2Instance
                && r.name.ends_with(|c: char| c.is_ascii_digit())
        })
        .filter(|r| r.name.matches('-').count() == 3)
        .collect();
    for resource in siblings.iter().skip(1).step_by(stride(siblings.len(), 25)).take(25) {
        push("near_duplicate", name_tokens(&resource.name).join(" "), resource);
    }

    // typo: one deletion, transposition or substitution in the longest word of a unique name.
    let mut typos = 0;
    for (variant, resource) in unique_names.iter().skip(2).step_by(11).enumerate() {
        if typos >= 25 {
            break;
        }
        let words: Vec<&str> = resource.name.split('-').collect();
        let Some(longest) = words
            .iter()
            .filter(|w| w.len() >= 5 && w.chars().all(|c| c.is_ascii_alphabetic()))
            .max_by_key(|w| w.len())
        else {
            continue;
        };
        let misspelt = resource.name.replacen(longest, &typo(longest, variant), 1);
        if name_count.contains_key(&misspelt.to_lowercase()) {
            continue;
        }
        push("typo", misspelt, resource);
        typos += 1;
    }

    // semantic: descriptions written by hand.
    for (query, name) in SEMANTIC_QUERIES {
        if let Some(resource) = resources.iter().find(|r| r.name == *name) {
            push("semantic", (*query).to_owned(), resource);
        }
    }

    // scoped: the same name in several accounts or regions, told apart by the scope.
    let mut scoped = 0;
    let account_words = ["production", "staging", "development"];
    for resource in resources.iter().filter(|r| name_count[&r.name.to_lowercase()] > 1).step_by(3) {
        if scoped >= 15 {
            break;
        }
        let same_name: Vec<&Resource> =
            resources.iter().filter(|r| r.name == resource.name).collect();
        let same_account = same_name.iter().filter(|r| r.account_id == resource.account_id).count();
        if same_account == 1 {
            let account = account_words
                .iter()
                .find(|word| **word == resource.account_name)
                .copied()
                .unwrap_or("production");
            push("scoped", format!("{} in {account}", resource.name), resource);
            scoped += 1;
        } else if same_name
            .iter()
            .filter(|r| r.account_id == resource.account_id && r.region == resource.region)
            .count()
            == 1
        {
            push(
                "scoped",
                format!("{} {} {}", resource.name, resource.account_name, resource.region),
                resource,
            );
            scoped += 1;
        }
    }
    // Type scope: the only database (or load balancer) of an app in one account and region.
    for (word, kind) in
        [("database", ResourceType::RdsInstance), ("load balancer", ResourceType::ElbLoadBalancer)]
    {
        let mut made = 0;
        for resource in resources.iter().filter(|r| r.resource_type == kind) {
            if made >= 5 {
                break;
            }
            let Some(app) = resource.tags.get("app") else { continue };
            let matching = resources
                .iter()
                .filter(|r| {
                    r.resource_type == kind
                        && r.account_id == resource.account_id
                        && r.region == resource.region
                        && r.tags.get("app") == Some(app)
                })
                .count();
            if matching == 1 && !resource.name.contains("replica") {
                push(
                    "scoped",
                    format!("the {app} {word} in {} {}", resource.account_name, resource.region),
                    resource,
                );
                made += 1;
            }
        }
    }

    // tag: the fewest tag filters (plus a type word) that single the resource out.
    let mut tagged = 0;
    for resource in resources.iter().skip(5).step_by(13) {
        if tagged >= 25 {
            break;
        }
        let keys = ["app", "owner", "team", "env", "cost-center", "purpose", "role"];
        let pairs: Vec<(&str, &String)> =
            keys.iter().filter_map(|k| resource.tags.get(*k).map(|v| (*k, v))).collect();
        let kind_word = match resource.resource_type {
            ResourceType::Ec2Instance => "server",
            ResourceType::RdsInstance => "database",
            ResourceType::S3Bucket => "bucket",
            ResourceType::LambdaFunction => "function",
            _ => "load balancer",
        };
        let mut chosen: Vec<(&str, &String)> = Vec::new();
        for pair in &pairs {
            chosen.push(*pair);
            let matching = resources
                .iter()
                .filter(|r| {
                    r.resource_type == resource.resource_type
                        && chosen.iter().all(|(k, v)| {
                            r.tags.get(*k).is_some_and(|value| {
                                crate::model::normalize_environment(value)
                                    == crate::model::normalize_environment(v)
                            })
                        })
                })
                .count();
            if matching == 1 {
                let filters: Vec<String> = chosen.iter().map(|(k, v)| format!("{k}={v}")).collect();
                push("tag", format!("{kind_word} {}", filters.join(" ")), resource);
                tagged += 1;
                break;
            }
        }
    }
    out
}
