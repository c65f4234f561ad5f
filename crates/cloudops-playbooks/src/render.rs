//! Rendering a playbook for identified resources: parameters filled from the resources
//! (never guessed), user values validated, preconditions checked, risk assessed, steps
//! written as argument lists.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use regex::Regex;
use serde_json::Value;

use cloudops_core::{IdentifiedResource, RiskAssessment, RiskLevel, Script, SkippedTarget, Step};

use crate::schema::{
    Argument, ParameterSource, Playbook, RiskCondition, StepTemplate, WhenUnknown,
};
use crate::template::{self, Piece};
use crate::validate::TIMESTAMP;

/// What the operator supplied besides the resources.
#[derive(Debug, Clone)]
pub struct RenderInput<'a> {
    /// The prompt, searched by parameters with `from_prompt`.
    pub prompt: &'a str,
    /// Explicit parameter values.
    pub parameters: &'a BTreeMap<String, String>,
    /// The UTC time as `YYYYMMDDHHMM`, for `{{ timestamp }}`.
    pub timestamp: &'a str,
}

/// A rendered playbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// One sentence per resource, "I will …", then the facts and the impact.
    pub explanation: String,
    /// The steps, for every resource in turn; empty when not executable.
    pub script: Script,
    /// The rollback steps; empty when not executable.
    pub rollback: Script,
    /// The verification steps; empty when not executable.
    pub verification: Script,
    /// The assessed risk.
    pub risk: RiskAssessment,
    /// Whether approval is required.
    pub approval_required: bool,
    /// Why the plan cannot be executed; empty when it can.
    pub blockers: Vec<String>,
    /// The resources left out because they are in the wrong state for the operation (only
    /// when others are in the right one: a plan that would leave out every resource is
    /// blocked instead).
    pub skipped: Vec<SkippedTarget>,
}

/// The longest value a parameter may take.
const MAX_VALUE: usize = 1024;

/// Reads a field (`id`, `attributes.engine`, `constraints.multi_az`, `tags.env`, …) of a
/// resource. Constraints fall back to attributes of the same name and back, so requests
/// that carry `multi_az` at the top level (as the design's does) are understood.
pub(crate) fn field_value(resource: &IdentifiedResource, field: &str) -> Option<Value> {
    let text =
        |value: Option<&str>| value.filter(|v| !v.is_empty()).map(|v| Value::String(v.to_owned()));
    match field {
        "id" => text(resource.identifier()),
        "name" => text(resource.name.as_deref().or(resource.identifier())),
        "arn" => text(resource.arn.as_deref()),
        "region" => text(Some(&resource.region)),
        "account_id" => text(Some(&resource.account_id)),
        "state" => text(Some(&resource.current_state)),
        _ => {
            let (scope, key) = field.split_once('.')?;
            let constraint = || {
                serde_json::to_value(&resource.constraints)
                    .ok()
                    .and_then(|constraints| constraints.get(key).cloned())
                    .filter(|v| !v.is_null())
            };
            let attribute = || resource.attributes.get(key).cloned().filter(|v| !v.is_null());
            match scope {
                "attributes" => attribute().or_else(constraint),
                "constraints" => constraint().or_else(attribute),
                "tags" => resource.tags.get(key).map(|v| Value::String(v.clone())),
                _ => None,
            }
        }
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A playbook's regular expression, compiled once per process: playbooks are validated when
/// they load but rendered for every plan, and compiling is the costly part. The patterns
/// come from the loaded libraries, so the cache stays as small as they are.
fn compiled(pattern: &str) -> Result<Regex, regex::Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(regex) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(pattern) {
        return Ok(regex.clone());
    }
    let regex = Regex::new(pattern)?;
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(pattern.to_owned(), regex.clone());
    Ok(regex)
}

/// A value may go into an argument list only when it cannot be read as an option and
/// carries no control characters.
fn safe_value(value: &str) -> Result<(), String> {
    if value.starts_with('-') {
        return Err("starts with '-' and could be read as an option".into());
    }
    if value.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    if value.len() > MAX_VALUE {
        return Err(format!("is longer than {MAX_VALUE} bytes"));
    }
    Ok(())
}

fn substitute(text: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    substitute_with_steps(text, values, &BTreeMap::new())
}

/// [`substitute`], with `{{ steps.<id>.<name> }}` rewritten to the rendered step ids in
/// `step_ids` (left for the executor to fill from the captured output).
fn substitute_with_steps(
    text: &str,
    values: &BTreeMap<String, String>,
    step_ids: &BTreeMap<String, String>,
) -> Result<String, String> {
    let pieces = template::parse(text).map_err(|e| e.0)?;
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Variable(variable) if variable.name.starts_with("steps.") => {
                // Filled in by the executor from an earlier step's output.
                let reference = &variable.name["steps.".len()..];
                let (step, capture) = reference.split_once('.').unwrap_or((reference, ""));
                let rendered =
                    step_ids.get(step).ok_or_else(|| format!("no earlier step {step}"))?;
                out.push_str(&format!("{{{{ steps.{rendered}.{capture} }}}}"));
            }
            Piece::Variable(variable) => {
                let value = values
                    .get(variable.name)
                    .ok_or_else(|| format!("no value for {}", variable.name))?;
                match variable.filter {
                    Some(filter) => out.push_str(&template::apply(filter, value)),
                    None => out.push_str(value),
                }
            }
        }
    }
    Ok(out)
}

