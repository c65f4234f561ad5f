//! The normalized resource model every frontend shares.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of AWS resource.
///
/// Serialized in `snake_case` (`ec2_instance`, `rds_instance`, …). Kinds this build does not
/// know are kept verbatim in [`ResourceType::Other`], so an estate written by a newer client
/// still loads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    /// An EC2 instance.
    Ec2Instance,
    /// An RDS DB instance.
    RdsInstance,
    /// An S3 bucket.
    S3Bucket,
    /// A Lambda function.
    LambdaFunction,
    /// An Elastic Load Balancing (v2) load balancer.
    ElbLoadBalancer,
    /// Any other kind, by its snake_case name.
    Other(String),
}

impl ResourceType {
    /// The kinds this build knows, in display order.
    pub const KNOWN: [ResourceType; 5] = [
        ResourceType::Ec2Instance,
        ResourceType::RdsInstance,
        ResourceType::S3Bucket,
        ResourceType::LambdaFunction,
        ResourceType::ElbLoadBalancer,
    ];

    /// The serialized name, e.g. `rds_instance`.
    pub fn as_str(&self) -> &str {
        match self {
            ResourceType::Ec2Instance => "ec2_instance",
            ResourceType::RdsInstance => "rds_instance",
            ResourceType::S3Bucket => "s3_bucket",
            ResourceType::LambdaFunction => "lambda_function",
            ResourceType::ElbLoadBalancer => "elb_load_balancer",
            ResourceType::Other(name) => name,
        }
    }

    /// Words an operator may use for this kind; they are indexed so that "database" finds
    /// RDS instances even when no name says so.
    pub fn synonyms(&self) -> &'static [&'static str] {
        match self {
            ResourceType::Ec2Instance => &["ec2", "instance", "server", "host", "vm", "machine"],
            ResourceType::RdsInstance => &["rds", "database", "db"],
            ResourceType::S3Bucket => &["s3", "bucket", "storage"],
            ResourceType::LambdaFunction => &["lambda", "function", "serverless"],
            ResourceType::ElbLoadBalancer => &["elb", "alb", "nlb", "load", "balancer"],
            ResourceType::Other(_) => &[],
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceType {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(match value {
            "ec2_instance" => ResourceType::Ec2Instance,
            "rds_instance" => ResourceType::RdsInstance,
            "s3_bucket" => ResourceType::S3Bucket,
            "lambda_function" => ResourceType::LambdaFunction,
            "elb_load_balancer" => ResourceType::ElbLoadBalancer,
            other => ResourceType::Other(other.to_owned()),
        })
    }
}

impl Serialize for ResourceType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResourceType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(name.parse().unwrap_or(ResourceType::Other(name)))
    }
}

/// In OpenAPI as it is serialized: a string, the [`ResourceType::KNOWN`] names as examples.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ResourceType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let known = ResourceType::KNOWN.map(|kind| kind.as_str().to_owned());
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "The kind of AWS resource, in snake_case: a kind this build knows, or any other.",
            ))
            .examples(known)
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ResourceType {}

/// In TypeScript as it is serialized: one of the [`ResourceType::KNOWN`] names, or any other
/// string.
#[cfg(feature = "ts")]
impl ts_rs::TS for ResourceType {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn docs() -> Option<String> {
        Some(ts_rs::format_docs(&[
            " The kind of AWS resource: a kind this build knows, or any other snake_case name.",
        ]))
    }

    fn name(_: &ts_rs::Config) -> String {
        "ResourceType".to_owned()
    }

    fn inline(_: &ts_rs::Config) -> String {
        let known = ResourceType::KNOWN.iter().map(|kind| format!("\"{kind}\""));
        known.chain(["(string & {})".to_owned()]).collect::<Vec<_>>().join(" | ")
    }

    fn decl(cfg: &ts_rs::Config) -> String {
        format!("type ResourceType = {};", Self::inline(cfg))
    }

    fn decl_concrete(cfg: &ts_rs::Config) -> String {
        Self::decl(cfg)
    }

    fn output_path() -> Option<std::path::PathBuf> {
        Some("ResourceType.ts".into())
    }
}

