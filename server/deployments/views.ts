import type { ApprovalView, DeploymentDetail, DeploymentSummary } from '../../protocol/index.js';
import type { Context } from '../context.js';
import type { DeploymentRecord } from '../store/types.js';

/** The inbox entry of 5.7. */
export function summaryOf(d: DeploymentRecord): DeploymentSummary {
  return {
    id: d.id,
    instance: d.instance,
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

export function eventOf(d: DeploymentRecord): DeploymentEvent {
  return {
    ...summaryOf(d),
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
    ...summaryOf(d),
    base: d.base,
    target: d.target,
    creds: d.creds,
    credentials: d.credentials,
    type: d.type,
    changes: (await ctx.store.changes(d.id)) ?? [],
    approvals: approvalsOf(d, withJws),
  };
}
