// Pure presentation helpers: no state, no I/O.

import type { AuditRecordView, Freshness, Outcome, RiskLevel, ScopeKey, Step } from './types';

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argument quoted for display as a POSIX shell word (the plan never runs through a shell). */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** An argument vector as one display line, each word quoted where needed. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** The words of a step's command, always starting with `aws` (`"aws rds stop-db-instance"`). */
export function commandWords(command: string): string[] {
  const words = command.split(/\s+/).filter((w) => w !== '');
  return words[0] === 'aws' ? words : ['aws', ...words];
}

/** The exact command a plan step runs: `aws` + command + args, quoted for display. */
export function stepCommandLine(step: Pick<Step, 'command' | 'args'>): string {
  return shellJoin([...commandWords(step.command), ...(step.args ?? [])]);
}

/** An executed argv (which may or may not start with the program), with `aws` in front. */
export function argvLine(argv: readonly string[]): string {
  return shellJoin(argv[0] === 'aws' ? argv : ['aws', ...argv]);
}

const RISK_ORDER: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** low < medium < high < critical; an unknown level ranks above critical (treat as worst). */
export function riskRank(level: string): number {
  return level in RISK_ORDER ? RISK_ORDER[level as RiskLevel] : 4;
}

/** Sorts levels from the least to the most severe. */
export function compareRisk(a: string, b: string): number {
  return riskRank(a) - riskRank(b);
}

/** The CSS class that colours a risk badge. */
export function riskClass(level: string): string {
  return level in RISK_ORDER ? `risk-${level}` : 'risk-unknown';
}

const OUTCOME_LABELS: Record<Outcome, string> = {
  succeeded: 'Succeeded',
  failed: 'Failed',
  rolled_back: 'Rolled back',
  rollback_failed: 'Rollback failed',
  partial: 'Partly succeeded',
  dry_run: 'Dry run',
  refused: 'Refused',
};

export function outcomeLabel(outcome: string | null | undefined): string {
  if (!outcome) return 'Unfinished';
  return OUTCOME_LABELS[outcome as Outcome] ?? outcome;
}

/** good | bad | warn | neutral: the colour family of an outcome. */
export function outcomeTone(outcome: string | null | undefined): 'good' | 'bad' | 'warn' | 'neutral' {
  switch (outcome) {
    case 'succeeded':
      return 'good';
    case 'failed':
    case 'rollback_failed':
    case 'refused':
      return 'bad';
    case 'rolled_back':
    case 'partial':
      return 'warn';
    default:
      return 'neutral';
  }
}

/** The monitor's `data-state` for a finished execution. */
export function monitorState(
  outcome: Outcome | null | undefined,
): 'running' | 'succeeded' | 'failed' | 'rolled_back' | 'rollback_failed' | 'partial' {
  switch (outcome) {
    case null:
    case undefined:
      return 'running';
    case 'succeeded':
    case 'dry_run':
      return 'succeeded';
    case 'rolled_back':
      return 'rolled_back';
    case 'rollback_failed':
      return 'rollback_failed';
    case 'partial':
      return 'partial';
    default:
      return 'failed';
  }
}

/** "just now", "5 min ago", "3 h ago", "2 d ago", or the date; "never" for none. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 0) {
    return s > -60 ? 'just now' : absoluteTime(iso);
  }
  if (s < 45) return 'just now';
  if (s < 90) return '1 min ago';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d < 30) return `${d} d ago`;
  return absoluteTime(iso);
}

/** "2025-03-04 12:34:56" in UTC (the log's own clock), or the text as given. */
export function absoluteTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
}

/** Where a plan's facts come from and how old they are, for the plan card. */
export function freshnessLine(f: Freshness, now: number = Date.now()): string {
  if (f.source === 'live') {
    return `Read from AWS just before planning (${absoluteTime(f.as_of)}, ${duration(Number(f.reread_ms))}).`;
  }
  const asOf = f.as_of ? `${absoluteTime(f.as_of)}, ${relativeTime(f.as_of, now)}` : 'an unknown time';
  return `From the index, as of ${asOf}${f.note ? ` — ${f.note}` : ''}.`;
}

/** "850 ms", "1.2 s", "2 min 5 s". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m} min ${s} s` : `${m} min`;
}

/** "account/region/service": the scope's key in the UI (`data-scope`). */
export function scopeId(scope: ScopeKey): string {
  return `${scope.account}/${scope.region}/${scope.service}`;
}

/** Resource types as people say them. */
const TYPE_LABELS: Record<string, string> = {
  ec2_instance: 'EC2 instance',
  rds_instance: 'RDS instance',
  s3_bucket: 'S3 bucket',
  lambda_function: 'Lambda function',
  elb_load_balancer: 'Load balancer',
};

export function typeLabel(t: string): string {
  return TYPE_LABELS[t] ?? t.replace(/_/g, ' ');
}

/** A score as a short number. */
export function score(n: number): string {
  if (!Number.isFinite(n)) return '';
  return n >= 100 ? n.toFixed(0) : n.toFixed(2);
}

/** The first `n` characters of a hash, for display. */
export function shortHash(hash: string | null | undefined, n = 12): string {
  return hash ? hash.slice(0, n) : '';
}

/** A JSON value for display as text (objects pretty-printed; strings as they are). */
export function displayValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

/** The entries of an object sorted by key, for stable tables. */
export function sortedEntries<T>(o: Record<string, T> | null | undefined): [string, T][] {
  return Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** An audit record's event with its kind, whichever way the record carries it: as
 * `event: { kind, ... }`, or flattened (`event: "command"` next to the event's fields). */
export function recordEvent(record: AuditRecordView): { kind: string; [k: string]: unknown } {
  const ev = record.event as unknown;
  if (typeof ev === 'object' && ev !== null) {
    const o = ev as Record<string, unknown>;
    const kind = typeof o.kind === 'string' ? o.kind : typeof o.event === 'string' ? o.event : 'unknown';
    return { ...o, kind };
  }
  if (typeof ev === 'string') {
    const { event: _event, ...rest } = record as Record<string, unknown>;
    return { ...rest, kind: ev };
  }
  return { kind: 'unknown' };
}

/** "1 resource", "3 resources". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
