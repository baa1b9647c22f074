/**
 * Who rejected a deployment and why, for the editor notice and Node-RED's log (DESIGN 7: "a
 * rejection shows the approver's note"). Display only: nothing is decided from it, so the rejecting
 * approval's claims are read, not verified (the server verified them; a rejection applies nothing).
 */
import { decodeJwt } from 'jose';
import {
  MAX_NOTE_LENGTH,
  fingerprintOf,
  type DeploymentEvent,
  type KeysResponse,
} from '../../protocol/index.js';

/** The rejecting device and its note (null when there is none or it cannot be read). */
export type Rejection = { device: string | null; note: string | null };

/** The first rejecting approval of `view`, and the note it carries. */
export function rejectionOf(view: DeploymentEvent): Rejection {
  const reject = view.approvals.find((a) => a.verdict === 'reject');
  if (!reject) return { device: null, note: null };
  let note: string | null = null;
  try {
    const claims = reject.jws ? decodeJwt(reject.jws) : {};
    if (typeof claims.note === 'string' && claims.note.trim() !== '') {
      note = claims.note.slice(0, MAX_NOTE_LENGTH);
    }
  } catch {
    // Not a readable JWS: the rejection stands, without a note.
  }
  return { device: reject.device || null, note };
}

/** "alice (AbCd EfGh IjKl MnOp)" from the device keys, or the fingerprint alone. */
export function approverName(device: string, jwks: KeysResponse | null): string {
  const owner = jwks?.keys.find((k) => k.kid === device)?.owner;
  const fingerprint = fingerprintOf(device);
  return owner ? `${owner} (${fingerprint})` : fingerprint;
}

/** Text safe on one log line: line breaks and other control or invisible characters as escapes. */
export function oneLine(text: string): string {
  return text.replace(
    /[\p{Cc}\p{Cf}\u2028\u2029]/gu,
    (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`,
  );
}
