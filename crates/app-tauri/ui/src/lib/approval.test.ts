import { describe, expect, it } from 'vitest';
import { approvalInputFor, approvalReady, canApprove, namesToType } from './approval';

describe('approval gating', () => {
  const two = { kind: 'type_name' as const, names: ['orders-db', 'web-1'] };

  it('a confirmation needs nothing typed', () => {
    expect(approvalReady({ kind: 'confirm' }, [])).toBe(true);
    expect(namesToType({ kind: 'confirm' })).toEqual([]);
  });

  it('needs every name typed exactly', () => {
    expect(approvalReady(two, [])).toBe(false);
    expect(approvalReady(two, ['orders-db'])).toBe(false);
    expect(approvalReady(two, ['orders-db', 'web-'])).toBe(false);
    expect(approvalReady(two, ['orders-db', 'web-1'])).toBe(true);
  });

  it('is exact but for surrounding white space, as the library judges: case and order matter', () => {
    expect(approvalReady(two, ['Orders-db', 'web-1'])).toBe(false);
    expect(approvalReady(two, ['orders-db ', ' web-1'])).toBe(true);
    expect(approvalReady(two, ['orders -db', 'web-1'])).toBe(false);
    expect(approvalReady(two, ['web-1', 'orders-db'])).toBe(false);
  });

  it('never without a need', () => {
    expect(approvalReady(null, [])).toBe(false);
  });

  it('sends the typed names as typed for a type-name approval, else the click', () => {
    expect(approvalInputFor(two, ['orders-db '])).toEqual({ kind: 'names', names: ['orders-db ', ''] });
    expect(approvalInputFor({ kind: 'confirm' }, ['x'])).toEqual({ kind: 'approve' });
  });

  it('a fleet over the threshold needs its number typed, and sends it as typed', () => {
    const count = { kind: 'type_count' as const, count: 40 };
    expect(approvalReady(count, [])).toBe(false);
    expect(approvalReady(count, ['39'])).toBe(false);
    expect(approvalReady(count, ['4 0'])).toBe(false);
    expect(approvalReady(count, [' 40 '])).toBe(true);
    expect(namesToType(count)).toEqual([]);
    expect(approvalInputFor(count, [' 40 '])).toEqual({ kind: 'answer', text: ' 40 ' });
  });

  it('only a verified verdict can be approved', () => {
    expect(canApprove({ verdict: 'refused', reasons: [] })).toBe(false);
    expect(canApprove({ verdict: 'not_executable' })).toBe(false);
    expect(
      canApprove({ verdict: 'verified', risk: { level: 'low', reasons: [], impact: '' }, destructive: false, approval: { kind: 'confirm' } }),
    ).toBe(true);
  });
});
