import { describe, expect, it } from 'vitest';
import { applyEvent, applyReport, emptyMonitor } from './monitor';
import { applySyncEvent, syncDone, syncFailed, type SyncModel } from './sync';
import type { ScopeKey, ScopeReport } from './types';

describe('monitor model', () => {
  it('folds the events into steps', () => {
    const m = emptyMonitor();
    applyEvent(m, { event: 'step_started', phase: 'script', step_id: 'stop', description: 'Stop', argv: ['ec2', 'stop-instances'] });
    expect(m.steps).toHaveLength(1);
    expect(m.steps[0]!.status).toBe('running');
    applyEvent(m, { event: 'step_finished', phase: 'script', step_id: 'stop', succeeded: true, exit_code: 0, duration_ms: 12, output: '{}' });
    applyEvent(m, { event: 'step_started', phase: 'verification', step_id: 'check', description: 'Check', argv: [] });
    applyEvent(m, { event: 'step_retrying', phase: 'verification', step_id: 'check', runs: 2, observed: 'stopping' });
    expect(m.steps.map((s) => s.status)).toEqual(['ok', 'retrying']);
    expect(m.steps[1]!.observed).toBe('stopping');
    applyEvent(m, { event: 'step_finished', phase: 'verification', step_id: 'check', succeeded: false, exit_code: 1, duration_ms: 5, output: 'no' });
    applyEvent(m, { event: 'rollback_started', reason: 'check failed' });
    applyEvent(m, { event: 'step_skipped', phase: 'rollback', step_id: 'start', reason: 'nothing to undo' });
    applyEvent(m, { event: 'finished', outcome: 'rolled_back', message: 'undone' });
    expect(m.steps.map((s) => `${s.phase}:${s.step_id}:${s.status}`)).toEqual([
      'script:stop:ok',
      'verification:check:failed',
      'rollback:start:skipped',
    ]);
    expect(m.rollback).toBe('check failed');
    expect(m.outcome).toBe('rolled_back');
  });

  it('keeps the same step id of two phases apart', () => {
    const m = emptyMonitor();
    applyEvent(m, { event: 'step_started', phase: 'script', step_id: 's1', description: '', argv: [] });
    applyEvent(m, { event: 'step_started', phase: 'rollback', step_id: 's1', description: '', argv: [] });
    expect(m.steps).toHaveLength(2);
  });

  it('takes the report as final', () => {
    const m = emptyMonitor();
    applyEvent(m, { event: 'step_started', phase: 'script', step_id: 'a', description: '', argv: [] });
    applyReport(m, { execution_id: 'x', outcome: 'failed', message: 'killed', refresh: { refreshed: 0, removed: 0, failures: [] }, targets: [] });
    expect(m.outcome).toBe('failed');
    expect(m.steps[0]!.status).toBe('failed');
    expect(m.report?.message).toBe('killed');
  });
});

describe('sync model', () => {
  const a: ScopeKey = { account: 'prod', region: 'eu-west-1', service: 'ec2' };
  const b: ScopeKey = { account: 'prod', region: 'eu-west-1', service: 'rds' };
  const report = (scope: ScopeKey, error: string | null): ScopeReport => ({
    scope,
    account_id: null,
    mode: 'incremental',
    method: null,
    fallback: null,
    counts: { read: 3, added: 1, changed: 0, unchanged: 2, removed: 0, embedded: 1 },
    resources: 3,
    api_ms: 10,
    index_ms: 2,
    error,
    stale_since: null,
  });

  it('follows each scope', () => {
    const m: SyncModel = { scopes: [], notes: [] };
    applySyncEvent(m, { event: 'planned', scopes: [a, b] });
    expect(m.scopes.map((s) => s.status)).toEqual(['waiting', 'waiting']);
    applySyncEvent(m, { event: 'started', scope: a });
    expect(m.scopes[0]!.status).toBe('reading');
    applySyncEvent(m, { event: 'read', scope: a, resources: 3 });
    expect(m.scopes[0]!.status).toBe('writing');
    applySyncEvent(m, { event: 'finished', report: report(a, null) });
    applySyncEvent(m, { event: 'finished', report: report(b, 'AccessDenied') });
    expect(m.scopes.map((s) => `${s.id}:${s.status}`)).toEqual(['prod/eu-west-1/ec2:done', 'prod/eu-west-1/rds:failed']);
    expect(syncDone(m)).toBe(2);
    expect(syncFailed([report(a, null), report(b, 'x')])).toBe(1);
  });

  it('keeps the notes that are not a scope\'s, in order', () => {
    const m: SyncModel = { scopes: [], notes: [] };
    applySyncEvent(m, { event: 'note', message: 'staging: the keychain entry is unreadable' });
    applySyncEvent(m, { event: 'planned', scopes: [a] });
    applySyncEvent(m, { event: 'note', message: 'second' });
    expect(m.notes).toEqual(['staging: the keychain entry is unreadable', 'second']);
    expect(m.scopes).toHaveLength(1);
  });
});
