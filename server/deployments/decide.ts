import { createHash } from 'node:crypto';
import {
  approvingOwners,
  fingerprintOf,
  verifyApproval,
  type ApprovalContext,
  type DecisionResponse,
  type DeploymentStatus,
  type VerifiedApproval,
} from '../../protocol/index.js';
import { isoOf, secondsOf } from '../clock.js';
import type { Context } from '../context.js';
import type { DeploymentRecord, DeviceRecord } from '../store/types.js';
import { announce, deploymentOf, expireDue, isPendingAt, transition } from './lifecycle.js';
import { approvalsOf, instanceName } from './views.js';

/** The body `{jws, changes}` of 5.4; anything else fails row 1 (no JWS) or row 10 (no map). */
function partsOf(body: unknown): { jws: unknown; changes: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { jws: undefined, changes: undefined };
  }
  const b = body as { jws?: unknown; changes?: unknown };
  return { jws: b.jws, changes: b.changes };
}

/** The store key of an approval `jti`: prefixed, so a `jti` such as `__proto__` is plain data. */
export function jtiKey(jti: string): string {
  return `j:${jti}`;
}

/** A registered device as the rules of 5.4 see it. */
function approvalDevice(d: DeviceRecord): ReturnType<ApprovalContext['device']> {
  return { id: d.id, jwk: d.jwk, owner: d.owner, revoked: d.revokedAt !== null };
}

/** The server's state for the rules of 5.4 (`protocol/approval`), at this moment. */
export function approvalContext(ctx: Context, deployment: DeploymentRecord): ApprovalContext {
  const data = ctx.store.data;
  return {
    serverId: data.serverId,
    now: secondsOf(ctx.clock),
    subject: {
      id: deployment.id,
      base: deployment.base,
      target: deployment.target,
      creds: deployment.creds,
      changeIds: deployment.changeIds,
      user: deployment.source.user,
    },
    pending: isPendingAt(deployment, ctx.clock.now()),
    device: (id) => {
      const found = data.devices.find((d) => d.id === id);
      return found && approvalDevice(found);
    },
    jtiUsed: (jti) => Object.prototype.hasOwnProperty.call(data.approvalJtis, jtiKey(jti)),
    decidedBefore: (id) => deployment.approvals.some((a) => a.device === id),
    forbidSelfApproval: deployment.policy.forbidSelfApproval,
    // Node's SHA-256 is many times cheaper per call than Web Crypto's (5.4 row 10, DESIGN 9 budget).
    sha256: (bytes) => createHash('sha256').update(bytes).digest(),
  };
}

/** Verifies an approval against the store as it is now (no write). Used by decisions and the bench. */
export function verifyForDeployment(
  ctx: Context,
  deployment: DeploymentRecord,
  jws: unknown,
  changes: unknown,
): Promise<VerifiedApproval> {
  return verifyApproval(jws, changes, approvalContext(ctx, deployment));
}

/**
 * `POST /deployments/:id/decision` (5.4): the checks run alone (serialised with every other write),
 * so a `jti` or a device's vote cannot be counted twice. A reject verdict rejects the deployment;
 * approve verdicts from distinct owners reaching `requiredApprovals` approve it. The JWS is kept
 * with its decision map, on the deployment and in the audit log.
 */
export async function decide(
  ctx: Context,
  deploymentId: string,
  body: unknown,
): Promise<DecisionResponse> {
  deploymentOf(ctx, deploymentId);
  await expireDue(ctx);
  const { jws, changes } = partsOf(body);
  const outcome = await ctx.store.update(async (data) => {
    const d = deploymentOf(ctx, deploymentId);
    const verified = await verifyForDeployment(ctx, d, jws, changes);
    const at = isoOf(ctx.clock);
    data.approvalJtis[jtiKey(verified.claims.jti)] = d.id;
    d.approvals.push({
      device: verified.device.id,
      verdict: verified.claims.verdict,
      at,
      jws: verified.jws,
      changes: { ...verified.decisions },
    });
    const before: DeploymentStatus = d.status;
    if (verified.claims.verdict === 'reject') {
      transition(d, 'rejected');
    } else {
      // T5: an approval by a device revoked since then no longer counts (the plugin, which checks
      // approvals against the keys of unrevoked devices, would not count it either). 5.4: people,
      // not devices, make the quorum.
      const owners = approvingOwners(
        d.approvals.flatMap((a) => {
          const device = data.devices.find((x) => x.id === a.device && x.revokedAt === null);
          return device ? [{ verdict: a.verdict, owner: device.owner }] : [];
        }),
      );
      if (owners.size >= d.policy.requiredApprovals) transition(d, 'approved');
    }
    if (d.status !== before) d.decidedAt = at;
    return { d, verified, changed: d.status !== before };
  });
  const { d, verified, changed } = outcome;
  ctx.log.info(
    `deployment ${d.id}: ${verified.claims.verdict} from ${fingerprintOf(verified.device.id)}`,
  );
  await ctx.store.audit.append('decision', {
    deployment: d.id,
    device: verified.device.id,
    verdict: verified.claims.verdict,
    jti: verified.claims.jti,
    jws: verified.jws,
    // DESIGN 8: History opens each decision to who decided what, per change, with the note.
    changes: { ...verified.decisions },
    note: verified.claims.note ?? null,
  });
  if (changed) {
    await announce(ctx, [d]);
    const instance = ctx.store.data.instances.find((i) => i.id === d.instanceId);
    ctx.notifier.notify({
      kind: 'decided',
      id: d.id,
      instance: instanceName(ctx, d),
      changes: d.changeIds.length,
      by: fingerprintOf(verified.device.id),
      expiresAt: d.expiresAt,
      ttl: Math.max(0, (Date.parse(d.expiresAt) - ctx.clock.now()) / 1000),
      topic: instance?.id ?? d.instanceId,
    });
  }
  return { status: d.status, approvals: approvalsOf(d, false) };
}
