// The app's shared state: which view is open, the status line, and what one view hands
// another (a prompt for Chat, an execution for History). Each view's own state lives in its
// store module so that it survives switching views.

import * as api from './api';
import type { AppInfo, CommandError } from './types';

export type View = 'chat' | 'explorer' | 'estate' | 'history' | 'settings';

export const VIEWS: { id: View; label: string; hint: string }[] = [
  { id: 'chat', label: 'Chat', hint: 'Ask for an operation' },
  { id: 'explorer', label: 'Explorer', hint: 'Find resources' },
  { id: 'estate', label: 'Estate', hint: 'Sync and accounts' },
  { id: 'history', label: 'History', hint: 'Audit log' },
  { id: 'settings', label: 'Settings', hint: 'Planner and model' },
];

export const app = $state({
  view: 'chat' as View,
  info: null as AppInfo | null,
  infoError: null as CommandError | null,
  /** Bumped to ask the chat input to take the focus (after "ask about this"). */
  chatFocus: 0,
  /** The execution History should open (from the monitor's link). */
  historySelect: null as string | null,
});

export function navigate(view: View): void {
  app.view = view;
}

let infoSeq = 0;

/** Reloads the status line (after a sync, an execution, a planner change). */
export async function refreshInfo(): Promise<void> {
  const seq = ++infoSeq;
  try {
    const info = await api.appInfo();
    if (seq !== infoSeq) return;
    app.info = info;
    app.infoError = null;
  } catch (e) {
    if (seq !== infoSeq) return;
    app.infoError = api.toCommandError(e);
  }
}
