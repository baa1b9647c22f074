import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  collectCredentials,
  credentialFieldsOf,
  credentialsDigest,
  parseCredentialFields,
  withoutCredentials,
  type Flows,
} from '../../protocol/index.js';

const key = new Uint8Array(32).fill(7);
const flows: Flows = [
  { id: 'tab', type: 'tab', label: 'Main' },
  {
    id: 'req',
    type: 'http request',
    z: 'tab',
    x: 1,
    y: 1,
    credentials: { user: 'alice', password: 'hunter2' },
    wires: [[]],
  },
  { id: 'mqtt', type: 'mqtt-broker', credentials: { user: 'bob', password: '__PWRD__' } },
  { id: 'plain', type: 'debug', z: 'tab', x: 2, y: 2, credentials: null },
];

describe('credentials', () => {
  it('collects the credentials on nodes and Node-RED’s separate credentials argument', () => {
    const creds = collectCredentials(flows, { other: { token: 't' }, req: { user: 'carol' } });
    expect(creds).toEqual({
      req: { user: 'carol', password: 'hunter2' },
      mqtt: { user: 'bob', password: '__PWRD__' },
      other: { token: 't' },
    });
  });

  it('summarises field names per node, leaving out unchanged passwords', () => {
    expect(credentialFieldsOf(collectCredentials(flows))).toEqual({
      mqtt: ['user'],
      req: ['password', 'user'],
    });
  });

  it('digests the canonical JSON with HMAC-SHA-256 and the caller’s key', async () => {
    const creds = collectCredentials(flows);
    const expected = createHmac('sha256', key).update(canonicalJson(creds)!).digest('hex');
    expect(await credentialsDigest(creds, key)).toBe(expected);
    // Key order does not matter; values do.
    const reordered = { mqtt: creds.mqtt!, req: { password: 'hunter2', user: 'alice' } };
    expect(await credentialsDigest(reordered, key)).toBe(expected);
    const changed = { ...reordered, req: { password: 'hunter3', user: 'alice' } };
    expect(await credentialsDigest(changed, key)).not.toBe(expected);
    expect(await credentialsDigest(creds, new Uint8Array(32).fill(8))).not.toBe(expected);
  });

  it('gives null when the deployment sets no credential', async () => {
    expect(await credentialsDigest({}, key)).toBeNull();
    expect(await credentialsDigest({ mqtt: { password: '__PWRD__' } }, key)).toBeNull();
  });

  it('refuses a short key', async () => {
    await expect(credentialsDigest({ a: { b: 'c' } }, new Uint8Array(8))).rejects.toMatchObject({
      code: 'ERR_BAD_REQUEST',
    });
  });

  it('removes truthy credentials from the snapshot, as Node-RED does, and keeps a null one', () => {
    const snapshot = withoutCredentials(flows);
    expect(snapshot.find((n) => n.id === 'req')).not.toHaveProperty('credentials');
    expect(snapshot.find((n) => n.id === 'plain')).toHaveProperty('credentials', null);
    expect(flows[1]).toHaveProperty('credentials');
  });

  it('parses a proposal’s credentials summary and refuses other shapes', () => {
    expect(parseCredentialFields({ a: ['y', 'x', 'x'] })).toEqual({ a: ['x', 'y'] });
    expect(() => parseCredentialFields([])).toThrow(/credentials/);
    expect(() => parseCredentialFields({ a: 'x' })).toThrow(/field names/);
    expect(() => parseCredentialFields({ a: [1] })).toThrow(/field names/);
    // `__proto__` is never a node id on the wire (the server's body reader refuses it too).
    expect(() => parseCredentialFields(JSON.parse('{"__proto__":["x"]}'))).toThrow(/node id/);
  });
});
