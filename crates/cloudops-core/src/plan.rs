//! The request and response types of the planning flow, shared by the client, the server,
//! the CLI and the desktop app.
//!
//! They follow the wire format of the design (`prompt`, `identified_resources`,
//! `user_context` in; `explain_plan`, `script.steps`, `risk_assessment`,
//! `approval_required` out). Unknown fields are tolerated on the way in and kept where they
//! carry resource facts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::intent::IntentClass;
use crate::model::{Constraints, Resource, ResourceType};

/// What the client sends to the planner: the operator's words plus the exact resources they
/// refer to, resolved locally. Never carries credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrichedRequest {
    /// The operator's request, verbatim. Untrusted text; planners refuse more than 4096 bytes.
    #[cfg_attr(feature = "openapi", schema(max_length = 4096))]
    pub prompt: String,
    /// The resources the prompt refers to, resolved by the client.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub identified_resources: Vec<IdentifiedResource>,
    /// Who is asking, and their defaults.
    #[serde(default)]
    pub user_context: UserContext,
    /// Values the operator supplied for playbook parameters (e.g. `instance_type`), by
    /// name. Untrusted: every value is validated against the playbook's rules.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
}

/// A resolved resource as sent to the planner: the facts an operation needs, nothing more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentifiedResource {
    /// The kind of resource.
    pub resource_type: ResourceType,
    /// The resource's ARN, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The service's identifier. Requests written by hand may instead carry a service-specific
    /// field such as `db_instance_identifier` or `instance_id` (`IdentifiedResource::identifier`
    /// reads either).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The human name, when it differs from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The 12-digit account id.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{12}$"))]
    pub account_id: String,
    /// The account's configured name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// The region the resource lives in.
    #[cfg_attr(feature = "openapi", schema(examples("us-west-2")))]
    pub region: String,
    /// The state at lookup time.
    #[serde(default, alias = "state")]
    pub current_state: String,
    /// Tags the client chose to share (after its allow/deny redaction). Untrusted text.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// IAM actions known to be allowed; empty when unknown.
    #[serde(default, alias = "permissions")]
    pub available_permissions: Vec<String>,
    /// Derived operational constraints.
    #[serde(default)]
    pub constraints: Constraints,
    /// Type-specific attributes (engine, engine_version, multi_az, …) and any field this
    /// build does not know.
    #[serde(default, flatten)]
    pub attributes: BTreeMap<String, serde_json::Value>,
}

impl IdentifiedResource {
    /// The service identifier: `id`, else the service-specific identifier field.
    pub fn identifier(&self) -> Option<&str> {
        const FIELDS: [&str; 6] = [
            "db_instance_identifier",
            "instance_id",
            "bucket_name",
            "function_name",
            "load_balancer_arn",
            "load_balancer_name",
        ];
        self.id.as_deref().or_else(|| {
            FIELDS.iter().find_map(|field| self.attributes.get(*field).and_then(|v| v.as_str()))
        })
    }

    /// How plans name this resource as a target ([`Step::target`], [`SkippedTarget`]): its
    /// ARN, else its id, else its identifier.
    pub fn target(&self) -> String {
        self.arn
            .as_deref()
            .or(self.id.as_deref())
            .or_else(|| self.identifier())
            .unwrap_or_default()
            .to_owned()
    }

    /// The normalized environment (`production`, `staging`, …) from the tags, else the
    /// account name.
    pub fn environment(&self) -> Option<String> {
        crate::model::environment_of(&self.tags, self.account_name.as_deref().unwrap_or_default())
    }

    /// The facts of `resource` an operation may need; tags pass through `keep_tag`, which
    /// implements the client's redaction policy.
    pub fn from_resource(resource: &Resource, keep_tag: impl Fn(&str) -> bool) -> Self {
        IdentifiedResource {
            resource_type: resource.resource_type.clone(),
            arn: Some(resource.arn.clone()),
            id: Some(resource.id.clone()),
            name: (!resource.name.is_empty() && resource.name != resource.id)
                .then(|| resource.name.clone()),
            account_id: resource.account_id.clone(),
            account_name: (!resource.account_name.is_empty())
                .then(|| resource.account_name.clone()),
            region: resource.region.clone(),
            current_state: resource.state.clone(),
            tags: resource
                .tags
                .iter()
                .filter(|(key, _)| keep_tag(key))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            available_permissions: resource.permissions.clone(),
            constraints: resource.constraints.clone(),
            attributes: resource.attributes.clone(),
        }
    }
}

