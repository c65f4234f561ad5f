// A stand-in backend for `npm run dev` in a plain browser (never in the production build):
// made-up data, answers shaped like the real commands', so the UI can be looked at and
// clicked through without the app. It decides nothing the real one would: it is scenery.

import { mockIPC } from '@tauri-apps/api/mocks';
import type {
  AccountsView,
  ApprovalInput,
  AuditRecordView,
  ExecutionEvent,
  HistoryView,
  JsonValue,
  LookupResult,
  Proposal,
  Resource,
  ScopeKey,
  ScopeReport,
  ScopeStatus,
  SearchRequest,
  Settings,
  SyncEvent,
} from '../lib/types';

const now = Date.now();
const ago = (min: number): string => new Date(now - min * 60_000).toISOString();

function res(
  type: string,
  id: string,
  name: string,
  account: [string, string],
  region: string,
  state: string,
  tags: Record<string, string>,
  attributes: Record<string, JsonValue> = {},
): Resource {
  const svc = type.split('_')[0]!;
  return {
    arn: `arn:aws:${svc}:${region}:${account[1]}:${type === 's3_bucket' ? '' : 'resource/'}${id}`,
    resource_type: type,
    id,
    name,
    account_id: account[1],
    account_name: account[0],
    region,
    state,
    tags,
    attributes,
    constraints: type === 'rds_instance' ? { deletion_protection: true } : {},
    permissions: [`${svc}:Describe*`],
    dependencies: type === 'ec2_instance' ? ['sg-0a1b2c3d', 'subnet-0f9e8d7c'] : [],
    last_seen: ago(4),
  };
}

const PROD: [string, string] = ['prod', '111122223333'];
const STAGING: [string, string] = ['staging', '444455556666'];

