/** `GET /keys`: the published keys the plugin checks approvals with (5.4). */
import type { DeviceJwk } from '../claims.js';
import { parseDeviceJwk } from '../device-id.js';
import { idAt, labelAt, listAt, objectAt, oneOfAt } from './guards.js';

/** Most keys a JWKS may hold. */
const MAX_KEYS = 10_000;

/** One key of `GET /keys`: an active device's public JWK, its id as `kid` and its owner (5.4 quorum). */
export type PublishedKey = DeviceJwk & { kid: string; owner: string; alg: 'ES256'; use: 'sig' };

/** Checks one published key; only its public members are kept. */
export function parsePublishedKey(input: unknown, name = 'the key'): PublishedKey {
  const k = objectAt(input, name);
  return {
    ...parseDeviceJwk(k),
    kid: idAt(k.kid, `${name}.kid`),
    owner: labelAt(k.owner, `${name}.owner`),
    alg: oneOfAt(k.alg, `${name}.alg`, ['ES256'] as const),
    use: oneOfAt(k.use, `${name}.use`, ['sig'] as const),
  };
}

/** `GET /keys`. */
export type KeysResponse = { keys: PublishedKey[] };

/** Checks a `GET /keys` answer. */
export function parseKeysResponse(input: unknown): KeysResponse {
  const b = objectAt(input, 'the JWKS');
  return { keys: listAt(b.keys, 'keys', MAX_KEYS, parsePublishedKey) };
}
