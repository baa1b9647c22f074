/**
 * Every failure Countersign reports has a stable `code` (DESIGN.md 5.4, 5.7). Clients switch on the
 * code, never on the message. The HTTP status of each code lives here too, so the server, the plugin
 * and the phone agree on it.
 */
export const ERROR_STATUS = {
  // Generic (5.7)
  ERR_BAD_REQUEST: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404,
  ERR_BODY_TOO_LARGE: 413,
  ERR_RATE_LIMITED: 429,
  ERR_INTERNAL: 500,

  // Approval checks, in the order of 5.4
  ERR_APPROVAL_MALFORMED: 400,
  ERR_APPROVAL_HEADER: 422,
  ERR_DEVICE_UNKNOWN: 422,
  ERR_DEVICE_REVOKED: 403,
  ERR_APPROVAL_SIGNATURE: 422,
  ERR_APPROVAL_CLAIMS: 422,
  ERR_APPROVAL_EXPIRED: 422,
  ERR_APPROVAL_REPLAY: 422,
  ERR_DEPLOYMENT_NOT_PENDING: 409,
  ERR_APPROVAL_MISMATCH: 422,
  ERR_APPROVAL_INCOMPLETE: 422,
  ERR_APPROVAL_INCONSISTENT: 422,
  ERR_APPROVAL_DUPLICATE: 409,
  ERR_SELF_APPROVAL: 403,

  // Device proofs (5.3): each check names itself
  ERR_PROOF_MISSING: 401,
  ERR_PROOF_MALFORMED: 401,
  ERR_PROOF_HEADER: 401,
  ERR_PROOF_DEVICE_UNKNOWN: 401,
  ERR_PROOF_SIGNATURE: 401,
  ERR_PROOF_HTM: 401,
  ERR_PROOF_HTU: 401,
  ERR_PROOF_IAT: 401,
  ERR_PROOF_REPLAY: 401,

  // Enrolment (5.5)
  ERR_INVITATION_INVALID: 403,
  ERR_ENROLL_PROOF: 401,
  ERR_DEVICE_EXISTS: 409,
  // A device whose inviter was revoked, until another device or the command line confirms it.
  ERR_DEVICE_SUSPENDED: 403,

  // Deployments, blobs and outcomes (5.7, 5.8)
  ERR_BLOB_MISMATCH: 422,
  ERR_BLOB_MISSING: 422,
  ERR_FLOWS_INVALID: 400,
  ERR_INVALID_TRANSITION: 409,

  // Configuration, storage and the gate (not HTTP answers of the server, but one list of codes)
  ERR_CONFIG: 500,
  ERR_STORE_CORRUPT: 500,
  ERR_SERVER_UNREACHABLE: 503,
  ERR_GATE_UNSUPPORTED: 500,
  ERR_STALE: 409,
  ERR_APPLY_FAILED: 500,
  // A deployment held by the gate for approval (423 Locked; never 2xx, 401 or 409).
  ERR_HELD: 423,
  // A Node-RED projects action that would change flows or credentials past the gate (refused).
  ERR_PROJECTS_REFUSED: 403,
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** True when `value` is one of the known codes (for parsing `{code, message}` bodies). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}

/** The HTTP status that answers `code` (5.7: one mapping for every part). */
export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** The one error class: a stable `code`, a message for people, and the `cause` when there is one. */
export class CountersignError extends Error {
  readonly code: ErrorCode;
  /** For `ERR_RATE_LIMITED`: whole seconds until the caller may try again (HTTP `Retry-After`). */
  readonly retryAfterS: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterS?: number },
  ) {
    super(message, options);
    this.name = 'CountersignError';
    this.code = code;
    this.retryAfterS = options?.retryAfterS;
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return statusOf(this.code);
  }

  /** The wire form, `{code, message}`. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/**
 * Turns off stack capture (V8's `Error.stackTraceLimit`; elsewhere a plain property) for the
 * error about to be made, and returns the limit to restore after it. Approval and proof refusals
 * are answers to a client, never faults to trace, and a phone's requests make many of them:
 * collecting the frames costs more than the rest of the error.
 */
function withoutStack(): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return limit;
}

/** An approval JWS failed one of the ordered checks of 5.4 (a refusal: made without a stack). */
export class ApprovalError extends CountersignError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    const limit = withoutStack();
    try {
      super(code, message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'ApprovalError';
  }
}

/** A device proof (DPoP) failed one of the checks of 5.3 (a refusal: made without a stack). */
export class ProofError extends CountersignError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    const limit = withoutStack();
    try {
      super(code, message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'ProofError';
  }
}

/** Input at a boundary did not have the expected shape. */
export class ValidationError extends CountersignError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? 'ERR_BAD_REQUEST', message, options);
    this.name = 'ValidationError';
  }
}

/** True for any Countersign error, whatever realm or copy of this module made it. */
export function isCountersignError(value: unknown): value is CountersignError {
  return (
    value instanceof CountersignError ||
    (value instanceof Error && isErrorCode((value as { code?: unknown }).code))
  );
}
