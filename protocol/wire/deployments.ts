/** Deployments as the server tells of them: inbox, history, detail, events, decisions (5.4, 5.7). */
import { parseDecisionMap } from '../approval/decisions.js';
import type { Change } from '../changes/types.js';
import { MAX_APPROVAL_BYTES, type Verdict } from '../claims.js';
import { parseCredentialFields, type CredentialFields } from '../credentials.js';
import { ValidationError } from '../errors.js';
import { DEPLOYMENT_STATES, type DeploymentStatus } from '../states.js';
import {
  idAt,
  integerAt,
  labelAt,
  listAt,
  nullableAt,
  objectAt,
  oneOfAt,
  revAt,
  textAt,
  timeAt,
  type Fields,
} from './guards.js';
import {
  DEPLOYMENT_TYPES,
  parseDeploymentSource,
  type DeploymentSource,
  type DeploymentType,
} from './proposals.js';

/** Most deployments one answer lists, approvals one deployment holds, changes one review holds. */
const MAX_DEPLOYMENTS = 1000;
const MAX_APPROVALS = 1000;
const MAX_CHANGES = 1_000_000;

const VERDICTS = ['approve', 'reject'] as const;
const CHANGE_KINDS = [
  'flow',
  'subflow',
  'node',
  'config',
  'wiring',
  'layout',
  'credentials',
  'module',
] as const;
const CHANGE_OPS = ['added', 'removed', 'changed'] as const;
const RISKS = ['high', 'medium', 'low'] as const;

/** A deployment as the inbox lists it. */
export type DeploymentSummary = {
  id: string;
  instance: string;
  status: DeploymentStatus;
  createdAt: string;
  expiresAt: string;
  source: DeploymentSource;
  changeCount: number;
};

function summaryFields(d: Fields, name: string): DeploymentSummary {
  return {
    id: idAt(d.id, `${name}.id`),
    instance: labelAt(d.instance, `${name}.instance`),
    status: oneOfAt(d.status, `${name}.status`, DEPLOYMENT_STATES),
    createdAt: timeAt(d.createdAt, `${name}.createdAt`),
    expiresAt: timeAt(d.expiresAt, `${name}.expiresAt`),
    source: parseDeploymentSource(d.source, `${name}.source`),
    changeCount: integerAt(d.changeCount, `${name}.changeCount`, 0, MAX_CHANGES),
  };
}

/** Checks a deployment summary. */
export function parseDeploymentSummary(input: unknown, name = 'the deployment'): DeploymentSummary {
  return summaryFields(objectAt(input, name), name);
}

/** `GET /deployments?status=…`: the live deployments in one state. */
export type DeploymentListResponse = { deployments: DeploymentSummary[] };

/** Checks a `GET /deployments?status=…` answer. */
export function parseDeploymentListResponse(input: unknown): DeploymentListResponse {
  const b = objectAt(input, 'the deployment list');
  return {
    deployments: listAt(b.deployments, 'deployments', MAX_DEPLOYMENTS, parseDeploymentSummary),
  };
}

/** `GET /deployments` without `status`: every deployment, newest first, a page at a time. */
export type DeploymentPageResponse = { deployments: DeploymentSummary[]; next: string | null };

/** Checks a page of the deployment history. */
export function parseDeploymentPageResponse(input: unknown): DeploymentPageResponse {
  const b = objectAt(input, 'the deployment page');
  return {
    deployments: listAt(b.deployments, 'deployments', MAX_DEPLOYMENTS, parseDeploymentSummary),
    next: nullableAt(b.next ?? null, 'next', (v, n) => textAt(v, n, 200, 1)),
  };
}

/** One accepted decision on a deployment; `jws` and its decision map `changes` only for the plugin. */
export type ApprovalView = {
  device: string;
  verdict: Verdict;
  at: string;
  jws?: string;
  changes?: Record<string, Verdict>;
};

/** Checks one accepted decision. The JWS is only text here: 5.4's rules verify it. */
export function parseApprovalView(input: unknown, name = 'the approval'): ApprovalView {
  const a = objectAt(input, name);
  const view: ApprovalView = {
    device: idAt(a.device, `${name}.device`),
    verdict: oneOfAt(a.verdict, `${name}.verdict`, VERDICTS),
    at: timeAt(a.at, `${name}.at`),
  };
  if (a.jws !== undefined) view.jws = textAt(a.jws, `${name}.jws`, MAX_APPROVAL_BYTES, 1);
  if (a.changes !== undefined) view.changes = parseDecisionMap(a.changes);
  return view;
}

