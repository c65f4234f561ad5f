import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => import('./test/fake-tauri'));

import { handlers, resetFake } from './test/fake-tauri';
import { app } from './lib/state.svelte';
import App from './App.svelte';

beforeEach(() => {
  resetFake();
  app.view = 'chat';
  handlers.app_info = () => ({ version: '1.2.3', home: '/home/op/.cloudops', resources: 1234, semantic: true, embedder: 'e', planner: 'in-process', notes: [] });
  handlers.facets = () => ({ accounts: [], regions: [], resource_types: [], states: [], tag_keys: [], resources: 0 });
  handlers.history = () => ({
    executions: [
      { id: 'ex-2', started: '2025-03-01T12:00:00Z', prompt: 'stop web-1', playbook: 'ec2.stop', resources: ['arn:aws:ec2:r:1:instance/i-1'], outcome: 'failed', commands: 1, first_seq: 5, last_seq: 8 },
      { id: 'ex-1', started: '2025-03-01T11:00:00Z', prompt: 'start web-1', resources: [], outcome: 'succeeded', commands: 1, first_seq: 1, last_seq: 4 },
    ],
    chain: { intact: false, records: 8, head: null, broken: { seq: 6, problem: 'hash mismatch', reason: 'record 6 was edited' } },
  });
  handlers.history_show = (args) => [
    { seq: 5, time: '2025-03-01T12:00:00Z', execution_id: args.id, event: { kind: 'planned', prompt: 'stop web-1', planner: 'in-process', plan: null } },
    { seq: 6, time: '2025-03-01T12:00:01Z', execution_id: args.id, event: 'command', phase: 'script', step_id: 's', argv: ['ec2', 'stop-instances'], exit_code: 255, duration_ms: 800, output: 'denied' },
  ];
  handlers.settings = () => ({ planner: 'in_process', server_url: null, model: { semantic: false, embedder: 'none', message: 'no model installed' }, home: '/home/op/.cloudops' });
  handlers.set_planner = (args) =>
    args.serverUrl === 'bad' ? Promise.reject({ kind: 'invalid_input', message: 'not a URL' }) : { planner: 'server', server_url: args.serverUrl, model: { semantic: false, embedder: 'none', message: '' }, home: '/h' };
});

describe('App', () => {
  it('opens on Chat, shows the status line, and navigates', async () => {
    render(App);
    expect(screen.getByTestId('view-chat')).toBeTruthy();
    expect(screen.getByTestId('nav-chat').getAttribute('aria-current')).toBe('page');
    await waitFor(() => expect(screen.getByTestId('status-line').textContent).toContain('1,234'));
    expect(screen.getByTestId('status-line').textContent).toContain('semantic on');
    expect(screen.getByTestId('status-line').textContent).toContain('in-process');

    await fireEvent.click(screen.getByTestId('nav-explorer'));
    expect(screen.getByTestId('view-explorer')).toBeTruthy();
    expect(screen.queryByTestId('view-chat')).toBeNull();
    expect(screen.getByTestId('nav-explorer').getAttribute('aria-current')).toBe('page');
    expect(screen.getByTestId('nav-chat').getAttribute('aria-current')).toBeNull();
  });

  it('shows the history, a broken chain, and one execution’s records', async () => {
    render(App);
    await fireEvent.click(screen.getByTestId('nav-history'));
    const chain = await screen.findByTestId('chain-status');
    expect(chain.getAttribute('data-intact')).toBe('false');
    expect(chain.textContent).toContain('record 6 was edited');
    const rows = screen.getAllByTestId('history-row');
    expect(rows.map((r) => [r.getAttribute('data-id'), r.getAttribute('data-outcome')])).toEqual([
      ['ex-2', 'failed'],
      ['ex-1', 'succeeded'],
    ]);
    await fireEvent.click(rows[0]!);
    const detail = await screen.findByTestId('history-detail');
    expect(detail.getAttribute('data-id')).toBe('ex-2');
    await waitFor(() => expect(screen.getAllByTestId('history-record').map((r) => r.getAttribute('data-kind'))).toEqual(['planned', 'command']));
    expect(detail.textContent).toContain('aws ec2 stop-instances');
    expect(detail.textContent).toContain('exit 255');
  });

  it('opens History on the execution the monitor links to', async () => {
    app.historySelect = 'ex-1';
    render(App);
    await fireEvent.click(screen.getByTestId('nav-history'));
    const detail = await screen.findByTestId('history-detail');
    expect(detail.getAttribute('data-id')).toBe('ex-1');
  });

  it('changes the planner and shows a refusal inline', async () => {
    render(App);
    await fireEvent.click(screen.getByTestId('nav-settings'));
    await waitFor(() => expect(screen.getByTestId('model-status').getAttribute('data-semantic')).toBe('false'));
    expect(screen.getByTestId('home-dir').textContent).toBe('/home/op/.cloudops');
    expect((screen.getByTestId('planner-in-process') as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(screen.getByTestId('planner-server'));
    await fireEvent.input(screen.getByTestId('planner-url'), { target: { value: 'bad' } });
    await fireEvent.click(screen.getByTestId('planner-save'));
    const err = await screen.findByTestId('planner-error');
    expect(err.textContent).toContain('not a URL');
    await fireEvent.input(screen.getByTestId('planner-url'), { target: { value: 'https://p.example:8443' } });
    await fireEvent.click(screen.getByTestId('planner-save'));
    await waitFor(() => expect(screen.queryByTestId('planner-error')).toBeNull());
    expect((screen.getByTestId('planner-server') as HTMLInputElement).checked).toBe(true);
  });
});
