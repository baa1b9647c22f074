/** JWS types and claims of 5.3–5.5. Times are Unix seconds. */

/** `typ` of an approval JWS (5.4). */
export const TYP_APPROVAL = 'countersign-approval+jwt';
/** `typ` of an enrolment proof (5.5). */
export const TYP_ENROLL = 'countersign-enroll+jwt';
/** `typ` of a device proof (5.3, RFC 9449). */
export const TYP_DPOP = 'dpop+jwt';
/** The only signature algorithm. */
export const ALG = 'ES256';

/** Largest approval JWS the server reads (5.4 row 1). */
export const MAX_APPROVAL_BYTES = 64 * 1024;
/** Largest decision body `{jws, changes}` the server reads (5.4). */
export const MAX_DECISION_BODY_BYTES = 8 * 1024 * 1024;
/** Longest approval note (5.4 row 5). */
export const MAX_NOTE_LENGTH = 500;
/** Longest approval lifetime, `exp - iat` (5.4 row 6). */
export const MAX_APPROVAL_LIFETIME_S = 300;
/** Allowed clock skew for `iat` (5.3, 5.4). */
export const CLOCK_SKEW_S = 60;
/** How long a proof `jti` is remembered (5.3). */
export const PROOF_JTI_WINDOW_S = 300;
/** How long an invitation lives (5.5). */
export const INVITATION_TTL_S = 600;

/** A verdict on a deployment or on one change. */
export type Verdict = 'approve' | 'reject';

/** Claims of an approval JWS (5.4). */
export type ApprovalClaims = {
  iss: string;
  aud: string;
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  base: string;
  target: string;
  creds: string | null;
  verdict: Verdict;
  /** base64url SHA-256 of the RFC 8785 canonical JSON of the decision map that travels beside the JWS. */
  decisions: string;
  note?: string;
};

/** Claims of an enrolment proof (5.5); `code` is the SHA-256 hex of the invitation code. */
export type EnrollClaims = {
  aud: string;
  iat: number;
  jti: string;
  code: string;
};

/** Claims of a device proof (5.3). */
export type ProofClaims = {
  jti: string;
  htm: string;
  htu: string;
  iat: number;
};

/** A public JWK of a device key (ECDSA P-256). */
export type DeviceJwk = {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
};
