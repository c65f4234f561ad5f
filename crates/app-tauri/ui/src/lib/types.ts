// The JSON types of the desktop commands, exactly as the Rust side serialises them
// (snake_case field names). See the desktop contract.

export type ResourceType =
  | 'ec2_instance'
  | 'rds_instance'
  | 's3_bucket'
  | 'lambda_function'
  | 'elb_load_balancer'
  | (string & {});

export interface Resource {
  arn: string;
  resource_type: ResourceType;
  id: string;
  name: string;
  account_id: string;
  account_name: string;
  region: string;
  state: string;
  tags: Record<string, string>;
  attributes: Record<string, unknown>;
  constraints: Record<string, unknown>;
  permissions: string[];
  dependencies: string[];
  last_seen: string;
}

export type MatchKind =
  | 'exact_arn'
  | 'exact_id'
  | 'exact_name'
  | 'id_prefix'
  | 'lexical'
  | 'semantic'
  | 'hybrid'
  | 'filter';

export interface LookupResult {
  resource: Resource;
  score: number;
  matched_by: MatchKind;
}

export interface LookupResponse {
  query: string;
  understood: unknown;
  results: LookupResult[];
  ambiguous: boolean;
  semantic: boolean;
  /** The request was `lexical_only` and a full lookup would have embedded the query. */
  semantic_skipped?: boolean;
  notes: string[];
  took_us: number;
}

export interface SearchRequest {
  query: string;
  resource_type?: string | null;
  account?: string | null;
  region?: string | null;
  state?: string | null;
  /** "key=value" */
  tags?: string[];
  limit?: number | null;
  /** A first answer from the lexical index alone (no query embedding). */
  lexical_only?: boolean;
}

export interface Facets {
  accounts: string[];
  regions: string[];
  resource_types: string[];
  states: string[];
  tag_keys: string[];
  resources: number;
}

export interface AppInfo {
  version: string;
  home: string;
  resources: number;
  semantic: boolean;
  embedder: string;
  /** "in-process" or the server URL */
  planner: string;
  notes: string[];
}

export type Resolution =
  | { kind: 'resolved'; candidates: LookupResult[]; notes: string[] }
  | { kind: 'ambiguous'; candidates: LookupResult[]; notes: string[] }
  | { kind: 'not_found'; candidates: []; notes: string[] };

export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';

export interface RiskAssessment {
  level: RiskLevel;
  reasons: string[];
  impact: string;
}

export interface Step {
  step_id: string;
  command: string;
  args: string[];
  description: string;
  account_id?: string | null;
  capture: Record<string, string>;
  expect?: string | null;
}

export interface Script {
  steps: Step[];
}

export interface PlanResponse {
  explain_plan: string;
  script: Script;
  risk_assessment: RiskAssessment;
  approval_required: boolean;
  playbook?: { id: string; version: string; commit?: string | null } | null;
  intent?: unknown;
  rollback: Script;
  verification: Script;
  required_permissions: string[];
  alternatives: { id: string; title: string; score: number }[];
  executable: boolean;
}

export type ApprovalNeed = { kind: 'confirm' } | { kind: 'type_name'; names: string[] };

/** The operator's answer, passed through to the backend, which judges it. */
export type ApprovalInput = { kind: 'approve' } | { kind: 'names'; names: string[] };

export type Verdict =
  | { verdict: 'verified'; risk: RiskAssessment; destructive: boolean; approval: ApprovalNeed }
  | { verdict: 'not_executable' }
  | { verdict: 'refused'; reasons: string[] };

export interface ProposalView {
  execution_id: string;
  planner: string;
  plan: PlanResponse;
  verdict: Verdict;
  resources: Resource[];
}

export type Phase = 'script' | 'verification' | 'rollback';

export type Outcome =
  | 'succeeded'
  | 'failed'
  | 'rolled_back'
  | 'rollback_failed'
  | 'dry_run'
  | 'refused';

