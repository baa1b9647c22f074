import { canonicalJson } from './canonical.js';
import { ValidationError } from './errors.js';
import type { Flows } from './flows.js';
import { hmacSha256Hex } from './hash.js';

/** Credentials a deployment applies: node id to the credential fields and their values. */
export type CredentialsSet = Record<string, Record<string, unknown>>;

/** The summary a proposal carries instead of credentials: node id to the field names it sets. */
export type CredentialFields = Record<string, string[]>;

/** Node-RED's placeholder for "password unchanged": sending it sets nothing. */
export const UNCHANGED_PASSWORD = '__PWRD__';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The credentials a deployment applies: every truthy `credentials` object on a node (as Node-RED's
 * `credentials.clean` extracts them), then, when the caller passed Node-RED's separate
 * `credentials` argument in clear, those. An encrypted set (`{$: …}`) is returned under `$` whole:
 * it cannot be read here, and it replaces every credential.
 */
export function collectCredentials(flows: Flows, separate?: unknown): CredentialsSet {
  // Null prototype: a node id such as `__proto__` is data here, never a prototype.
  const out = Object.create(null) as CredentialsSet;
  for (const node of flows) {
    if (node.credentials && isPlainObject(node.credentials)) {
      out[node.id] = { ...node.credentials };
    }
  }
  if (isPlainObject(separate)) {
    for (const [id, creds] of Object.entries(separate)) {
      if (id === '$') out.$ = { $: creds };
      else if (isPlainObject(creds)) out[id] = { ...out[id], ...creds };
    }
  }
  return out;
}

/**
 * Field names per node that the deployment sets, sorted; a field sent as Node-RED's unchanged
 * placeholder is not set. Nodes that set nothing are left out.
 */
export function credentialFieldsOf(credentials: CredentialsSet): CredentialFields {
  const out = Object.create(null) as CredentialFields;
  for (const id of Object.keys(credentials).sort()) {
    const fields = Object.entries(credentials[id]!)
      .filter(([, value]) => value !== UNCHANGED_PASSWORD)
      .map(([name]) => name)
      .sort();
    if (fields.length > 0) out[id] = fields;
  }
  return out;
}

/**
 * The credentials digest of 5.1: HMAC-SHA-256 with a key only the plugin holds, over the RFC 8785
 * canonical JSON of the credentials applied. `null` when the deployment sets no credential.
 */
export async function credentialsDigest(
  credentials: CredentialsSet,
  key: Uint8Array<ArrayBuffer>,
): Promise<string | null> {
  if (Object.keys(credentialFieldsOf(credentials)).length === 0) return null;
  if (key.length < 32) throw new ValidationError('the credentials key must be at least 32 bytes');
  const text = canonicalJson(credentials);
  if (text === undefined) throw new ValidationError('credentials cannot be serialised');
  return hmacSha256Hex(key, text);
}

/** Parses the `credentials` summary of a proposal: node id to an array of field names. */
export function parseCredentialFields(input: unknown): CredentialFields {
  if (!isPlainObject(input)) throw new ValidationError('credentials must be an object');
  const out: CredentialFields = Object.create(null) as CredentialFields;
  for (const [id, fields] of Object.entries(input)) {
    // A node id is data in the null-prototype copy, but `__proto__` is never one on the wire.
    if (id === '__proto__' || id.length > 200) {
      throw new ValidationError(`credentials has a key that is not a node id`);
    }
    if (
      !Array.isArray(fields) ||
      fields.length > 1000 ||
      !fields.every((f) => typeof f === 'string' && f.length <= 200)
    ) {
      throw new ValidationError(`credentials.${id} must be an array of field names`);
    }
    out[id] = [...new Set(fields as string[])].sort();
  }
  return out;
}
