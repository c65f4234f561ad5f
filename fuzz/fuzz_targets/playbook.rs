//! Fuzzes the playbook loader: any bytes are parsed and validated without panicking, and
//! a playbook that passes validation renders without panicking either.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(playbook) = cloudops_playbooks::parse("fuzz.yaml", data) else { return };
    let resource: cloudops_core::IdentifiedResource = serde_json::from_str(
        r#"{"resource_type": "rds_instance", "id": "db-1", "account_id": "123456789012",
            "region": "us-west-2", "current_state": "available", "tags": {"env": "prod"}}"#,
    )
    .expect("the fixture parses");
    let parameters = BTreeMap::new();
    let input = cloudops_playbooks::RenderInput {
        prompt: "do it to db-1",
        parameters: &parameters,
        timestamp: "202601010000",
    };
    let rendered = cloudops_playbooks::render(&playbook, &[resource], &input);
    for step in &rendered.script.steps {
        assert!(step.command.starts_with("aws "));
        assert!(step.args.iter().all(|arg| !arg.chars().any(char::is_control)));
    }
});
