import type { Flows } from './flows.js';
import { sha256Hex, utf8 } from './hash.js';

/**
 * The flows array Node-RED would save: each node's `credentials` removed. Node-RED's credential store
 * takes `credentials` off a node only when it is truthy (`credentials.clean`), so a falsy one stays.
 * The input is not changed; nodes without credentials are shared, not copied.
 */
export function withoutCredentials(flows: Flows): Flows {
  return flows.map((node) => {
    if (!node.credentials) return node;
    const copy = { ...node };
    delete copy.credentials;
    return copy;
  });
}

/** The snapshot text of 5.1: `JSON.stringify` of the flows as Node-RED would save them. */
export function snapshotText(flows: Flows): string {
  return JSON.stringify(withoutCredentials(flows));
}

/** The snapshot bytes of 5.1 (UTF-8). */
export function snapshotBytes(flows: Flows): Uint8Array<ArrayBuffer> {
  return utf8(snapshotText(flows));
}

/** The rev of a flows array: the SHA-256 of its snapshot, equal to the rev Node-RED reports. */
export async function revOf(flows: Flows): Promise<string> {
  return sha256Hex(snapshotText(flows));
}

/** The rev of snapshot bytes already in hand (a blob): a reader always re-hashes what it got. */
export async function revOfBytes(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return sha256Hex(bytes);
}
