import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => import('../test/fake-tauri'));

import { Channel, deferred, handlers, invoke, resetFake } from '../test/fake-tauri';
import type { AccountsView, ScopeKey, ScopeReport, Service, SyncEvent, SyncReport } from '../lib/types';
import EstateView from './EstateView.svelte';

const byId = (id: string) => screen.getByTestId(id);
const scope = (service: Service): ScopeKey => ({ account: 'prod', region: 'eu-west-1', service });

let accountsView: AccountsView;

beforeEach(() => {
  resetFake();
  accountsView = {
    backend: 'Secret Service',
    problem: null,
    accounts: [
      { name: 'prod', role_arn: null, profile: null, regions: ['eu-west-1'], access_key_id: null, session_token: false, problem: null },
      { name: 'staging', role_arn: null, profile: null, regions: ['eu-west-1'], access_key_id: 'AKIA…WXYZ', session_token: false, problem: null },
    ],
  };
  handlers.app_info = () => ({ version: 't', home: '/h', resources: 1, semantic: false, embedder: '', planner: 'in-process', notes: [] });
  handlers.sync_status = () => [
    { scope: scope('ec2'), stale: false, state: { resources: 4, added: 0, changed: 0, removed: 0, embedded: 0, duration_ms: 1, last_full: '2025-01-01T00:00:00Z' } },
    { scope: scope('rds'), stale: true, state: { resources: 1, added: 0, changed: 0, removed: 0, embedded: 0, duration_ms: 1, last_error: 'AccessDenied' } },
  ];
  handlers.accounts = () => accountsView;
});

describe('Estate', () => {
  it('lists the scopes', async () => {
    render(EstateView);
    const rows = await screen.findAllByTestId('scope-row');
    expect(rows.map((r) => [r.getAttribute('data-scope'), r.getAttribute('data-stale')])).toEqual([
      ['prod/eu-west-1/ec2', 'false'],
      ['prod/eu-west-1/rds', 'true'],
    ]);
    expect(rows[1]!.textContent).toContain('AccessDenied');
  });

  it('shows a sync live, scope by scope', async () => {
    const run = deferred<SyncReport>();
    handlers.sync_now = () => run.promise;
    render(EstateView);
    await fireEvent.click(byId('sync-full'));
    await fireEvent.click(byId('sync-now'));
    const call = invoke.mock.calls.find((c) => c[0] === 'sync_now')!;
    const args = call[1] as { full: boolean; onEvent: Channel<SyncEvent> };
    expect(args.full).toBe(true);
    expect((byId('sync-now') as HTMLButtonElement).disabled).toBe(true);
    const ch = args.onEvent;
    ch.onmessage({ event: 'note', message: 'prod: the keychain entry cannot be read; using the profile' });
    ch.onmessage({ event: 'planned', scopes: [scope('ec2'), scope('rds')] });
    ch.onmessage({ event: 'started', scope: scope('ec2') });
    await waitFor(() => expect(screen.getAllByTestId('sync-scope').map((r) => r.getAttribute('data-status'))).toEqual(['reading', 'waiting']));
    expect(screen.getAllByTestId('sync-note').map((n) => n.textContent)).toEqual(['prod: the keychain entry cannot be read; using the profile']);
    ch.onmessage({ event: 'read', scope: scope('ec2'), resources: 4 });
    await waitFor(() => expect(screen.getAllByTestId('sync-scope')[0]!.getAttribute('data-status')).toBe('writing'));
    const counts = { read: 4, added: 1, changed: 0, unchanged: 3, removed: 0, embedded: 1 };
    const ok: ScopeReport = { scope: scope('ec2'), account_id: null, mode: 'full', method: null, fallback: null, counts, resources: 4, api_ms: 5, index_ms: 1, error: null, stale_since: null };
    const bad: ScopeReport = { ...ok, scope: scope('rds'), error: 'AccessDenied' };
    ch.onmessage({ event: 'finished', report: ok });
    await waitFor(() => expect(byId('sync-progress').textContent).toContain('1 / 2'));
    ch.onmessage({ event: 'finished', report: bad });
    run.resolve({ started: '', duration_ms: 10, scopes: [ok, bad], totals: counts, by_type: {} });
    const summary = await screen.findByTestId('sync-summary');
    expect(summary.getAttribute('data-failed')).toBe('1');
    expect(screen.getAllByTestId('sync-scope').map((r) => r.getAttribute('data-status'))).toEqual(['done', 'failed']);
    await waitFor(() => expect((byId('sync-now') as HTMLButtonElement).disabled).toBe(false));
  });

  it('stores a key, clears the secret, and never shows it', async () => {
    handlers.account_key_add = (args) => {
      accountsView = {
        ...accountsView,
        accounts: accountsView.accounts.map((a) => (a.name === args.name ? { ...a, access_key_id: 'AKIA…MPLE', session_token: false } : a)),
      };
      return accountsView;
    };
    render(EstateView);
    await waitFor(() => expect(screen.getAllByTestId('account-row')).toHaveLength(2));
    expect(byId('keychain-backend').textContent).toContain('Secret Service');
    const prodRow = () => screen.getAllByTestId('account-row').find((r) => r.getAttribute('data-name') === 'prod')!;
    expect(prodRow().textContent).toContain('no stored key');
    expect(prodRow().querySelector('[data-testid=account-remove]')).toBeNull();

    const secretValue = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    (byId('account-add-name') as HTMLSelectElement).value = 'prod';
    await fireEvent.change(byId('account-add-name'));
    await fireEvent.input(byId('account-add-key-id'), { target: { value: 'AKIAIOSFODNN7EXAMPLE' } });
    await fireEvent.input(byId('account-add-secret'), { target: { value: secretValue } });
    expect((byId('account-add-secret') as HTMLInputElement).type).toBe('password');
    expect((byId('account-add-token') as HTMLInputElement).type).toBe('password');
    await fireEvent.click(byId('account-add-submit'));

    await waitFor(() => expect(invoke).toHaveBeenCalledWith('account_key_add', {
      name: 'prod',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: secretValue,
      sessionToken: null,
    }));
    await waitFor(() => expect(prodRow().querySelector('[data-testid=account-key]')!.textContent).toContain('AKIA…MPLE'));
    expect((byId('account-add-secret') as HTMLInputElement).value).toBe('');
    expect(document.body.innerHTML).not.toContain(secretValue);
  });

  it('shows a refused key inline and still clears the secret', async () => {
    handlers.account_key_add = () => Promise.reject({ kind: 'invalid_input', message: 'not an access key id' });
    render(EstateView);
    await waitFor(() => expect(screen.getAllByTestId('account-row')).toHaveLength(2));
    await fireEvent.input(byId('account-add-key-id'), { target: { value: 'nope' } });
    await fireEvent.input(byId('account-add-secret'), { target: { value: 'sekrit' } });
    await fireEvent.input(byId('account-add-token'), { target: { value: 'tok' } });
    await fireEvent.click(byId('account-add-submit'));
    const err = await screen.findByTestId('accounts-error');
    expect(err.textContent).toContain('not an access key id');
    expect(err.className).toContain('error');
    expect((byId('account-add-secret') as HTMLInputElement).value).toBe('');
    expect((byId('account-add-token') as HTMLInputElement).value).toBe('');
    expect(invoke).toHaveBeenCalledWith('account_key_add', { name: 'prod', accessKeyId: 'nope', secretAccessKey: 'sekrit', sessionToken: 'tok' });
  });
});
