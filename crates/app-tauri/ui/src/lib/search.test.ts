import { describe, expect, it, vi } from 'vitest';
import {
  SearchController,
  buildRequest,
  hasFilters,
  isEmptyRequest,
  NO_FILTERS,
  parseTags,
  type Latency,
  type SearchAnswer,
} from './search';
import type { LookupResponse, SearchRequest } from './types';

function response(query: string, n: number): LookupResponse {
  return {
    query,
    understood: { terms: [], resource_types: [], environments: [], accounts: [], regions: [], tags: [] },
    results: Array.from({ length: n }, (_, i) => ({
      resource: {
        arn: `arn:${query}:${i}`,
        resource_type: 'ec2_instance',
        id: `i-${i}`,
        name: `${query}-${i}`,
        account_id: '1',
        account_name: 'a',
        region: 'r',
        state: 'running',
        tags: {},
        attributes: {},
        constraints: {},
        permissions: [],
        dependencies: [],
        last_seen: '',
      },
      score: 1,
      matched_by: 'lexical' as const,
    })),
    ambiguous: false,
    semantic: false,
    semantic_skipped: false,
    notes: [],
    took_us: 1,
  };
}

/** A search whose answers the test releases by hand, in any order. */
function deferredSearch() {
  const calls: { request: SearchRequest; resolve: (r: LookupResponse) => void; reject: (e: unknown) => void }[] = [];
  const search = vi.fn(
    (request: SearchRequest) =>
      new Promise<LookupResponse>((resolve, reject) => {
        calls.push({ request, resolve, reject });
      }),
  );
  return { search, calls };
}

/** Frames the test runs by hand. */
function manualFrames() {
  const queue: (() => void)[] = [];
  return {
    frame: (cb: () => void) => queue.push(cb),
    run: () => {
      const q = queue.splice(0);
      q.forEach((cb) => cb());
    },
    get pending() {
      return queue.length;
    },
  };
}

const flush = () => new Promise<void>((r) => setTimeout(r, 0));

describe('parseTags', () => {
  it('splits key=value words', () => {
    expect(parseTags('env=prod team=web')).toEqual({ tags: ['env=prod', 'team=web'], invalid: [] });
    expect(parseTags('  env=prod   ')).toEqual({ tags: ['env=prod'], invalid: [] });
    expect(parseTags('')).toEqual({ tags: [], invalid: [] });
  });

  it('keeps quoted values with their quotes, and sets aside empty values', () => {
    expect(parseTags('Name="web 1" owner=')).toEqual({ tags: ['Name="web 1"'], invalid: ['owner='] });
    expect(parseTags('team:data owner=""')).toEqual({ tags: ['team:data'], invalid: ['owner=""'] });
  });

  it('keeps = inside values', () => {
    expect(parseTags('expr=a=b')).toEqual({ tags: ['expr=a=b'], invalid: [] });
  });

  it('sets aside words that are not tags', () => {
    expect(parseTags('env=prod oops =x')).toEqual({ tags: ['env=prod'], invalid: ['oops', '=x'] });
  });
});

describe('requests', () => {
  it('sends unset filters as null and parsed tags', () => {
    const r = buildRequest(' web ', { ...NO_FILTERS, region: 'eu-west-1', tags: 'env=prod bad' });
    expect(r).toEqual({
      query: 'web',
      resource_type: null,
      account: null,
      region: 'eu-west-1',
      state: null,
      tags: ['env=prod'],
      limit: 50,
    });
  });

  it('knows an empty request', () => {
    expect(isEmptyRequest(buildRequest('', NO_FILTERS))).toBe(true);
    expect(isEmptyRequest(buildRequest('', { ...NO_FILTERS, tags: 'env=prod' }))).toBe(false);
    expect(isEmptyRequest(buildRequest('x', NO_FILTERS))).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, tags: 'nonsense' })).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, state: 'running' })).toBe(true);
  });
});

