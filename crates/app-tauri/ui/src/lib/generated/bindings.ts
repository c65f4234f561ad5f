// Generated from the Rust types by crates/app-tauri/src/bindings.rs (ts-rs): do not edit.
// Regenerate with: CLOUDOPS_UPDATE_BINDINGS=1 cargo test -p app-tauri --lib bindings

/**
 * The answer for one action on one resource.
 */
export type Access = { "decision": "allowed",
/**
 * Which policy allows it.
 */
by: string, } | { "decision": "denied",
/**
 * Why, naming the policy when one denies it.
 */
reason: string, } | { "decision": "unknown",
/**
 * Why.
 */
reason: string, };

/**
 * One configured account and what the keychain holds for it (never the secret).
 */
export type AccountView = {
/**
 * Its name in `config.toml`.
 */
name: string,
/**
 * The role assumed into it.
 */
role_arn: string | null,
/**
 * The AWS profile it uses.
 */
profile: string | null,
/**
 * The regions synced.
 */
regions: Array<string>,
/**
 * The stored access key id, masked; `None` when nothing is stored.
 */
access_key_id: string | null,
/**
 * Whether the stored key is temporary.
 */
session_token: boolean,
/**
 * Why the stored entry cannot be used, when it cannot.
 */
problem: string | null, };

/**
 * The accounts and the keychain.
 */
export type AccountsView = {
/**
 * The keychain in use, described; `None` when there is none.
 */
backend: string | null,
/**
 * Why there is no keychain, when there is none.
 */
problem: string | null,
/**
 * Every configured account.
 */
accounts: Array<AccountView>, };

/**
 * An answer from the local estate.
 */
export type Answer = {
/**
 * The question as asked; `None` for a structured query.
 */
question?: string | null,
/**
 * The filters that were counted, in the query grammar (`type:rds_instance
 * automated_backups_enabled=false`): what the question was read as.
 */
query: string,
/**
 * What the groups are formed by.
 */
group_by: Array<string>,
/**
 * The question asked for a number.
 */
count: boolean,
/**
 * What was read approximately.
 */
notes: Array<string>,
/**
 * Every matching resource, counted.
 */
total: number,
/**
 * The groups, largest first (empty without `group_by`); their counts add up to `total`.
 */
groups: Array<Group>,
/**
 * The first `limit` matches in the requested order; `total - results.len()` more exist.
 */
results: Array<Resource>,
/**
 * Microseconds the index took.
 */
took_us: number,
/**
 * Every scope the answer covers has synced successfully, and its last attempt did not
 * fail.
 */
complete: boolean,
/**
 * Why not, one line per scope (never synced, or its last sync failed).
 */
incomplete: Array<string>,
/**
 * The oldest last successful sync among the covered scopes (RFC 3339): the answer is
 * at least this fresh. `None` when none has synced.
 */
as_of: string | null,
/**
 * How many sync scopes (account, region, service) the answer covers.
 */
scopes: number, };

/**
 * The app at a glance, for the status line.
 */
export type AppInfo = {
/**
 * The app's version.
 */
version: string,
/**
 * The data directory.
 */
home: string,
/**
 * Resources in the index.
 */
resources: number,
/**
 * Whether lookups use the semantic model.
 */
semantic: boolean,
/**
 * The embedder's name.
 */
embedder: string,
/**
 * Where plans come from: `in-process` or the server's URL.
 */
planner: string,
/**
 * Things the operator should know (no model, a keychain entry that cannot be read).
 */
notes: Array<string>, };

/**
 * What the operator gave in answer to an [`ApprovalNeed`], passed through by a frontend as
 * it was given. Whether it approves the plan is decided here, once, by [`Proposal::accept`].
 */
export type ApprovalInput = { "kind": "approve" } | { "kind": "answer",
/**
 * As typed.
 */
text: string, } | { "kind": "names",
/**
 * As typed.
 */
names: Array<string>, } | { "kind": "flags",
/**
 * `--yes`.
 */
yes: boolean,
/**
 * `--force`.
 */
force: boolean, };

/**
 * How a plan was approved.
 */
export type ApprovalMethod = "confirmed" | "typed_name" | "typed_count" | "yes_flag" | "yes_force" | "not_required";

/**
 * How the operator must approve a plan.
 */
