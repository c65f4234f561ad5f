//! Every built-in playbook rendered against a realistic resource that satisfies its
//! preconditions: the rendered plan is a snapshot (`tests/playbooks/snapshots/`), so a
//! change to any command, argument or risk rule shows up in review.

use std::collections::BTreeMap;

use cloudops_core::IdentifiedResource;
use cloudops_playbooks::{Library, ParameterSource, Playbook, RenderInput, render};
use serde_json::{Value, json};

use crate::support::resource;

/// Values an operator would give for user parameters, by parameter name.
pub(crate) fn sample_value(name: &str) -> Option<&'static str> {
    Some(match name {
        "instance_type" => "m5.xlarge",
        "db_instance_class" | "instance_class" => "db.r6g.xlarge",
        "tag_key" => "cost-center",
        "tag_value" => "cc-1234",
        "tag_keys" => "cost-center",
        "retention_days" | "backup_retention_period" => "14",
        "kms_key_id" => {
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        }
        "function_version" | "version" | "target_version" => "12",
        "alias" | "alias_name" => "live",
        "memory_size" | "memory_mb" => "1024",
        "timeout" | "timeout_seconds" => "60",
        "reserved_concurrency" | "concurrency" => "50",
        "target_group_arn" => {
            "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/checkout-tg/73e2d6bc24d8a067"
        }
        "target_id" => "i-0a1b2c3d4e5f60718",
        "target_port" | "port" => "8080",
        "snapshot_identifier" | "snapshot_id" => "pg-instance-main1-manual-202611260930",
        "image_name" => "checkout-web-prod-01-202611260930",
        "log_bucket" | "target_bucket" => "acme-prod-access-logs",
        "log_prefix" | "target_prefix" => "s3-access/",
        _ => return None,
    })
}

/// Sets `field` (as playbooks name fields) on the resource's JSON.
fn set_field(resource: &mut Value, field: &str, value: Value) {
    match field.split_once('.') {
        Some(("constraints", key)) => resource["constraints"][key] = value,
        Some(("attributes", key)) => resource[key] = value,
        Some(("tags", key)) => resource["tags"][key] = value,
        _ if field == "state" => resource["current_state"] = value,
        _ => resource[field] = value,
    }
}

/// The fixture for the playbook's type, adjusted to satisfy its preconditions.
pub(crate) fn satisfying(playbook: &Playbook) -> IdentifiedResource {
    let kind = &playbook.resource_types[0];
    let state = playbook.preconditions.states.first().map(String::as_str).unwrap_or_default();
    let mut value = serde_json::to_value(resource(kind, state)).expect("fixture serializes");
    for check in &playbook.preconditions.checks {
        set_field(&mut value, &check.field, check.equals.clone());
    }
    serde_json::from_value(value).expect("adjusted fixture parses")
}

#[test]
fn every_builtin_playbook_renders_for_a_realistic_resource() {
    let library = Library::builtin();
    let mut missing = Vec::new();
    let mut failures = Vec::new();
    for loaded in library.playbooks() {
        let playbook = &loaded.playbook;
        let mut parameters = BTreeMap::new();
        for parameter in &playbook.parameters {
            if parameter.source != ParameterSource::User || parameter.default.is_some() {
                continue;
            }
            match sample_value(&parameter.name)
                .map(str::to_owned)
                .or_else(|| parameter.allowed.first().cloned())
            {
                Some(value) => {
                    parameters.insert(parameter.name.clone(), value);
                }
                None if parameter.required => {
                    missing.push(format!("{}: {}", playbook.id, parameter.name))
                }
                None => {}
            }
        }
        let resource = satisfying(playbook);
        let rendered = render(
            playbook,
            std::slice::from_ref(&resource),
            &RenderInput {
                prompt: &playbook.examples[0],
                parameters: &parameters,
                timestamp: "202611260930",
            },
        );
        if !rendered.blockers.is_empty() {
            failures.push(format!("{}: {:?}", playbook.id, rendered.blockers));
            continue;
        }
        for step in rendered
            .script
            .steps
            .iter()
            .chain(&rendered.rollback.steps)
            .chain(&rendered.verification.steps)
        {
            assert!(step.command.starts_with("aws "), "{}: {}", playbook.id, step.command);
            assert_eq!(
                step.args[step.args.len() - 2..],
                ["--region".to_owned(), resource.region.clone()]
            );
            for argument in &step.args {
                assert!(
                    !argument.contains("{{") || argument.starts_with("{{ steps."),
                    "{}: unfilled {argument}",
                    playbook.id
                );
            }
        }
        let snapshot = json!({
            "explanation": rendered.explanation,
            "script": rendered.script,
            "rollback": rendered.rollback,
            "verification": rendered.verification,
            "risk": rendered.risk,
            "approval_required": rendered.approval_required,
            "parameters": parameters,
        });
        insta::assert_json_snapshot!(playbook.id.clone(), snapshot);
    }
    assert!(missing.is_empty(), "add sample values for user parameters: {missing:?}");
    assert!(failures.is_empty(), "playbooks that do not render: {failures:#?}");
}
