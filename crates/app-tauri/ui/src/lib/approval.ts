// Approval gating: what the operator must do before the approve button works.

import type { ApprovalNeed, Verdict } from './types';

/** The names the operator must type (none for a plain confirmation). */
export function namesToType(need: ApprovalNeed | null | undefined): string[] {
  return need && need.kind === 'type_name' ? need.names : [];
}

/** Whether the typed values allow approving: each one equals its name exactly. */
export function approvalReady(need: ApprovalNeed | null | undefined, typed: readonly string[]): boolean {
  if (!need) return false;
  if (need.kind === 'confirm') return true;
  if (need.names.length === 0) return true;
  return need.names.every((name, i) => typed[i] === name);
}

/** Whether the verdict allows approving at all. */
export function canApprove(verdict: Verdict): verdict is Extract<Verdict, { verdict: 'verified' }> {
  return verdict.verdict === 'verified';
}

/** What `approve` is sent as `typedNames`: the typed values for a type-name approval, else []. */
export function typedNamesFor(need: ApprovalNeed, typed: readonly string[]): string[] {
  return need.kind === 'type_name' ? need.names.map((_, i) => typed[i] ?? '') : [];
}
