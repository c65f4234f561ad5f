//! Realistic resources and requests shared by the tests.

use std::sync::{Arc, OnceLock};

use cloudops_core::{EnrichedRequest, HashEmbedder, IdentifiedResource};
use cloudops_playbooks::{Library, Planner};
use serde_json::json;

/// The design's example request (`seed-architecture.md`, PHASE 2), as written there except
/// for the literal `...` in `available_permissions`, which is not JSON.
pub const DESIGN_REQUEST: &str = r#"{
  "prompt": "Stop pg-instance-main1",

  "identified_resources": [
    {
      "resource_type": "rds_instance",
      "db_instance_identifier": "pg-instance-main1",
      "account_id": "123456789012",
      "region": "us-west-2",
      "current_state": "available",
      "engine": "postgres",
      "engine_version": "14.7",
      "multi_az": true,
      "tags": {"environment": "production"},
      "available_permissions": ["rds:StopDBInstance"],
      "constraints": {
        "can_stop": true,
        "has_read_replicas": false,
        "automated_backups_enabled": true
      }
    }
  ],

  "user_context": {
    "user_id": "user-123",
    "default_region": "us-west-2",
    "aws_accounts": ["123456789012"]
  }
}"#;

pub fn design_request() -> EnrichedRequest {
    serde_json::from_str(DESIGN_REQUEST).expect("the design's request parses")
}

/// One planner over the built-in library for the whole test binary (hashing embedder:
/// deterministic, no model needed).
pub fn planner() -> &'static Planner {
    static PLANNER: OnceLock<Planner> = OnceLock::new();
    PLANNER.get_or_init(|| {
        Planner::new(Library::builtin(), Arc::new(HashEmbedder))
            .expect("the built-in library indexes")
    })
}

/// A realistic resource of `kind` in `state` (empty: the usual state of that kind).
pub fn resource(kind: &str, state: &str) -> IdentifiedResource {
    let value = match kind {
        "ec2_instance" => json!({
            "resource_type": "ec2_instance",
            "arn": "arn:aws:ec2:us-west-2:123456789012:instance/i-0a1b2c3d4e5f60718",
            "id": "i-0a1b2c3d4e5f60718",
            "name": "checkout-web-prod-01",
            "account_id": "123456789012",
            "account_name": "production",
            "region": "us-west-2",
            "current_state": if state.is_empty() { "running" } else { state },
            "tags": {"Name": "checkout-web-prod-01", "env": "prod", "app": "checkout", "team": "payments"},
            "instance_type": "m5.large",
            "vpc_id": "vpc-0f1e2d3c4b5a69788",
            "platform": "linux",
            "root_device_type": "ebs",
            "volume_ids": ["vol-0123456789abcdef0"],
            "termination_protection": false,
            "constraints": {"can_stop": true, "termination_protection": false}
        }),
        "rds_instance" => json!({
            "resource_type": "rds_instance",
            "arn": "arn:aws:rds:us-west-2:123456789012:db:pg-instance-main1",
            "id": "pg-instance-main1",
            "account_id": "123456789012",
            "account_name": "production",
            "region": "us-west-2",
            "current_state": if state.is_empty() { "available" } else { state },
            "tags": {"environment": "production", "app": "main"},
            "engine": "postgres",
            "engine_version": "14.7",
            "instance_class": "db.r6g.large",
            "storage_type": "gp3",
            "allocated_storage": 200,
            "multi_az": true,
            "constraints": {
                "can_stop": true, "has_read_replicas": false, "deletion_protection": false,
                "automated_backups_enabled": true, "multi_az": true
            }
        }),
        "s3_bucket" => json!({
            "resource_type": "s3_bucket",
            "arn": "arn:aws:s3:::acme-prod-postgres-dumps",
            "id": "acme-prod-postgres-dumps",
            "account_id": "123456789012",
            "account_name": "production",
            "region": "us-east-1",
            "current_state": if state.is_empty() { "available" } else { state },
            "tags": {"env": "prod", "purpose": "postgres dumps"},
            "versioning": "Suspended",
            "encryption": "AES256",
            "public_access_blocked": false,
            "constraints": {}
        }),
        "lambda_function" => json!({
            "resource_type": "lambda_function",
            "arn": "arn:aws:lambda:eu-west-1:210987654321:function:checkout-handler",
            "id": "checkout-handler",
            "account_id": "210987654321",
            "account_name": "staging",
            "region": "eu-west-1",
            "current_state": if state.is_empty() { "Active" } else { state },
            "tags": {"env": "staging", "app": "checkout"},
            "runtime": "python3.12",
            "description": "Handles checkout events",
            "memory_size": 512,
            "timeout": 30,
            "aliases": ["live"],
            "constraints": {}
        }),
        "elb_load_balancer" => json!({
            "resource_type": "elb_load_balancer",
            "arn": "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/checkout-alb/50dc6c495c0c9188",
            "id": "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/checkout-alb/50dc6c495c0c9188",
            "name": "checkout-alb",
            "account_id": "123456789012",
            "account_name": "production",
            "region": "us-west-2",
            "current_state": if state.is_empty() { "active" } else { state },
            "tags": {"env": "prod", "app": "checkout"},
            "type": "application",
            "scheme": "internet-facing",
            "vpc_id": "vpc-0f1e2d3c4b5a69788",
            "dns_name": "checkout-alb-123.us-west-2.elb.amazonaws.com",
            "constraints": {"deletion_protection": false}
        }),
        other => panic!("no fixture for {other}"),
    };
    serde_json::from_value(value).expect("fixture parses")
}

pub fn request(prompt: &str, resources: Vec<IdentifiedResource>) -> EnrichedRequest {
    EnrichedRequest {
        prompt: prompt.into(),
        identified_resources: resources,
        user_context: Default::default(),
        parameters: Default::default(),
    }
}
