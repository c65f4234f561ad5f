//! Shared fixtures: the demo estate indexed once per test binary.

use std::sync::OnceLock;

use cloudops_core::{Estate, EstateConfig, Resource, demo};

pub struct Fixture {
    pub estate: Estate,
    _directory: tempfile::TempDir,
}

/// The demo estate without the semantic model: lexical and hashing embedder only.
pub fn lexical_demo_estate() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let directory = tempfile::tempdir().expect("temporary directory");
        let config = EstateConfig::default();
        let estate = Estate::open(directory.path(), config).expect("open estate");
        estate.upsert(&demo::generate(&demo::DemoConfig::default())).expect("index demo estate");
        Fixture { estate, _directory: directory }
    })
}

/// An EC2 instance of account 111111111111 (`account_name`) in `region`, named `name` (id
/// `i-<name>`), in `state`, with `tags`.
pub fn instance(
    name: &str,
    state: &str,
    region: &str,
    account_name: &str,
    tags: &[(&str, &str)],
) -> Resource {
    let tags: std::collections::BTreeMap<&str, &str> = tags.iter().copied().collect();
    serde_json::from_value(serde_json::json!({
        "arn": format!("arn:aws:ec2:{region}:111111111111:instance/i-{name}"),
        "resource_type": "ec2_instance",
        "id": format!("i-{name}"),
        "name": name,
        "account_id": "111111111111",
        "account_name": account_name,
        "region": region,
        "state": state,
        "tags": tags,
    }))
    .expect("valid resource")
}
