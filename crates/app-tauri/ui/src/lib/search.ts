// Search as you type: a request as soon as the input comes when none is in flight, else only
// the newest input once the answer in flight is back (at most one request in flight, so
// keystrokes never queue stale lookups behind each other on the backend); an answer is shown
// unless a newer input already waits; the time from the input event to the rendered results
// is measured, with where it went.
//
// Each input is answered in up to two steps: first from the lexical index alone (no query
// embedding, a millisecond or two), then, when the index says the model could rank
// differently (`semantic_skipped`), the full hybrid lookup replaces it, unless a newer input
// came first. The first answer is what the operator sees at once; the second settles it.

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
  /** `key=value` (or `key:value`, `key="a b"`), one word per tag, as typed. */
  tags: string[];
  /** Words that are not `key=value` (shown as a hint, not sent). */
  invalid: string[];
}

/**
 * Splits the tag filter field into tag words for the backend, whose one parser (core's
 * `parse_tag`) has the last word. Words are separated by whitespace outside double quotes,
 * and keep their quotes: `Name="web 1"` is one word. A word is set aside as a hint when it
 * plainly breaks that parser's rules: no `=` or `:`, an empty key, or an empty value (`k=`).
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
      word += ch;
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
    const at = eq >= 0 ? eq : w.indexOf(':');
    const key = at > 0 ? w.slice(0, at).trim() : '';
    const value = at > 0 ? w.slice(at + 1).replace(/"/g, '').trim() : '';
    if (key === '' || value === '') invalid.push(w);
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

/** One measurement: from the input event to the rendered results, and its parts. */
export interface Latency {
  query: string;
  /** `first`: the first answer to an input; `refined`: the full lookup that replaced it. */
  phase: 'first' | 'refined';
  /** Whether this answer is the input's last (no refinement follows it). */
  final: boolean;
  /** Input event → results rendered and one frame painted. */
  ms: number;
  results: number;
  /** Input event → request sent (waiting for the answer in flight). */
  queue_ms?: number;
  /** Request sent → answer back (IPC both ways plus the lookup). */
  backend_ms?: number;
  /** The lookup itself, as the index reports it (`took_us`). */
  index_ms?: number;
  /** Answer back → DOM updated. */
  render_ms?: number;
}

/** What the controller hands the view to render. */
export interface SearchAnswer {
  seq: number;
  request: SearchRequest;
  /** `null` for an empty request (the view shows its hint instead). */
  response: LookupResponse | null;
  /** Whether a refined answer is on its way (the full lookup, asked for next). */
  refining: boolean;
}

export interface SearchControllerOptions {
  /** The `search` command. */
  search: (request: SearchRequest) => Promise<LookupResponse>;
  /** Renders an answer; resolves once it is in the DOM (e.g. after Svelte's `tick()`). */
  render: (answer: SearchAnswer) => void | Promise<void>;
  /** Reports a failed request (only when no newer input waits). */
  onError?: (error: unknown, request: SearchRequest) => void;
  /** Reports a measurement after the render and one frame. */
  onLatency?: (latency: Latency, answer: SearchAnswer) => void;
  /** Reports whether a request is in flight. */
  onBusy?: (busy: boolean) => void;
  /** Schedules work for the next frame (`requestAnimationFrame`); only the measurement
   * waits for it. */
  frame?: (callback: () => void) => void;
  /** The clock (`performance.now`). */
  now?: () => number;
  /** Answer first from the lexical index, then refine (default true). */
  lexicalFirst?: boolean;
}

const defaultFrame = (cb: () => void): void => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => cb());
  else setTimeout(cb, 0);
};

const defaultNow = (): number =>
  typeof performance !== 'undefined' ? performance.now() : Date.now();

interface Pending {
  request: SearchRequest;
  at: number;
  /** The full lookup after a lexical first answer. */
  refine: boolean;
}