export type ExecutionEvent =
  | { event: 'step_started'; phase: Phase; step_id: string; description: string; argv: string[] }
  | { event: 'step_retrying'; phase: Phase; step_id: string; runs: number; observed: string }
  | {
      event: 'step_finished';
      phase: Phase;
      step_id: string;
      succeeded: boolean;
      exit_code: number | null;
      duration_ms: number;
      output: string;
    }
  | { event: 'step_skipped'; phase: Phase; step_id: string; reason: string }
  | { event: 'rollback_started'; reason: string }
  | { event: 'finished'; outcome: Outcome; message: string };

export interface ExecutionReport {
  execution_id: string;
  outcome: Outcome;
  message: string;
  refresh: { refreshed: number; removed: number; failures: string[] };
}

export type Service = 'ec2' | 'rds' | 's3' | 'lambda' | 'elbv2';

export interface ScopeKey {
  account: string;
  region: string;
  service: Service | (string & {});
}

export interface ScopeState {
  account_id?: string | null;
  last_full?: string | null;
  last_incremental?: string | null;
  last_attempt?: string | null;
  resources: number;
  added: number;
  changed: number;
  removed: number;
  embedded: number;
  duration_ms: number;
  method?: string | null;
  last_error?: string | null;
}

export interface ScopeStatus {
  scope: ScopeKey;
  state: ScopeState;
  stale: boolean;
}

export interface Counts {
  read: number;
  added: number;
  changed: number;
  unchanged: number;
  removed: number;
  embedded: number;
}

export interface ScopeReport {
  scope: ScopeKey;
  account_id?: string | null;
  mode: 'full' | 'incremental';
  method?: string | null;
  fallback?: string | null;
  counts: Counts;
  resources: number;
  api_ms: number;
  index_ms: number;
  error?: string | null;
  stale_since?: string | null;
}

export interface SyncReport {
  started: string;
  duration_ms: number;
  scopes: ScopeReport[];
  totals: Counts;
  by_type: Record<string, number>;
}

export type SyncProgress =
  | { event: 'planned'; scopes: ScopeKey[] }
  | { event: 'started'; scope: ScopeKey }
  | { event: 'read'; scope: ScopeKey; resources: number }
  | { event: 'finished'; report: ScopeReport }
  /** not a scope's, e.g. a keychain entry that could not be read; never a secret */
  | { event: 'note'; message: string };

export interface AccountView {
  name: string;
  role_arn?: string | null;
  profile?: string | null;
  regions: string[];
  /** masked, e.g. AKIA…WXYZ; never the secret */
  access_key_id?: string | null;
  session_token: boolean;
  problem?: string | null;
}

export interface AccountsView {
  /** keychain backend description, null when unavailable */
  backend: string | null;
  problem?: string | null;
  accounts: AccountView[];
}

export interface Settings {
  planner: 'in_process' | 'server';
  server_url?: string | null;
  server_ca_file?: string | null;
  model: { semantic: boolean; embedder: string; model_dir?: string | null; message: string };
  home: string;
}

export interface ExecutionSummary {
  id: string;
  started: string;
  finished?: string | null;
  prompt: string;
  playbook?: string | null;
  resources: string[];
  outcome?: Outcome | null;
  approval?: string | null;
  commands: number;
  first_seq: number;
  last_seq: number;
}

export interface ChainReport {
  intact: boolean;
  records: number;
  head?: string | null;
  broken?: { seq: number; problem: string; reason: string } | null;
}

export interface HistoryView {
  /** newest first */
  executions: ExecutionSummary[];
  chain: ChainReport;
}

export interface AuditRecord {
  seq: number;
  time: string;
  execution_id: string;
  event: { kind: string; [k: string]: unknown };
  [k: string]: unknown;
}

export type ErrorKind = 'invalid_input' | 'not_found' | 'conflict' | 'unavailable' | 'internal';

/** What every command rejects with. */
export interface CommandError {
  kind: ErrorKind;
  message: string;
}
