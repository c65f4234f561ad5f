// The chat's conversation: a question is answered from the estate; any other prompt goes
// resolve → (choose) → propose → approve/reject → execution. Every call is async; several exchanges may be in flight at once.

import * as api from '../api';
import { approvalInputFor } from '../approval';
import { applyEvent, applyReport, emptyMonitor, targetCount, type MonitorModel } from '../monitor';
import { app, refreshInfo } from '../state.svelte';
import type { Answer, CommandError, Fleet, LookupResult, PendingExecution, Proposal, Resolution } from '../types';

export type Stage =
  | 'resolving'
  | 'answered'
  | 'not_found'
  | 'choosing'
  | 'fleet'
  | 'cancelled'
  | 'proposing'
  | 'proposed'
  | 'failed';

export type Decision = 'pending' | 'approving' | 'approved' | 'rejecting' | 'rejected';

export interface Exchange {
  id: number;
  prompt: string;
  stage: Stage;
  resolution: Resolution | null;
  /** The answer, when the prompt was a question (never planned). */
  answer: Answer | null;
  /** The whole set a plural or quantified request means, when it was one. */
  fleet: Fleet | null;
  /** The candidates' or the fleet members' checkboxes, by ARN. */
  checked: string[];
  /** The resources the plan was asked for. */
  chosen: LookupResult[];
  proposal: Proposal | null;
  /** The names typed into the confirmation inputs, one per name. */
  typed: string[];
  decision: Decision;
  monitor: MonitorModel | null;
  /** An error of resolve or propose. */
  error: CommandError | null;
  /** An error of approve or reject. */
  decisionError: CommandError | null;
  /** The agent that asked for this plan (`cloudops mcp`), when one did. */
  agent?: string | null;
}

export const chat = $state({
  input: '',
  exchanges: [] as Exchange[],
  /** Executions agents asked for, waiting for a person (refreshed by `loadAgentRequests`). */
  agentRequests: [] as PendingExecution[],
  agentError: null as CommandError | null,
  /** Requests in flight, for the spinner. */
  busy: 0,
});

let nextId = 1;

function find(id: number): Exchange | undefined {
  // Through the proxy, so that changes are seen.
  return chat.exchanges.find((x) => x.id === id);
}

async function track<T>(work: Promise<T>): Promise<T> {
  chat.busy++;
  try {
    return await work;
  } finally {
    chat.busy--;
  }
}

/** An exchange at its start: nothing resolved, planned or decided yet. */
function newExchange(id: number, prompt: string, start: Partial<Exchange>): Exchange {
  return {
    id,
    prompt,
    stage: 'resolving',
    resolution: null,
    answer: null,
    fleet: null,
    checked: [],
    chosen: [],
    proposal: null,
    typed: [],
    decision: 'pending',
    monitor: null,
    error: null,
    decisionError: null,
    ...start,
  };
}

/** Sends a prompt: a new exchange, resolved and, when one resource matches, planned. */
export async function send(promptText: string): Promise<void> {
  const prompt = promptText.trim();
  if (!prompt) return;
  const id = nextId++;
  chat.exchanges.push(newExchange(id, prompt, { stage: 'resolving' }));
  let resolution: Resolution;
  try {
    const answer = await track(api.answer(prompt));
    if (answer) {
      const x = find(id);
      if (x) {
        x.answer = answer;
        x.stage = 'answered';
      }
      return;
    }
    const fleet = await track(api.fleet(prompt));
    if (fleet) {
      const x = find(id);
      if (x) {
        x.fleet = fleet;
        // The whole set is selected: the operator narrows it, or plans it all.
        x.checked = fleet.blocked ? [] : fleet.members.map((m) => m.arn);
        x.stage = 'fleet';
      }
      return;
    }
    resolution = await track(api.resolve(prompt));
  } catch (e) {
    const x = find(id);
    if (x) {
      x.stage = 'failed';
      x.error = api.toCommandError(e);
    }
    return;
  }
  const x = find(id);
  if (!x) return;
  x.resolution = resolution;
  switch (resolution.kind) {
    case 'not_found':
      x.stage = 'not_found';
      break;
    case 'ambiguous':
      x.stage = 'choosing';
      break;
    case 'resolved':
      x.chosen = resolution.candidates.slice(0, 1);
      await plan(id);
      break;
    default:
      x.stage = 'failed';
      x.error = { kind: 'internal', message: 'unexpected resolution' };
  }
}

/** Plans the checked candidates of an ambiguous resolution. */
export async function confirmCandidates(id: number): Promise<void> {
  const x = find(id);
  if (!x || x.stage !== 'choosing' || x.checked.length === 0) return;
  const byArn = new Map((x.resolution?.candidates ?? []).map((c) => [c.resource.arn, c]));
  x.chosen = x.checked.map((arn) => byArn.get(arn)).filter((c): c is LookupResult => !!c);
  await plan(id);
}

export function cancelCandidates(id: number): void {
  const x = find(id);
  if (x && (x.stage === 'choosing' || x.stage === 'fleet')) x.stage = 'cancelled';
}