export type ApprovalNeed = { "kind": "confirm" } | { "kind": "type_name",
/**
 * The names to type.
 */
names: Array<string>, } | { "kind": "type_count",
/**
 * The number to type.
 */
count: number, };

/**
 * One audit record, with its event as an object named by `kind`.
 */
export type AuditRecordView = {
/**
 * Its position in the chain.
 */
seq: number,
/**
 * When it was written.
 */
time: string,
/**
 * The execution it belongs to.
 */
execution_id: string,
/**
 * Its hash.
 */
hash: string,
/**
 * What happened: `kind` plus the event's fields.
 */
event: { kind: string, [field: string]: unknown }, };

/**
 * The first place the chain breaks.
 */
export type ChainBreak = {
/**
 * The sequence number the record there should have, which is also its line number.
 */
seq: number,
/**
 * What is wrong.
 */
problem: ChainProblem,
/**
 * The details, for a person.
 */
reason: string, };

/**
 * The ways a chain breaks.
 */
export type ChainProblem = "malformed" | "torn" | "modified" | "missing" | "out_of_order" | "unlinked" | "unsupported_format";

/**
 * The verdict of [`AuditLog::verify`].
 */
export type ChainReport = {
/**
 * Whether every line is a record that chains to the one before it.
 */
intact: boolean,
/**
 * The records checked and found intact, from the start of the file up to the first
 * break.
 */
records: number,
/**
 * The hash of the last intact record (`None` for an empty log). Noting it down lets a
 * later check detect records cut off the end, which the chain alone cannot.
 */
head: string | null,
/**
 * Where and why the chain breaks; `None` when intact.
 */
broken: ChainBreak | null, };

/**
 * What a command returns when it fails; the web UI shows `message` where it happened.
 */
export type CommandError = {
/**
 * `invalid_input`, `not_found`, `conflict`, `unavailable` or `internal`.
 */
kind: ErrorKind,
/**
 * What went wrong and, where possible, what to do next. Never holds a secret.
 */
message: string, };

/**
 * Operational constraints derived from a resource's configuration.
 *
 * Every field is optional: `None` means "not known", which is different from `false`.
 */
export type Constraints = {
/**
 * Whether the resource can be stopped at all (e.g. instance-store roots and RDS read
 * replicas cannot).
 */
can_stop?: boolean | null,
/**
 * Whether the DB instance has read replicas.
 */
has_read_replicas?: boolean | null,
/**
 * Whether deletion (or termination) protection is on.
 */
deletion_protection?: boolean | null,
/**
 * Whether automated backups are enabled.
 */
automated_backups_enabled?: boolean | null,
/**
 * Whether the resource is deployed across availability zones.
 */
multi_az?: boolean | null, } & ({ [key in string]: number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null });

/**
 * What a sync did to the index.
 */
export type Counts = {
/**
 * Resources read from AWS.
 */
read: number,
/**
 * Resources new to the index.
 */
added: number,
/**
 * Resources rewritten because their content changed.
 */
changed: number,
/**
 * Resources read but identical to the index (not rewritten).
 */
unchanged: number,
/**
 * Resources removed because they are gone.
 */
removed: number,
/**
 * Distinct texts embedded.
 */
embedded: number, };

/**
 * Whose fault an error is.
 */
export type ErrorKind = "invalid_input" | "not_found" | "conflict" | "unavailable" | "internal";

/**
 * Progress of an execution, for front ends.
 */
export type ExecutionEvent = { "event": "step_started",
/**
 * Its phase.
 */
phase: Phase,
/**
 * Its id.
 */
step_id: string,
/**
 * What it does.
 */
description: string,
/**
 * `aws` and the arguments, as run.
 */
argv: Array<string>, } | { "event": "step_retrying",
/**
 * Its phase.
 */
phase: Phase,
/**
 * Its id.
 */
step_id: string,
/**
 * Runs so far.
 */
runs: number,
/**
 * What it showed.
 */
observed: string, } | { "event": "step_finished",
/**
 * Its phase.
 */
phase: Phase,
/**
 * Its id.
 */
step_id: string,
/**
 * Whether it succeeded.
 */
succeeded: boolean,
/**
 * The exit code.
 */
exit_code: number | null,
/**
 * Time spent.
 */
duration_ms: number,
/**
 * Its output (redacted, shortened).
 */
output: string, } | { "event": "step_skipped",
/**
 * Its phase.
 */
phase: Phase,
/**
 * Its id.
 */
step_id: string,
/**
 * Why.
 */
reason: string, } | { "event": "rollback_started",
/**
 * What failed.
 */
reason: string, } | { "event": "target_finished",
/**
 * The resource (its ARN, else its id).
 */
target: string,
/**
 * Its name.
 */
name: string,
/**
 * How it ended.
 */
result: TargetResult,
/**
 * In one sentence.
 */
message: string, } | { "event": "finished",
/**
 * How.
 */
outcome: Outcome,
/**
 * In one sentence.
 */
message: string, };

