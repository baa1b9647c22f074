/**
 * Crash safety (issue 13, item 6): a real standalone server (`countersign serve` in a child process)
 * is killed with SIGKILL at random moments while instances propose, a phone decides, plugins report
 * outcomes and the retention prunes (by hand and on its own). After every kill it starts again on
 * the same data directory, and then: every proposal it acknowledged is still there, every decision
 * it acknowledged is recorded with its deployment and in the audit log, and the audit chain
 * verifies. At least 50 kills.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  credentialFieldsOf,
  revOf,
  snapshotBytes,
  type AuditEntry,
  type DeploymentDetail,
  type DeploymentPageResponse,
  type DeploymentStatus,
  type Flows,
} from '../../protocol/index.js';
import { TestDevice } from '../helpers/device.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { rng } from '../helpers/mutations.js';

const TRIALS = 50;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/countersign.js');

type Running = {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  adminToken: string;
  log: string[];
};

let dataDir: string;
let base: Flows;
let running: Running | null = null;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'countersign-crash-'));
  // Retention small enough that pruning runs all the time; quotas out of the way of the load.
  writeFileSync(
    join(dataDir, 'config.json'),
    JSON.stringify({ retention: { days: 90, keep: 3 }, quotas: { proposals: 100_000 } }),
  );
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('network__http__01'))![1]);
});
afterAll(() => {
  running?.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts `countersign serve` on the data directory; resolves once it listens. */