export class SearchController {
  /** The last sequence number handed out. */
  private issued = 0;
  /** The sequence number of the answer on screen. */
  private applied = 0;
  /** Whether a request is in flight (the loop in `pump` runs). */
  private running = false;
  /** The newest input not sent yet, if any. */
  private pending: Pending | null = null;
  /** Answers not shown because a newer input was already waiting. */
  dropped = 0;

  private readonly opts: Required<Omit<SearchControllerOptions, 'onError' | 'onLatency' | 'onBusy'>> &
    SearchControllerOptions;

  constructor(options: SearchControllerOptions) {
    this.opts = { frame: defaultFrame, now: defaultNow, lexicalFirst: true, ...options };
  }

  /** The sequence number of the answer currently rendered. */
  get renderedSeq(): number {
    return this.applied;
  }

  /** The last sequence number issued. */
  get issuedSeq(): number {
    return this.issued;
  }

  /** An input event: sent at once when nothing is in flight; otherwise it replaces any
   * input still waiting and goes when the answer in flight is back. */
  input(request: SearchRequest, at: number = this.opts.now()): void {
    this.pending = { request, at, refine: false };
    if (!this.running) void this.pump();
  }

  /** Settles once nothing is in flight or waiting (tests). */
  async idle(): Promise<void> {
    while (this.running || this.pending) await new Promise<void>((r) => setTimeout(r, 0));
  }

  private async pump(): Promise<void> {
    this.running = true;
    this.opts.onBusy?.(true);
    try {
      while (this.pending) {
        const next = this.pending;
        this.pending = null;
        await this.run(next);
      }
    } finally {
      this.running = false;
      this.opts.onBusy?.(false);
    }
  }

  private async run({ request, at, refine }: Pending): Promise<void> {
    const seq = ++this.issued;
    const phase = refine ? 'refined' : 'first';
    if (isEmptyRequest(request)) {
      await this.apply({ seq, request, response: null, refining: false }, { at, sent: at, back: at }, phase);
      return;
    }
    const sent = this.opts.now();
    const lexicalOnly = !refine && this.opts.lexicalFirst;
    let response: LookupResponse;
    try {
      response = await this.opts.search({ ...request, lexical_only: lexicalOnly });
    } catch (e) {
      // An error of an input already superseded is not news.
      if (!this.pending) this.opts.onError?.(e, request);
      return;
    }
    const refining = lexicalOnly && response.semantic_skipped === true;
    const shown = await this.apply(
      { seq, request, response, refining },
      { at, sent, back: this.opts.now() },
      phase,
    );
    // The full lookup, unless a newer input already replaces this one.
    if (shown && refining && !this.pending) this.pending = { request, at, refine: true };
  }

  /** Renders an answer unless a newer input waits; returns whether it was rendered. */
  private async apply(
    answer: SearchAnswer,
    times: { at: number; sent: number; back: number },
    phase: Latency['phase'],
  ): Promise<boolean> {
    // A newer input waits: its answer replaces this one within one request, so do not spend
    // the UI thread on rendering this one. (Answers come back in order: one is in flight.)
    if (this.pending) {
      this.dropped++;
      return false;
    }
    this.applied = answer.seq;
    await this.opts.render(answer);
    const rendered = this.opts.now();
    // The measurement waits for the frame that paints it; the next request does not.
    this.opts.frame(() => {
      const latency: Latency = {
        query: answer.request.query,
        phase,
        final: !answer.refining,
        ms: Math.max(0, this.opts.now() - times.at),
        results: answer.response?.results.length ?? 0,
        queue_ms: Math.max(0, times.sent - times.at),
        backend_ms: Math.max(0, times.back - times.sent),
        index_ms: answer.response ? answer.response.took_us / 1000 : 0,
        render_ms: Math.max(0, rendered - times.back),
      };
      this.opts.onLatency?.(latency, answer);
    });
    return true;
  }
}

/** The global array the benchmark and the tests read. */
export function latencyLog(): Latency[] {
  const w = globalThis as unknown as { __cloudopsSearchLatencies?: Latency[] };
  if (!Array.isArray(w.__cloudopsSearchLatencies)) w.__cloudopsSearchLatencies = [];
  return w.__cloudopsSearchLatencies;
}
