/** What to tell a person for each error code the server can answer (never the raw message alone). */
import { isCountersignError } from './protocol.js';

const TEXT: Record<string, string> = {
  ERR_DEVICE_REVOKED:
    'This phone was revoked. It can no longer review or sign deployments. Enrol it again with a new invitation.',
  ERR_DEVICE_SUSPENDED:
    "This phone is suspended: the phone that invited it was revoked. Ask someone to confirm it from another enrolled phone (Devices) or on the approval server (countersign confirm), after comparing this phone's fingerprint.",
  ERR_PROOF_DEVICE_UNKNOWN:
    'The approval server does not know this phone any more. Enrol it again with a new invitation.',
  ERR_DEPLOYMENT_NOT_PENDING:
    'This deployment is no longer waiting: it was decided, superseded by a newer one, or it expired.',
  ERR_APPROVAL_DUPLICATE: 'This phone has already decided this deployment.',
  ERR_SELF_APPROVAL:
    'You made this deployment yourself, and the policy needs someone else to approve it.',
  ERR_APPROVAL_EXPIRED:
    "The server did not accept the signature's time. Check that this phone's clock is set automatically.",
  ERR_PROOF_IAT:
    "The server did not accept this phone's time. Check that the clock is set automatically.",
  ERR_APPROVAL_MISMATCH: 'The deployment changed while you reviewed it. Open it again.',
  ERR_APPROVAL_INCOMPLETE: 'The deployment changed while you reviewed it. Open it again.',
  ERR_INVITATION_INVALID:
    'This invitation cannot be used: it was used already, it expired (they last 10 minutes), or the link is incomplete. Ask for a new one.',
  ERR_RATE_LIMITED: 'Too many attempts. Wait a few minutes, then try again.',
  ERR_SERVER_UNREACHABLE:
    'The approval server cannot be reached. Check the connection and try again.',
  ERR_NOT_FOUND: 'Not found. It may have been removed.',
};

/** A sentence for an error, by its code; unknown failures keep the server's message. */
export function messageOf(error: unknown): string {
  if (isCountersignError(error)) return TEXT[error.code] ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

/** The code of an error, or undefined. */
export function codeOf(error: unknown): string | undefined {
  return isCountersignError(error) ? error.code : undefined;
}
