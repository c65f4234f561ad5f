//! The operator's side of a change, as a library the CLI and the desktop app share.
//!
//! - [`Assistant`]: from the operator's words to an executed change. It resolves the
//!   resources in the local index ([`Assistant::resolve`], [`Resolution`]), builds the
//!   request with only those resources' fields ([`build_request`], [`TagPolicy`]), plans
//!   in-process or on a planning server ([`Planning`], [`ServerPlanner`]), verifies the plan
//!   against the client's own playbook catalog ([`Assistant::propose`], [`Proposal`],
//!   [`Verdict`]), judges the operator's answer by the one approval rule
//!   ([`Proposal::accept`] makes the [`Approval`] that [`Assistant::execute`] requires, bound
//!   to that proposal), executes it ([`Assistant::execute`]) and refreshes the touched resources.
//! - [`resolve_fleet`]: a plural or quantified mention ("all the orders-api servers in
//!   development") resolved to the whole matching set ([`Fleet`]), grouped for narrowing;
//!   a plan for it acts per target, skips members in the wrong state, and is approved once.
//! - [`answer_question`], [`answer_query`]: questions about the estate answered from the
//!   index, counted and grouped, with how complete and fresh the answer is ([`Answer`]);
//!   saved checks ([`check`], [`CHECKS`]) are named queries.
//! - [`Workflow`]: the steps of a plan run in order with the AWS CLI ([`AwsCli`], an argument
//!   vector, never a shell), captures, waiters, verification and rollback; the record of a
//!   run ([`ExecutionRecord`], [`ExecutionStore`]) is kept after every step, so an
//!   interrupted run resumes.
//! - [`PendingExecution`]: a verified plan an agent asked to run, waiting for a person
//!   ([`Assistant::request`], [`Assistant::pending_proposal`], [`Assistant::reject`]).
//! - [`operations_on`]: the library's operations on a resource and whether the credentials
//!   may run each, as the last sync judged ([`needed_actions`] is what it judges).
//! - [`AuditLog`]: the append-only, hash-chained audit trail of executions.
//!
//! The one library that depends on its siblings: a change needs the playbooks (to plan
//! in-process and to verify what any planner returns) and the sync (credentials, the
//! account checks and the targeted refresh after a change). The frontends hold only the
//! conversation.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod answer;
mod ask;
mod audit;
mod batch;
mod checks;
mod context;
mod error;
mod execute;
mod fleet;
mod freshness;
mod operations;
mod pending;
mod planning;
mod workflow;

pub use crate::{
    answer::{Answer, answer_query, answer_question},
    ask::{
        Approval, ApprovalInput, ApprovalNeed, Assistant, ExecutionReport, POLICIES_KEPT_FOR,
        PermissionCheck, Proposal, Verdict, is_question, operator,
    },
    audit::{
        ApprovalMethod, AuditEvent, AuditLog, AuditRecord, ChainBreak, ChainProblem, ChainReport,
        ExecutionSummary, FORMAT_VERSION as AUDIT_FORMAT_VERSION, GENESIS_HASH, OUTPUT_LIMIT,
        Outcome, Phase, TargetResult, new_execution_id, plan_hash, summarize,
    },
    checks::{CHECKS, Check, check, check_for_question},
    context::{
        CANDIDATES, Resolution, TagPolicy, build_request, confirmation_name, needed_attributes,
        resolve,
    },
    error::{Error, Result},
    execute::{
        AccountCredentials, AwsCli, CommandOutput, MAX_OUTPUT_BYTES, Redactor, SessionCredentials,
        account_credentials,
    },
    fleet::{Fleet, FleetGroup, MAX_FLEET, resolve_fleet},
    freshness::{FactsSource, Freshness, REREAD_TIMEOUT},
    operations::{OperationAccess, OperationStatus, library, needed_actions, operations_on},
    pending::{PendingExecution, PendingState, PendingStore, client_name},
    planning::{Planning, ServerPlanner},
    workflow::{
        ExecutionEvent, ExecutionRecord, ExecutionStore, StepRecord, StepStatus, TargetReport,
        Workflow, WorkflowOptions,
    },
};
