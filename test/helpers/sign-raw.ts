/** Raw compact JWS signing with a test device's key, for building tokens the server must refuse. */
import { base64url, utf8 } from '../../protocol/index.js';
import type { TestDevice } from './device.js';

/** A compact JWS with any header and claims, ES256-signed with `device`'s key over exactly these bytes. */
export async function signRaw(
  device: Pick<TestDevice, 'key'>,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): Promise<string> {
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    device.key.privateKey,
    utf8(input),
  );
  return `${input}.${base64url(new Uint8Array(signature))}`;
}
