import {
  type DecisionResponse,
  type DeploymentStatus,
  fingerprintOf,
} from '../../protocol/index.js';
import { isoOf, secondsOf } from '../clock.js';
import type { Context } from '../context.js';
import type { DeploymentRecord } from '../store/types.js';
import { announce, deploymentOf, expireDue, isPendingAt, transition } from './lifecycle.js';
import { verifyApproval, type VerifiedApproval } from './verify-approval.js';
import { approvalsOf, instanceName } from './views.js';

/** The JWS of a decision body `{jws}`; anything else fails row 1 of 5.4. */
function jwsOf(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return (body as { jws?: unknown }).jws;
}

/** The store key of an approval `jti`: prefixed, so a `jti` such as `__proto__` is plain data. */
export function jtiKey(jti: string): string {
  return `j:${jti}`;
}

/** Verifies an approval against the store as it is now (no write). Used by decisions and the bench. */
export function verifyForDeployment(
  ctx: Context,
  deployment: DeploymentRecord,
  jws: unknown,
): Promise<VerifiedApproval> {
  const data = ctx.store.data;
  const nowMs = ctx.clock.now();
  return verifyApproval(jws, {
    serverId: data.serverId,
    now: secondsOf(ctx.clock),
    deployment,
    device: (id) => data.devices.find((d) => d.id === id),
    jtiUsed: (jti) => Object.prototype.hasOwnProperty.call(data.approvalJtis, jtiKey(jti)),
    isPending: (d) => isPendingAt(d, nowMs),
  });
}

/**
 * `POST /deployments/:id/decision` (5.4): the checks run alone (serialised with every other write),
 * so a `jti` or a device's vote cannot be counted twice. A reject verdict rejects the deployment;
 * approvals from distinct devices reaching `requiredApprovals` approve it.
 */
export async function decide(
  ctx: Context,
  deploymentId: string,
  body: unknown,
): Promise<DecisionResponse> {
  deploymentOf(ctx, deploymentId);
  await expireDue(ctx);
  const outcome = await ctx.store.update(async (data) => {
    const d = deploymentOf(ctx, deploymentId);
    const verified = await verifyForDeployment(ctx, d, jwsOf(body));
    const at = isoOf(ctx.clock);
    data.approvalJtis[jtiKey(verified.claims.jti)] = d.id;
    d.approvals.push({
      device: verified.device.id,
      verdict: verified.claims.verdict,
      at,
      jws: verified.jws,
    });
    const before: DeploymentStatus = d.status;
    if (verified.claims.verdict === 'reject') {
      transition(d, 'rejected');
    } else {
      // T5: an approval by a device revoked since then no longer counts (the plugin, which checks
      // approvals against the keys of unrevoked devices, would not count it either).
      const active = (id: string): boolean =>
        data.devices.some((x) => x.id === id && x.revokedAt === null);
      const approvers = new Set(
        d.approvals.filter((a) => a.verdict === 'approve' && active(a.device)).map((a) => a.device),
      );
      if (approvers.size >= d.policy.requiredApprovals) transition(d, 'approved');
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
    changes: verified.claims.changes,
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
