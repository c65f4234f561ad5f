// The History view's state: the executions, the chain check, one execution's records.

import * as api from '../api';
import type { AuditRecordView, CommandError, HistoryView } from '../types';

export const historyState = $state({
  view: null as HistoryView | null,
  loading: false,
  error: null as CommandError | null,
  selected: null as string | null,
  records: null as AuditRecordView[] | null,
  recordsLoading: false,
  recordsError: null as CommandError | null,
});

let loadSeq = 0;

export async function loadHistory(): Promise<void> {
  const seq = ++loadSeq;
  historyState.loading = true;
  try {
    const v = await api.history();
    if (seq !== loadSeq) return;
    historyState.view = v;
    historyState.error = null;
  } catch (e) {
    if (seq === loadSeq) historyState.error = api.toCommandError(e);
  } finally {
    if (seq === loadSeq) historyState.loading = false;
  }
}

let showSeq = 0;

export async function selectExecution(id: string): Promise<void> {
  const seq = ++showSeq;
  historyState.selected = id;
  historyState.records = null;
  historyState.recordsError = null;
  historyState.recordsLoading = true;
  try {
    const records = await api.historyShow(id);
    if (seq === showSeq) historyState.records = records;
  } catch (e) {
    if (seq === showSeq) historyState.recordsError = api.toCommandError(e);
  } finally {
    if (seq === showSeq) historyState.recordsLoading = false;
  }
}