/**
 * What an execution did.
 */
export type ExecutionReport = {
/**
 * The execution id.
 */
execution_id: string,
/**
 * How it ended.
 */
outcome: Outcome,
/**
 * In one sentence.
 */
message: string,
/**
 * The re-read of the touched resources.
 */
refresh: RefreshReport,
/**
 * Each target's result (the plan's skipped targets included).
 */
targets: Array<TargetReport>, };

/**
 * One execution at a glance, from its records.
 */
export type ExecutionSummary = {
/**
 * The execution id.
 */
id: string,
/**
 * The time of its first record.
 */
started: string,
/**
 * The time of its `finished` record; `None` while unfinished (or interrupted).
 */
finished: string | null,
/**
 * The operator's words (empty when no plan was recorded). Untrusted text.
 */
prompt: string,
/**
 * The playbook the plan came from.
 */
playbook: string | null,
/**
 * The resources, by name (else id, else ARN).
 */
resources: Array<string>,
/**
 * How it ended; `None` while unfinished.
 */
outcome: Outcome | null,
/**
 * How it was approved, when it was.
 */
approval: ApprovalMethod | null,
/**
 * The number of commands run (script, verification and rollback).
 */
commands: number,
/**
 * The sequence numbers of its first and last records.
 */
first_seq: number,
/**
 * See [`Self::first_seq`].
 */
last_seq: number, };

/**
 * The values the explorer's filters offer, from the index.
 */
export type Facets = {
/**
 * Account names (or ids, where unnamed).
 */
accounts: Array<string>,
/**
 * Regions.
 */
regions: Array<string>,
/**
 * Resource types.
 */
resource_types: Array<string>,
/**
 * States, lowercased.
 */
states: Array<string>,
/**
 * Tag keys (at most [`MAX_TAG_KEYS`]).
 */
tag_keys: Array<string>,
/**
 * Resources in the index.
 */
resources: number, };

/**
 * Where the facts a plan was made on came from.
 */
export type FactsSource = "live" | "index";

/**
 * The whole set of resources a plural or quantified mention means.
 */
export type Fleet = {
/**
 * The mention read as a query, in the query grammar (`type:ec2_instance
 * env:development name:orders-api`): what selects the set.
 */
query: string,
/**
 * How many resources match.
 */
total: number,
/**
 * The members, by account, region and name: every one of them when `total` is at most
 * [`MAX_FLEET`], else the first [`MAX_FLEET`] (and `blocked` says why it cannot be
 * planned).
 */
members: Array<Resource>,
/**
 * The members grouped by account, region, state and name pattern, largest first,
 * each with its members' ARNs (empty when the set is too large to list).
 */
groups: Array<FleetGroup>,
/**
 * Why the set cannot be planned as it is (too many members, several kinds of
 * resource); `None` when it can.
 */
blocked: string | null,
/**
 * What was read approximately.
 */
notes: Array<string>,
/**
 * Every scope the answer covers has synced successfully, and its last attempt did not
 * fail.
 */
complete: boolean,
/**
 * Why not, one line per scope (never synced, or its last sync failed).
 */
incomplete: Array<string>,
/**
 * The oldest last successful sync among the covered scopes (RFC 3339): the answer is
 * at least this fresh. `None` when none has synced.
 */
as_of: string | null,
/**
 * How many sync scopes (account, region, service) the answer covers.
 */
scopes: number, };

/**
 * One group of a fleet's members.
 */
export type FleetGroup = {
/**
 * What the group is formed by: `account`, `region`, `state` or `name`.
 */
by: string,
/**
 * The value (`123456789012`, `us-east-1`, `running`, `orders-api-dev-*`).
 */
value: string,
/**
 * How many members it has.
 */
count: number,
/**
 * Their ARNs (empty when the set is too large to list).
 */
members: Array<string>, };

