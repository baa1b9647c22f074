import {
  CLOCK_SKEW_S,
  type DecisionResponse,
  type DeploymentStatus,
  fingerprintOf,
} from '../../protocol/index.js';
import { isoOf, secondsOf } from '../clock.js';
import type { Context } from '../context.js';
import { isActive } from '../store/device-rules.js';
import type { DeploymentRecord, DeviceRecord } from '../store/types.js';
import { deploymentOf, expireDue, isPendingAt } from './lifecycle.js';
import { verifyApproval, type VerifiedApproval } from './verify-approval.js';
import { approvalsOf } from './views.js';

/** The JWS of a decision body `{jws}`; anything else fails row 1 of 5.4. */
function jwsOf(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return (body as { jws?: unknown }).jws;
}

/** Verifies an approval against the store as it is now (no write). Used by decisions and the bench. */
export async function verifyForDeployment(
  ctx: Context,
  deployment: DeploymentRecord,
  jws: unknown,
): Promise<VerifiedApproval> {
  const devices = new Map((await ctx.store.devices()).map((d) => [d.id, d]));
  const nowMs = ctx.clock.now();
  const now = secondsOf(ctx.clock);
  return verifyApproval(jws, {
    serverId: ctx.store.serverId,
    now,
    deployment,
    device: (id) => devices.get(id),
    jtiUsed: (jti) => ctx.store.approvalJtiUsed(jti, now),
    isPending: (d) => isPendingAt(d, nowMs),
  });
}

/**
 * The status once the approvals are counted: a reject verdict rejects the deployment; approvals
 * from distinct active devices reaching `requiredApprovals` approve it.
 */
function settle(d: DeploymentRecord, devices: ReadonlyMap<string, DeviceRecord>): DeploymentStatus {
  const last = d.approvals.at(-1);
  if (last?.verdict === 'reject') return 'rejected';
  // T5: an approval by a device revoked (or suspended) since then no longer counts (the plugin,
  // which checks approvals against the keys of active devices, would not count it either).
  const active = (id: string): boolean => {
    const device = devices.get(id);
    return device !== undefined && isActive(device);
  };
  const approvers = new Set(
    d.approvals.filter((a) => a.verdict === 'approve' && active(a.device)).map((a) => a.device),
  );
  return approvers.size >= d.policy.requiredApprovals ? 'approved' : d.status;
}

/**
 * `POST /deployments/:id/decision` (5.4): the checks run on a fresh read; the store then records
 * the decision in one transaction that holds the state-dependent rows (jti unused, pending, one
 * decision per device), so a `jti` or a device's vote cannot be counted twice.
 */
export async function decide(
  ctx: Context,
  deploymentId: string,
  body: unknown,
): Promise<DecisionResponse> {
  await deploymentOf(ctx, deploymentId);
  await expireDue(ctx);
  const verified = await verifyForDeployment(
    ctx,
    await deploymentOf(ctx, deploymentId),
    jwsOf(body),
  );
  const { claims, device } = verified;
  const { deployment: d, changed } = await ctx.store.decide(
    {
      deploymentId,
      deviceId: device.id,
      verdict: claims.verdict,
      jws: verified.jws,
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
          changes: claims.changes,
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
