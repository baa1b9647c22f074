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

/** SHA-256 of a text's UTF-8 bytes. */
export type Sha256 = (text: string) => Uint8Array | Promise<Uint8Array>;

/** SHA-256 through Web Crypto. */
const webSha256: Sha256 = async (text) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text)));

/**
 * The `decisions` claim: base64url (no padding) SHA-256 of the map's RFC 8785 canonical JSON. A
 * caller that checks many approvals (the server) may pass its platform's faster SHA-256.
 */
export async function decisionsDigest(
  map: DecisionMap,
  sha256: Sha256 = webSha256,
): Promise<string> {
  return base64url(await sha256(canonicalDecisions(map)));
}

/** What row 10 needs of a deployment's change ids, worked out once per list. */
type IdPlan = {
  /** The ids, to check a map's keys against. */
  set: ReadonlySet<string>;
  /** The ids in RFC 8785 order (UTF-16 code units), each as its JSON member name and a colon. */
  members: readonly { id: string; name: string }[];
};

/** Plans by change-id list: a verifier holds a deployment's list as one object while it waits. */
const plans = new WeakMap<readonly string[], IdPlan>();

function planOf(ids: readonly string[]): IdPlan {
  let plan = plans.get(ids);
  if (plan === undefined) {
    const set = new Set(ids);
    plan = {
      set,
      members: [...set].sort().map((id) => ({ id, name: `${JSON.stringify(id)}:` })),
    };
    plans.set(ids, plan);
  }
  return plan;
}

/**
 * Row 10 of 5.4 on a decision map already checked by `parseDecisionMap`: null unless its keys are
 * exactly `ids`; otherwise its `decisions` digest, the same as `decisionsDigest` gives (the map's
 * canonical JSON is written from the ids in their sorted order, since the keys are those ids).
 */
export async function decisionsDigestFor(
  map: DecisionMap,
  ids: readonly string[],
  sha256: Sha256 = webSha256,
): Promise<string | null> {
  const { set, members } = planOf(ids);
  const keys = Object.keys(map);
  if (keys.length !== set.size) return null;
  for (const key of keys) if (!set.has(key)) return null;
  let out = '{';
  for (let i = 0; i < members.length; i++) {
    const { id, name } = members[i]!;
    out += `${i === 0 ? '' : ','}${name}"${map[id]}"`;
  }
  return base64url(await sha256(`${out}}`));
}

/** A decision map giving every change in `ids` the same verdict. */
export function uniformDecisions(ids: Iterable<string>, verdict: Verdict): DecisionMap {
  const out = Object.create(null) as Record<string, Verdict>;
  for (const id of ids) out[id] = verdict;
  return out;
}