/**
 * How fresh a proposal's facts are, and what the re-read found.
 */
export type Freshness = {
/**
 * Where the facts came from.
 */
source: FactsSource,
/**
 * When they were read (RFC 3339, UTC): the re-read's time when live; else the oldest
 * `last_seen` of the targets (when a sync first saw that version of them).
 */
as_of: string,
/**
 * What the re-read found different from the index, one fact per entry
 * (`pg-instance-main1: state available → stopped`).
 */
changes: Array<string>,
/**
 * Targets the re-read found gone from AWS, by name; nothing is planned for them.
 */
gone: Array<string>,
/**
 * Why the facts are the index's, when they are.
 */
note?: string | null,
/**
 * How long the re-read took, in milliseconds (0 when none was made).
 */
reread_ms: number, };

/**
 * One group of an answer: its key values (by [`GroupKey::label`]) and how many match.
 */
export type Group = {
/**
 * The value of each group key (`{"region": "us-east-1"}`).
 */
key: { [key in string]: string },
/**
 * Resources in the group.
 */
count: number, };

/**
 * The history view: executions newest first and the audit chain's verdict.
 */
export type HistoryView = {
/**
 * Newest first.
 */
executions: Array<ExecutionSummary>,
/**
 * Whether the chain is intact.
 */
chain: ChainReport, };

/**
 * What the planner understood.
 */
export type Intent = {
/**
 * The operation, e.g. `stop`.
 */
operation: string,
/**
 * The AWS service, e.g. `rds`.
 */
service: string,
/**
 * How sure the planner is, `0..=1`.
 */
confidence: number, };

/**
 * What kind of request a prompt is.
 */
export type IntentClass = "action" | "question" | "negated_or_hypothetical" | "out_of_scope" | "unclear";

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * The answer to a lookup.
 */
export type LookupResponse = {
/**
 * The query as received.
 */
query: string,
/**
 * How the query was understood.
 */
understood: ParsedQuery,
/**
 * Results, best first.
 */
results: Array<LookupResult>,
/**
 * True when the best candidates are too close to call: the operator must choose.
 */
ambiguous: boolean,
/**
 * Whether the semantic model took part in this lookup.
 */
semantic: boolean,
/**
 * True when the request was `lexical_only` and a full lookup would have embedded the
 * query: the semantic candidates are missing from this answer, ask again for them.
 */
semantic_skipped: boolean,
/**
 * Remarks for the operator (a relaxed scope, a missing model…).
 */
notes: Array<string>,
/**
 * Time spent, in microseconds.
 */
took_us: number, };

/**
 * One lookup result.
 */
export type LookupResult = {
/**
 * The resource.
 */
resource: Resource,
/**
 * Relevance in `0..=1`; exact matches score 1.
 */
score: number,
/**
 * How it was matched.
 */
matched_by: MatchKind, };

/**
 * How a result was matched.
 */
export type MatchKind = "exact_arn" | "exact_id" | "exact_name" | "id_prefix" | "lexical" | "semantic" | "hybrid" | "filter";

/**
 * The embedding model as the settings show it.
 */
export type ModelStatus = {
/**
 * Whether lookups use it.
 */
semantic: boolean,
/**
 * The embedder's name.
 */
embedder: string,
/**
 * Where the model is looked for.
 */
model_dir: string | null,
/**
 * In a sentence.
 */
message: string, };

/**
 * One operation of the library on a resource, and whether the credentials may run it.
 */
export type OperationAccess = {
/**
 * The playbook's id.
 */
playbook: string,
/**
 * Its title.
 */
title: string,
/**
 * The operation (`stop`, `create_snapshot`).
 */
operation: string,
/**
 * The IAM actions it needs.
 */
actions: Array<string>,
/**
 * Whether the credentials may run it.
 */
status: OperationStatus,
/**
 * The actions that decide a status other than allowed (denied, unknown or not checked).
 */
blocking: Array<string>, };

/**
 * Whether the credentials may run one operation on one resource, as the last sync judged.
 */
export type OperationStatus = "allowed" | "denied" | "unknown" | "not_checked";

/**
 * How an execution ended.
 */
export type Outcome = "succeeded" | "failed" | "rolled_back" | "rollback_failed" | "partial" | "dry_run" | "refused";

