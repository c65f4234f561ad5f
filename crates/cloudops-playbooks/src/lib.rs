//! CloudOps playbooks: the operations side. A library of YAML playbooks (built in, or a
//! directory in a Git repository), validated file by file; retrieval over them with the
//! same hybrid machinery as the estate index; the planner that turns an enriched request
//! into a plan; and the client's check that a plan from a server it does not trust is
//! exactly what its own copy of the playbook renders.
//!
//! ```
//! use std::sync::Arc;
//! use cloudops_core::{EnrichedRequest, HashEmbedder};
//! use cloudops_playbooks::{Library, Planner};
//!
//! # fn main() -> cloudops_playbooks::Result<()> {
//! let planner = Planner::new(Library::builtin(), Arc::new(HashEmbedder))?;
//! let request: EnrichedRequest = serde_json::from_str(r#"{
//!     "prompt": "Stop pg-instance-main1",
//!     "identified_resources": [{
//!         "resource_type": "rds_instance", "db_instance_identifier": "pg-instance-main1",
//!         "account_id": "123456789012", "region": "us-west-2", "current_state": "available",
//!         "constraints": {"has_read_replicas": false}
//!     }]
//! }"#).expect("valid request");
//! let plan = planner.plan(&request)?;
//! assert_eq!(plan.script.steps[0].command, "aws rds stop-db-instance");
//!
//! // The client, with its own library, checks what the server sent before running it.
//! let verified = cloudops_playbooks::verify_plan(&Library::builtin(), &request, &plan)
//!     .expect("the plan is what the playbook renders");
//! assert!(!verified.destructive);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod capture;
mod error;
mod git;
mod library;
mod planner;
mod render;
mod schema;
mod template;
mod validate;
mod verify;

pub use crate::{
    capture::CapturePath,
    error::{Error, Result},
    library::{Library, LoadedPlaybook, MAX_PLAYBOOK_BYTES, Origin, Problem, parse},
    planner::{MAX_PROMPT_BYTES, MAX_RESOURCES, Planner, Retrieved, retrieval_text},
    render::{RenderInput, Rendered, render},
    schema::{
        ApprovalPolicy, Argument, Check, Parameter, ParameterSource, Playbook, Preconditions,
        RiskCondition, RiskModifier, RiskRules, StepTemplate, WhenUnknown,
    },
    verify::{Refusal, Verified, verify_plan},
};

/// The JSON Schema of the playbook format, for editors.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Playbook)).unwrap_or_default()
}
