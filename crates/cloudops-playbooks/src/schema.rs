//! The playbook format: what a YAML playbook may say, as Rust types. The JSON Schema for
//! editors is generated from these types (`cloudops playbooks schema`).
//!
//! A playbook describes one operation on one kind of resource: where each parameter comes
//! from, what must hold before it runs, the AWS CLI steps (as argument lists, never shell
//! lines), how to undo and verify it, how risky it is and when a human must approve.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use cloudops_core::{RiskLevel, Service};

/// One operation, as a YAML file in the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Unique id, lowercase with underscores, e.g. `aws_rds_stop_instance`.
    pub id: String,
    /// Version of this playbook (semantic versioning), reported with every plan.
    pub version: String,
    /// A short title, e.g. "Stop an RDS DB instance".
    pub title: String,
    /// What the playbook does and when to use it.
    pub description: String,
    /// How operators ask for it; used for retrieval.
    #[serde(default)]
    pub examples: Vec<String>,
    /// The AWS service.
    pub service: Service,
    /// Resource types it applies to (`ec2_instance`, `rds_instance`, `s3_bucket`,
    /// `lambda_function`, `elb_load_balancer`).
    pub resource_types: Vec<String>,
    /// The operation, one lowercase word or words joined by `_` (`stop`, `create_image`).
    pub operation: String,
    /// What the plan says it will do, for one resource; a template completing "I will …",
    /// e.g. `stop the RDS {{ engine | engine_name }} instance '{{ db_instance_identifier }}'`.
    pub summary: String,
    /// Inputs of the steps, each with its source.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// What must hold before the steps may run.
    #[serde(default)]
    pub preconditions: Preconditions,
    /// The AWS CLI calls, run in order, once per resource.
    pub steps: Vec<StepTemplate>,
    /// How to undo the operation, when it can be undone.
    #[serde(default)]
    pub rollback: Vec<StepTemplate>,
    /// Read-only calls that confirm the result.
    #[serde(default)]
    pub verification: Vec<StepTemplate>,
    /// How risky the operation is.
    pub risk: RiskRules,
    /// When a human must approve.
    #[serde(default)]
    pub approval: ApprovalPolicy,
    /// The operation deletes or irreversibly changes something: the operator must type the
    /// resource's name to approve, and `--yes` alone is not enough.
    #[serde(default)]
    pub destructive: bool,
    /// The IAM actions the steps need, e.g. `rds:StopDBInstance`.
    pub permissions: Vec<String>,
}

/// An input of the steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// The name templates use, lowercase with underscores.
    pub name: String,
    /// What it is.
    #[serde(default)]
    pub description: String,
    /// Where the value comes from.
    pub source: ParameterSource,
    /// For `source: resource`: the field of the identified resource — `id`, `name`, `arn`,
    /// `region`, `account_id`, `state`, `attributes.<key>`, `constraints.<key>` or
    /// `tags.<key>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `source: user`: the regular expression (whole value) a value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// For `source: user`: the allowed values, when they are a fixed set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// For `source: user`: a regular expression whose first group finds the value in the
    /// prompt ("resize to t3.large"), when the request does not give it explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_prompt: Option<String>,
    /// The value when no other is given: for `source: default` the value itself; for
    /// `source: user` the fallback. May use other parameters and `{{ timestamp }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether the plan cannot be made without a value (user parameters; resource
    /// parameters are always required unless `optional`).
    #[serde(default)]
    pub required: bool,
    /// For `source: resource`: whether a missing field leaves the parameter empty instead
    /// of refusing the plan (steps use it through `when`).
    #[serde(default)]
    pub optional: bool,
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParameterSource {
    /// A field of the identified resource: never guessed.
    Resource,
    /// Supplied by the operator (request `parameters`, or found in the prompt), validated.
    User,
    /// A fixed default.
    Default,
}

/// What must hold before the steps may run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Preconditions {
    /// The states the resource may be in (empty: any).
    #[serde(default)]
    pub states: Vec<String>,
    /// Checks on the resource's fields.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// A check on one field of the resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The field, as for resource parameters (`constraints.has_read_replicas`).
    pub field: String,
    /// The value it must have.
    pub equals: serde_json::Value,
    /// Said to the operator when the check fails.
    pub message: String,
    /// What to do when the field is unknown: refuse the plan (default) or allow it with a
    /// warning among the risk reasons.
    #[serde(default)]
    pub unknown: WhenUnknown,
}

/// What to do when a checked field is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WhenUnknown {
    /// The plan is not executable: what cannot be verified is refused.
    #[default]
    Refuse,
    /// The plan proceeds, and the risk reasons say what could not be verified.
    Warn,
}

/// One AWS CLI call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepTemplate {
    /// Unique within the playbook.
    pub id: String,
    /// What the step does.
    #[serde(default)]
    pub description: String,
    /// The CLI command after `aws`: group and operation, e.g. `rds stop-db-instance` or
    /// `rds wait db-instance-stopped`.
    pub command: String,
    /// Arguments, one element each; `{{ parameter }}` and `{{ steps.<id>.<name> }}` are
    /// replaced by values, never split or passed to a shell. `--region` is added.
    #[serde(default)]
    pub args: Vec<Argument>,
    /// Values to capture from the command's JSON output for later steps: name → a JMESPath
    /// path of the subset the executor evaluates: field names joined by `.`, each with
    /// optional integer indexes (`ImageId`, `Images[0].ImageId`, `Versions[-1].Version`).
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// For verification steps: the expected text output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
}

/// An argument: a template, or arguments included only when a parameter has a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Argument {
    /// One argument element.
    Value(String),
    /// Elements included only when the parameter `when` has a non-empty value.
    Conditional {
        /// The parameter that must have a value.
        when: String,
        /// The elements.
        args: Vec<String>,
    },
}

/// How risky the operation is: a base level raised by modifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskRules {
    /// The level with no modifier applying.
    pub base: RiskLevel,
    /// What the operator should expect, e.g. "The database is unavailable until started".
    pub impact: String,
    /// Facts that raise the level or are worth saying.
    #[serde(default)]
    pub modifiers: Vec<RiskModifier>,
}

/// A fact about the resources that changes the risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskModifier {
    /// When it applies.
    pub when: RiskCondition,
    /// The reason stated in the assessment.
    pub reason: String,
    /// The level is at least this when it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<RiskLevel>,
    /// Levels to add when it applies (after `level`).
    #[serde(default)]
    pub raise: u8,
}

/// When a modifier applies. Every condition given must hold (for some resource, except
/// `resources_at_least`, which counts them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskCondition {
    /// The resource's environment (from its `env`/`environment`/`stage` tag, normalized:
    /// `prod` → `production`) is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<String>,
    /// A field (as for parameters) has this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The value `field` must have (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<serde_json::Value>,
    /// The plan covers at least this many resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_at_least: Option<usize>,
}

/// When a human must approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    /// Approval is required when the assessed level is at least this.
    #[serde(default = "default_approval_level")]
    pub required_from: RiskLevel,
    /// Approval is always required, whatever the level.
    #[serde(default)]
    pub always: bool,
}

fn default_approval_level() -> RiskLevel {
    RiskLevel::Medium
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy { required_from: default_approval_level(), always: false }
    }
}
