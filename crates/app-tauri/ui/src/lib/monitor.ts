// The execution monitor's model: the Channel's events folded into one row per step.

import type { ExecutionEvent, ExecutionReport, Outcome, Phase, TargetResult } from './types';

export type StepStatus = 'running' | 'retrying' | 'ok' | 'failed' | 'skipped';

export interface MonitorStep {
  key: string;
  phase: Phase;
  step_id: string;
  description: string;
  argv: string[];
  status: StepStatus;
  runs: number;
  observed: string | null;
  exit_code: number | null;
  duration_ms: number | null;
  output: string;
  reason: string | null;
}

/** One target's result, as it ended. */
export interface MonitorTarget {
  target: string;
  name: string;
  result: TargetResult;
  message: string;
}

export interface MonitorModel {
  steps: MonitorStep[];
  /** The targets that ended, in the order they did. */
  targets: MonitorTarget[];
  /** How many targets the plan has (its skipped ones included); 0 when not known. */
  expectedTargets: number;
  rollback: string | null;
  outcome: Outcome | null;
  message: string;
  report: ExecutionReport | null;
  error: string | null;
}

export function emptyMonitor(expectedTargets = 0): MonitorModel {
  return {
    steps: [],
    targets: [],
    expectedTargets,
    rollback: null,
    outcome: null,
    message: '',
    report: null,
    error: null,
  };
}

/** How many targets a plan has: the distinct targets its steps name, and those it skips. */
export function targetCount(plan: {
  script: { steps: { target?: string | null }[] };
  skipped?: unknown[];
}): number {
  const targets = new Set(plan.script.steps.map((s) => s.target).filter((t) => !!t));
  return targets.size + (plan.skipped ?? []).length;
}

const stepKey = (phase: Phase, id: string): string => `${phase}:${id}`;

function findOrAdd(m: MonitorModel, phase: Phase, step_id: string): MonitorStep {
  const key = stepKey(phase, step_id);
  let s = m.steps.find((x) => x.key === key);
  if (!s) {
    s = {
      key,
      phase,
      step_id,
      description: '',
      argv: [],
      status: 'running',
      runs: 0,
      observed: null,
      exit_code: null,
      duration_ms: null,
      output: '',
      reason: null,
    };
    m.steps.push(s);
  }
  return s;
}

/** Applies one event to the model (in place, so a Svelte `$state` proxy updates finely). */
export function applyEvent(m: MonitorModel, ev: ExecutionEvent): void {
  switch (ev.event) {
    case 'step_started': {
      const s = findOrAdd(m, ev.phase, ev.step_id);
      s.description = ev.description;
      s.argv = ev.argv;
      s.status = 'running';
      s.runs = Math.max(1, s.runs);
      break;
    }
    case 'step_retrying': {
      const s = findOrAdd(m, ev.phase, ev.step_id);
      s.status = 'retrying';
      s.runs = ev.runs;
      s.observed = ev.observed;
      break;
    }
    case 'step_finished': {
      const s = findOrAdd(m, ev.phase, ev.step_id);
      s.status = ev.succeeded ? 'ok' : 'failed';
      s.exit_code = ev.exit_code;
      s.duration_ms = ev.duration_ms;
      s.output = ev.output;
      break;
    }
    case 'step_skipped': {
      const s = findOrAdd(m, ev.phase, ev.step_id);
      s.status = 'skipped';
      s.reason = ev.reason;
      break;
    }
    case 'rollback_started':
      m.rollback = ev.reason;
      break;
    case 'target_finished':
      if (!m.targets.some((t) => t.target === ev.target)) {
        m.targets.push({ target: ev.target, name: ev.name, result: ev.result, message: ev.message });
      }
      break;
    case 'finished':
      m.outcome = ev.outcome;
      m.message = ev.message;
      break;
  }
}

/** Applies the final report (which also carries the outcome, should the event be missed). */
export function applyReport(m: MonitorModel, r: ExecutionReport): void {
  m.report = r;
  m.outcome = r.outcome;
  m.message = r.message || m.message;
  for (const t of r.targets ?? []) {
    if (!m.targets.some((x) => x.target === t.target)) m.targets.push({ ...t });
  }
  // Steps still shown as running when the execution ended did not finish.
  for (const s of m.steps) if (s.status === 'running' || s.status === 'retrying') s.status = 'failed';
}
