/**
 * The decision map of 5.4: `{[changeId]: 'approve' | 'reject'}`, sent beside the approval JWS. The
 * JWS carries only its digest (`decisions`), so an approval stays small however many changes a
 * deployment has, and the map is bound to the signature all the same.
 */
import type { Verdict } from '../claims.js';
import { canonicalJson } from '../canonical.js';
import { ValidationError } from '../errors.js';
import { base64url, utf8 } from '../hash.js';

/** One verdict per change id. Null prototype: a change id is data, never a property of Object. */
export type DecisionMap = Readonly<Record<string, Verdict>>;

/** True for `approve` or `reject`. */
export function isVerdict(value: unknown): value is Verdict {
  return value === 'approve' || value === 'reject';
}

/**
 * Checks a decision map at a boundary: a plain object whose every value is a verdict. The copy has
 * a null prototype. Throws `ValidationError` naming the first bad entry.
 */
export function parseDecisionMap(input: unknown): DecisionMap {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('changes must be an object of change id to verdict');
  }
  const out = Object.create(null) as Record<string, Verdict>;
  for (const [id, verdict] of Object.entries(input)) {
    if (!isVerdict(verdict)) {
      throw new ValidationError(
        `changes[${JSON.stringify(id.slice(0, 80))}] must be "approve" or "reject"`,
      );
    }
    out[id] = verdict;
  }
  return out;
}

/** The `decisions` claim: base64url (no padding) SHA-256 of the map's RFC 8785 canonical JSON. */
export async function decisionsDigest(map: DecisionMap): Promise<string> {
  const text = canonicalJson(map);
  if (text === undefined) throw new ValidationError('the decision map cannot be serialised');
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))));
}

/** A decision map giving every change in `ids` the same verdict. */
export function uniformDecisions(ids: Iterable<string>, verdict: Verdict): DecisionMap {
  const out = Object.create(null) as Record<string, Verdict>;
  for (const id of ids) out[id] = verdict;
  return out;
}