describe('SearchController', () => {
  it('sends an input at once when nothing is in flight', () => {
    const { search, calls } = deferredSearch();
    const c = new SearchController({ search, render: () => {}, frame: () => {}, now: () => 0 });
    c.input(buildRequest('w', NO_FILTERS));
    expect(search).toHaveBeenCalledTimes(1);
    expect(calls[0]!.request.query).toBe('w');
  });

  it('keeps one request in flight and sends only the newest input after it', async () => {
    const { search, calls } = deferredSearch();
    const c = new SearchController({ search, render: () => {}, frame: () => {}, now: () => 0 });
    for (const q of ['w', 'we', 'web', 'web-', 'web-p']) c.input(buildRequest(q, NO_FILTERS));
    expect(calls.map((x) => x.request.query)).toEqual(['w']);
    calls[0]!.resolve(response('w', 1));
    await flush();
    expect(calls.map((x) => x.request.query)).toEqual(['w', 'web-p']);
    calls[1]!.resolve(response('web-p', 1));
    await c.idle();
    expect(search).toHaveBeenCalledTimes(2);
  });

  it('does not render an answer a newer input already waits to replace', async () => {
    const { search, calls } = deferredSearch();
    const rendered: SearchAnswer[] = [];
    const c = new SearchController({ search, render: (a) => void rendered.push(a), frame: () => {}, now: () => 0 });
    c.input(buildRequest('we', NO_FILTERS));
    c.input(buildRequest('web', NO_FILTERS));
    calls[0]!.resolve(response('we', 5));
    await flush();
    expect(rendered).toEqual([]);
    expect(c.dropped).toBe(1);
    calls[1]!.resolve(response('web', 2));
    await c.idle();
    expect(rendered.map((a) => a.request.query)).toEqual(['web']);
    expect(rendered[0]!.response!.results).toHaveLength(2);
    expect(c.renderedSeq).toBe(2);
  });

  it('shows every answer when each comes back before the next input', async () => {
    const { search, calls } = deferredSearch();
    const rendered: string[] = [];
    const c = new SearchController({ search, render: (a) => void rendered.push(a.request.query), frame: () => {}, now: () => 0 });
    c.input(buildRequest('a', NO_FILTERS));
    calls[0]!.resolve(response('a', 1));
    await c.idle();
    c.input(buildRequest('ab', NO_FILTERS));
    calls[1]!.resolve(response('ab', 1));
    await c.idle();
    expect(rendered).toEqual(['a', 'ab']);
    expect(c.dropped).toBe(0);
  });

  it('measures from the input event to one frame after the render, with its parts', async () => {
    const { search, calls } = deferredSearch();
    const frames = manualFrames();
    let clock = 100;
    const latencies: Latency[] = [];
    const c = new SearchController({
      search,
      render: () => {
        clock = 130; // rendering took until t=130
      },
      frame: frames.frame,
      now: () => clock,
      onLatency: (l) => latencies.push(l),
    });
    c.input(buildRequest('db', NO_FILTERS), 95);
    clock = 120; // the answer is back at t=120
    calls[0]!.resolve({ ...response('db', 3), took_us: 4_000 });
    await c.idle();
    expect(latencies).toEqual([]); // waits for the frame after the render
    clock = 146;
    frames.run();
    expect(latencies).toEqual([
      {
        query: 'db',
        phase: 'first',
        final: true,
        ms: 51,
        results: 3,
        queue_ms: 5,
        backend_ms: 20,
        index_ms: 4,
        render_ms: 10,
      },
    ]);
  });

  it('sends the next request without waiting for the measuring frame', async () => {
    const { search, calls } = deferredSearch();
    const frames = manualFrames();
    const c = new SearchController({ search, render: () => {}, frame: frames.frame, now: () => 0 });
    c.input(buildRequest('a', NO_FILTERS));
    calls[0]!.resolve(response('a', 1));
    await c.idle();
    c.input(buildRequest('ab', NO_FILTERS));
    expect(calls).toHaveLength(2);
    expect(frames.pending).toBe(1);
  });

  it('answers an empty request without calling search', async () => {
    const { search } = deferredSearch();
    const rendered: SearchAnswer[] = [];
    const c = new SearchController({ search, render: (a) => void rendered.push(a), frame: () => {}, now: () => 0 });
    c.input(buildRequest('   ', NO_FILTERS));
    await c.idle();
    expect(search).not.toHaveBeenCalled();
    expect(rendered).toHaveLength(1);
    expect(rendered[0]!.response).toBeNull();
  });

  it('clearing the field drops an answer still in flight', async () => {
    const { search, calls } = deferredSearch();
    const rendered: (string | null)[] = [];
    const c = new SearchController({
      search,
      render: (a) => void rendered.push(a.response ? a.request.query : null),
      frame: () => {},
      now: () => 0,
    });
    c.input(buildRequest('web', NO_FILTERS));
    c.input(buildRequest('', NO_FILTERS));
    calls[0]!.resolve(response('web', 4));
    await c.idle();
    expect(rendered).toEqual([null]);
  });

  it('reports an error only when no newer input waits', async () => {
    const { search, calls } = deferredSearch();
    const errors: unknown[] = [];
    const c = new SearchController({ search, render: () => {}, frame: () => {}, now: () => 0, onError: (e) => errors.push(e) });
    c.input(buildRequest('a', NO_FILTERS));
    c.input(buildRequest('ab', NO_FILTERS));
    calls[0]!.reject({ kind: 'internal', message: 'old' });
    await flush();
    expect(errors).toEqual([]);
    calls[1]!.reject({ kind: 'unavailable', message: 'new' });
    await c.idle();
    expect(errors).toEqual([{ kind: 'unavailable', message: 'new' }]);
  });

  it('tells when requests are in flight', async () => {
    const { search, calls } = deferredSearch();
    const busy: boolean[] = [];
    const c = new SearchController({ search, render: () => {}, frame: () => {}, now: () => 0, onBusy: (b) => busy.push(b) });
    c.input(buildRequest('a', NO_FILTERS));
    c.input(buildRequest('ab', NO_FILTERS));
    calls[0]!.resolve(response('a', 1));
    await flush();
    calls[1]!.resolve(response('ab', 1));
    await c.idle();
    expect(busy).toEqual([true, false]);
  });

  it('answers first from the lexical index, then with the full lookup when it could differ', async () => {
    const { search, calls } = deferredSearch();
    const frames = manualFrames();
    let clock = 0;
    const rendered: SearchAnswer[] = [];
    const latencies: Latency[] = [];
    const c = new SearchController({
      search,
      render: (a) => void rendered.push(a),
      frame: frames.frame,
      now: () => clock,
      onLatency: (l) => latencies.push(l),
    });
    c.input(buildRequest('prod db', NO_FILTERS), 0);
    expect(calls[0]!.request).toMatchObject({ query: 'prod db', lexical_only: true });
    clock = 5;
    calls[0]!.resolve({ ...response('prod db', 2), semantic_skipped: true });
    await flush();
    frames.run();
    expect(rendered.map((a) => a.refining)).toEqual([true]);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.request).toMatchObject({ query: 'prod db', lexical_only: false });
    clock = 40;
    calls[1]!.resolve({ ...response('prod db', 3), semantic: true });
    await c.idle();
    frames.run();
    expect(rendered.map((a) => [a.refining, a.response!.results.length])).toEqual([
      [true, 2],
      [false, 3],
    ]);
    // Both measured from the input event.
    expect(latencies.map((l) => [l.phase, l.final, l.ms])).toEqual([
      ['first', false, 5],
      ['refined', true, 40],
    ]);
  });

  it('does not refine an answer a newer input already replaces', async () => {
    const { search, calls } = deferredSearch();
    const rendered: string[] = [];
    const c = new SearchController({
      search,
      render: (a) => void rendered.push(a.request.query),
      frame: () => {},
      now: () => 0,
    });
    c.input(buildRequest('prod', NO_FILTERS));
    c.input(buildRequest('prod d', NO_FILTERS));
    calls[0]!.resolve({ ...response('prod', 2), semantic_skipped: true });
    await flush();
    // The newer input goes next, lexical first; the stale one is neither shown nor refined.
    expect(calls.map((x) => [x.request.query, x.request.lexical_only])).toEqual([
      ['prod', true],
      ['prod d', true],
    ]);
    calls[1]!.resolve({ ...response('prod d', 1), semantic_skipped: false });
    await c.idle();
    expect(calls).toHaveLength(2);
    expect(rendered).toEqual(['prod d']);
  });

  it('refines only when the index says the model could rank differently', async () => {
    const { search, calls } = deferredSearch();
    const c = new SearchController({ search, render: () => {}, frame: () => {}, now: () => 0 });
    c.input(buildRequest('pg-instance-main1', NO_FILTERS));
    calls[0]!.resolve(response('pg-instance-main1', 1));
    await c.idle();
    expect(calls).toHaveLength(1);
  });

  it('sends the full lookup at once when lexical-first is off', async () => {
    const { search, calls } = deferredSearch();
    const c = new SearchController({
      search,
      render: () => {},
      frame: () => {},
      now: () => 0,
      lexicalFirst: false,
    });
    c.input(buildRequest('prod db', NO_FILTERS));
    calls[0]!.resolve({ ...response('prod db', 2), semantic_skipped: true });
    await c.idle();
    expect(calls.map((x) => x.request.lexical_only)).toEqual([false]);
  });
});
