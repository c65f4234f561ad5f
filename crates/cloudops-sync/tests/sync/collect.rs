//! The collectors against moto: resources created through the SDK come back exactly.

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{
    InstanceType, ResourceType as Ec2ResourceType, Tag as Ec2Tag, TagSpecification,
};
use cloudops_core::{AccountConfig, Resource};
use cloudops_sync::collect::{ec2, elbv2, lambda, rds, s3};
use cloudops_sync::{Connection, connect};

use crate::moto::{ACCOUNT, AMI, EMPTY_ZIP, Moto, credentials};

const REGION: &str = "us-east-1";

async fn connection(moto: &Moto, account: AccountConfig) -> Connection {
    connect(&account, REGION, Some(credentials()), &moto.connect_config())
        .await
        .expect("connect to moto")
}

fn account(name: &str) -> AccountConfig {
    AccountConfig { name: name.into(), regions: vec![REGION.into()], ..Default::default() }
}

fn named<'a>(resources: &'a [Resource], name: &str) -> &'a Resource {
    resources
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no resource named {name}: {resources:#?}"))
}

/// Runs one tagged instance per name; returns their ids.
pub async fn run_instances(config: &SdkConfig, names: &[&str]) -> Vec<String> {
    let client = aws_sdk_ec2::Client::new(config);
    let mut ids = Vec::new();
    for name in names {
        let output = client
            .run_instances()
            .image_id(AMI)
            .instance_type(InstanceType::T2Micro)
            .min_count(1)
            .max_count(1)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(Ec2ResourceType::Instance)
                    .tags(Ec2Tag::builder().key("Name").value(*name).build())
                    .tags(Ec2Tag::builder().key("env").value("prod").build())
                    .build(),
            )
            .send()
            .await
            .expect("run instance");
        ids.push(output.instances()[0].instance_id().expect("an id").to_owned());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collects_a_small_estate_from_moto() {
    let moto = Moto::start();
    let connection = connection(&moto, account("production")).await;
    assert_eq!(connection.scope.account_id, ACCOUNT);
    assert_eq!(connection.scope.account_name, "production");
    let config = &connection.sdk_config;

    // EC2: three instances, one stopped.
    let ids = run_instances(config, &["web-01", "web-02", "batch-01"]).await;
    let ec2_client = connection.ec2();
    ec2_client.stop_instances().instance_ids(&ids[2]).send().await.expect("stop");
    ec2_client
        .modify_instance_attribute()
        .instance_id(&ids[0])
        .disable_api_termination(
            aws_sdk_ec2::types::AttributeBooleanValue::builder().value(true).build(),
        )
        .send()
        .await
        .expect("protect");

    // RDS: a primary and its read replica.
    let rds_client = connection.rds();
    rds_client
        .create_db_instance()
        .db_instance_identifier("pg-main")
        .engine("postgres")
        .engine_version("14.7")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin_user")
        .master_user_password("password-123")
        .backup_retention_period(7)
        .deletion_protection(true)
        .tags(aws_sdk_rds::types::Tag::builder().key("env").value("production").build())
        .send()
        .await
        .expect("create db");
    rds_client
        .create_db_instance_read_replica()
        .db_instance_identifier("pg-main-replica")
        .source_db_instance_identifier("pg-main")
        .send()
        .await
        .expect("create replica");

    // S3: two buckets in two regions, one tagged and versioned.
    let s3_client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config).force_path_style(true).build(),
    );
    s3_client.create_bucket().bucket("acme-pg-dumps").send().await.expect("create bucket");
    s3_client
        .put_bucket_tagging()
        .bucket("acme-pg-dumps")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("purpose")
                        .value("postgres-dumps")
                        .build()
                        .expect("tag"),
                )
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("tag bucket");
    s3_client
        .put_bucket_versioning()
        .bucket("acme-pg-dumps")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("version bucket");
    s3_client
        .create_bucket()
        .bucket("acme-eu-logs")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("create eu bucket");

    // Lambda: one function with tags (moto checks that the role exists).
    let role_arn = crate::incremental::lambda_role(config).await;
    connection
        .lambda()
        .create_function()
        .function_name("thumbnailer")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role_arn)
        .handler("app.handler")
        .description("makes thumbnails")
        .memory_size(256)
        .timeout(30)
        .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(EMPTY_ZIP.into()).build())
        .tags("team", "media")
        .send()
        .await
        .expect("create function");

    // ELBv2: an internet-facing ALB over two subnets of a new VPC.
    let vpc = ec2_client.create_vpc().cidr_block("10.1.0.0/16").send().await.expect("vpc");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_owned();
    let mut subnets = Vec::new();
    for (cidr, zone) in [("10.1.1.0/24", "us-east-1a"), ("10.1.2.0/24", "us-east-1b")] {
        let subnet = ec2_client
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .expect("subnet");
        subnets.push(subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_owned());
    }
    connection
        .elbv2()
        .create_load_balancer()
        .name("web-alb")
        // moto leaves Scheme out of DescribeLoadBalancers unless it was given here
        .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::InternetFacing)
        .subnets(&subnets[0])
        .subnets(&subnets[1])
        .tags(aws_sdk_elasticloadbalancingv2::types::Tag::builder().key("app").value("web").build())
        .send()
        .await
        .expect("create lb");

    let scope = &connection.scope;

    let instances =
        ec2::collect(&ec2_client, scope, ec2::Ec2Options::default()).await.expect("ec2");
    assert_eq!(instances.len(), 3, "{instances:#?}");
    let web = named(&instances, "web-01");
    assert_eq!(web.arn, format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{}", ids[0]));
    assert_eq!(web.account_id, ACCOUNT);
    assert_eq!(web.account_name, "production");
    assert_eq!(web.region, REGION);
    assert_eq!(web.state, "running");
    assert_eq!(web.tags["env"], "prod");
    assert_eq!(web.attribute_str("instance_type"), Some("t2.micro"));
    assert_eq!(web.attribute_str("root_device_type"), Some("ebs"));
    assert_eq!(web.constraints.can_stop, Some(true));
    assert_eq!(web.constraints.other["termination_protection"], true);
    assert!(
        web.dependencies[0].starts_with(&format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-")),
        "{:?}",
        web.dependencies
    );
    assert_eq!(named(&instances, "batch-01").state, "stopped");
    assert_eq!(named(&instances, "web-02").constraints.other["termination_protection"], false);

    let databases = rds::collect(&rds_client, scope).await.expect("rds");
    assert_eq!(databases.len(), 2, "{databases:#?}");
    let primary = named(&databases, "pg-main");
    let replica = named(&databases, "pg-main-replica");
    assert_eq!(primary.arn, format!("arn:aws:rds:us-east-1:{ACCOUNT}:db:pg-main"));
    assert_eq!(primary.state, "available");
    assert_eq!(primary.attribute_str("engine"), Some("postgres"));
    assert_eq!(primary.attribute_str("instance_class"), Some("db.t3.micro"));
    assert_eq!(primary.attributes["allocated_storage"], 20);
    assert_eq!(primary.tags["env"], "production");
    assert_eq!(primary.constraints.has_read_replicas, Some(true));
    assert_eq!(primary.constraints.deletion_protection, Some(true));
    assert_eq!(primary.constraints.automated_backups_enabled, Some(true));
    assert_eq!(primary.constraints.can_stop, Some(true));
    assert_eq!(replica.dependencies, std::slice::from_ref(&primary.arn));
    assert_eq!(replica.constraints.can_stop, Some(false));
    assert_eq!(replica.constraints.has_read_replicas, Some(false));

    let buckets =
        s3::collect(config, scope, s3::S3Options { force_path_style: true }).await.expect("s3");
    assert_eq!(buckets.len(), 2, "{buckets:#?}");
    let dumps = named(&buckets, "acme-pg-dumps");
    assert_eq!(dumps.arn, "arn:aws:s3:::acme-pg-dumps");
    assert_eq!(dumps.region, "us-east-1");
    assert_eq!(dumps.account_id, ACCOUNT);
    assert_eq!(dumps.tags["purpose"], "postgres-dumps");
    assert_eq!(dumps.attribute_str("versioning"), Some("Enabled"));
    let logs = named(&buckets, "acme-eu-logs");
    assert_eq!(logs.region, "eu-west-1");
    assert!(logs.tags.is_empty());
    assert_eq!(logs.attribute_str("versioning"), Some("Disabled"));
    assert_eq!(logs.attributes["public_access_blocked"], false);

    let functions = lambda::collect(&connection.lambda(), scope).await.expect("lambda");
    assert_eq!(functions.len(), 1, "{functions:#?}");
    let function = &functions[0];
    assert_eq!(function.arn, format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:thumbnailer"));
    assert_eq!(function.attribute_str("runtime"), Some("python3.12"));
    assert_eq!(function.attribute_str("description"), Some("makes thumbnails"));
    assert_eq!(function.attributes["memory_size"], 256);
    assert_eq!(function.attributes["timeout"], 30);
    assert_eq!(function.tags["team"], "media");

    let load_balancers = elbv2::collect(&connection.elbv2(), scope).await.expect("elbv2");
    assert_eq!(load_balancers.len(), 1, "{load_balancers:#?}");
    let alb = &load_balancers[0];
    assert_eq!(alb.name, "web-alb");
    assert!(
        alb.arn.starts_with(&format!(
            "arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/web-alb/"
        )),
        "{}",
        alb.arn
    );
    assert_eq!(alb.attribute_str("type"), Some("application"));
    assert_eq!(alb.attribute_str("scheme"), Some("internet-facing"));
    assert_eq!(alb.attribute_str("vpc_id"), Some(vpc_id.as_str()));
    assert_eq!(alb.tags["app"], "web");
    assert_eq!(alb.constraints.deletion_protection, Some(false));
    assert_eq!(alb.dependencies.len(), 3, "{:?}", alb.dependencies);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assumed_role_acts_in_its_account() {
    let moto = Moto::start();
    let base = connection(&moto, account("production")).await;
    let staging = connection(
        &moto,
        AccountConfig {
            role_arn: Some("arn:aws:iam::111111111111:role/x".into()),
            ..account("staging")
        },
    )
    .await;
    assert_eq!(staging.scope.account_id, "111111111111");
    assert_eq!(staging.scope.account_name, "staging");

    run_instances(&base.sdk_config, &["base-01"]).await;
    run_instances(&staging.sdk_config, &["staging-01", "staging-02"]).await;

    let options = ec2::Ec2Options::default();
    let in_base = ec2::collect(&base.ec2(), &base.scope, options).await.expect("base ec2");
    let in_staging =
        ec2::collect(&staging.ec2(), &staging.scope, options).await.expect("staging ec2");
    assert_eq!(in_base.len(), 1, "{in_base:#?}");
    assert_eq!(in_staging.len(), 2, "{in_staging:#?}");
    for resource in &in_staging {
        assert_eq!(resource.account_id, "111111111111");
        assert_eq!(resource.account_name, "staging");
        assert!(
            resource.arn.starts_with("arn:aws:ec2:us-east-1:111111111111:instance/i-"),
            "{}",
            resource.arn
        );
    }
    assert_eq!(in_base[0].account_id, ACCOUNT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_read() {
    let moto = Moto::start();
    let connection = connection(&moto, account("production")).await;
    // DescribeInstances pages reservations: 1 + 11 reservations, 5 per page, make 3 pages.
    connection
        .ec2()
        .run_instances()
        .image_id(AMI)
        .instance_type(InstanceType::T2Micro)
        .min_count(1000)
        .max_count(1000)
        .send()
        .await
        .expect("run instances");
    let names: Vec<String> = (1..=11).map(|n| format!("small-{n:02}")).collect();
    run_instances(&connection.sdk_config, &names.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let first_page =
        connection.ec2().describe_instances().max_results(5).send().await.expect("page");
    assert!(first_page.next_token().is_some(), "moto paginates DescribeInstances");
    let options = ec2::Ec2Options { termination_protection: false, page_size: 5 };
    let instances = ec2::collect(&connection.ec2(), &connection.scope, options).await.expect("ec2");
    assert_eq!(instances.len(), 1011);
    let unique: std::collections::HashSet<&str> =
        instances.iter().map(|r| r.arn.as_str()).collect();
    assert_eq!(unique.len(), 1011);
    assert!(instances.iter().all(|r| !r.constraints.other.contains_key("termination_protection")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_is_unavailable() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let config = cloudops_sync::ConnectConfig {
        endpoint_url: Some(format!("http://127.0.0.1:{closed_port}")),
        max_attempts: 1,
        ..Default::default()
    };
    let error = connect(&account("production"), REGION, Some(credentials()), &config)
        .await
        .expect_err("nothing listens there");
    assert_eq!(error.kind(), cloudops_core::ErrorKind::Unavailable, "{error}");
    assert_eq!(error.code(), None);
    assert!(error.to_string().starts_with("sts GetCallerIdentity: "), "{error}");
}
