//! What makes a parsed playbook valid beyond its shape: names, references, commands that
//! the AWS CLI knows the form of, arguments that cannot smuggle options, regular
//! expressions that compile.

use std::collections::{BTreeMap, HashSet};

use cloudops_core::Service;
use regex::Regex;

use crate::capture::CapturePath;
use crate::schema::{Argument, ParameterSource, Playbook, RiskCondition, StepTemplate};
use crate::template::{self, Piece};

/// A validation failure: the message, and a piece of text to locate it in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub message: String,
    pub near: Option<String>,
}

/// Arguments a playbook may never set: the region comes from the resource, and where and
/// as whom the CLI runs is the client's business.
const FORBIDDEN_ARGUMENTS: [&str; 6] = [
    "--region",
    "--profile",
    "--endpoint-url",
    "--no-verify-ssl",
    "--ca-bundle",
    "--cli-input-json",
];

/// Built-in template variables.
pub(crate) const TIMESTAMP: &str = "timestamp";

/// Resource fields a parameter, check or condition may read.
pub(crate) fn valid_field(field: &str) -> bool {
    const PLAIN: [&str; 6] = ["id", "name", "arn", "region", "account_id", "state"];
    if PLAIN.contains(&field) {
        return true;
    }
    match field.split_once('.') {
        Some(("attributes" | "constraints" | "tags", key)) => {
            !key.is_empty() && !key.contains(char::is_whitespace)
        }
        _ => false,
    }
}

fn is_snake(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !text.ends_with('_')
}

