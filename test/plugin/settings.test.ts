/** The `countersign` settings block (DESIGN 4): defaults, and a clear error naming each wrong setting. */
import { describe, expect, it } from 'vitest';
import { editorOriginsOf, parseGateSettings } from '../../plugin/settings.js';

const context = { userDir: '/home/nr/.node-red', editorOrigins: ['http://127.0.0.1:1880'] };
const parse = (input: unknown) => parseGateSettings(input, context);

describe('countersign settings', () => {
  it('gives the embedded defaults when there is no block', () => {
    const settings = parse(undefined);
    expect(settings.server).toEqual({
      kind: 'embedded',
      port: 1881,
      host: '127.0.0.1',
      dataDir: '/home/nr/.node-red/countersign',
    });
    expect(settings).toMatchObject({
      requiredApprovals: 1,
      forbidSelfApproval: false,
      expiresIn: '24h',
      onStartMismatch: 'hold',
    });
    expect(settings.name).toMatch(/^node-red@/);
  });

  it('takes a standalone server with its instance token', () => {
    const settings = parse({
      server: 'https://approvals.example.com/',
      instanceToken: 'abcdefgh12345678',
    });
    expect(settings.server).toEqual({
      kind: 'standalone',
      url: 'https://approvals.example.com',
      instanceToken: 'abcdefgh12345678',
    });
  });

  it.each([
    [{ requiredApprovals: 0 }, 'countersign.requiredApprovals'],
    [{ requiredApprovals: '2' }, 'countersign.requiredApprovals'],
    [{ forbidSelfApproval: 'yes' }, 'countersign.forbidSelfApproval'],
    [{ expiresIn: 'forever' }, 'countersign.expiresIn'],
    [{ onStartMismatch: 'run' }, 'countersign.onStartMismatch'],
    [{ port: 70000 }, 'countersign.port'],
    [{ port: 1880 }, 'countersign.port'],
    [{ publicUrl: 'http://approvals.example.com' }, 'countersign.publicUrl'],
    [{ publicUrl: 'not a url' }, 'countersign.publicUrl'],
    [{ publicUrl: 'http://127.0.0.1:1880' }, 'countersign.publicUrl'],
    [{ publicUrl: 'http://localhost:1880/approvals' }, 'countersign.publicUrl'],
    [{ server: 'ftp://example.com' }, 'countersign.server'],
    [{ server: 'https://approvals.example.com' }, 'countersign.instanceToken'],
    [{ server: 'https://approvals.example.com', instanceToken: 'x' }, 'countersign.instanceToken'],
    [
      { server: 'https://approvals.example.com', instanceToken: 'abcdefgh1234', port: 2 },
      'countersign.port',
    ],
    [{ instanceToken: 'abcdefgh12345678' }, 'countersign.instanceToken'],
    [{ requiredApproval: 2 }, 'countersign.requiredApproval '],
    [{ name: '' }, 'countersign.name'],
  ])('refuses %j, naming %s', (input, name) => {
    expect(() => parse(input)).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG', message: expect.stringContaining(name) }),
    );
  });

  it('refuses a block that is not an object', () => {
    expect(() => parse('embedded')).toThrow(/^countersign must be an object/);
  });

  it("knows the editor's origins from Node-RED's settings and its listening port", () => {
    expect(editorOriginsOf({ uiPort: 1880 })).toEqual(['http://127.0.0.1:1880']);
    expect(editorOriginsOf({ uiHost: 'nr.example.com', uiPort: 443, https: {} }, 8443)).toEqual([
      'https://nr.example.com:443',
      'https://127.0.0.1:443',
      'https://nr.example.com:8443',
      'https://127.0.0.1:8443',
    ]);
    expect(editorOriginsOf({ httpAdminRoot: false })).toEqual([]);
  });
});
