// Approval: what the plan card shows before its approve button works, and what it sends.
// The rule itself lives in the library (`Proposal::accept` in cloudops-assist): the card
// only mirrors it to enable the button, and the backend judges the input it is sent.

import type { ApprovalInput, ApprovalNeed, Verdict } from './types';

/** The names the operator must type (none for a plain confirmation). */
export function namesToType(need: ApprovalNeed | null | undefined): string[] {
  return need && need.kind === 'type_name' ? need.names : [];
}

/**
 * Whether the typed values allow approving: each one equals its name once leading and
 * trailing white space is left out (the library's rule), in order and case.
 */
export function approvalReady(need: ApprovalNeed | null | undefined, typed: readonly string[]): boolean {
  if (!need) return false;
  if (need.kind === 'confirm') return true;
  if (need.kind === 'type_count') return (typed[0] ?? '').trim() === String(need.count);
  if (need.names.length === 0) return true;
  return need.names.every((name, i) => (typed[i] ?? '').trim() === name);
}

/** Whether the verdict allows approving at all. */
export function canApprove(verdict: Verdict): verdict is Extract<Verdict, { verdict: 'verified' }> {
  return verdict.verdict === 'verified';
}

/** What `approve` is sent: the names as typed for a type-name approval, the number as typed
 * for a type-count one (a fleet over `[ask] fleet_confirm_over`), else the click. */
export function approvalInputFor(need: ApprovalNeed, typed: readonly string[]): ApprovalInput {
  switch (need.kind) {
    case 'type_name':
      return { kind: 'names', names: need.names.map((_, i) => typed[i] ?? '') };
    case 'type_count':
      return { kind: 'answer', text: typed[0] ?? '' };
    default:
      return { kind: 'approve' };
  }
}
