import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => import('../test/fake-tauri'));

import { Channel, deferred, handlers, invoke, resetFake } from '../test/fake-tauri';
import { hit, proposal, resource } from '../test/fixtures';
import { resetChat } from '../lib/stores/chat.svelte';
import type { ExecutionEvent, ExecutionReport } from '../lib/types';
import ChatView from './ChatView.svelte';

const byId = (id: string) => screen.getByTestId(id);

beforeEach(() => {
  resetFake();
  resetChat();
  handlers.app_info = () => ({ version: 't', home: '/h', resources: 1, semantic: false, embedder: '', planner: 'in-process', notes: [] });
  handlers.search = () => ({ query: '', understood: null, results: [], ambiguous: false, semantic: false, notes: [], took_us: 1 });
  handlers.answer = () => null;
  handlers.fleet = () => null;
});

afterEach(() => {
  resetChat();
});

async function sendPrompt(text: string) {
  const input = byId('chat-input') as HTMLTextAreaElement;
  await fireEvent.input(input, { target: { value: text } });
  await fireEvent.keyDown(input, { key: 'Enter' });
}

describe('Chat', () => {
  it('lists what agents asked for and opens it as a plan card to approve', async () => {
    const db = resource('orders-db');
    handlers.agent_requests = () => [
      {
        id: 'ex-agent-1',
        client: 'claude-desktop',
        prompt: 'Stop orders-db',
        requested_at: '2026-12-07T12:00:00Z',
        expires_at: '2026-12-07T12:15:00Z',
        state: 'pending',
        decided_by: null,
        plan_hash: 'h',
        planner: 'in-process',
        resources: [db],
        freshness: { source: 'live', as_of: '2026-12-07T12:00:00Z', changes: [], gone: [], reread_ms: 20 },
      },
    ];
    handlers.agent_request_open = () => ({ ...proposal(db, { kind: 'confirm' }), execution_id: 'ex-agent-1' });
    handlers.approve = () => ({ execution_id: 'ex-agent-1', outcome: 'succeeded', message: 'done', refresh: { refreshed: 1, removed: 0, failures: [] }, targets: [] });
    render(ChatView);
    const item = await screen.findByTestId('agent-request');
    expect(item.textContent).toContain('claude-desktop');
    expect(item.textContent).toContain('Stop orders-db');
    await fireEvent.click(byId('agent-request-review'));
    const card = await screen.findByTestId('plan-card');
    expect(card.getAttribute('data-execution-id')).toBe('ex-agent-1');
    expect(byId('chat-agent').textContent).toContain('claude-desktop');
    expect(invoke).toHaveBeenCalledWith('agent_request_open', { executionId: 'ex-agent-1' });
    expect(screen.queryByTestId('agent-request')).toBeNull();
    await fireEvent.click(byId('approve-button'));
    await waitFor(() => expect(invoke.mock.calls.some((c) => c[0] === 'approve')).toBe(true));
    const call = invoke.mock.calls.find((c) => c[0] === 'approve')!;
    expect((call[1] as { executionId: string }).executionId).toBe('ex-agent-1');
  });

  it('answers a question from the estate with counts, groups as bars, and how complete it is, and plans nothing', async () => {
    const a = resource('orders-db');
    const b = resource('reports-db', { region: 'us-east-1' });
    handlers.answer = (args) =>
      String(args.prompt).startsWith('how many')
        ? {
            question: String(args.prompt),
            query: 'type:rds_instance automated_backups_enabled=false',
            group_by: ['region'],
            count: true,
            total: 3,
            groups: [
              { key: { region: 'eu-west-1' }, count: 2 },
              { key: { region: 'us-east-1' }, count: 1 },
            ],
            results: [a, b],
            took_us: 310,
            complete: false,
            incomplete: ['prod/ap-south-1/rds: never synced', 'prod/us-west-1/rds: never synced'],
            as_of: '2026-12-07T10:00:00Z',
            scopes: 4,
            notes: [],
          }
        : null;
    handlers.resolve = () => {
      throw { kind: 'internal', message: 'a question must not be resolved for planning' };
    };
    render(ChatView);
    await sendPrompt('how many databases have no backups per region?');
    const answer = await screen.findByTestId('answer');
    expect(answer.getAttribute('data-total')).toBe('3');
    expect(byId('answer-query').textContent).toContain('automated_backups_enabled=false');
    const groups = screen.getAllByTestId('answer-group');
    expect(groups.map((g) => [g.getAttribute('data-key'), g.getAttribute('data-count')])).toEqual([
      ['eu-west-1', '2'],
      ['us-east-1', '1'],
    ]);
    const bars = groups.map((g) => (g.querySelector('.bar') as HTMLElement).style.width);
    expect(bars).toEqual(['100%', '50%']);
    expect(screen.getAllByTestId('answer-result')).toHaveLength(2);
    expect(byId('answer-more').textContent).toContain('1 more');
    const coverage = byId('answer-coverage');
    expect(answer.getAttribute('data-complete')).toBe('false');
    expect(coverage.textContent).toContain('Incomplete');
    expect(coverage.textContent).toContain('prod/ap-south-1/rds: never synced');
    expect(invoke.mock.calls.some((c) => c[0] === 'resolve' || c[0] === 'propose')).toBe(false);
    expect(screen.queryByTestId('plan-card')).toBeNull();
  });

  it('shows what the credentials may do of the plan', async () => {
    const db = resource('orders-db');
    handlers.resolve = () => ({ kind: 'resolved', candidates: [hit(db)], notes: [] });
    handlers.propose = () => ({
      ...proposal(db, { kind: 'confirm' }),
      permissions: [
        { action: 'rds:StopDBInstance', resource: db.arn, access: { decision: 'allowed', by: 'managed policy ops' } },
        { action: 'rds:DescribeDBInstances', resource: db.arn, access: { decision: 'unknown', reason: 'conditions' } },
      ],
    });
    render(ChatView);
    await sendPrompt('stop orders-db');
    await screen.findByTestId('plan-permission-checks');
    const items = screen.getAllByTestId('plan-permission');
    expect(items.map((li) => li.getAttribute('data-decision'))).toEqual(['allowed', 'unknown']);
    expect(items[0]!.textContent).toContain('by managed policy ops');
  });

  it('shows how fresh the facts are and what changed since the last sync', async () => {
    const db = resource('orders-db');
    handlers.resolve = () => ({ kind: 'resolved', candidates: [hit(db)], notes: [] });
    handlers.propose = () => ({
      ...proposal(db, { kind: 'confirm' }),
      freshness: {
        source: 'live',
        as_of: '2026-12-07T12:00:00Z',
        changes: ['orders-db: state available → stopped', 'orders-db: tag owner added (ana)'],
        gone: [],
        reread_ms: 95,
      },
    });
    render(ChatView);
    await sendPrompt('stop orders-db');
    const line = await screen.findByTestId('plan-freshness');
    expect(line.getAttribute('data-source')).toBe('live');
    expect(line.textContent).toContain('Read from AWS just before planning (2026-12-07 12:00:00 UTC, 95 ms)');
    const changes = byId('plan-changes').querySelectorAll('li');
    expect([...changes].map((li) => li.textContent)).toEqual([
      'orders-db: state available → stopped',
      'orders-db: tag owner added (ana)',
    ]);
  });

  it('resolves, plans, gates approval on the typed name, and follows the execution', async () => {
    const db = resource('orders-db');
    handlers.resolve = () => ({ kind: 'resolved', candidates: [hit(db)], notes: [] });
    handlers.propose = () => proposal(db, { kind: 'type_name', names: ['orders-db'] });
    const run = deferred<ExecutionReport>();
    handlers.approve = () => run.promise;

    render(ChatView);
    await sendPrompt('stop orders-db');

    // The input is free again at once; the prompt is shown as a user message.
    expect((byId('chat-input') as HTMLTextAreaElement).value).toBe('');
    const card = await screen.findByTestId('plan-card');
    expect(card.getAttribute('data-execution-id')).toBe('ex-1');
    expect(byId('resolved-resource').getAttribute('data-arn')).toBe(db.arn);
    expect(invoke).toHaveBeenCalledWith('resolve', { prompt: 'stop orders-db' });
    expect(invoke).toHaveBeenCalledWith('propose', { prompt: 'stop orders-db', arns: [db.arn] });

    const badge = byId('risk-badge');
    expect(badge.getAttribute('data-level')).toBe('high');
    expect(badge.textContent).toBe('high');
    expect(badge.className).toContain('risk-high');
    expect(screen.getByTestId('risk-reasons').querySelectorAll('li')).toHaveLength(2);
    expect(byId('plan-command').textContent).toBe('aws rds stop-db-instance --db-instance-identifier orders-db');
    expect(byId('plan-verdict').getAttribute('data-verdict')).toBe('verified');
    expect(screen.queryByTestId('plan-destructive')).toBeNull();
    expect(byId('plan-rollback')).toBeTruthy();

    const approveBtn = byId('approve-button') as HTMLButtonElement;
    const confirm = byId('confirm-name-input') as HTMLInputElement;
    expect(confirm.placeholder).toBe('orders-db');
    expect(approveBtn.disabled).toBe(true);
    await fireEvent.input(confirm, { target: { value: 'orders-d' } });
    expect(approveBtn.disabled).toBe(true);
    await fireEvent.input(confirm, { target: { value: 'Orders-db' } });
    expect(approveBtn.disabled).toBe(true);
    await fireEvent.input(confirm, { target: { value: 'orders-db' } });
    expect(approveBtn.disabled).toBe(false);

    await fireEvent.click(approveBtn);
    const monitor = await screen.findByTestId('monitor');
    expect(monitor.getAttribute('data-state')).toBe('running');
    const call = invoke.mock.calls.find((c) => c[0] === 'approve')!;
    const args = call[1] as { executionId: string; input: unknown; onEvent: unknown };
    expect(args.executionId).toBe('ex-1');
    expect(args.input).toEqual({ kind: 'names', names: ['orders-db'] });
    expect(args.onEvent).toBeInstanceOf(Channel);

    const channel = args.onEvent as Channel<ExecutionEvent>;
    channel.onmessage({ event: 'step_started', phase: 'script', step_id: 'stop', description: 'Stop it', argv: ['rds', 'stop-db-instance', '--db-instance-identifier', 'orders-db'] });
    await waitFor(() => expect(byId('monitor-step').getAttribute('data-status')).toBe('running'));
    channel.onmessage({ event: 'step_finished', phase: 'script', step_id: 'stop', succeeded: true, exit_code: 0, duration_ms: 1500, output: '{"ok":true}' });
    channel.onmessage({ event: 'finished', outcome: 'succeeded', message: 'All good.' });
    run.resolve({ execution_id: 'ex-1', outcome: 'succeeded', message: 'All good.', refresh: { refreshed: 1, removed: 0, failures: [] }, targets: [] });

    await waitFor(() => expect(byId('monitor').getAttribute('data-state')).toBe('succeeded'));
    const step = byId('monitor-step');
    expect(step.getAttribute('data-status')).toBe('ok');
    expect(step.getAttribute('data-phase')).toBe('script');
    expect(step.getAttribute('data-step-id')).toBe('stop');
    expect(byId('monitor-output').textContent).toBe('{"ok":true}');
    expect(byId('monitor-outcome').getAttribute('data-outcome')).toBe('succeeded');
    expect(byId('monitor-outcome').textContent).toContain('1 updated');
    expect(byId('monitor-history-link')).toBeTruthy();
    expect(screen.getAllByTestId('chat-message').map((m) => m.getAttribute('data-role'))).toEqual(['user', 'assistant']);
  });

  it('lets the operator choose among ambiguous candidates', async () => {
    const a = resource('web-1', { arn: 'arn:a', account_name: 'prod' });
    const b = resource('web-1', { arn: 'arn:b', account_name: 'staging' });
    handlers.resolve = () => ({ kind: 'ambiguous', candidates: [hit(a), hit(b)], notes: ['2 resources are named web-1'] });
    handlers.propose = (args) => ({ ...proposal(b, { kind: 'confirm' }), resources: [b], execution_id: `ex-${(args.arns as string[]).join(',')}` });
    handlers.reject = () => null;

    render(ChatView);
    await sendPrompt('stop web-1');
    const rows = await screen.findAllByTestId('candidate');
    expect(rows.map((r) => r.getAttribute('data-arn'))).toEqual(['arn:a', 'arn:b']);
    const confirmBtn = byId('candidates-confirm') as HTMLButtonElement;
    expect(confirmBtn.disabled).toBe(true);
    await fireEvent.click(rows[1]!.querySelector('input[type=checkbox]')!);
    expect(confirmBtn.disabled).toBe(false);
    await fireEvent.click(confirmBtn);

    const card = await screen.findByTestId('plan-card');
    expect(card.getAttribute('data-execution-id')).toBe('ex-arn:b');
    expect(invoke).toHaveBeenCalledWith('propose', { prompt: 'stop web-1', arns: ['arn:b'] });
    // A plain confirmation: approve is enabled with nothing typed.
    expect(screen.queryByTestId('confirm-name-input')).toBeNull();
    expect((byId('approve-button') as HTMLButtonElement).disabled).toBe(false);

    await fireEvent.click(byId('reject-button'));
    await waitFor(() => expect(invoke).toHaveBeenCalledWith('reject', { executionId: 'ex-arn:b' }));
    await screen.findByTestId('plan-rejected');
    expect(screen.queryByTestId('approve-button')).toBeNull();
  });

  it('says when nothing matches, and shows errors inline', async () => {
    handlers.resolve = (args) =>
      args.prompt === 'boom'
        ? Promise.reject({ kind: 'unavailable', message: 'the index is locked' })
        : { kind: 'not_found', candidates: [], notes: ['no resource is called zebra'] };
    render(ChatView);
    await sendPrompt('stop zebra');
    const nf = await screen.findByTestId('chat-not-found');
    expect(nf.textContent).toContain('no resource is called zebra');
    await sendPrompt('boom');
    const err = await screen.findByTestId('error');
    expect(err.textContent).toContain('the index is locked');
  });

  it('renders untrusted text as text', async () => {
    const evil = resource('<img src=x onerror="window.__pwned=1">');
    handlers.resolve = () => ({ kind: 'resolved', candidates: [hit(evil)], notes: [] });
    handlers.propose = () => ({ ...proposal(evil, { kind: 'confirm' }), plan: { ...proposal(evil, { kind: 'confirm' }).plan, explain_plan: '<b>bold</b>' } });
    render(ChatView);
    await sendPrompt('stop it');
    const expl = await screen.findByTestId('plan-explanation');
    expect(expl.textContent).toBe('<b>bold</b>');
    expect(expl.querySelector('b')).toBeNull();
    expect(document.querySelector('img')).toBeNull();
  });

  it('suggests resource names and replaces the word being typed', async () => {
    const db = resource('orders-db');
    handlers.search = (args) => {
      const req = args.request as { query: string; limit: number };
      expect(req.limit).toBe(6);
      return { query: req.query, understood: null, results: req.query === 'ord' ? [hit(db)] : [], ambiguous: false, semantic: false, notes: [], took_us: 1 };
    };
    render(ChatView);
    const input = byId('chat-input') as HTMLTextAreaElement;
    input.value = 'stop ord';
    input.setSelectionRange(8, 8);
    await fireEvent.input(input);
    const items = await screen.findAllByTestId('chat-suggestion');
    expect(items.map((i) => i.getAttribute('data-arn'))).toEqual([db.arn]);
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    await fireEvent.keyDown(input, { key: 'Tab' });
    await waitFor(() => expect(input.value).toBe('stop orders-db '));
    expect(screen.queryByTestId('chat-suggestions')).toBeNull();
    // Enter with no suggestion highlighted sends.
    expect(invoke.mock.calls.some((c) => c[0] === 'resolve')).toBe(false);
  });

  it('shows a fleet in full, narrows it by group chip or tick, plans exactly that set and follows each target', async () => {
    const servers = ['01', '02', '03', '04'].map((n, i) =>
      resource(`orders-api-dev-${n}`, {
        arn: `arn:aws:ec2:us-east-1:111122223333:instance/i-0${n}`,
        resource_type: 'ec2_instance',
        id: `i-0${n}`,
        region: i < 3 ? 'us-east-1' : 'eu-west-1',
        state: i === 2 ? 'stopped' : 'running',
      }),
    );
    const east = servers.filter((s) => s.region === 'us-east-1').map((s) => s.arn);
    handlers.fleet = () => ({
      query: 'type:ec2_instance env:development name:orders-api',
      total: 4,
      members: servers,
      groups: [
        { by: 'region', value: 'us-east-1', count: 3, members: east },
        { by: 'region', value: 'eu-west-1', count: 1, members: [servers[3]!.arn] },
        { by: 'state', value: 'running', count: 3, members: [servers[0]!.arn, servers[1]!.arn, servers[3]!.arn] },
      ],
      complete: true,
      incomplete: [],
      as_of: '2026-12-07T12:00:00Z',
      scopes: 3,
      blocked: null,
      notes: [],
    });
    let proposed: string[] = [];
    handlers.propose = (args) => {
      proposed = args.arns as string[];
      const p = proposal(servers[0]!, { kind: 'confirm' });
      p.plan.script.steps = proposed
        .filter((arn) => arn !== servers[2]!.arn)
        .map((arn, i) => ({ step_id: String(i + 1), command: 'aws ec2 stop-instances', args: [], description: '', capture: {}, target: arn }));
      p.plan.skipped = [{ target: servers[2]!.arn, name: 'orders-api-dev-03', reason: 'is stopped' }];
      p.verdict = { ...p.verdict, approval: { kind: 'type_count', count: 2 } } as typeof p.verdict;
      return p;
    };
    const done = deferred<ExecutionReport>();
    handlers.approve = () => done.promise;
    render(ChatView);
    await sendPrompt('stop all the orders-api servers in development');
    const fleet = await screen.findByTestId('fleet');
    expect(fleet.getAttribute('data-total')).toBe('4');
    expect(screen.getAllByTestId('fleet-member')).toHaveLength(4);
    expect(fleet.getAttribute('data-selected')).toBe('4');
    expect(byId('fleet-complete').getAttribute('data-complete')).toBe('true');
    expect(invoke.mock.calls.some((c) => c[0] === 'resolve')).toBe(false);

    // A chip selects exactly its group; a tick takes one out; "select all" brings them back.
    const chip = screen.getAllByTestId('fleet-chip').find((c) => c.getAttribute('data-value') === 'us-east-1')!;
    await fireEvent.click(chip);
    await waitFor(() => expect(fleet.getAttribute('data-selected')).toBe('3'));
    await fireEvent.click(byId('fleet-select-all'));
    await waitFor(() => expect(fleet.getAttribute('data-selected')).toBe('4'));
    await fireEvent.click(chip);
    const checks = screen.getAllByTestId('fleet-member-check') as HTMLInputElement[];
    await fireEvent.click(checks[1]!);
    await waitFor(() => expect(fleet.getAttribute('data-selected')).toBe('2'));
    await fireEvent.click(byId('fleet-confirm'));
    await screen.findByTestId('plan-card');
    expect(proposed.sort()).toEqual([servers[0]!.arn, servers[2]!.arn].sort());
    expect(byId('plan-skipped').getAttribute('data-count')).toBe('1');

    // Over the threshold: the count is typed before approving.
    const approveButton = byId('approve-button') as HTMLButtonElement;
    expect(approveButton.disabled).toBe(true);
    await fireEvent.input(byId('confirm-count-input'), { target: { value: '3' } });
    expect(approveButton.disabled).toBe(true);
    await fireEvent.input(byId('confirm-count-input'), { target: { value: '2' } });
    await waitFor(() => expect(approveButton.disabled).toBe(false));
    await fireEvent.click(approveButton);
    await waitFor(() => expect(invoke.mock.calls.some((c) => c[0] === 'approve')).toBe(true));
    const call = invoke.mock.calls.find((c) => c[0] === 'approve')!;
    expect((call[1] as { input: unknown }).input).toEqual({ kind: 'answer', text: '2' });

    // Per-target progress.
    const channel = Channel.last as unknown as { onmessage: (e: ExecutionEvent) => void };
    channel.onmessage({ event: 'target_finished', target: servers[2]!.arn, name: 'orders-api-dev-03', result: 'skipped', message: 'is stopped' });
    channel.onmessage({ event: 'target_finished', target: servers[0]!.arn, name: 'orders-api-dev-01', result: 'ok', message: 'every step succeeded' });
    const targets = await screen.findByTestId('monitor-targets');
    await waitFor(() => expect(targets.getAttribute('data-done')).toBe('2'));
    expect(targets.getAttribute('data-total')).toBe('2');
    expect(screen.getAllByTestId('monitor-target').map((t) => t.getAttribute('data-result'))).toEqual(['skipped', 'ok']);
    done.resolve({ execution_id: 'ex-1', outcome: 'succeeded', message: '1 of 1 targets succeeded', refresh: { refreshed: 1, removed: 0, failures: [] }, targets: [] });
  });
});
