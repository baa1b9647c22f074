/**
 * The rules the store keeps about deployments (DESIGN 5.4, 5.8), as functions over records, so
 * every store applies the same ones inside its transactions.
 */
import {
  ApprovalError,
  CountersignError,
  canTransition,
  type DeploymentStatus,
} from '../../protocol/index.js';
import type { DecisionInput, DeploymentRecord, DeviceRecord } from './types.js';

export function notFound(what: string): CountersignError {
  return new CountersignError('ERR_NOT_FOUND', what);
}

/** Moves `d` to `to`, only along the transitions of 5.8. */
export function transition(d: DeploymentRecord, to: DeploymentStatus): void {
  if (!canTransition(d.status, to)) {
    throw new CountersignError(
      'ERR_INVALID_TRANSITION',
      `deployment ${d.id} cannot go from ${d.status} to ${to}`,
    );
  }
  d.status = to;
}

/** The refusal for a decision on a deployment that is not live: decided, or unknown. */
export function notLive(id: string, decided: boolean): CountersignError {
  return decided
    ? new ApprovalError('ERR_DEPLOYMENT_NOT_PENDING', `deployment ${id} is not pending`)
    : notFound(`no deployment ${id.slice(0, 64)}`);
}

/**
 * The state-dependent rows of 5.4 for an approval of the live deployment `d` by `device`, in
 * their order, then the deployment with the approval added and its status settled. Pure: the
 * caller holds `d` (and the device) locked and writes the result.
 */
export function decideOn(
  d: DeploymentRecord,
  device: DeviceRecord | null,
  jtiUsed: boolean,
  input: DecisionInput,
  deciders: (next: DeploymentRecord) => ReadonlyMap<string, DeviceRecord>,
): { next: DeploymentRecord; changed: boolean } {
  if (!device) throw new ApprovalError('ERR_DEVICE_UNKNOWN', 'no such device');
  if (device.revokedAt !== null)
    throw new ApprovalError('ERR_DEVICE_REVOKED', 'this device has been revoked');
  if (device.suspendedAt !== null)
    throw new ApprovalError('ERR_DEVICE_SUSPENDED', 'this device is suspended');
  if (jtiUsed) {
    throw new ApprovalError('ERR_APPROVAL_REPLAY', 'this approval jti has been used before');
  }
  if (d.status !== 'pending' || Date.parse(d.expiresAt) <= input.nowMs) {
    throw new ApprovalError('ERR_DEPLOYMENT_NOT_PENDING', `deployment ${d.id} is not pending`);
  }
  if (d.approvals.some((a) => a.device === input.deviceId)) {
    throw new ApprovalError(
      'ERR_APPROVAL_DUPLICATE',
      'this device has already decided this deployment',
    );
  }
  const next: DeploymentRecord = structuredClone(d);
  next.approvals.push({
    device: input.deviceId,
    verdict: input.verdict,
    at: input.at,
    jws: input.jws,
    changes: input.changes,
  });
  const status = input.settle(next, deciders(next));
  if (status !== d.status) transition(next, status);
  const changed = next.status !== d.status;
  if (changed) next.decidedAt = input.at;
  return { next, changed };
}