/// The parameter values for one resource, or why there are none.
fn parameters_for(
    playbook: &Playbook,
    resource: &IdentifiedResource,
    input: &RenderInput<'_>,
) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    values.insert(TIMESTAMP.to_owned(), input.timestamp.to_owned());
    let mut problems = Vec::new();
    // Resource and explicit values first; defaults may refer to them.
    for parameter in &playbook.parameters {
        let name = &parameter.name;
        let value = match parameter.source {
            ParameterSource::Resource => {
                let field = parameter.field.as_deref().unwrap_or_default();
                match field_value(resource, field).as_ref().map(scalar) {
                    Some(Some(value)) => Some(value),
                    Some(None) => {
                        problems
                            .push(format!("{name}: the resource's {field} is not a single value"));
                        continue;
                    }
                    // Known to be unknown: empty, so summaries read without it and
                    // conditional arguments leave it out.
                    None if parameter.optional => Some(String::new()),
                    None => {
                        problems.push(format!(
                            "{name}: the resource has no {field}; refresh the estate so the client knows it"
                        ));
                        continue;
                    }
                }
            }
            ParameterSource::User => {
                let explicit = input.parameters.get(name).cloned();
                let found = || {
                    let pattern = parameter.from_prompt.as_deref()?;
                    let regex = compiled(pattern).ok()?;
                    Some(regex.captures(input.prompt)?.get(1)?.as_str().to_owned())
                };
                match explicit.or_else(found) {
                    Some(value) => {
                        if let Err(problem) = check_user_value(parameter, &value) {
                            problems.push(format!("{name}: {value:?} {problem}"));
                            continue;
                        }
                        Some(value)
                    }
                    None => None,
                }
            }
            ParameterSource::Default => None,
        };
        if let Some(value) = value {
            if let Err(problem) = safe_value(&value) {
                problems.push(format!("{name}: the value {problem}"));
                continue;
            }
            values.insert(name.clone(), value);
        }
    }
    for parameter in &playbook.parameters {
        if values.contains_key(&parameter.name) {
            continue;
        }
        if let Some(default) = &parameter.default {
            match substitute(default, &values) {
                Ok(value) => {
                    values.insert(parameter.name.clone(), value);
                }
                Err(problem) => problems.push(format!("{}: default: {problem}", parameter.name)),
            }
        } else if parameter.source == ParameterSource::User && parameter.required {
            let how = if parameter.allowed.is_empty() {
                String::new()
            } else {
                format!(" (one of {})", parameter.allowed.join(", "))
            };
            problems.push(format!(
                "{}: required; give it in the request's parameters{how}{}",
                parameter.name,
                if parameter.description.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", parameter.description)
                }
            ));
        }
    }
    if problems.is_empty() { Ok(values) } else { Err(problems) }
}

fn check_user_value(parameter: &crate::schema::Parameter, value: &str) -> Result<(), String> {
    if !parameter.allowed.is_empty() && !parameter.allowed.iter().any(|a| a == value) {
        return Err(format!("is not one of {}", parameter.allowed.join(", ")));
    }
    if let Some(pattern) = &parameter.pattern {
        let whole = compiled(&format!("^(?:{pattern})$")).map_err(|e| e.to_string())?;
        if !whole.is_match(value) {
            return Err(format!("does not match {pattern}"));
        }
    }
    Ok(())
}

