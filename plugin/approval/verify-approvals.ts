/**
 * The plugin's own check of an approved deployment (DESIGN 3.6, 5.4 last paragraph): it takes no list
 * the server hands it on trust. Every approval goes through the rules of `protocol/approval` (rows 2
 * and 4–13; row 3 against the keys the server publishes) with what the plugin itself holds: the
 * deployment it proposed, the change list it recomputed, the `jti`s it recorded, its own policy.
 * Enough distinct owners (people, not devices) must approve, and no valid rejection may be among them.
 */
import {
  ApprovalError,
  approvingOwners,
  isCountersignError,
  nowSeconds,
  verifyApproval,
  type ApprovalDevice,
  type ApprovalSubject,
  type DeploymentEvent,
  type KeysResponse,
  type VerifiedApproval,
} from '../../protocol/index.js';
import type { ApprovalClient } from '../link/client.js';
import type { UsedJtis } from './used-jtis.js';

/** One approval as the server reported it: the JWS and the decision map beside it. */
export type ReportedApproval = { jws: string; changes: unknown };

/**
 * The approvals of a deployment reported approved, each JWS with its decision map: from the report
 * when it carries them, else from `GET /deployments/:id`.
 */
export async function reportedApprovals(
  view: DeploymentEvent,
  client: Pick<ApprovalClient, 'deployment'>,
): Promise<ReportedApproval[]> {
  const complete = (list: DeploymentEvent['approvals']): ReportedApproval[] | null =>
    list.length > 0 && list.every((a) => typeof a.jws === 'string' && a.changes !== undefined)
      ? list.map((a) => ({ jws: a.jws!, changes: a.changes }))
      : null;
  return complete(view.approvals) ?? complete((await client.deployment(view.id)).approvals) ?? [];
}

/** What the approvals must bind to, and the plugin's own policy. */
export type Expected = {
  subject: ApprovalSubject;
  serverId: string;
  /** Now, Unix seconds. */
  now: number;
  /** When this plugin proposed the deployment (Unix seconds): every approval was valid after it. */
  proposedAt: number;
  /** The plugin still holds the deployment and it has not expired (row 8). */
  pending: boolean;
  /** Row 7: `jti`s this plugin has applied before (recorded under the user directory). */
  jtiUsed(jti: string): boolean;
  requiredApprovals: number;
  forbidSelfApproval: boolean;
};

/** The outcome: the approvals that verified and why the others did not. */
export type VerifiedApprovals = {
  approvals: VerifiedApproval[];
  owners: string[];
  refused: string[];
};

/** The devices of `GET /keys` (parsed by `parseKeysResponse`), by id. */
export function devicesOf(jwks: KeysResponse): Map<string, ApprovalDevice> {
  const out = new Map<string, ApprovalDevice>();
  for (const key of jwks.keys) {
    const jwk = { kty: key.kty, crv: key.crv, x: key.x, y: key.y };
    out.set(key.kid, { id: key.kid, jwk, owner: key.owner, revoked: false });
  }
  return out;
}

/**
 * Verifies every approval of a deployment; throws `ApprovalError` when a verified approval rejects
 * it, or unless approvals from `requiredApprovals` distinct owners verified.
 */
export async function verifyApprovals(
  reported: readonly ReportedApproval[],
  expected: Expected,
  jwks: KeysResponse,
): Promise<VerifiedApprovals> {
  const devices = devicesOf(jwks);
  const approvals: VerifiedApproval[] = [];
  const refused: string[] = [];
  const seenJtis = new Set<string>();
  for (const { jws, changes } of reported) {
    try {
      approvals.push(
        await verifyApproval(jws, changes, {
          serverId: expected.serverId,
          now: expected.now,
          validFrom: expected.proposedAt,
          subject: expected.subject,
          pending: expected.pending,
          device: (kid) => devices.get(kid),
          jtiUsed: (jti) => seenJtis.has(jti) || expected.jtiUsed(jti),
          decidedBefore: (id) => approvals.some((a) => a.device.id === id),
          forbidSelfApproval: expected.forbidSelfApproval,
        }),
      );
      seenJtis.add(approvals.at(-1)!.claims.jti);
    } catch (err) {
      refused.push(isCountersignError(err) ? `${err.code} ${err.message}` : String(err));
    }
  }
  const rejection = approvals.find((a) => a.claims.verdict === 'reject');
  if (rejection) {
    throw new ApprovalError(
      'ERR_APPROVAL_INCONSISTENT',
      `device ${rejection.device.id.slice(0, 16)} rejected this deployment`,
    );
  }
  const owners = approvingOwners(
    approvals.map((a) => ({ verdict: a.claims.verdict, owner: a.device.owner })),
  );
  if (owners.size < expected.requiredApprovals) {
    const why = refused.length > 0 ? `: ${refused.join('; ')}` : '';
    throw new ApprovalError(
      'ERR_APPROVAL_INCOMPLETE',
      `approvals of ${owners.size} of ${expected.requiredApprovals} required people verified${why}`,
    );
  }
  return { approvals, owners: [...owners], refused };
}

/** A deployment a gate holds, as the approvals must name it, with when the gate proposed it. */
export type HeldSubject = ApprovalSubject & { proposedAt: number };

/** What the plugin's approval check needs: the server link, its own policy, its used jtis. */
export type ApprovalCheckOptions = {
  client: Pick<ApprovalClient, 'deployment' | 'keys'>;
  /** The server id approvals must be addressed to (`aud`). */
  serverId: () => Promise<string>;
  /** The plugin's own policy (DESIGN 4), a floor whatever the server's instance policy says. */
  requiredApprovals: number;
  forbidSelfApproval: boolean;
  /** How long a held deployment waits for its approvals (`expiresIn`), in seconds (row 8). */
  expiresInS: number;
  /** Approval `jti`s applied before (row 7, kept under the user directory). */
  jtis: Pick<UsedJtis, 'has' | 'record'>;
};

/**
 * The plugin's one approval check, called by the flows gate and the palette gate alike: the
 * approvals a deployment was reported approved with, verified against what the gate holds, their
 * jtis recorded before the caller applies anything.
 */
export class ApprovalCheck {
  readonly #o: ApprovalCheckOptions;

  constructor(options: ApprovalCheckOptions) {
    this.#o = options;
  }

  /** Verifies the approvals of `view` for `held`; throws `ApprovalError` when they do not hold. */
  async check(view: DeploymentEvent, held: HeldSubject): Promise<VerifiedApprovals> {
    const { client, jtis } = this.#o;
    const now = nowSeconds();
    const { proposedAt, ...subject } = held;
    const verified = await verifyApprovals(
      await reportedApprovals(view, client),
      {
        subject,
        serverId: await this.#o.serverId(),
        now,
        proposedAt,
        pending: now < proposedAt + this.#o.expiresInS,
        jtiUsed: (jti) => jtis.has(jti),
        requiredApprovals: this.#o.requiredApprovals,
        forbidSelfApproval: this.#o.forbidSelfApproval,
      },
      await client.keys(),
    );
    await jtis.record(verified.approvals.map((a) => ({ jti: a.claims.jti, exp: a.claims.exp })));
    return verified;
  }
}