/**
 * What a query says, once understood.
 */
export type ParsedQuery = {
/**
 * The words that describe the resource itself, lowercased, in order.
 */
terms: Array<string>,
/**
 * Kinds of resource the query names ("database", "bucket"…).
 */
resource_types: Array<ResourceType>,
/**
 * Canonical environments the query names (`production`, `staging`…).
 */
environments: Array<string>,
/**
 * Configured account names the query names.
 */
accounts: Array<string>,
/**
 * Regions the query names.
 */
regions: Array<RegionScope>,
/**
 * Explicit `key=value` / `key:value` tag filters, read by [`parse_tag`] (and, in a
 * lookup's answer, the request's own tags); keys and values lowercased.
 */
tags: Array<[string, string]>, };

/**
 * An execution requested by an agent, waiting for a person's decision.
 */
export type PendingExecution = {
/**
 * The execution id (the audit trail's and, once approved, the execution record's).
 */
id: string,
/**
 * The requesting client as it named itself (MCP `clientInfo`), cleaned; not verified.
 */
client: string,
/**
 * The request's words, verbatim.
 */
prompt: string,
/**
 * When it was requested (RFC 3339).
 */
requested_at: string,
/**
 * When it expires unless decided (RFC 3339).
 */
expires_at: string,
/**
 * Where it stands.
 */
state: PendingState,
/**
 * Who decided, once someone did.
 */
decided_by: string | null,
/**
 * The verified plan's hash ([`crate::plan_hash`]).
 */
plan_hash: string,
/**
 * Who planned.
 */
planner: string,
/**
 * The targets, as the index held them when the plan was made.
 */
resources: Array<Resource>,
/**
 * How fresh the facts the plan was made on were.
 */
freshness: Freshness,
/**
 * What the credentials may do of the plan's actions, as checked when it was made.
 */
permissions: Array<PermissionCheck>, };

/**
 * Where a pending execution stands.
 */
export type PendingState = "pending" | "approved" | "rejected" | "expired";

/**
 * Whether the credentials that would run a plan may do one of its actions on one target.
 */
export type PermissionCheck = {
/**
 * The IAM action, e.g. `rds:StopDBInstance` (from the client's own playbook).
 */
action: string,
/**
 * The target's ARN.
 */
resource: string,
/**
 * Allowed (by which policy), denied (why) or unknown (why).
 */
access: Access, };

/**
 * The part of a plan a command belongs to.
 */
export type Phase = "script" | "verification" | "rollback";

/**
 * The planner's answer.
 */
export type PlanResponse = {
/**
 * What will happen, in plain words, written from the facts.
 */
explain_plan: string,
/**
 * The commands to run.
 */
script: Script,
/**
 * How risky the plan is, and why.
 */
risk_assessment: RiskAssessment,
/**
 * Whether the operator must approve before anything runs.
 */
approval_required: boolean,
/**
 * The playbook the plan was built from, when one matched.
 */
playbook?: PlaybookRef | null,
/**
 * What the planner understood the operator wants.
 */
intent?: Intent | null,
/**
 * The class of the request (`cloudops_core::classify`): only an `action` may be executable.
 * Absent from planners that predate the classification.
 */
intent_class?: IntentClass | null,
/**
 * How to undo the script, when it can be undone.
 */
rollback?: Script,
/**
 * Read-only commands that confirm the result, run after the script.
 */
verification?: Script,
/**
 * The IAM actions the script needs.
 */
required_permissions?: Array<string>,
/**
 * Other playbooks that came close, best first (all of them when nothing matched).
 */
alternatives?: Array<PlaybookSummary>,
/**
 * Whether the script may be executed; `false` when a precondition failed or nothing
 * matched, with the reason in `explain_plan`.
 */
executable: boolean,
/**
 * Identified resources the plan leaves out, each with the reason (a fleet's members in
 * the wrong state for the operation); no step names them.
 */
skipped?: Array<SkippedTarget>, };

/**
 * Where plans are made.
 */
export type PlannerKind = "in_process" | "server";

/**
 * A playbook named by a plan.
 */
export type PlaybookRef = {
/**
 * The playbook id, e.g. `aws_rds_stop_instance`.
 */
id: string,
/**
 * The playbook version.
 */
version: string,
/**
 * The commit of the library it was served from, when the library is in Git.
 */
commit?: string | null, };