fn label(resource: &IdentifiedResource) -> String {
    let id = resource.identifier().unwrap_or("?");
    match resource.name.as_deref() {
        Some(name) if name != id => format!("{name} ({id})"),
        _ => id.to_owned(),
    }
}

/// Renders `playbook` for `resources` (all of a type the playbook accepts).
pub fn render(
    playbook: &Playbook,
    resources: &[IdentifiedResource],
    input: &RenderInput<'_>,
) -> Rendered {
    let mut blockers = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    let mut script = Script::default();
    let mut rollback = Script::default();
    let mut verification = Script::default();
    let mut sentences = Vec::new();

    // The state precondition first: in a fleet, the members in the wrong state are left
    // out (skipped, with the reason) as long as some member is in the right one.
    let state_problems: Vec<Option<String>> =
        resources.iter().map(|resource| state_problem(playbook, resource)).collect();
    let skip_wrong_state = resources.len() > 1 && state_problems.iter().any(Option::is_none);
    let mut skipped = Vec::new();
    let mut acted_on: Vec<IdentifiedResource> = Vec::new();
    for (resource, problem) in resources.iter().zip(state_problems) {
        let who = label(resource);
        if let Some(problem) = problem {
            if skip_wrong_state {
                skipped.push(SkippedTarget {
                    target: resource.target(),
                    name: who,
                    reason: problem.trim_start_matches(':').trim().to_owned(),
                });
            } else {
                blockers.push(format!("{who}{problem}"));
            }
            continue;
        }
        acted_on.push(resource.clone());
        for check in &playbook.preconditions.checks {
            match field_value(resource, &check.field) {
                Some(value) if value == check.equals => {}
                Some(_) => blockers.push(format!("{who}: {}", check.message)),
                None => match check.unknown {
                    WhenUnknown::Refuse => blockers.push(format!(
                        "{who}: cannot verify {} ({}); refresh the estate so the client knows it",
                        check.field, check.message
                    )),
                    WhenUnknown::Warn => {
                        let reason = format!("Could not verify {} for {who}", check.field);
                        if !reasons.contains(&reason) {
                            reasons.push(reason);
                        }
                    }
                },
            }
        }

        let values = match parameters_for(playbook, resource, input) {
            Ok(values) => values,
            Err(problems) => {
                blockers.extend(problems.into_iter().map(|p| format!("{who}: {p}")));
                continue;
            }
        };
        match substitute(&playbook.summary, &values) {
            Ok(summary) => sentences.push(summary.split_whitespace().collect::<Vec<_>>().join(" ")),
            Err(problem) => blockers.push(format!("{who}: summary: {problem}")),
        }
        for (templates, target, prefix) in [
            (&playbook.steps, &mut script, ""),
            (&playbook.rollback, &mut rollback, "r"),
            (&playbook.verification, &mut verification, "v"),
        ] {
            // Steps are numbered through the script ("1", "2", …, as in the design's
            // plans); captures refer to the numbers of this resource's steps.
            let mut step_ids: BTreeMap<String, String> = BTreeMap::new();
            for step in templates {
                let step_id = format!("{prefix}{}", target.steps.len() + 1);
                match render_step(step, step_id.clone(), &values, &step_ids, resource) {
                    Ok(rendered) => target.steps.push(rendered),
                    Err(problem) => blockers.push(format!("{who}: step {}: {problem}", step.id)),
                }
                step_ids.insert(step.id.clone(), step_id);
            }
        }
    }

    // Risk: base, then every modifier that applies to the resources acted on, in the
    // playbook's order.
    let mut level = playbook.risk.base;
    for modifier in &playbook.risk.modifiers {
        if !applies(&modifier.when, &acted_on) {
            continue;
        }
        if let Some(at_least) = modifier.level {
            level = level.max(at_least);
        }
        for _ in 0..modifier.raise {
            level = raise(level);
        }
        if !reasons.contains(&modifier.reason) {
            reasons.push(modifier.reason.clone());
        }
    }
    let approval_required = playbook.approval.always
        || level >= playbook.approval.required_from
        || !blockers.is_empty();

    let mut explanation = match sentences.as_slice() {
        [] => String::new(),
        [one] => format!("I will {one}."),
        many => format!("I will do this for {} resources: {}.", many.len(), many.join("; ")),
    };
    let facts: Vec<&str> = reasons.iter().map(String::as_str).collect();
    if !facts.is_empty() {
        explanation.push_str(&format!(" {}.", facts.join(". ")));
    }
    if !skipped.is_empty() {
        explanation.push_str(&format!(
            " {} left out, in the wrong state: {}.",
            skipped.len(),
            skipped
                .iter()
                .map(|s| format!("{} {}", s.name, s.reason))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    explanation.push_str(&format!(" {}.", playbook.risk.impact.trim_end_matches('.')));
    let explanation = explanation.trim().to_owned();

    if !blockers.is_empty() {
        script.steps.clear();
        rollback.steps.clear();
        verification.steps.clear();
    }
    Rendered {
        explanation,
        script,
        rollback,
        verification,
        risk: RiskAssessment { level, reasons, impact: playbook.risk.impact.clone() },
        approval_required,
        blockers,
        skipped,
    }
}

/// Why `resource` is in the wrong state for `playbook`, as the end of a sentence that
/// starts with its name (" is stopped; stop an EC2 instance needs it to be running");
/// `None` when its state is one the playbook accepts.
fn state_problem(playbook: &Playbook, resource: &IdentifiedResource) -> Option<String> {
    let state = resource.current_state.as_str();
    let allowed = &playbook.preconditions.states;
    if allowed.is_empty() {
        None
    } else if state.is_empty() {
        Some(format!(": its state is unknown; refresh the estate (needs {})", allowed.join(" or ")))
    } else if !allowed.iter().any(|s| s.eq_ignore_ascii_case(state)) {
        Some(format!(
            " is {state}; {} needs it to be {}",
            playbook.title.to_lowercase(),
            allowed.join(" or ")
        ))
    } else {
        None
    }
}

fn raise(level: RiskLevel) -> RiskLevel {
    match level {
        RiskLevel::Low => RiskLevel::Medium,
        RiskLevel::Medium => RiskLevel::High,
        RiskLevel::High | RiskLevel::Critical => RiskLevel::Critical,
    }
}

fn applies(condition: &RiskCondition, resources: &[IdentifiedResource]) -> bool {
    if let Some(at_least) = condition.resources_at_least
        && resources.len() < at_least
    {
        return false;
    }
    let per_resource = !condition.environment.is_empty() || condition.field.is_some();
    if !per_resource {
        return true;
    }
    resources.iter().any(|resource| {
        let environment_ok = condition.environment.is_empty()
            || resource.environment().is_some_and(|env| {
                condition
                    .environment
                    .iter()
                    .any(|wanted| cloudops_core::normalize_environment(wanted) == env)
            });
        let field_ok = condition.field.as_deref().is_none_or(|field| {
            let expected = condition.equals.clone().unwrap_or(Value::Bool(true));
            field_value(resource, field) == Some(expected)
        });
        environment_ok && field_ok
    })
}

fn render_step(
    step: &StepTemplate,
    step_id: String,
    values: &BTreeMap<String, String>,
    step_ids: &BTreeMap<String, String>,
    resource: &IdentifiedResource,
) -> Result<Step, String> {
    let mut args = Vec::new();
    for argument in &step.args {
        let texts: &[String] = match argument {
            Argument::Value(text) => std::slice::from_ref(text),
            Argument::Conditional { when, args } => {
                if values.get(when).is_none_or(|v| v.is_empty()) {
                    continue;
                }
                args
            }
        };
        for text in texts {
            let argument = substitute_with_steps(text, values, step_ids)?;
            if argument.is_empty() {
                return Err(format!("{text} has no value; the estate does not know it"));
            }
            args.push(argument);
        }
    }
    args.push("--region".to_owned());
    args.push(resource.region.clone());
    Ok(Step {
        step_id,
        command: format!("aws {}", step.command),
        args,
        description: step.description.clone(),
        account_id: Some(resource.account_id.clone()),
        capture: step.capture.clone(),
        expect: step.expect.clone(),
        target: Some(resource.target()),
    })
}
