/** The `countersign` command line against real servers: in-process for most commands, and through bin/ for serve. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, fingerprintOf, type DeviceView } from '../../protocol/index.js';
import { main } from '../../server/cli/main.js';
import { serveConfig } from '../../server/cli/config.js';
import { TestDevice } from '../helpers/device.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/countersign.js');
const dirs: string[] = [];
let server: TestServer;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-cli-'));
  dirs.push(dir);
  return dir;
}

async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
    ...(cwd ? { cwd } : {}),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('countersign commands against a running server', () => {
  it('enroll --json prints {code, url, expiresAt} and the code enrols a phone', async () => {
    const { code, out } = await cli([
      'enroll',
      '--owner',
      'alice',
      '--name',
      "Alice's phone",
      '--data-dir',
      server.dataDir,
      '--json',
    ]);
    expect(code).toBe(0);
    const inv = JSON.parse(out) as { code: string; url: string; expiresAt: string };
    expect(inv.url).toBe(`${server.url}/#/enroll?code=${inv.code}`);
    expect(Date.parse(inv.expiresAt)).toBeGreaterThan(Date.now());
    const phone = await TestDevice.create({ owner: 'alice', name: "Alice's phone" });
    expect((await phone.enroll(server.url, inv.code)).fingerprint).toBe(phone.fingerprint);
  });
  it('enroll prints the URL and a terminal QR code', async () => {
    const { code, out } = await cli([
      'enroll',
      '--owner',
      'bob',
      '--name',
      'tablet',
      '--data-dir',
      server.dataDir,
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/#\/enroll\?code=[\w-]{43}/);
    expect(out).toContain('█');
  });
  it('enroll without --owner is a usage error', async () => {
    const { code, err } = await cli(['enroll', '--data-dir', server.dataDir]);
    expect(code).toBe(2);
    expect(err).toContain('--owner');
  });
  it('devices lists fingerprints, and revoke takes an id or a fingerprint', async () => {
    const phone = await server.enrollDevice({ owner: 'carol' });
    const listed = await cli(['devices', '--data-dir', server.dataDir]);
    expect(listed.out).toContain(fingerprintOf(phone.id));
    const json = JSON.parse(
      (await cli(['devices', '--json', '--data-dir', server.dataDir])).out,
    ) as { devices: DeviceView[] };
    expect(json.devices.map((d) => d.id)).toContain(phone.id);
    // Ids are base64url and may start with "-": "--" ends the options.
    const revoked = await cli(['revoke', '--data-dir', server.dataDir, '--', phone.fingerprint]);
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain('Revoked');
    expect((await phone.call(server.url, 'GET', `${API_PREFIX}/devices`)).status).toBe(403);
    expect((await cli(['revoke', 'no-such-device', '--data-dir', server.dataDir])).code).toBe(2);
  });
  it('instances add prints a token once that the plugin API accepts; a second add needs --rotate', async () => {
    const added = await cli([
      'instances',
      'add',
      'line-9',
      '--required-approvals',
      '2',
      '--json',
      '--data-dir',
      server.dataDir,
    ]);
    expect(added.code).toBe(0);
    const { token, name } = JSON.parse(added.out) as { token: string; name: string };
    expect(name).toBe('line-9');
    expect((await server.pluginFetch(token, 'GET', `${API_PREFIX}/keys`)).status).toBe(200);
    expect(readFileSync(join(server.dataDir, 'countersign.json'), 'utf8')).not.toContain(token);
    expect((await cli(['instances', 'add', 'line-9', '--data-dir', server.dataDir])).code).toBe(1);
    const rotated = JSON.parse(
      (
        await cli([
          'instances',
          'add',
          'line-9',
          '--rotate',
          '--json',
          '--data-dir',
          server.dataDir,
        ])
      ).out,
    ) as { token: string };
    expect((await server.pluginFetch(token, 'GET', `${API_PREFIX}/keys`)).status).toBe(401);
    expect((await server.pluginFetch(rotated.token, 'GET', `${API_PREFIX}/keys`)).status).toBe(200);
    expect(
      (await cli(['instances', 'add', 'bad', '--expires-in', 'soon', '--data-dir', server.dataDir]))
        .code,
    ).toBe(1);
  });
  it('status and audit verify report on the running server', async () => {
    const status = await cli(['status', '--json', '--data-dir', server.dataDir]);
    expect(JSON.parse(status.out)).toMatchObject({ serverId: server.serverId, url: server.url });
    const audit = await cli(['audit', 'verify', '--data-dir', server.dataDir]);
    expect(audit.code).toBe(0);
    expect(audit.out).toMatch(/intact: \d+ entries/);
  });
  it('audit verify exits 1 on an edited line', async () => {
    const other = await startTestServer();
    try {
      await other.invite({ owner: 'alice', name: 'x' });
      // A command's audit lines follow its answer; reading the log through the store waits for them.
      expect(JSON.stringify(await other.ctx.store.audit({ limit: 50 }))).toContain('"alice"');
      const path = join(other.dataDir, 'audit.jsonl');
      writeFileSync(path, readFileSync(path, 'utf8').replace('"alice"', '"eve"'));
      const audit = await cli(['audit', 'verify', '--data-dir', other.dataDir]);
      expect(audit.code).toBe(1);
      expect(audit.out).toContain('BROKEN');
    } finally {
      await other.close();
    }
  });
  it('revokes a device whose id starts with "-" when it follows "--"', async () => {
    let phone = await TestDevice.create({ owner: 'dash' });
    for (let i = 0; i < 3000 && !phone.id.startsWith('-'); i++) {
      phone = await TestDevice.create({ owner: 'dash' });
    }
    expect(phone.id.startsWith('-')).toBe(true);
    const { code } = await server.invite({ owner: 'dash', name: 'dash phone' });
    await phone.enroll(server.url, code);
    expect((await cli(['revoke', phone.id, '--data-dir', server.dataDir])).code).toBe(2);
    const revoked = await cli(['revoke', '--data-dir', server.dataDir, '--', phone.id]);
    expect(revoked.code).toBe(0);
    expect((await phone.call(server.url, 'GET', `${API_PREFIX}/devices`)).status).toBe(403);
  });
  it('takes the data directory from COUNTERSIGN_DATA_DIR', async () => {
    const status = await cli(['status', '--json'], { COUNTERSIGN_DATA_DIR: server.dataDir });
    expect(status.code).toBe(0);
  });
  it('says plainly that no server is running, and exits non-zero', async () => {
    const empty = tempDir();
    for (const args of [
      ['status'],
      ['devices'],
      ['enroll', '--owner', 'a', '--name', 'b'],
      ['audit', 'verify'],
    ]) {
      const result = await cli([...args, '--data-dir', empty]);
      expect(result.code).not.toBe(0);
      expect(result.err).toContain('no Countersign server is running');
    }
  });
  it('prints help for every command', async () => {
    for (const command of [
      'serve',
      'enroll',
      'devices',
      'revoke',
      'instances',
      'audit',
      'status',
    ]) {
      const { code, out } = await cli([command, '--help']);
      expect(code).toBe(0);
      expect(out).toContain('Usage: countersign');
    }
    expect((await cli(['--help'])).out).toContain('Commands:');
    expect((await cli(['frobnicate'])).code).toBe(2);
  });
});

describe('finding the server and reading its state', () => {
  it('finds the server `npm start` runs in this folder without --data-dir', async () => {
    const folder = tempDir();
    const embedded = await startTestServer({
      dataDir: join(folder, '.countersign', 'countersign'),
    });
    try {
      const status = await cli(['status', '--json'], {}, folder);
      expect(status.code, status.err).toBe(0);
      expect(JSON.parse(status.out)).toMatchObject({ serverId: embedded.serverId });
    } finally {
      await embedded.close();
    }
    // Stopped: it names the folder it found and how to start it, not a second server elsewhere.
    const stopped = await cli(['devices'], {}, folder);
    expect(stopped.code).toBe(3);
    expect(stopped.err).toContain(
      `the Countersign server of ${join(folder, '.countersign', 'countersign')} is not running`,
    );
    expect(stopped.err).toContain('npm start');
  });
  it('says where it looked and which flag to add when no server is found', async () => {
    const result = await cli(['status'], {}, tempDir());
    expect(result.code).toBe(3);
    expect(result.err).toContain('looked in ./.countersign and ./.countersign/countersign');
    expect(result.err).toContain('--data-dir DIR');
  });
  it('status counts deployments by state', async () => {
    const own = await startTestServer();
    try {
      const { token } = await own.addInstance('line-2');
      const phone = await own.enrollDevice({ owner: 'dora' });
      const base = [{ id: 't1', type: 'tab', label: 'One' }];
      const first = await own.propose(token, base, [
        ...base,
        { id: 't2', type: 'tab', label: 'A' },
      ]);
      const second = await own.propose(token, base, [
        ...base,
        { id: 't3', type: 'tab', label: 'B' },
      ]);
      expect((await phone.decide(own.url, second.id)).status).toBe(200);
      const target = (await phone.deployment(own.url, second.id)).target;
      const applied = await own.pluginFetch(
        token,
        'POST',
        `${API_PREFIX}/deployments/${second.id}/outcome`,
        {
          status: 'applied',
          rev: target,
        },
      );
      expect(applied.status).toBe(200);
      await own.propose(token, base, [...base, { id: 't4', type: 'tab', label: 'C' }]);
      expect((await phone.deployment(own.url, first.id)).status).toBe('superseded');
      const status = await cli(['status', '--data-dir', own.dataDir]);
      expect(status.out).toContain('Deployments: 1 pending, 1 applied, 1 superseded (3 in all)');
      const json = JSON.parse((await cli(['status', '--json', '--data-dir', own.dataDir])).out) as {
        deployments: { byStatus: Record<string, number> };
      };
      expect(json.deployments.byStatus).toMatchObject({
        pending: 1,
        applied: 1,
        superseded: 1,
        approved: 0,
      });
    } finally {
      await own.close();
    }
  });
  it('devices prints a header over its columns', async () => {
    const phone = await server.enrollDevice({ owner: 'erin', name: 'Pixel 7' });
    const lines = (await cli(['devices', '--data-dir', server.dataDir])).out.split('\n');
    expect(lines[0]).toMatch(/^FINGERPRINT +OWNER +DEVICE +STATE +PUSH +ID$/);
    const row = lines.find((l) => l.startsWith(phone.fingerprint))!;
    expect(row).toMatch(/ erin +Pixel 7 +active +no +/);
    expect(row.indexOf('erin')).toBe(lines[0]!.indexOf('OWNER'));
  });
});

describe('countersign serve configuration', () => {
  it('reads flags over environment over the config file', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ port: 2000, name: 'From file', policy: { requiredApprovals: 2 } }),
    );
    const config = serveConfig(
      { 'data-dir': dir, 'expires-in': '2h' },
      { COUNTERSIGN_PORT: '3000' },
    );
    expect(config).toMatchObject({
      port: 3000,
      name: 'From file',
      policy: { requiredApprovals: 2, expiresIn: '2h' },
    });
    expect(serveConfig({ 'data-dir': dir, port: '4000' }, { COUNTERSIGN_PORT: '3000' }).port).toBe(
      4000,
    );
    expect(
      serveConfig(
        { 'data-dir': dir, 'trust-proxy': '127.0.0.1, ::ffff:10.0.0.2' },
        { COUNTERSIGN_TRUST_PROXY: '10.9.9.9' },
      ).trustProxy,
    ).toEqual(['127.0.0.1', '10.0.0.2']);
    expect(serveConfig({ 'data-dir': dir }, { COUNTERSIGN_TRUST_PROXY: '::1' }).trustProxy).toEqual(
      ['::1'],
    );
  });
  it('rejects bad settings with one clear line each', async () => {
    const dir = tempDir();
    const bad: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--port', 'eighty'], {}, /port must be an integer/],
      [[], { COUNTERSIGN_PORT: '70000' }, /COUNTERSIGN_PORT: port must be/],
      [['--public-url', 'http://approvals.example.com'], {}, /publicUrl must be https/],
      [[], { COUNTERSIGN_PUBLIC_URL: 'not a url' }, /publicUrl is not a URL/],
      [['--tls-cert', join(dir, 'missing.pem')], {}, /both a certificate and a key/],
      [['--required-approvals', '0'], {}, /requiredApprovals/],
      [['--expires-in', 'forever'], {}, /expiresIn/],
      [['--push-subject', 'ftp://x'], {}, /pushSubject/],
      [['--config', join(dir, 'nope.json')], {}, /does not exist/],
      [['--trust-proxy', 'caddy'], {}, /trustProxy: "caddy" is not an IP address/],
      [[], { COUNTERSIGN_TRUST_PROXY: '10.0.0.1,,x' }, /is not an IP address/],
    ];
    for (const [flags, env, message] of bad) {
      const result = await cli(['serve', '--data-dir', dir, ...flags], env);
      expect(result.code, flags.join(' ')).toBe(1);
      expect(result.err.split('\n')).toHaveLength(1);
      expect(result.err).toMatch(message);
    }
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ prot: 1 }));
    expect((await cli(['serve', '--data-dir', dir])).err).toMatch(/unknown setting "prot"/);
    writeFileSync(join(dir, 'config.json'), '{');
    expect((await cli(['serve', '--data-dir', dir])).err).toMatch(/is not JSON/);
  });
});

describe('bin/countersign.js', () => {
  it('serves, enrols through the admin API of that process, and stops on SIGTERM', async () => {
    expect(existsSync(join(root, 'dist/server/cli/main.js')), 'run `npm run build` first').toBe(
      true,
    );
    const dataDir = tempDir();
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--port', '0', '--json', '--data-dir', dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let out = '';
      await new Promise<void>((resolveStart, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.trim().endsWith('}')) resolveStart();
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const started = JSON.parse(out) as { url: string; serverId: string };
      const enrolled = await new Promise<string>((resolveRun) => {
        const run = spawn(process.execPath, [
          bin,
          'enroll',
          '--owner',
          'alice',
          '--name',
          'phone',
          '--json',
          '--data-dir',
          dataDir,
        ]);
        let text = '';
        run.stdout.on('data', (d: Buffer) => (text += d.toString()));
        run.on('close', () => resolveRun(text));
      });
      const inv = JSON.parse(enrolled) as { code: string; url: string };
      expect(inv.url.startsWith(`${started.url}/#/enroll?code=`)).toBe(true);
      const phone = await TestDevice.create({ owner: 'alice' });
      expect((await phone.enroll(started.url, inv.code)).id).toBe(phone.id);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
    expect((await cli(['status', '--data-dir', dataDir])).err).toContain(
      'no Countersign server is running',
    );
  });
});
