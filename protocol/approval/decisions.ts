/**
 * The decision map of 5.4: `{[changeId]: 'approve' | 'reject'}`, sent beside the approval JWS. The
 * JWS carries only its digest (`decisions`), so an approval stays small however many changes a
 * deployment has, and the map is bound to the signature all the same.
 */
import type { Verdict } from '../claims.js';
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
    // A change id is `kind:subject` (5.2), never `__proto__`.
    if (id === '__proto__') throw new ValidationError('changes has the key "__proto__"');
    if (!isVerdict(verdict)) {
      throw new ValidationError(
        `changes[${JSON.stringify(id.slice(0, 80))}] must be "approve" or "reject"`,
      );
    }
    out[id] = verdict;
  }
  return out;
}

/**
 * The RFC 8785 canonical JSON of a decision map. For an object whose values are all strings, RFC
 * 8785 is exactly this: members sorted by the UTF-16 code units of their names, each name and value
 * serialised as ECMAScript's JSON.stringify does (RFC 8785 3.2.2.2). Only for maps of verdicts. Written out here because every
 * approval check computes it (`canonicalJson` gives the same text, more slowly; a test pins that).
 */
export function canonicalDecisions(map: DecisionMap): string {
  const keys = Object.keys(map).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    // A verdict is `approve` or `reject`: its JSON is itself in quotes.
    out += `${i === 0 ? '' : ','}${JSON.stringify(key)}:"${map[key]}"`;
  }
  return `${out}}`;
}

/** SHA-256 of some bytes. */
export type Sha256 = (bytes: Uint8Array<ArrayBuffer>) => Uint8Array | Promise<Uint8Array>;

/** SHA-256 through Web Crypto. */
const webSha256: Sha256 = async (bytes) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

/**
 * The `decisions` claim: base64url (no padding) SHA-256 of the map's RFC 8785 canonical JSON. A
 * caller that checks many approvals (the server) may pass its platform's faster SHA-256.
 */
export async function decisionsDigest(
  map: DecisionMap,
  sha256: Sha256 = webSha256,
): Promise<string> {
  return base64url(await sha256(utf8(canonicalDecisions(map))));
}

/** A decision map giving every change in `ids` the same verdict. */
export function uniformDecisions(ids: Iterable<string>, verdict: Verdict): DecisionMap {
  const out = Object.create(null) as Record<string, Verdict>;
  for (const id of ids) out[id] = verdict;
  return out;
}
