// Typed wrappers for every desktop command. Presentation only: all the logic is in Rust.
// Argument keys are camelCase (Tauri maps them to the commands' snake_case parameters).

import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  AccountsView,
  Answer,
  ApprovalInput,
  AppInfo,
  AuditRecordView,
  CommandError,
  ExecutionEvent,
  Fleet,
  ExecutionReport,
  Facets,
  HistoryView,
  LookupResponse,
  OperationAccess,
  PendingExecution,
  Proposal,
  Resolution,
  Resource,
  ScopeStatus,
  SearchRequest,
  Settings,
  SyncEvent,
  SyncReport,
} from './types';

export const appInfo = (): Promise<AppInfo> => invoke<AppInfo>('app_info');

export const search = (request: SearchRequest): Promise<LookupResponse> =>
  invoke<LookupResponse>('search', { request });

export const resource = (arn: string): Promise<Resource> => invoke<Resource>('resource', { arn });

export const resourceOperations = (arn: string): Promise<OperationAccess[]> =>
  invoke<OperationAccess[]>('resource_operations', { arn });

export const facets = (): Promise<Facets> => invoke<Facets>('facets');

export const answer = (prompt: string): Promise<Answer | null> =>
  invoke<Answer | null>('answer', { prompt });

export const count = (request: SearchRequest, groupBy: string[]): Promise<Answer> =>
  invoke<Answer>('count', { request, groupBy });

export const fleet = (prompt: string): Promise<Fleet | null> =>
  invoke<Fleet | null>('fleet', { prompt });

export const resolve = (prompt: string): Promise<Resolution> =>
  invoke<Resolution>('resolve', { prompt });

export const propose = (prompt: string, arns: string[]): Promise<Proposal> =>
  invoke<Proposal>('propose', { prompt, arns });

/** Runs an approved plan; `onEvent` sees every step as it happens. Resolves when it ended. */
export function approve(
  executionId: string,
  input: ApprovalInput,
  onEvent: (event: ExecutionEvent) => void,
): Promise<ExecutionReport> {
  const channel = new Channel<ExecutionEvent>(onEvent);
  return invoke<ExecutionReport>('approve', { executionId, input, onEvent: channel });
}

export const reject = (executionId: string): Promise<null> =>
  invoke<null>('reject', { executionId });

/** Executions agents asked for (`cloudops mcp`) that wait for a person. */
export const agentRequests = (): Promise<PendingExecution[]> =>
  invoke<PendingExecution[]>('agent_requests');

/** An agent's request as a verified plan, kept for `approve` or `reject`. */
export const agentRequestOpen = (executionId: string): Promise<Proposal> =>
  invoke<Proposal>('agent_request_open', { executionId });

export const syncStatus = (): Promise<ScopeStatus[]> => invoke<ScopeStatus[]>('sync_status');

/** Syncs the estate; `onEvent` sees each scope's progress. Resolves with the report. */
export function syncNow(full: boolean, onEvent: (event: SyncEvent) => void): Promise<SyncReport> {
  const channel = new Channel<SyncEvent>(onEvent);
  return invoke<SyncReport>('sync_now', { full, onEvent: channel });
}

export const accounts = (): Promise<AccountsView> => invoke<AccountsView>('accounts');

export const accountKeyAdd = (
  name: string,
  accessKeyId: string,
  secretAccessKey: string,
  sessionToken: string | null,
): Promise<AccountsView> =>
  invoke<AccountsView>('account_key_add', { name, accessKeyId, secretAccessKey, sessionToken });

export const accountKeyRemove = (name: string): Promise<AccountsView> =>
  invoke<AccountsView>('account_key_remove', { name });

export const settings = (): Promise<Settings> => invoke<Settings>('settings');

/** `null` selects the in-process planner. */
export const setPlanner = (serverUrl: string | null): Promise<Settings> =>
  invoke<Settings>('set_planner', { serverUrl });

export const history = (): Promise<HistoryView> => invoke<HistoryView>('history');

export const historyShow = (id: string): Promise<AuditRecordView[]> =>
  invoke<AuditRecordView[]>('history_show', { id });

/** Whether a rejection is the commands' `{ kind, message }` error. */
export function isCommandError(e: unknown): e is CommandError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { kind?: unknown }).kind === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

/** A rejection as `{ kind, message }`, whatever it was (a command error, an Error, a string). */
export function toCommandError(e: unknown): CommandError {
  if (isCommandError(e)) return { kind: e.kind, message: e.message };
  if (e instanceof Error) return { kind: 'internal', message: e.message };
  if (typeof e === 'string') return { kind: 'internal', message: e };
  return { kind: 'internal', message: 'unexpected error' };
}
