/**
 * T8: before anything is signed, the phone checks the server's story itself. It fetches both
 * snapshots, re-hashes them against `base` and `target`, recomputes the change list with the same
 * model the server uses, and compares ids and content. Any difference refuses the signature, and so
 * does a difference its own cards would not show (T9, the completeness rule of 5.2).
 */
import type { Change, DeploymentDetail, Flows } from './protocol.js';
import { credsMatchFields } from '../../../protocol/approval/credentials-rule.js';
import { computeChanges } from '../../../protocol/changes/compute-changes.js';
import { deepEqual } from '../../../protocol/changes/deep-equal.js';
import { parseFlows } from '../../../protocol/flows.js';
import { revOfBytes } from '../../../protocol/snapshot.js';
import { unshownDifferences, unshownMessage } from '../cards/completeness.js';

/** Why a deployment failed the check, for the warning the reviewer reads. */
export type VerifyFailure = {
  ok: false;
  reason: 'base-hash' | 'target-hash' | 'unreadable' | 'changes' | 'unshown' | 'credentials';
  message: string;
  /** Change ids that differ (missing, extra or different content), for `changes`. */
  ids?: string[];
};

/** The result of the check; on success the parsed snapshots, for names and sketches. */
export type VerifyResult = { ok: true; base: Flows; target: Flows } | VerifyFailure;

type Detail = Pick<DeploymentDetail, 'base' | 'target' | 'creds' | 'credentials' | 'changes'> & {
  type?: DeploymentDetail['type'];
};

/** Fetches a blob's bytes by rev. */
export type BlobSource = (rev: string) => Promise<Uint8Array<ArrayBuffer>>;

/**
 * Runs the T8 check on a deployment. Network failures throw; a mismatch resolves `ok: false`.
 * `recompute` is the change model (tests pass a faulty one to see the completeness check refuse).
 */
export async function verifyDeployment(
  detail: Detail,
  fetchBlob: BlobSource,
  recompute: typeof computeChanges = computeChanges,
): Promise<VerifyResult> {
  if (!credsMatchFields(detail.creds, detail.credentials)) {
    return {
      ok: false,
      reason: 'credentials',
      message:
        'The server says this deployment sets credentials but names no credential field (or the reverse), so the review cannot show them.',
    };
  }
  const [baseBytes, targetBytes] = await Promise.all([
    fetchBlob(detail.base),
    fetchBlob(detail.target),
  ]);
  if ((await revOfBytes(baseBytes)) !== detail.base) {
    return {
      ok: false,
      reason: 'base-hash',
      message:
        'The snapshot of the running flows that the server sent does not match its fingerprint (base rev).',
    };
  }
  if ((await revOfBytes(targetBytes)) !== detail.target) {
    return {
      ok: false,
      reason: 'target-hash',
      message:
        'The snapshot of the new flows that the server sent does not match its fingerprint (target rev).',
    };
  }
  let base: Flows;
  let target: Flows;
  let local: Change[];
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    base = parseFlows(JSON.parse(decoder.decode(baseBytes)));
    if (detail.type === 'module') {
      // A palette change (7.1): the target is the module descriptor; the flows stay as they are.
      // Its parser loads only for such a deployment (DESIGN 9: a flows review does without it).
      const { moduleChange, parseModuleBlob } = await import('../../../protocol/module.js');
      local = [moduleChange(parseModuleBlob(decoder.decode(targetBytes)), base)];
      target = base;
    } else {
      target = parseFlows(JSON.parse(decoder.decode(targetBytes)));
      local = recompute(base, target, detail.credentials);
    }
  } catch (err) {
    return {
      ok: false,
      reason: 'unreadable',
      message:
        detail.type === 'module'
          ? 'The snapshot or the module description is not readable.'
          : `A snapshot cannot be reviewed: ${err instanceof Error ? err.message : 'not a flows file'}.`,
    };
  }
  const ids = differingChanges(local, detail.changes);
  if (ids.length > 0) {
    return {
      ok: false,
      reason: 'changes',
      ids,
      message: `The server's list of changes differs from the snapshots in ${ids.length} ${
        ids.length === 1 ? 'place' : 'places'
      }.`,
    };
  }
  // T9: the flows' cards show every difference (a palette change has its own card and no flows change).
  const unshown =
    detail.type === 'module'
      ? null
      : unshownMessage(unshownDifferences(base, target, local, detail.credentials));
  if (unshown !== null) return { ok: false, reason: 'unshown', message: unshown };
  return { ok: true, base, target };
}

/** Ids present on one side only, or whose content differs (after a JSON round trip). */
export function differingChanges(local: Change[], remote: Change[]): string[] {
  const mine = new Map(local.map((c) => [c.id, JSON.parse(JSON.stringify(c)) as unknown]));
  const theirs = new Map<string, unknown>();
  const out = new Set<string>();
  for (const change of remote) {
    if (theirs.has(change.id)) out.add(change.id);
    theirs.set(change.id, change);
  }
  for (const [id, change] of mine) {
    if (!theirs.has(id) || !deepEqual(change, theirs.get(id))) out.add(id);
  }
  for (const id of theirs.keys()) if (!mine.has(id)) out.add(id);
  return [...out].sort();
}
