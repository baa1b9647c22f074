import type { ApprovalView, DeploymentDetail, DeploymentSummary } from '../../protocol/index.js';
import type { Context } from '../context.js';
import type { DeploymentRecord } from '../store/types.js';

/** The name of a deployment's instance (the payloads and summaries show it). */
export function instanceName(ctx: Context, d: DeploymentRecord): string {
  return ctx.store.data.instances.find((i) => i.id === d.instanceId)?.name ?? d.instanceId;
}

/** The inbox entry of 5.7. */
export function summaryOf(ctx: Context, d: DeploymentRecord): DeploymentSummary {
  return {
    id: d.id,
    instance: instanceName(ctx, d),
    status: d.status,
    createdAt: d.createdAt,
    expiresAt: d.expiresAt,
    source: d.source,
    changeCount: d.changeIds.length,
  };
}

/** Accepted decisions; the JWS and its decision map only for the plugin. */
export function approvalsOf(d: DeploymentRecord, withJws: boolean): ApprovalView[] {
  return d.approvals.map((a) =>
    withJws
      ? { device: a.device, verdict: a.verdict, at: a.at, jws: a.jws, changes: a.changes }
      : { device: a.device, verdict: a.verdict, at: a.at },
  );
}

/** What the plugin's event stream carries: the summary, the revs, and the approvals with their JWS. */
export type DeploymentEvent = DeploymentSummary & {
  base: string;
  target: string;
  creds: string | null;
  approvals: ApprovalView[];
};

export function eventOf(ctx: Context, d: DeploymentRecord): DeploymentEvent {
  return {
    ...summaryOf(ctx, d),
    base: d.base,
    target: d.target,
    creds: d.creds,
    approvals: approvalsOf(d, true),
  };
}

/** `GET /deployments/:id`: the summary plus revs, credentials summary, change list and approvals. */
export async function detailOf(
  ctx: Context,
  d: DeploymentRecord,
  withJws: boolean,
): Promise<DeploymentDetail> {
  return {
    ...summaryOf(ctx, d),
    base: d.base,
    target: d.target,
    creds: d.creds,
    credentials: d.credentials,
    type: d.type,
    changes: await ctx.store.getChanges(d.id),
    approvals: approvalsOf(d, withJws),
  };
}