/** What the plugin's event stream carries: the summary, the revs, and the approvals with their JWS. */
export type DeploymentEvent = DeploymentSummary & {
  base: string;
  target: string;
  creds: string | null;
  approvals: ApprovalView[];
};

function eventFields(d: Fields, name: string): DeploymentEvent {
  return {
    ...summaryFields(d, name),
    base: revAt(d.base, `${name}.base`),
    target: revAt(d.target, `${name}.target`),
    creds: nullableAt(d.creds, `${name}.creds`, revAt),
    approvals: listAt(d.approvals, `${name}.approvals`, MAX_APPROVALS, parseApprovalView),
  };
}

/** Checks one event of `GET /instance/events`. */
export function parseDeploymentEvent(input: unknown, name = 'the deployment'): DeploymentEvent {
  return eventFields(objectAt(input, name), name);
}

/**
 * Checks one change of a deployment's list: its id, kind, op, risk and flow. What it shows (the
 * properties, delta, edges) is display data, left as it is: the phone recomputes the list from the
 * snapshots before it signs (T8) and shows a key such as `__proto__` on the card, refusing to sign
 * (T9), so the server's list is compared, never trusted.
 */
export function parseChange(input: unknown, name = 'the change'): Change {
  const c = objectAt(input, name);
  const flow = nullableAt(c.flow ?? null, `${name}.flow`, (v, n) => {
    const f = objectAt(v, n);
    return { id: textAt(f.id, `${n}.id`, 200), label: textAt(f.label, `${n}.label`, 10_000) };
  });
  return {
    ...(c as Record<string, unknown>),
    id: textAt(c.id, `${name}.id`, 300, 1),
    kind: oneOfAt(c.kind, `${name}.kind`, CHANGE_KINDS),
    op: oneOfAt(c.op, `${name}.op`, CHANGE_OPS),
    flow,
    risk: oneOfAt(c.risk, `${name}.risk`, RISKS),
  } as Change;
}

/** `GET /deployments/:id`. */
export type DeploymentDetail = DeploymentEvent & {
  credentials: CredentialFields;
  type: DeploymentType;
  changes: Change[];
};

/** Checks a `GET /deployments/:id` answer. */
export function parseDeploymentDetail(input: unknown, name = 'the deployment'): DeploymentDetail {
  const d = objectAt(input, name);
  return {
    ...eventFields(d, name),
    credentials: parseCredentialFields(d.credentials),
    type: oneOfAt(d.type, `${name}.type`, DEPLOYMENT_TYPES),
    changes: listAt(d.changes, `${name}.changes`, MAX_CHANGES, parseChange),
  };
}

/**
 * `POST /deployments/:id/decision` (5.4): the approval JWS and the decision map it digests. Their
 * contents are checked by the ordered rules of 5.4 (row 1 the JWS, row 10 the map), so that every
 * failure answers with its row's code; here only the body itself.
 */
export type DecisionRequest = { jws: string; changes: Record<string, Verdict> };

/** The body of a decision as it arrives: an object whose parts the rules of 5.4 check in order. */
export function parseDecisionBody(input: unknown): { jws: unknown; changes: unknown } {
  let b: Fields;
  try {
    b = objectAt(input, 'the decision');
  } catch (cause) {
    // Row 1: a body that is not {jws, changes} carries no compact JWS.
    throw new ValidationError(`${(cause as Error).message}: {jws, changes}`, {
      code: 'ERR_APPROVAL_MALFORMED',
      cause,
    });
  }
  return { jws: b.jws, changes: b.changes };
}

/** `POST /deployments/:id/decision` → 200. */
export type DecisionResponse = { status: DeploymentStatus; approvals: ApprovalView[] };

/** Checks a decision answer. */
export function parseDecisionResponse(input: unknown): DecisionResponse {
  const b = objectAt(input, 'the decision answer');
  return {
    status: oneOfAt(b.status, 'status', DEPLOYMENT_STATES),
    approvals: listAt(b.approvals, 'approvals', MAX_APPROVALS, parseApprovalView),
  };
}
