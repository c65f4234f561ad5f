// The Explorer's state: query, filters, the answer on screen, the selection and the detail.

import { tick } from 'svelte';
import * as api from '../api';
import {
  NO_FILTERS,
  SearchController,
  buildRequest,
  hasFilters,
  latencyLog,
  type Filters,
  type Latency,
} from '../search';
import type { Answer, CommandError, Facets, LookupResponse, OperationAccess, Resource } from '../types';

export const explorer = $state({
  query: '',
  filters: { ...NO_FILTERS } as Filters,
  facets: null as Facets | null,
  facetsError: null as CommandError | null,
  /** The answer on screen; `null` when the query and the filters are empty. */
  response: null as LookupResponse | null,
  /** The query the answer on screen belongs to. */
  shownQuery: '',
  searching: false,
  error: null as CommandError | null,
  /** The highlighted row. */
  selected: -1,
  detail: null as Resource | null,
  detailLoading: false,
  detailError: null as CommandError | null,
  /** The library's operations on the resource in the detail pane, and whether the
   * credentials may run each (as the last sync judged); `null` while loading. */
  operations: null as OperationAccess[] | null,
  operationsError: null as CommandError | null,
  lastLatency: null as Latency | null,
  /** Every resource the filters select, counted (and grouped by `groupBy`); `null` without
   * a filter. */
  count: null as Answer | null,
  countError: null as CommandError | null,
  /** The key the count is grouped by (`region`, `account`, `type`, `state`, `env`), or ''. */
  groupBy: '',
});

let countSeq = 0;

/** Counts what the filters select (the typed words rank results; they do not count). */
export async function refreshCount(): Promise<void> {
  const seq = ++countSeq;
  if (!hasFilters(explorer.filters)) {
    explorer.count = null;
    explorer.countError = null;
    return;
  }
  try {
    const answer = await api.count(buildRequest('', explorer.filters), explorer.groupBy ? [explorer.groupBy] : []);
    if (seq === countSeq) {
      explorer.count = answer;
      explorer.countError = null;
    }
  } catch (e) {
    if (seq === countSeq) {
      explorer.count = null;
      explorer.countError = api.toCommandError(e);
    }
  }
}

/** The results list element, for the latency attributes (set by the view). */
let resultsEl: HTMLElement | null = null;

export function setResultsElement(el: HTMLElement | null): void {
  resultsEl = el;
  if (el && explorer.lastLatency) writeLatency(el, explorer.lastLatency);
}

function writeLatency(el: HTMLElement, l: Latency): void {
  el.setAttribute('data-last-latency-ms', l.ms.toFixed(1));
  // "false" while the full lookup that will replace this first answer is on its way.
  el.setAttribute('data-settled', String(l.final));
  el.setAttribute('data-query', l.query);
}

const controller = new SearchController({
  search: api.search,
  render: async (answer) => {
    explorer.response = answer.response;
    explorer.shownQuery = answer.request.query;
    explorer.error = null;
    const n = answer.response?.results.length ?? 0;
    explorer.selected = n > 0 ? 0 : -1;
    await tick();
  },
  onError: (e) => {
    explorer.error = api.toCommandError(e);
  },
  onBusy: (busy) => {
    explorer.searching = busy;
  },
  onLatency: (l) => {
    latencyLog().push(l);
    explorer.lastLatency = l;
    if (resultsEl) writeLatency(resultsEl, l);
  },
});

/** An input event in the search field or a filter: searches on the next frame. */
export function searchInput(at: number = performance.now()): void {
  controller.input(buildRequest(explorer.query, explorer.filters), at);
  void refreshCount();
}

let facetsLoaded = false;

export async function loadFacets(force = false): Promise<void> {
  if (facetsLoaded && !force) return;
  try {
    explorer.facets = await api.facets();
    explorer.facetsError = null;
    facetsLoaded = true;
  } catch (e) {
    explorer.facetsError = api.toCommandError(e);
  }
}

let detailSeq = 0;

/** Opens a resource in the detail pane: shows what the search returned at once, then the
 * resource as stored now. */
export async function openDetail(r: Resource): Promise<void> {
  const seq = ++detailSeq;
  explorer.detail = r;
  explorer.detailError = null;
  explorer.detailLoading = true;
  explorer.operations = null;
  explorer.operationsError = null;
  api
    .resourceOperations(r.arn)
    .then((operations) => {
      if (seq === detailSeq) explorer.operations = operations;
    })
    .catch((e) => {
      if (seq === detailSeq) explorer.operationsError = api.toCommandError(e);
    });
  try {
    const fresh = await api.resource(r.arn);
    if (seq === detailSeq) explorer.detail = fresh;
  } catch (e) {
    if (seq === detailSeq) explorer.detailError = api.toCommandError(e);
  } finally {
    if (seq === detailSeq) explorer.detailLoading = false;
  }
}

export function closeDetail(): void {
  detailSeq++;
  explorer.detail = null;
  explorer.detailLoading = false;
  explorer.detailError = null;
  explorer.operations = null;
  explorer.operationsError = null;
}

/** Back to a fresh Explorer (tests). */
export function resetExplorer(): void {
  explorer.query = '';
  explorer.filters = { ...NO_FILTERS };
  explorer.facets = null;
  explorer.facetsError = null;
  explorer.response = null;
  explorer.shownQuery = '';
  explorer.error = null;
  explorer.selected = -1;
  explorer.lastLatency = null;
  explorer.count = null;
  explorer.countError = null;
  explorer.groupBy = '';
  facetsLoaded = false;
  closeDetail();
}