/// One AWS resource as the client knows it, normalized across services.
///
/// This is the unit of the local estate: it is what sync writes, what lookup returns, and
/// what the client sends (trimmed) to the planner in an enriched request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Resource {
    /// The resource's ARN; the key of the estate.
    pub arn: String,
    /// The kind of resource.
    pub resource_type: ResourceType,
    /// The service's own identifier (`i-0abc…`, the DB instance identifier, the bucket name…).
    pub id: String,
    /// The human name: the `Name` tag, or the identifier where the service has no other name.
    #[serde(default)]
    pub name: String,
    /// The 12-digit AWS account id.
    pub account_id: String,
    /// The account's name from the client's configuration (`production`, `staging`…).
    #[serde(default)]
    pub account_name: String,
    /// The AWS region (`us-west-2`); S3 buckets carry their bucket region.
    pub region: String,
    /// The lifecycle state as the service reports it (`running`, `available`, `stopped`…).
    #[serde(default)]
    pub state: String,
    /// The resource's tags. Untrusted text: never interpreted as instructions.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Type-specific attributes: engine, engine_version, instance_class, instance_type,
    /// multi_az, runtime, description, …
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Facts derived from configuration that operations must respect.
    #[serde(default)]
    pub constraints: Constraints,
    /// IAM actions known to be allowed on this resource: of those the playbook library's
    /// operations on its type need, what the sync found the credentials may do (by IAM policy
    /// simulation, or the identity's own policies judged locally). Empty when not known
    /// (never invented).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Of the same actions, those the credentials may not do (an explicit `Deny`, or nothing
    /// allows them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions_denied: Vec<String>,
    /// Of the same actions, those that could not be decided (conditions, resource policies,
    /// policies that could not be read): unknown, never taken as allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions_unknown: Vec<String>,
    /// ARNs or ids of resources this one depends on (replica source, VPC, subnets…).
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// When a sync observed this version of the resource (RFC 3339, UTC). Not part of the
    /// content hash: a resource a later sync finds unchanged is not rewritten, so this is the
    /// time its current content was first seen; when its scope was last confirmed is in the
    /// sync state (`cloudops estate status`).
    #[serde(default)]
    pub last_seen: String,
}

/// Operational constraints derived from a resource's configuration.
///
/// Every field is optional: `None` means "not known", which is different from `false`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Constraints {
    /// Whether the resource can be stopped at all (e.g. instance-store roots and RDS read
    /// replicas cannot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_stop: Option<bool>,
    /// Whether the DB instance has read replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_read_replicas: Option<bool>,
    /// Whether deletion (or termination) protection is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
    /// Whether automated backups are enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated_backups_enabled: Option<bool>,
    /// Whether the resource is deployed across availability zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_az: Option<bool>,
    /// Other derived facts, by name.
    #[serde(default, flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl Resource {
    /// A string attribute, if present.
    pub fn attribute_str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(|value| value.as_str())
    }

    /// The environment this resource belongs to, normalized (`production`, `staging`,
    /// `development`, …): from an `env`/`environment`/`stage` tag, else the account name.
    pub fn environment(&self) -> Option<String> {
        environment_of(&self.tags, &self.account_name)
    }
}

/// The normalized environment named by `tags` (`env`/`environment`/`stage`), else by the
/// account name.
pub(crate) fn environment_of(
    tags: &BTreeMap<String, String>,
    account_name: &str,
) -> Option<String> {
    ["env", "environment", "stage", "Environment", "Env", "Stage"]
        .iter()
        .find_map(|key| tags.get(*key))
        .map(|value| normalize_environment(value))
        .or_else(|| (!account_name.is_empty()).then(|| normalize_environment(account_name)))
}

/// Maps the common spellings of an environment to one canonical word.
pub fn normalize_environment(value: &str) -> String {
    let lower = value.trim().to_lowercase();
    match lower.as_str() {
        "prod" | "production" | "prd" | "live" => "production".to_owned(),
        "stg" | "stage" | "staging" => "staging".to_owned(),
        "dev" | "development" | "develop" => "development".to_owned(),
        "test" | "testing" | "qa" => "test".to_owned(),
        _ => lower,
    }
}
