import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => import('../test/fake-tauri'));

import { handlers, invoke, resetFake } from '../test/fake-tauri';
import { hit, resource } from '../test/fixtures';
import { chat } from '../lib/stores/chat.svelte';
import { resetExplorer } from '../lib/stores/explorer.svelte';
import { app } from '../lib/state.svelte';
import type { SearchRequest } from '../lib/types';
import ExplorerView from './ExplorerView.svelte';

const byId = (id: string) => screen.getByTestId(id);

const web1 = resource('web-1', { arn: 'arn:web-1', resource_type: 'ec2_instance', tags: { env: 'prod', team: 'web' } });
const web2 = resource('web-2', { arn: 'arn:web-2', resource_type: 'ec2_instance', state: 'stopped' });

beforeEach(() => {
  resetFake();
  resetExplorer();
  (window as unknown as { __cloudopsSearchLatencies: unknown[] }).__cloudopsSearchLatencies = [];
  handlers.facets = () => ({
    accounts: ['prod', 'staging'],
    regions: ['eu-west-1'],
    resource_types: ['ec2_instance', 'rds_instance'],
    states: ['running', 'stopped'],
    tag_keys: ['env'],
    resources: 2,
  });
  handlers.search = (args) => {
    const req = args.request as SearchRequest;
    const all = [web1, web2].filter((r) => (req.state ? r.state === req.state : true)).filter((r) => r.name.includes(req.query));
    return { query: req.query, understood: null, results: all.map((r) => hit(r, 0.5)), ambiguous: false, semantic: false, notes: req.query === 'web' ? ['read "web" as a name'] : [], took_us: 900 };
  };
  handlers.count = (args) => {
    const req = args.request as SearchRequest;
    const all = [web1, web2].filter((r) => (req.state ? r.state === req.state : true));
    const groupBy = args.groupBy as string[];
    return {
      query: req.state ? `state:${req.state}` : '',
      group_by: groupBy,
      count: true,
      total: all.length,
      groups: groupBy.length ? [{ key: { [groupBy[0]!]: 'eu-west-1' }, count: all.length }] : [],
      results: [],
      took_us: 80,
      complete: true,
      incomplete: [],
      as_of: '2026-12-07T12:00:00Z',
      scopes: 2,
      notes: [],
    };
  };
  handlers.resource = (args) => [web1, web2].find((r) => r.arn === args.arn);
  handlers.resource_operations = (args) =>
    args.arn === 'arn:web-2'
      ? [
          { playbook: 'aws_ec2_start_instance', title: 'Start EC2 instance', operation: 'start', actions: ['ec2:StartInstances'], status: 'allowed', blocking: [] },
          { playbook: 'aws_ec2_terminate_instance', title: 'Terminate EC2 instance', operation: 'terminate', actions: ['ec2:TerminateInstances'], status: 'denied', blocking: ['ec2:TerminateInstances'] },
        ]
      : [];
});