/** Plans the fleet's checked members, as one plan. */
export async function confirmFleet(id: number): Promise<void> {
  const x = find(id);
  if (!x || x.stage !== 'fleet' || !x.fleet || x.checked.length === 0) return;
  const checked = new Set(x.checked);
  x.chosen = x.fleet.members
    .filter((m) => checked.has(m.arn))
    .map((resource) => ({ resource, score: 1, matched_by: 'filter' }));
  await plan(id);
}

/** Selects the fleet's members: all of them, or exactly one group's. */
export function selectFleet(id: number, members: 'all' | string[]): void {
  const x = find(id);
  if (!x || x.stage !== 'fleet' || !x.fleet) return;
  x.checked = members === 'all' ? x.fleet.members.map((m) => m.arn) : [...members];
}

export function toggleCandidate(id: number, arn: string, on: boolean): void {
  const x = find(id);
  if (!x) return;
  const has = x.checked.includes(arn);
  if (on && !has) x.checked.push(arn);
  if (!on && has) x.checked = x.checked.filter((a) => a !== arn);
}

/** One empty confirmation input per name a risky plan asks to have typed. */
function emptyNames(proposal: Proposal): string[] {
  const v = proposal.verdict;
  if (v.verdict !== 'verified') return [];
  if (v.approval.kind === 'type_name') return v.approval.names.map(() => '');
  return v.approval.kind === 'type_count' ? [''] : [];
}

async function plan(id: number): Promise<void> {
  const x = find(id);
  if (!x) return;
  x.stage = 'proposing';
  x.error = null;
  const arns = x.chosen.map((c) => c.resource.arn);
  await receive(id, api.propose(x.prompt, arns));
}

/** Puts the plan `work` brings into exchange `id` (or its error). */
async function receive(id: number, work: Promise<Proposal>): Promise<void> {
  try {
    const proposal = await track(work);
    const y = find(id);
    if (!y) return;
    y.proposal = proposal;
    y.typed = emptyNames(proposal);
    y.stage = 'proposed';
  } catch (e) {
    const y = find(id);
    if (!y) return;
    y.stage = 'failed';
    y.error = api.toCommandError(e);
  }
}

/** Approves the plan and follows its execution. */
export async function approve(id: number): Promise<void> {
  const x = find(id);
  if (!x || !x.proposal || x.decision === 'approving' || x.decision === 'approved') return;
  const v = x.proposal.verdict;
  if (v.verdict !== 'verified') return;
  x.decision = 'approving';
  x.decisionError = null;
  x.monitor = emptyMonitor(targetCount(x.proposal.plan));
  const input = approvalInputFor(v.approval, x.typed);
  try {
    const report = await track(
      api.approve(x.proposal.execution_id, input, (ev) => {
        const y = find(id);
        if (y?.monitor) applyEvent(y.monitor, ev);
      }),
    );
    const y = find(id);
    if (!y) return;
    if (y.monitor) applyReport(y.monitor, report);
    y.decision = 'approved';
  } catch (e) {
    const y = find(id);
    if (!y) return;
    const err = api.toCommandError(e);
    y.decisionError = err;
    if (y.monitor && (y.monitor.steps.length > 0 || y.monitor.outcome)) {
      y.monitor.error = err.message;
      if (!y.monitor.outcome) y.monitor.outcome = 'failed';
      y.decision = 'approved';
    } else {
      // Nothing ran: the plan can be approved again (e.g. after fixing a typo).
      y.monitor = null;
      y.decision = 'pending';
    }
  }
  void refreshInfo();
}

export async function reject(id: number): Promise<void> {
  const x = find(id);
  if (!x || !x.proposal || x.decision !== 'pending') return;
  x.decision = 'rejecting';
  x.decisionError = null;
  try {
    await track(api.reject(x.proposal.execution_id));
    const y = find(id);
    if (y) y.decision = 'rejected';
  } catch (e) {
    const y = find(id);
    if (!y) return;
    y.decision = 'pending';
    y.decisionError = api.toCommandError(e);
  }
}

/** Reloads the executions agents asked for. */
export async function loadAgentRequests(): Promise<void> {
  try {
    chat.agentRequests = await api.agentRequests();
    chat.agentError = null;
  } catch (e) {
    chat.agentError = api.toCommandError(e);
  }
}

/** Opens an agent's request as an exchange with its plan card: approve or reject it there. */
export async function reviewAgentRequest(request: PendingExecution): Promise<void> {
  chat.agentRequests = chat.agentRequests.filter((r) => r.id !== request.id);
  const id = nextId++;
  chat.exchanges.push(
    newExchange(id, request.prompt, {
      stage: 'proposing',
      chosen: request.resources.map((resource) => ({ resource, score: 1, matched_by: 'exact_arn' })),
      agent: request.client,
    }),
  );
  await receive(id, api.agentRequestOpen(request.id));
}

/** Puts text in the chat input and opens Chat (the Explorer's "ask about this"). */
export function askAbout(name: string): void {
  chat.input = `${name} `;
  app.view = 'chat';
  app.chatFocus++;
}

/** Forgets the conversation (tests). */
export function resetChat(): void {
  chat.input = '';
  chat.exchanges = [];
  chat.busy = 0;
  chat.agentRequests = [];
  chat.agentError = null;
}

/** One confirmation input changed. */
export function setTyped(id: number, index: number, value: string): void {
  const x = find(id);
  if (!x) return;
  while (x.typed.length <= index) x.typed.push('');
  x.typed[index] = value;
}
