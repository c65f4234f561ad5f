import { describe, expect, it } from 'vitest';
import {
  absoluteTime,
  argvLine,
  compareRisk,
  duration,
  freshnessLine,
  monitorState,
  outcomeLabel,
  outcomeTone,
  recordEvent,
  relativeTime,
  riskClass,
  riskRank,
  scopeId,
  shellJoin,
  shellQuote,
  stepCommandLine,
} from './format';
import type { AuditRecordView } from './types';

describe('shellQuote', () => {
  it('leaves safe words alone', () => {
    expect(shellQuote('i-0123abcd')).toBe('i-0123abcd');
    expect(shellQuote('--instance-ids')).toBe('--instance-ids');
    expect(shellQuote('arn:aws:s3:::bucket/key.txt')).toBe('arn:aws:s3:::bucket/key.txt');
    expect(shellQuote('Name=web,Values=1')).toBe('Name=web,Values=1');
  });

  it('quotes spaces, shell metacharacters and the empty word', () => {
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('$(rm -rf /)')).toBe("'$(rm -rf /)'");
    expect(shellQuote('Reservations[0].Instances[0].State.Name')).toBe("'Reservations[0].Instances[0].State.Name'");
    expect(shellQuote('a;b')).toBe("'a;b'");
    expect(shellQuote('*')).toBe("'*'");
  });

  it("escapes single quotes the POSIX way", () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it('joins with spaces', () => {
    expect(shellJoin(['aws', 'ec2', 'describe-instances', '--query', 'x y'])).toBe(
      "aws ec2 describe-instances --query 'x y'",
    );
  });
});

describe('stepCommandLine', () => {
  it('puts aws first exactly once', () => {
    expect(stepCommandLine({ command: 'aws rds stop-db-instance', args: ['--db-instance-identifier', 'orders-db'] })).toBe(
      'aws rds stop-db-instance --db-instance-identifier orders-db',
    );
    expect(stepCommandLine({ command: 'ec2 stop-instances', args: ['--instance-ids', 'i-1'] })).toBe(
      'aws ec2 stop-instances --instance-ids i-1',
    );
  });

  it('quotes placeholders and odd arguments for display only', () => {
    expect(stepCommandLine({ command: 'aws ec2 wait instance-stopped', args: ['--instance-ids', '{{ steps.a.id }}'] })).toBe(
      "aws ec2 wait instance-stopped --instance-ids '{{ steps.a.id }}'",
    );
  });

  it('shows an executed argv with the program', () => {
    expect(argvLine(['ec2', 'stop-instances', '--output', 'json'])).toBe('aws ec2 stop-instances --output json');
    expect(argvLine(['aws', 's3', 'ls'])).toBe('aws s3 ls');
  });
});

describe('risk', () => {
  it('orders the levels', () => {
    const sorted = ['critical', 'low', 'high', 'medium'].sort(compareRisk);
    expect(sorted).toEqual(['low', 'medium', 'high', 'critical']);
    expect(riskRank('bogus')).toBeGreaterThan(riskRank('critical'));
  });

  it('maps levels to badge classes', () => {
    expect(riskClass('low')).toBe('risk-low');
    expect(riskClass('critical')).toBe('risk-critical');
    expect(riskClass('<script>')).toBe('risk-unknown');
  });
});

describe('outcomes', () => {
  it('labels them', () => {
    expect(outcomeLabel('rolled_back')).toBe('Rolled back');
    expect(outcomeLabel('rollback_failed')).toBe('Rollback failed');
    expect(outcomeLabel(null)).toBe('Unfinished');
    expect(outcomeLabel('something_new')).toBe('something_new');
  });

  it('gives them a tone', () => {
    expect(outcomeTone('succeeded')).toBe('good');
    expect(outcomeTone('failed')).toBe('bad');
    expect(outcomeTone('rolled_back')).toBe('warn');
    expect(outcomeTone(undefined)).toBe('neutral');
  });

  it('maps them to the monitor state', () => {
    expect(monitorState(null)).toBe('running');
    expect(monitorState('succeeded')).toBe('succeeded');
    expect(monitorState('dry_run')).toBe('succeeded');
    expect(monitorState('rolled_back')).toBe('rolled_back');
    expect(monitorState('rollback_failed')).toBe('rollback_failed');
    expect(monitorState('refused')).toBe('failed');
    expect(monitorState('failed')).toBe('failed');
  });
});

describe('time', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');
  it('says how long ago', () => {
    expect(relativeTime(null, now)).toBe('never');
    expect(relativeTime('2025-03-01T11:59:50Z', now)).toBe('just now');
    expect(relativeTime('2025-03-01T11:55:00Z', now)).toBe('5 min ago');
    expect(relativeTime('2025-03-01T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('2025-02-27T12:00:00Z', now)).toBe('2 d ago');
    expect(relativeTime('2024-01-01T00:00:00Z', now)).toBe('2024-01-01 00:00:00 UTC');
    expect(relativeTime('not a time', now)).toBe('not a time');
  });

  it('prints absolute times in UTC', () => {
    expect(absoluteTime('2025-03-01T12:34:56.789Z')).toBe('2025-03-01 12:34:56 UTC');
  });

  it('prints durations', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(1234)).toBe('1.2 s');
    expect(duration(42_000)).toBe('42 s');
    expect(duration(125_000)).toBe('2 min 5 s');
    expect(duration(null)).toBe('');
  });
});

describe('scopeId', () => {
  it('is account/region/service', () => {
    expect(scopeId({ account: 'prod', region: 'eu-west-1', service: 'ec2' })).toBe('prod/eu-west-1/ec2');
  });
});

describe('recordEvent', () => {
  it('reads the nested form', () => {
    const r: AuditRecordView = { seq: 1, time: 't', execution_id: 'x', hash: 'h', event: { kind: 'command', exit_code: 0 } };
    expect(recordEvent(r)).toEqual({ kind: 'command', exit_code: 0 });
  });

  it('reads the flattened form of the log', () => {
    const r = { seq: 2, time: 't', execution_id: 'x', event: 'finished', outcome: 'failed', message: 'm' } as unknown as AuditRecordView;
    const ev = recordEvent(r);
    expect(ev.kind).toBe('finished');
    expect(ev.outcome).toBe('failed');
    expect(ev.message).toBe('m');
  });
});

describe('freshnessLine', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  it('says a live read and how long it took', () => {
    const line = freshnessLine({ source: 'live', as_of: '2026-12-07T11:59:58Z', changes: [], gone: [], reread_ms: 180 }, now);
    expect(line).toBe('Read from AWS just before planning (2026-12-07 11:59:58 UTC, 180 ms).');
  });
  it('marks facts from the index with their age and why', () => {
    const line = freshnessLine(
      { source: 'index', as_of: '2026-12-07T09:00:00Z', changes: [], gone: [], note: 'AWS did not answer within 20 s', reread_ms: 20000 },
      now,
    );
    expect(line).toBe('From the index, as of 2026-12-07 09:00:00 UTC, 3 h ago — AWS did not answer within 20 s.');
    expect(freshnessLine({ source: 'index', as_of: '', changes: [], gone: [], reread_ms: 0 }, now)).toBe(
      'From the index, as of an unknown time.',
    );
  });
});
