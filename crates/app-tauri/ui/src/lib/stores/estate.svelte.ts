// The Estate view's state: scope status, a running sync's progress, the accounts.

import * as api from '../api';
import { refreshInfo } from '../state.svelte';
import { applySyncEvent, type SyncModel } from '../sync';
import type { AccountsView, CommandError, ScopeStatus, SyncReport } from '../types';

export const estate = $state({
  scopes: null as ScopeStatus[] | null,
  scopesLoading: false,
  scopesError: null as CommandError | null,
  full: false,
  syncing: false,
  progress: null as SyncModel | null,
  report: null as SyncReport | null,
  syncError: null as CommandError | null,
  accounts: null as AccountsView | null,
  accountsLoading: false,
  accountsError: null as CommandError | null,
  keyBusy: false,
});

export async function loadScopes(): Promise<void> {
  estate.scopesLoading = true;
  try {
    estate.scopes = await api.syncStatus();
    estate.scopesError = null;
  } catch (e) {
    estate.scopesError = api.toCommandError(e);
  } finally {
    estate.scopesLoading = false;
  }
}

export async function syncNow(): Promise<void> {
  if (estate.syncing) return;
  estate.syncing = true;
  estate.syncError = null;
  estate.report = null;
  estate.progress = { scopes: [], notes: [] };
  try {
    const report = await api.syncNow(estate.full, (ev) => {
      if (estate.progress) applySyncEvent(estate.progress, ev);
    });
    // The report is the truth for each scope (should an event have been missed).
    if (estate.progress) {
      for (const r of report.scopes) applySyncEvent(estate.progress, { event: 'finished', report: r });
    }
    estate.report = report;
  } catch (e) {
    estate.syncError = api.toCommandError(e);
  } finally {
    estate.syncing = false;
  }
  void loadScopes();
  void refreshInfo();
}

export async function loadAccounts(): Promise<void> {
  estate.accountsLoading = true;
  try {
    estate.accounts = await api.accounts();
    estate.accountsError = null;
  } catch (e) {
    estate.accountsError = api.toCommandError(e);
  } finally {
    estate.accountsLoading = false;
  }
}

/** Stores a key; resolves to whether it worked. The caller clears the secret either way. */
export async function addKey(
  name: string,
  accessKeyId: string,
  secretAccessKey: string,
  sessionToken: string | null,
): Promise<boolean> {
  estate.keyBusy = true;
  estate.accountsError = null;
  try {
    estate.accounts = await api.accountKeyAdd(name, accessKeyId, secretAccessKey, sessionToken);
    return true;
  } catch (e) {
    estate.accountsError = api.toCommandError(e);
    return false;
  } finally {
    estate.keyBusy = false;
  }
}

export async function removeKey(name: string): Promise<void> {
  estate.keyBusy = true;
  estate.accountsError = null;
  try {
    estate.accounts = await api.accountKeyRemove(name);
  } catch (e) {
    estate.accountsError = api.toCommandError(e);
  } finally {
    estate.keyBusy = false;
  }
}