fn is_kebab(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && !text.ends_with('-')
        && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

pub(crate) fn validate(playbook: &Playbook) -> Vec<Invalid> {
    let mut problems = Vec::new();
    let mut fail = |message: String, near: Option<&str>| {
        problems.push(Invalid { message, near: near.map(str::to_owned) })
    };

    if !is_snake(&playbook.id) {
        fail(format!("id {:?} must be lowercase letters, digits and _", playbook.id), Some("id:"));
    }
    let version_ok = playbook.version.split('.').count() == 3
        && playbook
            .version
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
    if !version_ok {
        fail(format!("version {:?} must be MAJOR.MINOR.PATCH", playbook.version), Some("version:"));
    }
    for (name, value) in [("title", &playbook.title), ("description", &playbook.description)] {
        if value.trim().is_empty() {
            fail(format!("{name} must not be empty"), Some(&format!("{name}:")));
        }
    }
    if playbook.examples.iter().filter(|e| !e.trim().is_empty()).count() < 2 {
        fail("give at least two example utterances under examples".into(), Some("examples"));
    }
    let expected: Vec<&str> =
        playbook.service.resource_types().iter().map(|kind| kind.as_str()).collect();
    let expected_type = expected.join(" or ");
    if playbook.resource_types.is_empty() {
        fail("resource_types must name at least one type".into(), Some("resource_types"));
    }
    for kind in &playbook.resource_types {
        if !expected.contains(&kind.as_str()) {
            fail(
                format!(
                    "resource type {kind:?} does not belong to service {}; use {expected_type}",
                    playbook.service.as_str()
                ),
                Some(kind),
            );
        }
    }
    if !is_snake(&playbook.operation) {
        fail(
            format!("operation {:?} must be lowercase words joined by _", playbook.operation),
            Some("operation:"),
        );
    }
    if playbook.permissions.is_empty() {
        fail("permissions must list the IAM actions the steps need".into(), Some("permissions"));
    }
    for permission in &playbook.permissions {
        let valid = permission.split_once(':').is_some_and(|(service, action)| {
            is_kebab(service)
                && !action.is_empty()
                && action.chars().all(|c| c.is_ascii_alphanumeric() || c == '*')
        });
        if !valid {
            fail(
                format!("permission {permission:?} is not an IAM action like rds:StopDBInstance"),
                Some(permission),
            );
        }
    }

    // Parameters.
    let mut parameters: BTreeMap<&str, ParameterSource> = BTreeMap::new();
    for parameter in &playbook.parameters {
        let name = parameter.name.as_str();
        if !is_snake(name) || name == TIMESTAMP || name == "steps" {
            fail(
                format!("parameter name {name:?} must be lowercase with _ and not a reserved name"),
                Some(name),
            );
        }
        if parameters.insert(name, parameter.source).is_some() {
            fail(format!("parameter {name} is declared twice"), Some(name));
        }
        match parameter.source {
            ParameterSource::Resource => match &parameter.field {
                Some(field) if valid_field(field) => {}
                Some(field) => {
                    fail(format!("parameter {name}: unknown resource field {field:?}"), Some(field))
                }
                None => {
                    fail(format!("parameter {name}: source resource needs a field"), Some(name))
                }
            },
            ParameterSource::User => {
                if parameter.pattern.is_none() && parameter.allowed.is_empty() {
                    fail(
                        format!("parameter {name}: a user value needs a pattern or allowed values"),
                        Some(name),
                    );
                }
                if let Some(pattern) = &parameter.pattern
                    && let Err(error) = Regex::new(pattern)
                {
                    fail(
                        format!("parameter {name}: pattern does not compile: {error}"),
                        Some(pattern),
                    );
                }
                if let Some(pattern) = &parameter.from_prompt {
                    match Regex::new(pattern) {
                        Ok(regex) if regex.captures_len() >= 2 => {}
                        Ok(_) => fail(
                            format!("parameter {name}: from_prompt needs a capture group"),
                            Some(pattern),
                        ),
                        Err(error) => fail(
                            format!("parameter {name}: from_prompt does not compile: {error}"),
                            Some(pattern),
                        ),
                    }
                }
            }
            ParameterSource::Default => {
                if parameter.default.is_none() {
                    fail(format!("parameter {name}: source default needs a default"), Some(name));
                }
            }
        }
        if parameter.source != ParameterSource::Resource && parameter.field.is_some() {
            fail(format!("parameter {name}: field is only for source resource"), Some(name));
        }
    }
    for parameter in &playbook.parameters {
        if let Some(default) = &parameter.default {
            check_template(default, &parameters, &BTreeMap::new(), &mut fail);
            if let Ok(pieces) = template::parse(default)
                && pieces
                    .iter()
                    .any(|p| matches!(p, Piece::Variable(v) if v.name == parameter.name))
            {
                fail(
                    format!("parameter {}: default refers to itself", parameter.name),
                    Some(default),
                );
            }
        }
    }
    check_template(&playbook.summary, &parameters, &BTreeMap::new(), &mut fail);

    // Preconditions and risk.
    for check in &playbook.preconditions.checks {
        if !valid_field(&check.field) {
            fail(
                format!("precondition: unknown resource field {:?}", check.field),
                Some(&check.field),
            );
        }
        if check.message.trim().is_empty() {
            fail(format!("precondition on {}: give a message", check.field), Some(&check.field));
        }
    }
    for modifier in &playbook.risk.modifiers {
        check_condition(&modifier.when, &modifier.reason, &mut fail);
        if modifier.reason.trim().is_empty() {
            fail("risk modifier: give a reason".into(), Some("reason"));
        }
    }
    if playbook.risk.impact.trim().is_empty() {
        fail("risk: give the impact".into(), Some("impact"));
    }

    // Steps.
    if playbook.steps.is_empty() {
        fail("steps must not be empty".into(), Some("steps"));
    }
    let mut step_ids = HashSet::new();
    for (list, steps) in [
        ("steps", &playbook.steps),
        ("rollback", &playbook.rollback),
        ("verification", &playbook.verification),
    ] {
        // Captures are visible to later steps of the same list.
        let mut captures: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for step in steps {
            if !step_ids.insert(step.id.as_str()) {
                fail(format!("step id {} is used twice", step.id), Some(&step.id));
            }
            if !is_snake(&step.id) {
                fail(format!("step id {:?} must be lowercase with _", step.id), Some(&step.id));
            }
            check_command(playbook.service, list, step, &mut fail);
            for argument in &step.args {
                let (texts, when) = match argument {
                    Argument::Value(text) => (std::slice::from_ref(text), None),
                    Argument::Conditional { when, args } => (args.as_slice(), Some(when)),
                };
                if let Some(when) = when
                    && !parameters.contains_key(when.as_str())
                {
                    fail(
                        format!("step {}: when refers to the undeclared parameter {when}", step.id),
                        Some(when),
                    );
                }
                for text in texts {
                    if FORBIDDEN_ARGUMENTS
                        .iter()
                        .any(|f| text == f || text.starts_with(&format!("{f}=")))
                    {
                        fail(
                            format!(
                                "step {}: {text} may not be set by a playbook (the client sets region and credentials)",
                                step.id
                            ),
                            Some(text),
                        );
                    }
                    check_template(text, &parameters, &captures, &mut fail);
                }
            }
            for (name, query) in &step.capture {
                if !is_snake(name) {
                    fail(
                        format!("step {}: capture name {name:?} must be lowercase with _", step.id),
                        Some(name),
                    );
                }
                // The executor evaluates captures itself, so only the subset it knows.
                if let Err(problem) = CapturePath::parse(query) {
                    fail(format!("step {}: capture {name}: {problem}", step.id), Some(name));
                }
            }
            captures.insert(step.id.as_str(), step.capture.keys().map(String::as_str).collect());
        }
    }
    problems
}

fn check_condition(
    condition: &RiskCondition,
    reason: &str,
    fail: &mut impl FnMut(String, Option<&str>),
) {
    let empty = condition.environment.is_empty()
        && condition.field.is_none()
        && condition.resources_at_least.is_none();
    if empty {
        fail(format!("risk modifier {reason:?}: when must state a condition"), Some(reason));
    }
    if let Some(field) = &condition.field
        && !valid_field(field)
    {
        fail(format!("risk modifier {reason:?}: unknown resource field {field:?}"), Some(field));
    }
    if condition.equals.is_some() && condition.field.is_none() {
        fail(format!("risk modifier {reason:?}: equals needs a field"), Some(reason));
    }
}

fn check_command(
    service: Service,
    list: &str,
    step: &StepTemplate,
    fail: &mut impl FnMut(String, Option<&str>),
) {
    let words: Vec<&str> = step.command.split_whitespace().collect();
    let (group, operation) = match words.as_slice() {
        [group, "wait", waiter] => (*group, *waiter),
        [group, operation] => (*group, *operation),
        _ => {
            fail(
                format!(
                    "step {}: command {:?} must be '<group> <operation>' or '<group> wait <waiter>'",
                    step.id, step.command
                ),
                Some(&step.command),
            );
            return;
        }
    };
    if !service.cli_groups().contains(&group) {
        fail(
            format!(
                "step {}: command group {group} is not one of {:?} for service {}",
                step.id,
                service.cli_groups(),
                service.as_str()
            ),
            Some(&step.command),
        );
    }
    if !is_kebab(operation) {
        fail(
            format!("step {}: operation {operation:?} must be kebab-case", step.id),
            Some(&step.command),
        );
    }
    if step.expect.is_some() && list != "verification" {
        fail(format!("step {}: expect is only for verification steps", step.id), Some(&step.id));
    }
}

fn check_template(
    text: &str,
    parameters: &BTreeMap<&str, ParameterSource>,
    captures: &BTreeMap<&str, Vec<&str>>,
    fail: &mut impl FnMut(String, Option<&str>),
) {
    let pieces = match template::parse(text) {
        Ok(pieces) => pieces,
        Err(error) => {
            fail(error.0, Some(text));
            return;
        }
    };
    for piece in pieces {
        let Piece::Variable(variable) = piece else { continue };
        let name = variable.name;
        if let Some(reference) = name.strip_prefix("steps.") {
            let known = reference.split_once('.').is_some_and(|(step, capture)| {
                captures.get(step).is_some_and(|names| names.contains(&capture))
            });
            if !known {
                fail(
                    format!("{{{{ {name} }}}} does not name a capture of an earlier step"),
                    Some(text),
                );
            }
        } else if name != TIMESTAMP && !parameters.contains_key(name) {
            fail(format!("{{{{ {name} }}}} refers to an undeclared parameter"), Some(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The problems of the built-in `aws_ec2_create_image` with its first capture replaced.
    fn problems_with_capture(query: &str) -> Vec<String> {
        let text = include_str!("../library/aws_ec2_create_image.yaml")
            .replace("image_id: ImageId", &format!("image_id: {query:?}"));
        let playbook: Playbook = serde_yaml_ng::from_str(&text).expect("the playbook parses");
        validate(&playbook).into_iter().map(|invalid| invalid.message).collect()
    }

    #[test]
    fn captures_must_be_paths_the_executor_evaluates() {
        for good in ["ImageId", "Images[0].ImageId", "Versions[-1].Version"] {
            assert_eq!(problems_with_capture(good), Vec::<String>::new(), "{good}");
        }
        for bad in ["", "Images[*].ImageId", "length(Images)", "Images | [0]"] {
            let problems = problems_with_capture(bad);
            assert!(
                problems.len() == 1
                    && problems[0].starts_with("step create_image: capture image_id: ")
                    && problems[0].contains("Images[0].ImageId"),
                "{bad}: {problems:?}"
            );
        }
    }
}