/**
 * A playbook offered as an alternative.
 */
export type PlaybookSummary = {
/**
 * The playbook id.
 */
id: string,
/**
 * Its title.
 */
title: string,
/**
 * Retrieval relevance in `0..=1`.
 */
score: number, };

/**
 * A plan for the operator to approve or reject.
 */
export type Proposal = {
/**
 * The execution id, shared by the audit trail and the execution record.
 */
execution_id: string,
/**
 * The local resources the request is about.
 */
resources: Array<Resource>,
/**
 * The planner's answer.
 */
plan: PlanResponse,
/**
 * The client's verification of it.
 */
verdict: Verdict,
/**
 * Where the plan came from (`in-process` or the server's URL).
 */
planner: string,
/**
 * How fresh the facts the plan was made on are, and what the re-read found.
 */
freshness: Freshness,
/**
 * What the credentials that would run the plan may do, per action and target, judged
 * from their own IAM policies (empty when AWS could not be read or nothing was planned).
 */
permissions: Array<PermissionCheck>, };

/**
 * How a scope's resources were read.
 */
export type ReadMethod = "listing" | "cloudtrail";

/**
 * What [`refresh`] did.
 */
export type RefreshReport = {
/**
 * Resources read again and written (changed or not).
 */
refreshed: number,
/**
 * Resources that no longer exist, removed from the index.
 */
removed: number,
/**
 * Scopes that could not be read, with why; their resources keep the old facts.
 */
failures: Array<string>, };

/**
 * A region scope: an exact region code or a family prefix such as `eu-`.
 */
export type RegionScope = { "exact": string } | { "prefix": string };

/**
 * What the prompt's resource mention resolved to.
 *
 * Serialized in one shape for every kind, so a frontend lists candidates the same way:
 * `{"kind": "resolved" | "ambiguous" | "not_found", "candidates": [...], "notes": [...]}`
 * (one candidate when resolved, none when not found).
 */
export type Resolution = { "kind": "resolved", candidates: [LookupResult], notes: [], } | { "kind": "ambiguous", candidates: Array<LookupResult>, notes: [], } | { "kind": "not_found", candidates: [], notes: Array<string>, };

/**
 * One AWS resource as the client knows it, normalized across services.
 *
 * This is the unit of the local estate: it is what sync writes, what lookup returns, and
 * what the client sends (trimmed) to the planner in an enriched request.
 */
export type Resource = {
/**
 * The resource's ARN; the key of the estate.
 */
arn: string,
/**
 * The kind of resource.
 */
resource_type: ResourceType,
/**
 * The service's own identifier (`i-0abc…`, the DB instance identifier, the bucket name…).
 */
id: string,
/**
 * The human name: the `Name` tag, or the identifier where the service has no other name.
 */
name: string,
/**
 * The 12-digit AWS account id.
 */
account_id: string,
/**
 * The account's name from the client's configuration (`production`, `staging`…).
 */
account_name: string,
/**
 * The AWS region (`us-west-2`); S3 buckets carry their bucket region.
 */
region: string,
/**
 * The lifecycle state as the service reports it (`running`, `available`, `stopped`…).
 */
state: string,
/**
 * The resource's tags. Untrusted text: never interpreted as instructions.
 */
tags: { [key in string]: string },
/**
 * Type-specific attributes: engine, engine_version, instance_class, instance_type,
 * multi_az, runtime, description, …
 */
attributes: { [key in string]: JsonValue },
/**
 * Facts derived from configuration that operations must respect.
 */
constraints: Constraints,
/**
 * IAM actions known to be allowed on this resource: of those the playbook library's
 * operations on its type need, what the sync found the credentials may do (by IAM policy
 * simulation, or the identity's own policies judged locally). Empty when not known
 * (never invented).
 */
permissions: Array<string>,
/**
 * Of the same actions, those the credentials may not do (an explicit `Deny`, or nothing
 * allows them).
 */
permissions_denied?: Array<string>,
/**
 * Of the same actions, those that could not be decided (conditions, resource policies,
 * policies that could not be read): unknown, never taken as allowed.
 */
permissions_unknown?: Array<string>,
/**
 * ARNs or ids of resources this one depends on (replica source, VPC, subnets…).
 */
dependencies: Array<string>,
/**
 * When a sync observed this version of the resource (RFC 3339, UTC). Not part of the
 * content hash: a resource a later sync finds unchanged is not rewritten, so this is the
 * time its current content was first seen; when its scope was last confirmed is in the
 * sync state (`cloudops estate status`).
 */
last_seen: string, };