const RESOURCES: Resource[] = [
  res('ec2_instance', 'i-0a12b34c56d78e901', 'web-1', PROD, 'eu-west-1', 'running', { env: 'prod', team: 'web' }, { instance_type: 't3.large', private_ip: '10.0.1.12' }),
  res('ec2_instance', 'i-0b98c76d54e32f109', 'web-2', PROD, 'eu-west-1', 'running', { env: 'prod', team: 'web' }, { instance_type: 't3.large' }),
  res('ec2_instance', 'i-0c11d22e33f44a556', 'web-1', STAGING, 'eu-west-1', 'stopped', { env: 'staging', team: 'web' }, { instance_type: 't3.small' }),
  res('ec2_instance', 'i-0d55e66f77a88b990', 'batch-worker', PROD, 'us-east-1', 'running', { env: 'prod', team: 'data' }),
  res('rds_instance', 'orders-db', 'orders-db', PROD, 'eu-west-1', 'available', { env: 'prod', team: 'orders' }, { engine: 'postgres', engine_version: '16.3', instance_class: 'db.r6g.large', multi_az: true }),
  res('rds_instance', 'orders-db-staging', 'orders-db-staging', STAGING, 'eu-west-1', 'available', { env: 'staging', team: 'orders' }, { engine: 'postgres' }),
  res('s3_bucket', 'acme-prod-assets', 'acme-prod-assets', PROD, 'eu-west-1', 'active', { env: 'prod' }, { versioning: 'Enabled', encryption: { sse: 'aws:kms' } }),
  res('lambda_function', 'thumbnailer', 'thumbnailer', PROD, 'eu-west-1', 'active', { env: 'prod', team: 'web' }, { runtime: 'python3.12', memory_mb: 512 }),
  res('elb_load_balancer', 'web-alb', 'web-alb', PROD, 'eu-west-1', 'active', { env: 'prod', team: 'web' }, { scheme: 'internet-facing' }),
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function lookup(req: SearchRequest): LookupResult[] {
  const q = req.query.trim().toLowerCase();
  return RESOURCES.filter((r) => {
    if (req.resource_type && r.resource_type !== req.resource_type) return false;
    if (req.account && r.account_name !== req.account) return false;
    if (req.region && r.region !== req.region) return false;
    if (req.state && r.state !== req.state) return false;
    for (const t of req.tags ?? []) {
      const [k, v] = t.split('=');
      if (r.tags[k!] !== v) return false;
    }
    if (!q) return true;
    return q
      .split(/\s+/)
      .some((w) => r.name.toLowerCase().includes(w) || r.id.toLowerCase().includes(w) || Object.values(r.tags).includes(w));
  })
    .slice(0, req.limit ?? 50)
    .map((resource) => ({
      resource,
      score: resource.name.toLowerCase() === q ? 1 : 0.62,
      matched_by: resource.name.toLowerCase() === q ? 'exact_name' : q ? 'lexical' : 'filter',
    }));
}

function scopes(): ScopeKey[] {
  const out: ScopeKey[] = [];
  for (const account of ['prod', 'staging'])
    for (const region of ['eu-west-1', 'us-east-1'])
      for (const service of ['ec2', 'rds', 's3', 'lambda', 'elbv2'] as const) out.push({ account, region, service });
  return out;
}

let executions = 0;
const history: HistoryView = {
  chain: { intact: true, records: 9, head: '9f3c1e0b7a2d4c6e8f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1d3e', broken: null },
  executions: [
    {
      id: 'ex-20250301-a1b2',
      started: ago(95),
      finished: ago(94),
      prompt: 'stop the instance web-1 in staging',
      playbook: 'ec2.stop-instance',
      resources: ['arn:aws:ec2:eu-west-1:444455556666:resource/i-0c11d22e33f44a556'],
      outcome: 'succeeded',
      approval: 'confirmed',
      commands: 3,
      first_seq: 1,
      last_seq: 6,
    },
    {
      id: 'ex-20250228-c3d4',
      started: ago(60 * 26),
      finished: ago(60 * 26 - 1),
      prompt: 'delete the bucket acme-old-logs',
      playbook: 's3.delete-bucket',
      resources: ['arn:aws:s3:eu-west-1:111122223333:acme-old-logs'],
      outcome: 'refused',
      approval: null,
      commands: 0,
      first_seq: 7,
      last_seq: 9,
    },
  ],
};

const accountsView: AccountsView = {
  backend: 'Secret Service (gnome-keyring)',
  problem: null,
  accounts: [
    { name: 'prod', role_arn: 'arn:aws:iam::111122223333:role/CloudOpsOperator', profile: null, regions: ['eu-west-1', 'us-east-1'], access_key_id: null, session_token: false, problem: null },
    { name: 'staging', role_arn: null, profile: 'staging', regions: ['eu-west-1'], access_key_id: 'AKIA…WXYZ', session_token: false, problem: null },
  ],
};

let settingsView: Settings = {
  planner: 'in_process',
  server_url: null,
  server_ca_file: null,
  model: { semantic: true, embedder: 'bge-small-en-v1.5 (384 d)', model_dir: '~/.cloudops/models/bge-small', message: 'Semantic search is on: 9 resources embedded.' },
  home: '~/.cloudops',
};

function proposal(prompt: string, arns: string[]): Proposal {
  const chosen = RESOURCES.filter((r) => arns.includes(r.arn));
  const r = chosen[0] ?? RESOURCES[0]!;
  const destructive = /delete|terminate/.test(prompt);
  const db = r.resource_type === 'rds_instance';
  const command = db ? 'aws rds stop-db-instance' : 'aws ec2 stop-instances';
  const args = db ? ['--db-instance-identifier', r.id] : ['--instance-ids', r.id];
  return {
    execution_id: `ex-${Date.now().toString(36)}`,
    planner: settingsView.planner === 'server' ? settingsView.server_url ?? '' : 'in-process',
    freshness: { source: 'live', as_of: new Date().toISOString(), changes: [], gone: [], reread_ms: 140 },
    permissions: [],
    plan: {
      explain_plan: `Stop ${r.name} (${r.id}) in ${r.account_name}/${r.region}, wait until it is stopped, and check its state.`,
      script: {
        steps: [
          { step_id: 'stop', command, args, description: `Stop ${r.name}`, capture: {} },
          {
            step_id: 'wait',
            command: db ? 'aws rds wait db-instance-stopped' : 'aws ec2 wait instance-stopped',
            args: args.slice(),
            description: 'Wait until it has stopped',
            capture: {},
          },
        ],
      },
      risk_assessment: {
        level: destructive ? 'critical' : db ? 'high' : 'medium',
        reasons: [
          `${r.name} is tagged env=${r.tags.env ?? '?'}`,
          db ? 'Stopping a database interrupts every client' : 'Stopping an instance interrupts the traffic it serves',
        ],
        impact: `${r.name} is unavailable until it is started again.`,
      },
      approval_required: true,
      playbook: { id: db ? 'rds.stop-db-instance' : 'ec2.stop-instance', version: '1.2.0', commit: null },
      rollback: { steps: [{ step_id: 'start', command: db ? 'aws rds start-db-instance' : 'aws ec2 start-instances', args, description: 'Start it again', capture: {} }] },
      verification: {
        steps: [
          {
            step_id: 'check',
            command: db ? 'aws rds describe-db-instances' : 'aws ec2 describe-instances',
            args: [...args, '--query', db ? 'DBInstances[0].DBInstanceStatus' : "Reservations[0].Instances[0].State.Name"],
            description: 'Check that it is stopped',
            capture: {},
            expect: 'stopped',
          },
        ],
      },
      required_permissions: db ? ['rds:StopDBInstance', 'rds:DescribeDBInstances'] : ['ec2:StopInstances', 'ec2:DescribeInstances'],
      alternatives: [],
      executable: true,
    },
    verdict: /bucket/.test(prompt)
      ? { verdict: 'refused', reasons: ['No playbook deletes a bucket that is not empty.'] }
      : {
          verdict: 'verified',
          risk: {
            level: destructive ? 'critical' : db ? 'high' : 'medium',
            reasons: [`${r.name} is tagged env=${r.tags.env ?? '?'}`, db ? 'Stopping a database interrupts every client' : 'Stopping an instance interrupts the traffic it serves'],
            impact: `${r.name} is unavailable until it is started again.`,
          },
          destructive,
          approval: r.tags.env === 'prod' ? { kind: 'type_name', names: chosen.map((c) => c.name) } : { kind: 'confirm' },
        },
    resources: chosen,
  };
}

const proposals = new Map<string, Proposal>();

async function runExecution(p: Proposal, send: (e: ExecutionEvent) => void) {
  const steps = [...p.plan.script.steps.map((s) => ['script', s] as const), ...(p.plan.verification?.steps ?? []).map((s) => ['verification', s] as const)];
  for (const [phase, s] of steps) {
    const argv = [...s.command.split(' ').slice(1), ...s.args, '--output', 'json'];
    send({ event: 'step_started', phase, step_id: s.step_id, description: s.description ?? '', argv });
    await sleep(700);
    if (s.expect) {
      send({ event: 'step_retrying', phase, step_id: s.step_id, runs: 1, observed: 'stopping' });
      await sleep(900);
    }
    send({
      event: 'step_finished',
      phase,
      step_id: s.step_id,
      succeeded: true,
      exit_code: 0,
      duration_ms: 640 + Math.round(Math.random() * 900),
      output: s.expect ? `"${s.expect}"` : JSON.stringify({ StoppingInstances: [{ InstanceId: p.resources[0]?.id, CurrentState: { Name: 'stopping' } }] }, null, 2),
    });
  }
  send({ event: 'finished', outcome: 'succeeded', message: 'Every step and every check passed.' });
  executions++;
  return {
    execution_id: p.execution_id,
    outcome: 'succeeded' as const,
    message: 'Every step and every check passed.',
    refresh: { refreshed: p.resources.length, removed: 0, failures: [] },
  };
}

type Args = Record<string, unknown>;

async function handle(cmd: string, args: Args): Promise<unknown> {
  await sleep(cmd === 'search' ? 15 : 120);
  switch (cmd) {
    case 'app_info':
      return {
        version: '0.1.0-dev',
        home: settingsView.home,
        resources: RESOURCES.length,
        semantic: settingsView.model.semantic,
        embedder: settingsView.model.embedder,
        planner: settingsView.planner === 'server' ? settingsView.server_url : 'in-process',
        notes: [],
      };
    case 'search': {
      const request = args.request as SearchRequest;
      const results = lookup(request);
      return {
        query: request.query,
        understood: null,
        results,
        ambiguous: results.length > 1 && results[0]!.score === results[1]!.score && results[0]!.score === 1,
        semantic: true,
        notes: request.query.includes('prod') ? ['"prod" read as the tag env=prod'] : [],
        took_us: 800 + Math.round(Math.random() * 900),
      };
    }
    case 'resource': {
      const r = RESOURCES.find((x) => x.arn === args.arn);
      if (!r) throw { kind: 'not_found', message: `no resource ${String(args.arn)}` };
      return r;
    }
    case 'facets':
      return {
        accounts: ['prod', 'staging'],
        regions: ['eu-west-1', 'us-east-1'],
        resource_types: ['ec2_instance', 'rds_instance', 's3_bucket', 'lambda_function', 'elb_load_balancer'],
        states: ['active', 'available', 'running', 'stopped'],
        tag_keys: ['env', 'team'],
        resources: RESOURCES.length,
      };
    case 'answer': {
      const prompt = String(args.prompt).toLowerCase();
      if (!/^(how many|count|which|list|show)\b/.test(prompt) && !prompt.endsWith('?')) return null;
      const byRegion = new Map<string, number>();
      for (const r of RESOURCES) byRegion.set(r.region, (byRegion.get(r.region) ?? 0) + 1);
      return {
        question: String(args.prompt),
        query: '',
        group_by: ['region'],
        count: prompt.startsWith('how many'),
        total: RESOURCES.length,
        groups: [...byRegion].map(([region, count]) => ({ key: { region }, count })).sort((a, b) => b.count - a.count),
        results: RESOURCES.slice(0, 5),
        took_us: 420,
        complete: true,
        incomplete: [],
        as_of: ago(12),
        scopes: 12,
        notes: [],
      };
    }
    case 'count': {
      const request = { ...(args.request as SearchRequest), query: '', limit: 1000 };
      const matches = lookup(request).map((r) => r.resource);
      const key = (args.groupBy as string[])[0];
      const groups = new Map<string, number>();
      if (key) {
        for (const r of matches) {
          const value = key === 'region' ? r.region : key === 'state' ? r.state : key === 'type' ? r.resource_type : r.account_name;
          groups.set(value, (groups.get(value) ?? 0) + 1);
        }
      }
      return {
        query: '',
        group_by: key ? [key] : [],
        count: true,
        total: matches.length,
        groups: [...groups].map(([value, count]) => ({ key: { [key!]: value }, count })).sort((a, b) => b.count - a.count),
        results: [],
        took_us: 120,
        complete: true,
        incomplete: [],
        as_of: ago(12),
        scopes: 12,
        notes: [],
      };
    }
    case 'fleet':
      // The mock backend has no fleets: every request names one resource.
      return null;
    case 'resolve': {
      const prompt = String(args.prompt).toLowerCase();
      const hits = RESOURCES.filter((r) => prompt.split(/\s+/).includes(r.name.toLowerCase()));
      const inAccount = hits.filter((r) => prompt.includes(r.account_name));
      const c = inAccount.length ? inAccount : hits;
      const results = c.map((resource) => ({ resource, score: 1, matched_by: 'exact_name' as const }));
      if (results.length === 0) return { kind: 'not_found', candidates: [], notes: ['No resource is named like a word of the prompt.'] };
      if (results.length > 1) return { kind: 'ambiguous', candidates: results, notes: [`${results.length} resources are named ${results[0]!.resource.name}.`] };
      return { kind: 'resolved', candidates: results, notes: [] };
    }
    case 'propose': {
      await sleep(500);
      const p = proposal(String(args.prompt), args.arns as string[]);
      proposals.set(p.execution_id, p);
      return p;
    }
    case 'approve': {
      const p = proposals.get(String(args.executionId));
      if (!p) throw { kind: 'not_found', message: 'no such proposal' };
      const v = p.verdict;
      if (v.verdict === 'verified' && v.approval.kind === 'type_name') {
        const input = args.input as ApprovalInput;
        const typed = input.kind === 'names' ? input.names : [];
        if (v.approval.names.some((n, i) => (typed[i] ?? '').trim() !== n)) throw { kind: 'invalid_input', message: 'the typed names do not match' };
      }
      const channel = args.onEvent as { onmessage: (e: ExecutionEvent) => void };
      return runExecution(p, (e) => channel.onmessage(e));
    }
    case 'reject':
      return null;
    case 'agent_requests':
      return [];
    case 'agent_request_open':
      throw { kind: 'not_found', message: 'no agent asked for anything in the mock' };
    case 'sync_status':
      return scopes().map<ScopeStatus>((scope, i) => ({
        scope,
        stale: i % 7 === 3,
        state: {
          account_id: scope.account === 'prod' ? PROD[1] : STAGING[1],
          last_full: ago(60 * 20),
          last_incremental: ago(i % 7 === 3 ? 60 * 9 : 6),
          last_success_unix: null,
          last_attempt: ago(6),
          resources: (i * 7) % 13,
          added: 0,
          changed: 0,
          removed: 0,
          embedded: 0,
          duration_ms: 900,
          method: 'listing',
          last_error: i === 8 ? 'AccessDenied: lambda:ListFunctions' : null,
        },
      }));
    case 'sync_now': {
      const channel = args.onEvent as { onmessage: (e: SyncEvent) => void };
      const all = scopes();
      channel.onmessage({ event: 'planned', scopes: all });
      const reports = [];
      for (const [i, scope] of all.entries()) {
        channel.onmessage({ event: 'started', scope });
        await sleep(120);
        channel.onmessage({ event: 'read', scope, resources: (i * 7) % 13 });
        await sleep(80);
        const report: ScopeReport = {
          scope,
          account_id: scope.account === 'prod' ? PROD[1] : STAGING[1],
          mode: args.full ? 'full' : 'incremental',
          method: 'listing',
          fallback: null,
          counts: { read: (i * 7) % 13, added: i % 3, changed: i % 2, unchanged: 4, removed: 0, embedded: i % 3 },
          resources: (i * 7) % 13,
          api_ms: 300,
          index_ms: 40,
          error: i === 8 ? 'AccessDenied: lambda:ListFunctions' : null,
          stale_since: null,
        };
        reports.push(report);
        channel.onmessage({ event: 'finished', report });
      }
      return {
        started: new Date().toISOString(),
        duration_ms: 4200,
        scopes: reports,
        totals: { read: 120, added: 6, changed: 4, unchanged: 110, removed: 0, embedded: 6 },
        by_type: { ec2_instance: 4 },
      };
    }
    case 'accounts':
      return accountsView;
    case 'account_key_add': {
      const a = accountsView.accounts.find((x) => x.name === args.name);
      if (!a) throw { kind: 'not_found', message: `no account ${String(args.name)}` };
      const id = String(args.accessKeyId);
      if (!/^A[KS]IA[A-Z0-9]{12,}$/.test(id)) throw { kind: 'invalid_input', message: 'that is not an access key id' };
      a.access_key_id = `${id.slice(0, 4)}…${id.slice(-4)}`;
      a.session_token = args.sessionToken !== null;
      return accountsView;
    }
    case 'account_key_remove': {
      const a = accountsView.accounts.find((x) => x.name === args.name);
      if (a) a.access_key_id = null;
      return accountsView;
    }
    case 'resource_operations': {
      const r = RESOURCES.find((x) => x.arn === args.arn);
      if (!r) throw { kind: 'not_found', message: `${String(args.arn)} is not in the local estate (any more)` };
      const verb = r.resource_type === 'rds_instance' ? 'DBInstance' : 'Instances';
      const svc = r.resource_type === 'rds_instance' ? 'rds' : 'ec2';
      return r.resource_type === 'ec2_instance' || r.resource_type === 'rds_instance'
        ? [
            { playbook: `aws_${svc}_start`, title: 'Start it', operation: 'start', actions: [`${svc}:Start${verb}`], status: 'allowed', blocking: [] },
            { playbook: `aws_${svc}_stop`, title: 'Stop it', operation: 'stop', actions: [`${svc}:Stop${verb}`], status: 'allowed', blocking: [] },
            { playbook: `aws_${svc}_reboot`, title: 'Reboot it', operation: 'reboot', actions: [`${svc}:Reboot${verb}`], status: 'unknown', blocking: [`${svc}:Reboot${verb}`] },
          ]
        : [];
    }
    case 'settings':
      return settingsView;
    case 'set_planner': {
      const url = args.serverUrl as string | null;
      if (url !== null && !/^https?:\/\//.test(url)) throw { kind: 'invalid_input', message: 'the server URL must start with https://' };
      settingsView = { ...settingsView, planner: url === null ? 'in_process' : 'server', server_url: url };
      return settingsView;
    }
    case 'history':
      return { ...history, chain: { ...history.chain, records: history.chain.records + executions * 6 } };
    case 'history_show': {
      const id = String(args.id);
      const recs: AuditRecordView[] = [
        { seq: 1, hash: 'h1', time: ago(95), execution_id: id, event: { kind: 'planned', prompt: 'stop the instance web-1 in staging', planner: 'in-process', plan: proposal('stop', [RESOURCES[2]!.arn]).plan } },
        { seq: 2, hash: 'h2', time: ago(95), execution_id: id, event: { kind: 'approved', by: 'operator', method: 'confirmed' } },
        { seq: 3, hash: 'h3', time: ago(95), execution_id: id, event: { kind: 'command', phase: 'script', step_id: 'stop', argv: ['ec2', 'stop-instances', '--instance-ids', 'i-0c11d22e33f44a556', '--output', 'json'], exit_code: 0, duration_ms: 1320, output: '{"StoppingInstances": []}' } },
        { seq: 4, hash: 'h4', time: ago(94), execution_id: id, event: { kind: 'finished', outcome: 'succeeded', message: 'Every step and every check passed.' } },
      ];
      return recs;
    }
    default:
      throw { kind: 'internal', message: `the stand-in backend has no command ${cmd}` };
  }
}

export function installMockBackend(): void {
  mockIPC((cmd, payload) => handle(cmd, (payload ?? {}) as Args));
  console.info('[cloudops] running against the stand-in backend (npm run dev, no Tauri)');
}