describe('Explorer', () => {
  it('shows the hint for an empty query, options from the facets, and results as you type', async () => {
    render(ExplorerView);
    expect(byId('explorer-empty')).toBeTruthy();
    await waitFor(() => expect(byId('filter-account').querySelectorAll('option')).toHaveLength(3));
    const first = byId('filter-state').querySelector('option')!;
    expect(first.value).toBe('');
    expect(first.textContent).toBe('any');

    const input = byId('explorer-search') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'web' } });
    await waitFor(() => expect(byId('explorer-results').getAttribute('data-query')).toBe('web'));
    const rows = screen.getAllByTestId('explorer-result');
    expect(rows.map((r) => r.getAttribute('data-arn'))).toEqual(['arn:web-1', 'arn:web-2']);
    expect(byId('explorer-count').textContent).toContain('2 results');
    expect(byId('explorer-notes').textContent).toContain('read "web" as a name');
    expect(Number(byId('explorer-results').getAttribute('data-last-latency-ms'))).toBeGreaterThanOrEqual(0);
    const log = (window as unknown as { __cloudopsSearchLatencies: { query: string; results: number }[] }).__cloudopsSearchLatencies;
    expect(log.at(-1)).toMatchObject({ query: 'web', results: 2 });
    expect(screen.queryByTestId('explorer-empty')).toBeNull();
  });

  it('lists by filter alone, and sends the filters', async () => {
    render(ExplorerView);
    await waitFor(() => expect(byId('filter-state').querySelectorAll('option')).toHaveLength(3));
    const state = byId('filter-state') as HTMLSelectElement;
    state.value = 'stopped';
    await fireEvent.change(state);
    await waitFor(() => expect(screen.getAllByTestId('explorer-result')).toHaveLength(1));
    const req = invoke.mock.calls.filter((c) => c[0] === 'search').at(-1)![1] as { request: SearchRequest };
    expect(req.request).toMatchObject({ query: '', state: 'stopped', account: null, tags: [] });

    const tags = byId('filter-tags') as HTMLInputElement;
    await fireEvent.input(tags, { target: { value: 'env=prod team=web' } });
    await waitFor(() => {
      const last = invoke.mock.calls.filter((c) => c[0] === 'search').at(-1)![1] as { request: SearchRequest };
      expect(last.request.tags).toEqual(['env=prod', 'team=web']);
    });
  });

  it('counts every resource the filters select, and groups the count', async () => {
    render(ExplorerView);
    await waitFor(() => expect(byId('filter-state').querySelectorAll('option')).toHaveLength(3));
    expect(screen.queryByTestId('explorer-tally')).toBeNull();
    const state = byId('filter-state') as HTMLSelectElement;
    state.value = 'stopped';
    await fireEvent.change(state);
    const tally = await screen.findByTestId('explorer-tally');
    expect(tally.getAttribute('data-total')).toBe('1');
    expect(tally.getAttribute('data-complete')).toBe('true');
    const call = invoke.mock.calls.filter((c) => c[0] === 'count').at(-1)![1] as { request: SearchRequest; groupBy: string[] };
    expect(call.request).toMatchObject({ query: '', state: 'stopped' });
    expect(call.groupBy).toEqual([]);
    const groupBy = byId('explorer-group-by') as HTMLSelectElement;
    groupBy.value = 'region';
    await fireEvent.change(groupBy);
    const group = await screen.findByTestId('explorer-group');
    expect(group.getAttribute('data-key')).toBe('eu-west-1');
    expect(group.getAttribute('data-count')).toBe('1');
    const last = invoke.mock.calls.filter((c) => c[0] === 'count').at(-1)![1] as { groupBy: string[] };
    expect(last.groupBy).toEqual(['region']);
  });

  it('moves with the arrows, opens the detail with Enter, and hands the name to Chat', async () => {
    render(ExplorerView);
    const input = byId('explorer-search') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'web' } });
    await waitFor(() => expect(screen.getAllByTestId('explorer-result')).toHaveLength(2));
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    await waitFor(() => expect(screen.getAllByTestId('explorer-result')[1]!.getAttribute('aria-selected')).toBe('true'));
    await fireEvent.keyDown(input, { key: 'Enter' });
    const detail = await screen.findByTestId('resource-detail');
    expect(detail.getAttribute('data-arn')).toBe('arn:web-2');
    expect(byId('detail-name').textContent).toBe('web-2');
    expect(byId('detail-state').textContent).toBe('stopped');
    for (const s of ['detail-fields', 'detail-tags', 'detail-attributes', 'detail-constraints', 'detail-dependencies', 'detail-permissions']) {
      expect(byId(s)).toBeTruthy();
    }
    await waitFor(() => expect(screen.getAllByTestId('detail-operation')).toHaveLength(2));
    const [start, terminate] = screen.getAllByTestId('detail-operation');
    expect(start!.getAttribute('data-status')).toBe('allowed');
    expect(terminate!.getAttribute('data-status')).toBe('denied');
    expect(terminate!.textContent).toContain('ec2:TerminateInstances');
    await fireEvent.keyDown(input, { key: 'ArrowUp' });
    await waitFor(() => expect(byId('resource-detail').getAttribute('data-arn')).toBe('arn:web-1'));
    expect(byId('detail-tags').querySelectorAll('tr')).toHaveLength(2);
    await waitFor(() => expect(byId('detail-permissions').textContent).toContain('no operations'));

    await fireEvent.click(byId('detail-ask'));
    expect(chat.input).toBe('web-1 ');
    expect(app.view).toBe('chat');
  });
});