/**
 * The kind of AWS resource: a kind this build knows, or any other snake_case name.
 */
export type ResourceType = "ec2_instance" | "rds_instance" | "s3_bucket" | "lambda_function" | "elb_load_balancer" | (string & {});

/**
 * How risky a plan is.
 */
export type RiskAssessment = {
/**
 * The overall level.
 */
level: RiskLevel,
/**
 * Why, one fact per entry.
 */
reasons: Array<string>,
/**
 * What the operator should expect to happen.
 */
impact: string, };

/**
 * A risk level, ordered from least to most risky.
 */
export type RiskLevel = "low" | "medium" | "high" | "critical";

/**
 * One scope of a sync: an account (by configured name), a region and a service.
 */
export type ScopeKey = {
/**
 * The account's name in `config.toml`.
 */
account: string,
/**
 * The region, or [`GLOBAL_REGION`] for S3.
 */
region: string,
/**
 * The service.
 */
service: Service, };

/**
 * The outcome of one scope.
 */
export type ScopeReport = {
/**
 * Account, region, service.
 */
scope: ScopeKey,
/**
 * The account id, when the account was reached.
 */
account_id: string | null,
/**
 * Full or incremental.
 */
mode: SyncMode,
/**
 * How it was read, when it was.
 */
method: ReadMethod | null,
/**
 * Why an incremental sync listed instead of using CloudTrail.
 */
fallback: string | null,
/**
 * What changed in the index.
 */
counts: Counts,
/**
 * Resources of this scope in the index afterwards.
 */
resources: number,
/**
 * Milliseconds spent waiting for AWS.
 */
api_ms: number,
/**
 * Milliseconds spent writing the index (embedding included).
 */
index_ms: number,
/**
 * Why it failed; its previous data stays (stale).
 */
error: string | null,
/**
 * For a failed scope: when it last synced successfully, if ever.
 */
stale_since: string | null, };

/**
 * What is known about one scope's syncs.
 */
export type ScopeState = {
/**
 * The 12-digit account id, once a sync reached the account.
 */
account_id: string | null,
/**
 * When the last successful full sync of this scope started (RFC 3339, UTC).
 */
last_full: string | null,
/**
 * When the last successful incremental sync started.
 */
last_incremental: string | null,
/**
 * When the last successful sync of either kind started, in seconds since the Unix
 * epoch: the point an incremental sync reads changes from.
 */
last_success_unix: number | null,
/**
 * When the last attempt started, successful or not.
 */
last_attempt: string | null,
/**
 * Resources of this scope in the index after the last successful sync.
 */
resources: number,
/**
 * Resources the last successful sync added.
 */
added: number,
/**
 * Resources the last successful sync changed.
 */
changed: number,
/**
 * Resources the last successful sync removed.
 */
removed: number,
/**
 * Distinct texts the last successful sync embedded.
 */
embedded: number,
/**
 * How long the last attempt took, in milliseconds.
 */
duration_ms: number,
/**
 * How the last successful sync read the scope (`listing` or `cloudtrail`).
 */
method: string | null,
/**
 * Why the last attempt failed; `None` after a success.
 */
last_error: string | null, };

/**
 * One scope's sync state with its staleness: a row of `cloudops estate status --json` and
 * of the desktop's estate view.
 */
export type ScopeStatus = {
/**
 * Account, region and service.
 */
scope: ScopeKey,
/**
 * What is known of its syncs.
 */
state: ScopeState,
/**
 * Whether the index holds its resources from before a failed attempt
 * ([`ScopeState::is_stale`]).
 */
stale: boolean, };

/**
 * The executable part of a plan.
 */
export type Script = {
/**
 * Steps, run in order.
 */
steps: Array<Step>, };

/**
 * A search from the explorer or the chat box's autocomplete.
 */
export type SearchRequest = {
/**
 * What was typed.
 */
query: string,
/**
 * Only this resource type.
 */
resource_type?: string | null,
/**
 * Only this account (name or id).
 */
account?: string | null,
/**
 * Only this region.
 */
region?: string | null,
/**
 * Only this state.
 */
state?: string | null,
/**
 * `key=value` tag filters, all of which must hold.
 */
tags?: Array<string>,
/**
 * How many results at most.
 */
limit?: number | null,
/**
 * A first answer without the query embedding (see `LookupRequest::lexical_only`).
 */
lexical_only?: boolean, };