async function serve(): Promise<Running> {
  const env = { ...process.env };
  delete env.COUNTERSIGN_TEST_PUSH_ORIGIN;
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--port', '0', '--json', '--data-dir', dataDir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    },
  );
  const log: string[] = [];
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  let out = '';
  const url = await new Promise<string>((resolveStart, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.trim().endsWith('}')) resolveStart((JSON.parse(out) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${log.join('')}`)));
  });
  const info = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as {
    adminUrl: string;
  };
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return { child, url, adminUrl: info.adminUrl, adminToken, log };
}

async function kill(r: Running): Promise<void> {
  if (r.child.exitCode !== null) return;
  const exited = new Promise((done) => r.child.once('exit', done));
  r.child.kill('SIGKILL');
  await exited;
}

async function admin<T>(r: Running, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${r.adminUrl}${API_PREFIX}/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${r.adminToken}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** What the server acknowledged before a kill. */
type Acked = {
  proposals: Set<string>;
  /** Deployment id → the status the decision answered. */
  decisions: Map<string, DeploymentStatus>;
  outcomes: Map<string, DeploymentStatus>;
};

/** Proposes, decides, reports outcomes and prunes until the server stops answering. */
async function load(
  r: Running,
  tokens: Map<string, string>,
  phone: TestDevice,
  random: () => number,
  acked: Acked,
  stop: { done: boolean },
): Promise<void> {
  const plugin = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${r.url}${API_PREFIX}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined
        ? {}
        : { body: body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body) }),
    });
  const proposer = async (token: string): Promise<void> => {
    while (!stop.done) {
      const target = base.map((n) => (n.type === 'http in' ? { ...n, url: `/c${random()}` } : n));
      for (const flows of [base, target]) {
        await plugin(token, 'PUT', `/blobs/${await revOf(flows)}`, snapshotBytes(flows));
      }
      const res = await plugin(token, 'POST', '/deployments', {
        base: await revOf(base),
        target: await revOf(target),
        creds: null,
        credentials: credentialFieldsOf({}),
        type: 'full',
        source: { user: 'crash', via: 'test' },
      });
      if (res.status === 201) acked.proposals.add(((await res.json()) as { id: string }).id);
    }
  };
  const decider = async (): Promise<void> => {
    while (!stop.done) {
      const list = await phone.call<{ deployments: { id: string }[] }>(
        r.url,
        'GET',
        `${API_PREFIX}/deployments?status=pending`,
      );
      for (const { id } of list.body.deployments ?? []) {
        const verdict = random() < 0.5 ? 'approve' : 'reject';
        const answer = await phone.decide(r.url, id, { verdict }).catch(() => null);
        const status = (answer?.body as { status?: DeploymentStatus } | undefined)?.status;
        if (answer?.status === 200 && status) acked.decisions.set(id, status);
        if (status === 'approved') {
          // The instance's plugin reports it applied.
          const detail = await phone.deployment(r.url, id);
          const token = tokens.get(detail.instance)!;
          const res = await plugin(token, 'POST', `/deployments/${id}/outcome`, {
            status: 'applied',
            rev: detail.target,
          });
          if (res.status === 200) acked.outcomes.set(id, 'applied');
        }
      }
      if ((list.body.deployments ?? []).length === 0) await new Promise((w) => setTimeout(w, 5));
    }
  };
  const pruner = async (): Promise<void> => {
    while (!stop.done) {
      await admin(r, 'POST', '/prune');
      await new Promise((w) => setTimeout(w, 10 + random() * 40));
    }
  };
  const guard = (p: Promise<void>) => p.catch(() => undefined);
  await Promise.all([
    ...[...tokens.values()].map((t) => guard(proposer(t))),
    guard(decider()),
    guard(pruner()),
  ]);
}

/** Every deployment the server knows, through its newest-first pages. */
async function allDeployments(r: Running): Promise<Map<string, DeploymentStatus>> {
  const out = new Map<string, DeploymentStatus>();
  let before: string | null = '';
  while (before !== null) {
    const page: DeploymentPageResponse = await admin(
      r,
      'GET',
      `/history?limit=1000${before ? `&before=${encodeURIComponent(before)}` : ''}`,
    );
    for (const d of page.deployments) out.set(d.id, d.status);
    before = page.next;
  }
  return out;
}

function auditEntries(): AuditEntry[] {
  return readFileSync(join(dataDir, 'audit.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditEntry);
}

describe('kill -9 at random moments', () => {
  it(`loses nothing acknowledged over ${TRIALS} kills during proposals, decisions and pruning`, async () => {
    expect(existsSync(join(root, 'dist/server/cli/main.js')), 'run `npm run build` first').toBe(
      true,
    );
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const random = rng(seed);
    const acked: Acked = { proposals: new Set(), decisions: new Map(), outcomes: new Map() };
    running = await serve();
    const phone = await TestDevice.create({ owner: 'alice' });
    const { code } = await admin<{ code: string }>(running, 'POST', '/invitations', {
      owner: 'alice',
      name: 'phone',
    });
    await phone.enroll(running.url, code);
    const tokens = new Map<string, string>();
    for (const name of ['line-1', 'line-2']) {
      tokens.set(
        name,
        (await admin<{ token: string }>(running, 'POST', '/instances', { name })).token,
      );
    }

    const problems: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const stop = { done: false };
      const work = load(running, tokens, phone, random, acked, stop);
      await new Promise((w) => setTimeout(w, 40 + random() * 600));
      await kill(running);
      stop.done = true;
      await work;

      // It starts again on what the kill left, and holds everything it acknowledged.
      running = await serve();
      const known = await allDeployments(running);
      for (const id of acked.proposals) {
        if (!known.has(id)) problems.push(`trial ${trial}: proposal ${id} lost`);
      }
      for (const [id, status] of acked.decisions) {
        const now = known.get(id);
        const consistent =
          now === status ||
          (status === 'approved' && ['applied', 'stale', 'failed'].includes(now ?? ''));
        if (!consistent)
          problems.push(`trial ${trial}: decision on ${id} answered ${status}, now ${now}`);
      }
      for (const [id, status] of acked.outcomes) {
        if (known.get(id) !== status) problems.push(`trial ${trial}: outcome of ${id} lost`);
      }
      const verify = await admin<{ ok: boolean }>(running, 'GET', '/audit/verify');
      if (!verify.ok) problems.push(`trial ${trial}: audit ${JSON.stringify(verify)}`);
      if (problems.length > 0) break;
    }

    // Each acknowledged decision has its record: with the deployment, and in the audit log.
    const decided = new Set(
      auditEntries()
        .filter((e) => e.type === 'decision')
        .map((e) => String(e.data.deployment)),
    );
    for (const id of acked.decisions.keys()) {
      if (!decided.has(id)) problems.push(`decision on ${id} is not in the audit log`);
    }
    for (const id of [...acked.decisions.keys()].slice(-20)) {
      const detail: DeploymentDetail = await phone.deployment(running.url, id);
      if (!detail.approvals.some((a) => a.device === phone.id)) {
        problems.push(`decision on ${id} is not recorded with the deployment`);
      }
    }
    const stats = await admin<{ deployments: { decided: number; retained: number } }>(
      running,
      'GET',
      '/status',
    );
    expect(problems, `seed ${seed}`).toEqual([]);
    // The runs did what they were for: many proposals and decisions, and archives.
    expect(acked.proposals.size).toBeGreaterThan(TRIALS / 2);
    expect(acked.decisions.size).toBeGreaterThan(TRIALS / 5);
    expect(stats.deployments.decided).toBeGreaterThan(0);
    expect(stats.deployments.retained).toBeLessThan(stats.deployments.decided);
    await kill(running);
  }, 600_000);
});
