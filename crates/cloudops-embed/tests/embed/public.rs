//! The second evaluation set (`public_set.yaml`): resource names, tags and descriptions after
//! the naming of public infrastructure code (Terraform modules, CloudFormation and SAM
//! templates, company infrastructure repositories on GitHub; each resource names its source),
//! with queries written by hand before any engine saw them. Unlike the demo estate's set, it
//! was not made by the hands that tune the ranking. About a third of each category is held
//! out: never look at its misses to tune anything.
//!
//! Shared by the `evaluation` tests and the `eval` example (`#[path]`), so both read it the
//! same way.

use std::collections::BTreeMap;

use cloudops_core::demo::LabelledQuery;
use cloudops_core::{Constraints, Resource, ResourceType};
use serde_json::Value;

/// The resources and the labelled queries; each query's category is `<category>/<split>`
/// (`semantic/heldout`).
pub fn load() -> (Vec<Resource>, Vec<LabelledQuery>) {
    let text = include_str!("public_set.yaml");
    let set: Value = serde_yaml_ng::from_str(text).expect("public_set.yaml is valid YAML");
    let field = |entry: &Value, name: &str| -> String {
        entry[name].as_str().unwrap_or_else(|| panic!("{name} missing in {entry}")).to_owned()
    };
    let mut arns: BTreeMap<String, String> = BTreeMap::new();
    let mut resources = Vec::new();
    for entry in set["resources"].as_array().expect("resources") {
        let key = field(entry, "key");
        let kind = field(entry, "type");
        let name = field(entry, "name");
        let region = field(entry, "region");
        let account_name = field(entry, "account");
        let account_id = match account_name.as_str() {
            "production" => "111122223333",
            "staging" => "444455556666",
            "development" => "777788889999",
            other => panic!("unknown account {other}"),
        }
        .to_owned();
        let mut tags: BTreeMap<String, String> = entry["tags"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect();
        let mut attributes: BTreeMap<String, Value> = entry["attributes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(description) = entry["description"].as_str() {
            attributes.insert("description".into(), Value::String(description.into()));
        }
        // Identifiers as AWS makes them, derived from the key so that runs agree.
        let hex = {
            use std::hash::{DefaultHasher, Hash, Hasher};
            let mut hasher = DefaultHasher::new();
            key.hash(&mut hasher);
            format!("{:016x}", hasher.finish())
        };
        let (resource_type, id, arn) = match kind.as_str() {
            "ec2_instance" => {
                tags.entry("Name".into()).or_insert_with(|| name.clone());
                let id = format!("i-0{}", &hex[..16]);
                let arn = format!("arn:aws:ec2:{region}:{account_id}:instance/{id}");
                (ResourceType::Ec2Instance, id, arn)
            }
            "rds_instance" => {
                let arn = format!("arn:aws:rds:{region}:{account_id}:db:{name}");
                (ResourceType::RdsInstance, name.clone(), arn)
            }
            "s3_bucket" => (ResourceType::S3Bucket, name.clone(), format!("arn:aws:s3:::{name}")),
            "lambda_function" => {
                let arn = format!("arn:aws:lambda:{region}:{account_id}:function:{name}");
                (ResourceType::LambdaFunction, name.clone(), arn)
            }
            "elb_load_balancer" => {
                let scheme = if attributes.get("type").and_then(Value::as_str) == Some("network") {
                    "net"
                } else {
                    "app"
                };
                let arn = format!(
                    "arn:aws:elasticloadbalancing:{region}:{account_id}:loadbalancer/{scheme}/{name}/{}",
                    &hex[..16]
                );
                (ResourceType::ElbLoadBalancer, name.clone(), arn)
            }
            other => panic!("unknown type {other}"),
        };
        assert!(arns.insert(key, arn.clone()).is_none(), "duplicate key");
        resources.push(Resource {
            arn,
            resource_type,
            id,
            name,
            account_id,
            account_name,
            region,
            state: field(entry, "state"),
            tags,
            attributes,
            constraints: Constraints::default(),
            permissions: Vec::new(),
            permissions_denied: Vec::new(),
            permissions_unknown: Vec::new(),
            dependencies: Vec::new(),
            last_seen: "2026-12-08T00:00:00Z".into(),
        });
    }
    let queries = set["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .map(|entry| {
            let expect = field(entry, "expect");
            LabelledQuery {
                category: format!("{}/{}", field(entry, "category"), field(entry, "split")),
                query: field(entry, "query"),
                expected_arn: arns
                    .get(&expect)
                    .unwrap_or_else(|| panic!("no resource {expect}"))
                    .clone(),
            }
        })
        .collect();
    (resources, queries)
}