/**
 * An AWS service.
 */
export type Service = "ec2" | "rds" | "s3" | "lambda" | "elbv2";

/**
 * The settings view.
 */
export type Settings = {
/**
 * Where plans are made.
 */
planner: PlannerKind,
/**
 * The planning server, when one is set.
 */
server_url: string | null,
/**
 * A private CA for the server.
 */
server_ca_file: string | null,
/**
 * The embedding model.
 */
model: ModelStatus,
/**
 * The data directory.
 */
home: string, };

/**
 * An identified resource a plan leaves out, and why.
 */
export type SkippedTarget = {
/**
 * The resource's ARN, else its id (as [`Step::target`] names targets).
 */
target: string,
/**
 * Its name, as the operator knows it.
 */
name: string,
/**
 * Why it is left out ("it is stopped; stop needs it running").
 */
reason: string, };

/**
 * One AWS CLI invocation.
 */
export type Step = {
/**
 * The step's id, unique within the script.
 */
step_id: string,
/**
 * The command, e.g. `aws rds stop-db-instance`.
 */
command: string,
/**
 * The arguments, one element each; never joined into a shell line. An element
 * `{{ steps.<id>.<name> }}` stands for a value captured from an earlier step.
 */
args: Array<string>,
/**
 * What the step does.
 */
description?: string,
/**
 * The account whose credentials run the step.
 */
account_id?: string | null,
/**
 * Values to capture from the JSON output: name → JMESPath expression.
 */
capture?: { [key in string]: string },
/**
 * For verification steps: the expected text output.
 */
expect?: string | null,
/**
 * The identified resource the step acts on (its ARN, else its id): a fleet's steps are
 * run, rolled back and reported per target. Absent from planners that predate fleets.
 */
target?: string | null, };

/**
 * Progress of a sync, for progress bars; serialized with its kind in `event`
 * (`{"event": "read", "scope": {…}, "resources": 12}`).
 */
export type SyncEvent = { "event": "planned",
/**
 * Them, in order.
 */
scopes: Array<ScopeKey>, } | { "event": "started",
/**
 * The scope.
 */
scope: ScopeKey, } | { "event": "read",
/**
 * The scope.
 */
scope: ScopeKey,
/**
 * Resources read.
 */
resources: number, } | { "event": "finished",
/**
 * How it went.
 */
report: ScopeReport, } | { "event": "note",
/**
 * What, in words.
 */
message: string, };

/**
 * Whether a scope was read completely or only for its changes.
 */
export type SyncMode = "full" | "incremental";

/**
 * The outcome of a whole sync.
 */
export type SyncReport = {
/**
 * When it started (RFC 3339, UTC).
 */
started: string,
/**
 * Wall time in milliseconds.
 */
duration_ms: number,
/**
 * Every scope, ordered by account, region and service.
 */
scopes: Array<ScopeReport>,
/**
 * The sum over successful scopes.
 */
totals: Counts,
/**
 * Resources in the index afterwards, per type.
 */
by_type: { [key in string]: number }, };

/**
 * What an execution did to one target.
 */
export type TargetReport = {
/**
 * The resource (its ARN, else its id), as the plan's steps name it.
 */
target: string,
/**
 * Its name, as the operator knows it.
 */
name: string,
/**
 * How it ended for this target.
 */
result: TargetResult,
/**
 * A sentence for the operator.
 */
message: string, };

/**
 * How an execution ended for one of its targets.
 */
export type TargetResult = "ok" | "failed" | "rolled_back" | "rollback_failed" | "skipped";

/**
 * The client's judgement of a plan.
 */
export type Verdict = { "verdict": "verified",
/**
 * The assessed risk (the higher of the server's and the client's own).
 */
risk: RiskAssessment,
/**
 * Whether the playbook deletes or irreversibly changes something.
 */
destructive: boolean,
/**
 * How the operator must approve.
 */
approval: ApprovalNeed, } | { "verdict": "not_executable" } | { "verdict": "refused",
/**
 * Why, one reason each.
 */
reasons: Array<string>, };
