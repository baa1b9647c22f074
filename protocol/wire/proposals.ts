/** What a plugin sends about its deployments: proposals, outcomes, drift (5.7, 7, 7.1). */
import { credsMatchFields } from '../approval/credentials-rule.js';
import { parseCredentialFields, type CredentialFields } from '../credentials.js';
import { ValidationError } from '../errors.js';
import { DEPLOYMENT_STATES, OUTCOMES, type DeploymentStatus, type Outcome } from '../states.js';
import { idAt, objectAt, oneOfAt, revAt, textAt, timeAt } from './guards.js';

/** Most nodes a proposal's credentials summary may name. */
const MAX_CREDENTIAL_NODES = 100_000;

/** Who or what made a deployment. */
export type DeploymentSource = { user: string; via: string; address?: string };

/** Checks a deployment's source. */
export function parseDeploymentSource(input: unknown, name = 'source'): DeploymentSource {
  const s = objectAt(input, name);
  const source: DeploymentSource = {
    user: textAt(s.user, `${name}.user`, 200),
    via: textAt(s.via, `${name}.via`, 100),
  };
  if (s.address !== undefined) source.address = textAt(s.address, `${name}.address`, 200);
  return source;
}

/** Node-RED's deployment types, plus the single-flow entry points, the start-up check and palette changes (`module`). */
export const DEPLOYMENT_TYPES = [
  'full',
  'nodes',
  'flows',
  'reload',
  'flow-add',
  'flow-update',
  'flow-delete',
  'startup',
  'module',
] as const;

/** A deployment's type. */
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number];

/** `POST /deployments` from a plugin. */
export type ProposalRequest = {
  base: string;
  target: string;
  creds: string | null;
  credentials: CredentialFields;
  type: DeploymentType;
  source: DeploymentSource;
};

/** Checks a proposal body (5.7) into its type. */
export function parseProposalRequest(input: unknown): ProposalRequest {
  const b = objectAt(input, 'the proposal');
  const base = revAt(b.base, 'base');
  const target = revAt(b.target, 'target');
  if (b.creds !== null && typeof b.creds !== 'string') {
    throw new ValidationError('creds must be null or a digest (64 lowercase hex digits)');
  }
  const creds = b.creds === null ? null : revAt(b.creds, 'creds');
  const type = oneOfAt(b.type, 'type', DEPLOYMENT_TYPES);
  const source = parseDeploymentSource(b.source);
  const credentials = parseCredentialFields(b.credentials);
  if (Object.keys(credentials).length > MAX_CREDENTIAL_NODES) {
    throw new ValidationError('too many credentials');
  }
  // T8: the digest names credentials exactly when field names are listed, or the review would not show them.
  if (!credsMatchFields(creds, credentials)) {
    throw new ValidationError(
      'creds must be null exactly when credentials lists no field (a digest without field names, or field names without a digest)',
    );
  }
  // 7.1: a palette change sets no credentials.
  if (type === 'module' && (creds !== null || Object.keys(credentials).length > 0)) {
    throw new ValidationError('a module deployment carries no credentials (creds null)');
  }
  return { base, target, creds, credentials, type, source };
}

/** `POST /deployments` → 201. */
export type ProposalResponse = {
  id: string;
  status: DeploymentStatus;
  expiresAt: string;
  reviewUrl: string;
};

/** Checks a proposal answer. */
export function parseProposalResponse(input: unknown): ProposalResponse {
  const b = objectAt(input, 'the proposal answer');
  return {
    id: idAt(b.id, 'id'),
    status: oneOfAt(b.status, 'status', DEPLOYMENT_STATES),
    expiresAt: timeAt(b.expiresAt, 'expiresAt'),
    reviewUrl: textAt(b.reviewUrl, 'reviewUrl', 4096),
  };
}

/** Longest message of an outcome. */
export const MAX_OUTCOME_MESSAGE = 1000;

/** `POST /deployments/:id/outcome`. */
export type OutcomeRequest = { status: Outcome; rev: string; message?: string };

/** Checks an outcome body (5.7). */
export function parseOutcomeRequest(input: unknown): OutcomeRequest {
  const b = objectAt(input, 'the outcome');
  const status = oneOfAt(b.status, 'status', OUTCOMES);
  const rev = revAt(b.rev, 'rev');
  return {
    status,
    rev,
    ...(b.message !== undefined
      ? { message: textAt(b.message, 'message', MAX_OUTCOME_MESSAGE) }
      : {}),
  };
}

/** `POST /deployments/:id/outcome` → 200. */
export type OutcomeResponse = { status: Outcome };

/** Checks an outcome answer. */
export function parseOutcomeResponse(input: unknown): OutcomeResponse {
  const b = objectAt(input, 'the outcome answer');
  return { status: oneOfAt(b.status, 'status', OUTCOMES) };
}

/** `POST /instance/drift`: the flows on disk differ from the last approved rev (T3). */
export type DriftRequest = { rev: string; message: string };

/** Checks a drift report; a missing message is empty. */
export function parseDriftRequest(input: unknown): DriftRequest {
  const b = objectAt(input, 'the drift report');
  return {
    rev: revAt(b.rev, 'rev'),
    message: b.message === undefined ? '' : textAt(b.message, 'message', 500),
  };
}
