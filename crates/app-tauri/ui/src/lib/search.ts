// Search as you type: one request per animation frame at most, answers applied in sequence
// order (an answer older than the one on screen is dropped), and the time from the input event
// to the rendered results measured.

import type { LookupResponse, SearchRequest } from './types';

/** The Explorer's filters, as the selects and the tag field hold them ("" = any). */
export interface Filters {
  account: string;
  region: string;
  resource_type: string;
  state: string;
  /** "key=value key2=value2" */
  tags: string;
}

export const NO_FILTERS: Filters = { account: '', region: '', resource_type: '', state: '', tags: '' };

/** The result of reading the tag filter field. */
export interface ParsedTags {
  /** "key=value", one per tag. */
  tags: string[];
  /** Words that are not `key=value` (shown as a hint, not sent). */
  invalid: string[];
}

/**
 * Reads "k=v k2=v2" into `["k=v", "k2=v2"]`. Words are separated by whitespace; a value (or
 * a whole word) may be put in double quotes to hold spaces: `Name="web 1"`. A word without
 * `=` or with an empty key is invalid. An empty value (`k=`) is kept.
 */
export function parseTags(text: string): ParsedTags {
  const tags: string[] = [];
  const invalid: string[] = [];
  const words: string[] = [];
  let word = '';
  let inQuotes = false;
  let started = false;
  for (const ch of text) {
    if (ch === '"') {
      inQuotes = !inQuotes;
      started = true;
      continue;
    }
    if (!inQuotes && /\s/.test(ch)) {
      if (started) words.push(word);
      word = '';
      started = false;
      continue;
    }
    word += ch;
    started = true;
  }
  if (started) words.push(word);
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0 || w.slice(0, eq).trim() === '') invalid.push(w);
    else tags.push(w);
  }
  return { tags, invalid };
}

/** Whether any filter is set (so an empty query still lists resources). */
export function hasFilters(f: Filters): boolean {
  return (
    f.account !== '' ||
    f.region !== '' ||
    f.resource_type !== '' ||
    f.state !== '' ||
    parseTags(f.tags).tags.length > 0
  );
}

/** The `search` request for a query and filters (unset filters as `null`). */
export function buildRequest(query: string, f: Filters, limit: number | null = 50): SearchRequest {
  return {
    query: query.trim(),
    resource_type: f.resource_type || null,
    account: f.account || null,
    region: f.region || null,
    state: f.state || null,
    tags: parseTags(f.tags).tags,
    limit,
  };
}

/** Whether a request would list nothing on purpose: no query and no filter. */
export function isEmptyRequest(r: SearchRequest): boolean {
  return (
    r.query.trim() === '' &&
    !r.resource_type &&
    !r.account &&
    !r.region &&
    !r.state &&
    (r.tags?.length ?? 0) === 0
  );
}

/** One measurement: from the input event to the rendered results. */
export interface Latency {
  query: string;
  ms: number;
  results: number;
}

/** What the controller hands the view to render. */
export interface SearchAnswer {
  seq: number;
  request: SearchRequest;
  /** `null` for an empty request (the view shows its hint instead). */
  response: LookupResponse | null;
}

export interface SearchControllerOptions {
  /** The `search` command. */
  search: (request: SearchRequest) => Promise<LookupResponse>;
  /** Renders an answer; resolves once it is in the DOM (e.g. after Svelte's `tick()`). */
  render: (answer: SearchAnswer) => void | Promise<void>;
  /** Reports a failed request (only for the newest request). */
  onError?: (error: unknown, request: SearchRequest) => void;
  /** Reports a measurement after the render and one frame. */
  onLatency?: (latency: Latency, answer: SearchAnswer) => void;
  /** Reports whether a request is in flight. */
  onBusy?: (busy: boolean) => void;
  /** Schedules work for the next frame (`requestAnimationFrame`). */
  frame?: (callback: () => void) => void;
  /** The clock (`performance.now`). */
  now?: () => number;
}

const defaultFrame = (cb: () => void): void => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => cb());
  else setTimeout(cb, 0);
};

const defaultNow = (): number =>
  typeof performance !== 'undefined' ? performance.now() : Date.now();

export class SearchController {
  /** The last sequence number handed out. */
  private issued = 0;
  /** The sequence number of the answer on screen. */
  private applied = 0;
  /** Requests in flight. */
  private inFlight = 0;
  /** The input waiting for the next frame, if any. */
  private pending: { request: SearchRequest; at: number } | null = null;
  /** Answers dropped because a newer one was already on screen. */
  dropped = 0;

  private readonly opts: Required<Omit<SearchControllerOptions, 'onError' | 'onLatency' | 'onBusy'>> &
    SearchControllerOptions;

  constructor(options: SearchControllerOptions) {
    this.opts = { frame: defaultFrame, now: defaultNow, ...options };
  }

  /** The sequence number of the answer currently rendered. */
  get renderedSeq(): number {
    return this.applied;
  }

  /** The last sequence number issued. */
  get issuedSeq(): number {
    return this.issued;
  }

  /** An input event: remembers when it happened, sends the request on the next frame
   * (several inputs within one frame send only the last). */
  input(request: SearchRequest, at: number = this.opts.now()): void {
    const first = this.pending === null;
    this.pending = { request, at };
    if (first) this.opts.frame(() => this.flush());
  }

  /** Sends the pending input now (the frame callback; also usable directly). */
  flush(): Promise<void> {
    const p = this.pending;
    this.pending = null;
    if (!p) return Promise.resolve();
    return this.run(p.request, p.at);
  }

  private async run(request: SearchRequest, at: number): Promise<void> {
    const seq = ++this.issued;
    if (isEmptyRequest(request)) {
      await this.apply({ seq, request, response: null }, at);
      return;
    }
    this.setBusy(+1);
    let response: LookupResponse;
    try {
      response = await this.opts.search(request);
    } catch (e) {
      this.setBusy(-1);
      if (seq === this.issued) this.opts.onError?.(e, request);
      return;
    }
    this.setBusy(-1);
    await this.apply({ seq, request, response }, at);
  }

  private async apply(answer: SearchAnswer, at: number): Promise<void> {
    if (answer.seq <= this.applied) {
      this.dropped++;
      return;
    }
    this.applied = answer.seq;
    await this.opts.render(answer);
    if (answer.seq !== this.applied) return; // a newer answer took over while rendering
    await new Promise<void>((resolve) => this.opts.frame(resolve));
    const latency: Latency = {
      query: answer.request.query,
      ms: Math.max(0, this.opts.now() - at),
      results: answer.response?.results.length ?? 0,
    };
    this.opts.onLatency?.(latency, answer);
  }

  private setBusy(delta: number): void {
    const before = this.inFlight > 0;
    this.inFlight += delta;
    const after = this.inFlight > 0;
    if (before !== after) this.opts.onBusy?.(after);
  }
}

/** The global array the benchmark and the tests read. */
export function latencyLog(): Latency[] {
  const w = globalThis as unknown as { __cloudopsSearchLatencies?: Latency[] };
  if (!Array.isArray(w.__cloudopsSearchLatencies)) w.__cloudopsSearchLatencies = [];
  return w.__cloudopsSearchLatencies;
}
