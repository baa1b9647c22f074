import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revOf, snapshotText, type Flows } from '../../protocol/index.js';
import { loadFlows, realFlowsFiles } from '../helpers/fixtures.js';

type NodeRed = {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  runtime: {
    flows: {
      setFlows(opts: { flows: { flows: Flows }; deploymentType: string }): Promise<{ rev: string }>;
      getFlows(opts: Record<string, unknown>): Promise<{ rev: string; flows: Flows }>;
    };
  };
};

// A plain Node-RED 4.1.x, no plugin: the rev it reports is the reference.
const RED = createRequire(import.meta.url)('node-red') as NodeRed;
const userDir = mkdtempSync(join(tmpdir(), 'countersign-rev-'));
const server = createServer();

beforeAll(async () => {
  RED.init(server, {
    userDir,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    logging: { console: { level: 'off' } },
    credentialSecret: 'a-test-secret',
  });
  await RED.start();
});

afterAll(async () => {
  await RED.stop();
  server.close();
  rmSync(userDir, { recursive: true, force: true });
});

describe('the rev of a flows array', () => {
  it.each(realFlowsFiles())('equals the rev Node-RED reports for %s', async (_name, path) => {
    const flows = loadFlows(path);
    const { rev } = await RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
    expect(await revOf(flows)).toBe(rev);
    const active = await RED.runtime.flows.getFlows({});
    expect(active.rev).toBe(rev);
  });

  it('ignores the credentials a deployment carries, as Node-RED does', async () => {
    const [, path] = realFlowsFiles()[0]!;
    const flows = loadFlows(path);
    const tab = flows.find((n) => n.type === 'tab')!;
    const withCredentials: Flows = [
      ...flows,
      {
        id: 'cs-test-http',
        type: 'http request',
        z: tab.id,
        x: 100,
        y: 100,
        name: '',
        method: 'GET',
        url: 'http://127.0.0.1:9/',
        authType: 'basic',
        credentials: { user: 'alice', password: 's3cret' },
        wires: [[]],
      },
    ];
    const { rev } = await RED.runtime.flows.setFlows({
      flows: { flows: withCredentials },
      deploymentType: 'full',
    });
    expect(await revOf(withCredentials)).toBe(rev);
    expect(snapshotText(withCredentials)).not.toContain('s3cret');
  });
});
