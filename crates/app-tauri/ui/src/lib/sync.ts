// The sync progress model: the Channel's events folded into one row per scope.

import { scopeId } from './format';
import type { ScopeKey, ScopeReport, SyncEvent } from './types';

export type ScopeProgressStatus = 'waiting' | 'reading' | 'writing' | 'done' | 'failed';

export interface ScopeProgress {
  id: string;
  scope: ScopeKey;
  status: ScopeProgressStatus;
  read: number | null;
  report: ScopeReport | null;
}

export interface SyncModel {
  scopes: ScopeProgress[];
  /** what the sync said that is not a scope's (see the `note` event) */
  notes: string[];
}

function findOrAdd(m: SyncModel, scope: ScopeKey): ScopeProgress {
  const id = scopeId(scope);
  let p = m.scopes.find((s) => s.id === id);
  if (!p) {
    p = { id, scope, status: 'waiting', read: null, report: null };
    m.scopes.push(p);
  }
  return p;
}

export function applySyncEvent(m: SyncModel, ev: SyncEvent): void {
  switch (ev.event) {
    case 'planned':
      for (const s of ev.scopes) findOrAdd(m, s);
      break;
    case 'started':
      findOrAdd(m, ev.scope).status = 'reading';
      break;
    case 'read': {
      const p = findOrAdd(m, ev.scope);
      p.status = 'writing';
      p.read = ev.resources;
      break;
    }
    case 'finished': {
      const p = findOrAdd(m, ev.report.scope);
      p.status = ev.report.error ? 'failed' : 'done';
      p.report = ev.report;
      p.read = ev.report.counts.read;
      break;
    }
    case 'note':
      m.notes.push(ev.message);
      break;
  }
}

export function syncDone(m: SyncModel): number {
  return m.scopes.filter((s) => s.status === 'done' || s.status === 'failed').length;
}

export function syncFailed(scopes: readonly { error?: string | null }[]): number {
  return scopes.filter((s) => !!s.error).length;
}