/// Who is asking and their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserContext {
    /// An opaque user identifier (never a credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The operator's default region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
    /// The account ids the operator works with.
    #[serde(default)]
    pub aws_accounts: Vec<String>,
}

/// The planner's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlanResponse {
    /// What will happen, in plain words, written from the facts.
    pub explain_plan: String,
    /// The commands to run.
    pub script: Script,
    /// How risky the plan is, and why.
    pub risk_assessment: RiskAssessment,
    /// Whether the operator must approve before anything runs.
    pub approval_required: bool,
    /// The playbook the plan was built from, when one matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook: Option<PlaybookRef>,
    /// What the planner understood the operator wants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    /// The class of the request (`cloudops_core::classify`): only an `action` may be executable.
    /// Absent from planners that predate the classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_class: Option<IntentClass>,
    /// How to undo the script, when it can be undone.
    #[serde(default, skip_serializing_if = "Script::is_empty")]
    pub rollback: Script,
    /// Read-only commands that confirm the result, run after the script.
    #[serde(default, skip_serializing_if = "Script::is_empty")]
    pub verification: Script,
    /// The IAM actions the script needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_permissions: Vec<String>,
    /// Other playbooks that came close, best first (all of them when nothing matched).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<PlaybookSummary>,
    /// Whether the script may be executed; `false` when a precondition failed or nothing
    /// matched, with the reason in `explain_plan`.
    #[serde(default = "default_true")]
    pub executable: bool,
    /// Identified resources the plan leaves out, each with the reason (a fleet's members in
    /// the wrong state for the operation); no step names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedTarget>,
}

/// An identified resource a plan leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SkippedTarget {
    /// The resource's ARN, else its id (as [`Step::target`] names targets).
    pub target: String,
    /// Its name, as the operator knows it.
    pub name: String,
    /// Why it is left out ("it is stopped; stop needs it running").
    pub reason: String,
}

impl PlanResponse {
    /// Whether the plan leaves `target` out (a fleet member in the wrong state; `target` as
    /// [`IdentifiedResource::target`] names it).
    pub fn leaves_out(&self, target: &str) -> bool {
        self.skipped.iter().any(|skipped| skipped.target == target)
    }
}

fn default_true() -> bool {
    true
}

/// A playbook named by a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlaybookRef {
    /// The playbook id, e.g. `aws_rds_stop_instance`.
    pub id: String,
    /// The playbook version.
    pub version: String,
    /// The commit of the library it was served from, when the library is in Git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// A playbook offered as an alternative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlaybookSummary {
    /// The playbook id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Retrieval relevance in `0..=1`.
    pub score: f32,
}

/// What the planner understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Intent {
    /// The operation, e.g. `stop`.
    pub operation: String,
    /// The AWS service, e.g. `rds`.
    pub service: String,
    /// How sure the planner is, `0..=1`.
    pub confidence: f32,
}

/// The executable part of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Script {
    /// Steps, run in order.
    pub steps: Vec<Step>,
}

impl Script {
    /// Whether the script has no step.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// One AWS CLI invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Step {
    /// The step's id, unique within the script.
    pub step_id: String,
    /// The command, e.g. `aws rds stop-db-instance`.
    #[cfg_attr(feature = "openapi", schema(examples("aws rds stop-db-instance")))]
    pub command: String,
    /// The arguments, one element each; never joined into a shell line. An element
    /// `{{ steps.<id>.<name> }}` stands for a value captured from an earlier step.
    #[serde(default)]
    pub args: Vec<String>,
    /// What the step does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The account whose credentials run the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Values to capture from the JSON output: name → JMESPath expression.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
    /// For verification steps: the expected text output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    /// The identified resource the step acts on (its ARN, else its id): a fleet's steps are
    /// run, rolled back and reported per target. Absent from planners that predate fleets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// How risky a plan is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RiskAssessment {
    /// The overall level.
    pub level: RiskLevel,
    /// Why, one fact per entry.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// What the operator should expect to happen.
    #[serde(default)]
    pub impact: String,
}

/// A risk level, ordered from least to most risky.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Read-only or trivially reversible.
    Low,
    /// Reversible, but with impact.
    Medium,
    /// Hard to reverse, or broad impact.
    High,
    /// Irreversible data loss is possible.
    Critical,
}

impl RiskLevel {
    /// The level's name as serialized: `low`, `medium`, `high`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
}

impl std::fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_level_names_are_the_serialized_ones() {
        for level in [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High, RiskLevel::Critical] {
            assert_eq!(serde_json::to_value(level).expect("JSON"), level.as_str());
        }
    }
}
