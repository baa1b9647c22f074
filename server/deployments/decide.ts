import { hash } from 'node:crypto';
import {
  CLOCK_SKEW_S,
  approvingOwners,
  fingerprintOf,
  parseDecisionBody,
  verifyApproval,
  type ApprovalContext,
  type DecisionResponse,
  type DeploymentStatus,
  type VerifiedApproval,
} from '../../protocol/index.js';
import { nodeEs256 } from '../auth/es256.js';
import { isoOf, secondsOf } from '../clock.js';
import type { Context } from '../context.js';
import { isActive } from '../store/device-rules.js';
import type { DeploymentRecord, DeviceRecord } from '../store/types.js';
import { deploymentOf, expireDue, isPendingAt } from './lifecycle.js';
import { approvalsOf } from './views.js';

/** A registered device as the rules of 5.4 see it. */
function approvalDevice(d: DeviceRecord): ReturnType<ApprovalContext['device']> {
  return {
    id: d.id,
    jwk: d.jwk,
    owner: d.owner,
    revoked: d.revokedAt !== null,
    suspended: d.suspendedAt !== null,
  };
}

/** The server's state for the rules of 5.4 (`protocol/approval`), read from the store now. */
export async function approvalContext(
  ctx: Context,
  deployment: DeploymentRecord,
): Promise<ApprovalContext> {
  const now = secondsOf(ctx.clock);
  return {
    serverId: ctx.store.serverId,
    now,
    subject: {
      id: deployment.id,
      base: deployment.base,
      target: deployment.target,
      creds: deployment.creds,
      changeIds: deployment.changeIds,
      user: deployment.source.user,
    },
    pending: isPendingAt(deployment, ctx.clock.now()),
    device: async (id) => {
      const found = await ctx.store.device(id);
      return found ? approvalDevice(found) : undefined;
    },
    jtiUsed: (jti) => ctx.store.approvalJtiUsed(jti, now),
    decidedBefore: (id) => deployment.approvals.some((a) => a.device === id),
    forbidSelfApproval: deployment.policy.forbidSelfApproval,
    // Node's SHA-256 is many times cheaper per call than Web Crypto's (5.4 row 10, DESIGN 9 budget).
    sha256: (text) => hash('sha256', text, 'buffer'),
    es256: nodeEs256,
  };
}

/** Verifies an approval against the store as it is now (no write). Used by decisions and the bench. */
export async function verifyForDeployment(
  ctx: Context,
  deployment: DeploymentRecord,
  jws: unknown,
  changes: unknown,
): Promise<VerifiedApproval> {
  return verifyApproval(jws, changes, await approvalContext(ctx, deployment));
}

/**
 * The status once the approvals are counted: a reject verdict rejects the deployment; approvals
 * from distinct owners of active devices reaching `requiredApprovals` approve it (5.4: people, not
 * devices, make the quorum).
 */
function settle(d: DeploymentRecord, devices: ReadonlyMap<string, DeviceRecord>): DeploymentStatus {
  const last = d.approvals.at(-1);
  if (last?.verdict === 'reject') return 'rejected';
  // T5: an approval by a device revoked (or suspended) since then no longer counts (the plugin,
  // which checks approvals against the keys of active devices, would not count it either).
  const owners = approvingOwners(
    d.approvals.flatMap((a) => {
      const device = devices.get(a.device);
      return device && isActive(device) ? [{ verdict: a.verdict, owner: device.owner }] : [];
    }),
  );
  return owners.size >= d.policy.requiredApprovals ? 'approved' : d.status;
}

/**
 * `POST /deployments/:id/decision` (5.4): the checks run on a fresh read; the store then records
 * the decision in one transaction that holds the state-dependent rows (jti unused, pending, one
 * decision per device), so a `jti` or a device's vote cannot be counted twice. The JWS is kept with
 * its decision map, on the deployment and in the audit log.
 */
export async function decide(
  ctx: Context,
  deploymentId: string,
  body: unknown,
): Promise<DecisionResponse> {
  await expireDue(ctx);
  const deployment = await deploymentOf(ctx, deploymentId);
  // Parsed here, after the deployment is found: 5.4's rows then check the JWS and map in order.
  const { jws, changes } = parseDecisionBody(body);
  const verified = await verifyForDeployment(ctx, deployment, jws, changes);
  const { claims, device } = verified;
  const decisions = { ...verified.decisions };
  const { deployment: d, changed } = await ctx.store.decide(
    {
      deploymentId,
      deviceId: device.id,
      verdict: claims.verdict,
      jws: verified.jws,
      changes: decisions,
      jti: claims.jti,
      // Past its exp (row 6) the approval is refused anyway: the jti need not be kept longer.
      jtiUntil: claims.exp + CLOCK_SKEW_S,
      at: isoOf(ctx.clock),
      nowMs: ctx.clock.now(),
      settle,
    },
    [
      {
        type: 'decision',
        data: {
          deployment: deploymentId,
          device: device.id,
          verdict: claims.verdict,
          jti: claims.jti,
          jws: verified.jws,
          // DESIGN 8: History opens each decision to who decided what, per change, with the note.
          changes: decisions,
          note: claims.note ?? null,
        },
      },
    ],
  );
  ctx.log.info(`deployment ${d.id}: ${claims.verdict} from ${fingerprintOf(device.id)}`);
  if (changed) {
    ctx.notifier.notify({
      kind: 'decided',
      id: d.id,
      instance: d.instance,
      changes: d.changeIds.length,
      by: fingerprintOf(device.id),
      expiresAt: d.expiresAt,
      ttl: Math.max(0, (Date.parse(d.expiresAt) - ctx.clock.now()) / 1000),
      topic: d.instanceId,
    });
    ctx.pruner.afterDecision();
  }
  return { status: d.status, approvals: approvalsOf(d, false) };
}
