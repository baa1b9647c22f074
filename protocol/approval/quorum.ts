/** Quorum of 5.4: approve verdicts from distinct owners (people, not devices) count. */
import type { Verdict } from '../claims.js';

/** One accepted decision with its device's owner. */
export type OwnedVerdict = { verdict: Verdict; owner: string };

/** The distinct owners who approved; a second phone of the same person adds nothing. */
export function approvingOwners(decisions: Iterable<OwnedVerdict>): Set<string> {
  const owners = new Set<string>();
  for (const d of decisions) if (d.verdict === 'approve') owners.add(d.owner);
  return owners;
}

/** True when `required` distinct owners approved. */
export function quorumMet(decisions: Iterable<OwnedVerdict>, required: number): boolean {
  return approvingOwners(decisions).size >= required;
}
