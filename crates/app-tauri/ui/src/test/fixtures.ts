import type { LookupResult, Proposal, Resource } from '../lib/types';

export function resource(name: string, extra: Partial<Resource> = {}): Resource {
  return {
    arn: `arn:aws:rds:eu-west-1:111122223333:db:${name}`,
    resource_type: 'rds_instance',
    id: name,
    name,
    account_id: '111122223333',
    account_name: 'prod',
    region: 'eu-west-1',
    state: 'available',
    tags: { env: 'prod' },
    attributes: { engine: 'postgres' },
    constraints: {},
    permissions: ['rds:StopDBInstance'],
    dependencies: [],
    last_seen: '2025-03-01T12:00:00Z',
    ...extra,
  };
}

export function hit(r: Resource, score = 1): LookupResult {
  return { resource: r, score, matched_by: 'exact_name' };
}

export function proposal(r: Resource, approval: { kind: 'confirm' } | { kind: 'type_name'; names: string[] }): Proposal {
  return {
    execution_id: 'ex-1',
    planner: 'in-process',
    freshness: { source: 'live', as_of: '2026-12-07T12:00:00Z', changes: [], gone: [], reread_ms: 120 },
    permissions: [],
    plan: {
      explain_plan: `Stop ${r.name}.`,
      script: {
        steps: [
          { step_id: 'stop', command: 'aws rds stop-db-instance', args: ['--db-instance-identifier', r.id], description: 'Stop it', capture: {} },
        ],
      },
      risk_assessment: { level: 'high', reasons: ['production database'], impact: 'clients disconnect' },
      approval_required: true,
      playbook: { id: 'rds.stop-db-instance', version: '1.0.0' },
      rollback: { steps: [{ step_id: 'start', command: 'aws rds start-db-instance', args: ['--db-instance-identifier', r.id], description: '', capture: {} }] },
      verification: { steps: [] },
      required_permissions: ['rds:StopDBInstance'],
      alternatives: [],
      executable: true,
    },
    verdict: {
      verdict: 'verified',
      risk: { level: 'high', reasons: ['production database', 'tagged env=prod'], impact: 'clients disconnect' },
      destructive: false,
      approval,
    },
    resources: [r],
  };
}
