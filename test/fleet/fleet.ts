/**
 * The fleet scenario (DESIGN 9 and 11): Caddy in front of two replicas of `countersign serve` (child
 * processes) on one PostgreSQL database; simulated Node-RED instances using the plugin's own client
 * (`ApprovalClient`, the `Watcher` on the event stream, `reportOutcome`) each propose deployments one
 * after another and apply each once it is approved; three devices of three people approve them
 * (every instance needs two); one replica is killed with SIGKILL mid-run. The test and the bench
 * both run it (the bench at full size) and check what it returns.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  credentialFieldsOf,
  parseInvitationResponse,
  parseIssuedInstance,
  revOf,
  snapshotBytes,
  type DeploymentEvent,
  type Flows,
} from '../../protocol/index.js';
import { adminCall } from '../../server/cli/admin-client.js';
import { ApprovalClient, ServerError } from '../../plugin/link/client.js';
import { reportOutcome } from '../../plugin/link/outcome.js';
import { Watcher } from '../../plugin/link/watcher.js';
import { TestDevice } from '../helpers/device.js';
import { freePort } from '../helpers/free-port.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'countersign.js');

export type FleetOptions = {
  /** The database both replicas use (empty). */
  databaseUrl: string;
  instances: number;
  deploymentsPerInstance: number;
  /** SIGKILL one replica once this many deployments were applied (`Infinity`: never). */
  killAfter: number;
  /**
   * Instance `i` sends its first deployment `i × startSpreadMs / instances` ms after the start, as a
   * fleet's deployments arrive on their own; 0 (the default) sends every first one at once.
   */
  startSpreadMs?: number;
  log?: (line: string) => void;
};

export type FleetResult = {
  /** Milliseconds of each proposal answered 201 (through Caddy). */
  proposeMs: number[];
  /** Proposals that failed (the replica died under them, or Caddy had no replica yet) and were sent again. */
  retries: number;
  /** Per instance and logical deployment: how many times the instance applied it. */
  applied: number[][];
  /** Deployment ids each instance heard of as approved, from the event stream or its polls. */
  toldApproved: Set<string>[];
  /** Ids each instance got back from a proposal. */
  proposedIds: Set<string>[];
  /** Instance ids in the order of `applied`. */
  instanceIds: string[];
  killedAtApplied: number;
  /** Requests the proxy answered 503 "no upstreams available" (while one replica was alive). */
  noUpstream: number;
  /** `countersign audit verify --json` on the surviving replica: exit code and output. */
  auditVerify: { status: number | null; output: string };
  /** Every deployment in the database: id, instance, status, target. */
  rows: Array<{ id: string; instance_id: string; status: string; target: string }>;
  /** Approval decisions recorded per deployment id. */
  approvalCounts: Map<string, number>;
  seconds: number;
};

type Replica = { child: ChildProcess; dataDir: string; port: number; output: string };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function startReplica(databaseUrl: string, port: number, publicUrl: string): Replica {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-replica-'));
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--store',
      databaseUrl,
      '--data-dir',
      dataDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--public-url',
      publicUrl,
      '--trust-proxy',
      '127.0.0.1',
      '--required-approvals',
      '2',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  const replica: Replica = { child, dataDir, port, output: '' };
  child.stdout!.on('data', (d: Buffer) => (replica.output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (replica.output += d.toString()));
  return replica;
}

/**
 * The proxy's configuration for two replicas, as README shows it. A dead replica is taken out by
 * the active health check (`GET /api/v1/config` every second), not by passive failure counting:
 * Caddy 2.6 (Debian's) closes a request's body when its dial to a dead upstream fails, so the
 * retry on the live replica fails too ("invalid Read on closed Body", caddyserver/caddy#7546) and
 * a passive check (`fail_duration`) then marks the live replica down as well: every request
 * answered 503 for `fail_duration`, each time the dead replica's mark expired.
 */
export function caddyfile(port: number, upstreams: number[]): string {
  return `{
	admin off
	auto_https off
}

http://127.0.0.1:${port} {
	reverse_proxy ${upstreams.map((p) => `127.0.0.1:${p}`).join(' ')} {
		lb_policy round_robin
		lb_try_duration 10s
		lb_try_interval 100ms
		health_uri /api/v1/config
		health_interval 1s
		health_timeout 2s
		flush_interval -1
	}
}
`;
}

type Caddy = { child: ChildProcess; output: () => string; noUpstream: () => number };

function startCaddy(dir: string, port: number, upstreams: number[]): Caddy {
  writeFileSync(join(dir, 'Caddyfile'), caddyfile(port, upstreams));
  const child = spawn(
    'caddy',
    ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
    {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let noUpstream = 0;
  const keep = (d: Buffer): void => {
    const text = d.toString();
    noUpstream += text.split('no upstreams available').length - 1;
    output = (output + text).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => output, noUpstream: () => noUpstream };
}

/** Two replicas on one database behind Caddy, all answering; `stop()` ends them. */
export type ReplicaPair = {
  replicas: [Replica, Replica];
  caddy: Caddy;
  publicUrl: string;
  stop(): Promise<void>;
};

/** Starts two replicas on `databaseUrl` (an empty database: the migrations run once) and Caddy. */
export async function startPair(databaseUrl: string): Promise<ReplicaPair> {
  const temp = mkdtempSync(join(tmpdir(), 'countersign-fleet-'));
  const [proxyPort, port1, port2] = [await freePort(), await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${proxyPort}`;
  const replicas: Replica[] = [];
  let caddy: Caddy | null = null;
  const stopAll = async (): Promise<void> => {
    await Promise.all([
      ...(caddy ? [stop(caddy.child)] : []),
      ...replicas.map((r) => stop(r.child)),
    ]);
    for (const r of replicas) rmSync(r.dataDir, { recursive: true, force: true });
    rmSync(temp, { recursive: true, force: true });
  };
  try {
    replicas.push(startReplica(databaseUrl, port1, publicUrl));
    replicas.push(startReplica(databaseUrl, port2, publicUrl));
    for (const r of replicas) {
      await waitFor(`replica on ${r.port}`, async () => {
        if (r.child.exitCode !== null) throw new Error(`replica exited:\n${r.output}`);
        return (await fetch(`http://127.0.0.1:${r.port}/api/v1/config`)).ok;
      }).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${r.output}`);
      });
    }
    const proxy = (caddy = startCaddy(temp, proxyPort, [port1, port2]));
    await waitFor('caddy', async () => {
      if (proxy.child.exitCode !== null) throw new Error(`caddy exited:\n${proxy.output()}`);
      return (await fetch(`${publicUrl}/api/v1/config`)).ok;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${proxy.output()}`);
    });
    return { replicas: replicas as [Replica, Replica], caddy: proxy, publicUrl, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The flows of instance `i` at version `k`: a tab and a few nodes whose names change. */
function flowsOf(i: number, k: number): Flows {
  return [
    { id: `tab${i}`, type: 'tab', label: `line ${i}` },
    { id: `in${i}`, type: 'inject', z: `tab${i}`, name: `tick ${k}`, wires: [[`fn${i}`]] },
    { id: `fn${i}`, type: 'function', z: `tab${i}`, func: `return msg; // v${k}`, wires: [] },
  ] as Flows;
}

/** A transient failure: the server could not be reached, or answered 5xx (a replica going away). */
function transient(err: unknown): boolean {
  const status = err instanceof ServerError ? err.httpStatus : null;
  return status === null || status >= 500;
}

async function retrying<T>(fn: () => Promise<T>, onRetry: () => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!transient(err) || attempt > 50) throw err;
      onRetry();
      await sleep(100 + 50 * attempt);
    }
  }
}

/**
 * Reports `applied` with the plugin's `reportOutcome` (five tries; the plugin's gate keeps what
 * is left on disk and sends it at its next connection) until the server has it: a busy machine and
 * a killed replica can take longer than five tries.
 */
async function reportApplied(client: ApprovalClient, id: string, rev: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    await reportOutcome(client, { warn: () => {} }, id, 'applied', rev);
    const seen = await client.deployment(id).catch(() => null);
    if (seen && seen.status !== 'approved') return;
  }
}

/** Runs the scenario; always stops what it started. */
export async function runFleet(options: FleetOptions): Promise<FleetResult> {
  const log = options.log ?? (() => {});
  let pair: ReplicaPair | null = null;
  const watchers: Watcher[] = [];
  const started = Date.now();
  try {
    pair = await startPair(options.databaseUrl);
    const { replicas, publicUrl } = pair;
    const [port1, port2] = replicas.map((r) => r.port) as [number, number];
    const ids = await Promise.all(
      [port1, port2, port1].map(async (p) => {
        const body = (await (await fetch(`http://127.0.0.1:${p}/api/v1/config`)).json()) as {
          serverId: string;
        };
        return body.serverId;
      }),
    );
    if (new Set(ids).size !== 1) throw new Error('the replicas do not share one server id');

    const [first] = replicas;
    // Three people, one device each, enrolled through the proxy.
    const devices: TestDevice[] = [];
    for (const owner of ['alice', 'bob', 'carol']) {
      const device = await TestDevice.create({ owner, name: `${owner}'s phone` });
      const inv = await adminCall(first.dataDir, 'POST', '/invitations', parseInvitationResponse, {
        owner,
        name: device.name,
      });
      await device.enroll(publicUrl, inv.code, null);
      devices.push(device);
    }
    const instances: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < options.instances; i++) {
      instances.push(
        await adminCall(first.dataDir, 'POST', '/instances', parseIssuedInstance, {
          name: `line-${i}`,
          policy: { requiredApprovals: 2 },
        }),
      );
    }
    log(`fleet: ${options.instances} instances, 3 devices, replicas on ${port1} and ${port2}`);

    const result: FleetResult = {
      proposeMs: [],
      retries: 0,
      applied: instances.map(() => new Array<number>(options.deploymentsPerInstance).fill(0)),
      toldApproved: instances.map(() => new Set<string>()),
      proposedIds: instances.map(() => new Set<string>()),
      instanceIds: instances.map((i) => i.id),
      killedAtApplied: -1,
      noUpstream: 0,
      auditVerify: { status: null, output: '' },
      rows: [],
      approvalCounts: new Map(),
      seconds: 0,
    };
    let appliedTotal = 0;
    let done = false;
    // A device or instance that fails ends the run at once, with its reason.
    let fail!: (err: unknown) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    const total = options.instances * options.deploymentsPerInstance;

    const killer = (async () => {
      while (!done && appliedTotal < options.killAfter) await sleep(20);
      if (done) return;
      result.killedAtApplied = appliedTotal;
      replicas[1]!.child.kill('SIGKILL');
      log(`fleet: replica on ${port2} killed with SIGKILL after ${appliedTotal} applied`);
    })();

    const deviceLoops = devices
      .map(async (device) => {
        const decided = new Set<string>();
        while (!done) {
          const pending = await device
            .call<{ deployments: Array<{ id: string }> }>(
              publicUrl,
              'GET',
              '/api/v1/deployments?status=pending',
            )
            .catch(() => null);
          const fresh =
            pending?.status === 200
              ? pending.body.deployments.filter((d) => !decided.has(d.id))
              : [];
          if (fresh.length === 0) {
            await sleep(100);
            continue;
          }
          for (const d of fresh) {
            const answer = await device.decide(publicUrl, d.id).catch(() => null);
            // 200 decided; 409 no longer pending or decided already; 4xx otherwise is a failure.
            if (answer && (answer.status === 200 || answer.status === 409)) decided.add(d.id);
            else if (answer && answer.status < 500 && answer.status !== 404) {
              throw new Error(`decision refused: ${answer.status} ${JSON.stringify(answer.body)}`);
            }
          }
        }
      })
      .map((loop) => loop.catch((err: unknown) => fail(err)));

    const instanceLoops = instances.map(async (inst, i) => {
      const client = new ApprovalClient({ baseUrl: publicUrl, token: inst.token });
      let held: { id: string; k: number; rev: string } | null = null;
      const appliedIds = new Set<string>();
      let wake: (() => void) | null = null;
      const onDeployment = (view: DeploymentEvent): void => {
        if (view.status === 'approved') result.toldApproved[i]!.add(view.id);
        if (
          view.status === 'approved' &&
          held?.id === view.id &&
          !appliedIds.has(view.id) &&
          view.approvals.filter((a) => a.verdict === 'approve' && a.jws).length >= 2
        ) {
          // Applied once: the gate holds each deployment until its approval and then lets it go.
          appliedIds.add(view.id);
          result.applied[i]![held.k]! += 1;
          appliedTotal++;
          const { id, rev } = held;
          held = null;
          void reportApplied(client, id, rev).finally(() => wake?.());
        }
      };
      const watcher = new Watcher({
        client,
        onDeployment,
        heldIds: () => (held ? [held.id] : []),
        log: { info: () => {}, warn: () => {} },
        // The plugin's own poll intervals (register.ts passes none): the event stream tells, and
        // sends the approved deployments again on each reconnection.
      });
      watchers.push(watcher);
      watcher.start();
      await sleep((i * (options.startSpreadMs ?? 0)) / options.instances);
      for (let k = 0; k < options.deploymentsPerInstance; k++) {
        const base = flowsOf(i, k);
        const target = flowsOf(i, k + 1);
        const [baseRev, targetRev] = [await revOf(base), await revOf(target)];
        const retry = (): void => void result.retries++;
        await retrying(() => client.uploadBlob(baseRev, snapshotBytes(base)), retry);
        await retrying(() => client.uploadBlob(targetRev, snapshotBytes(target)), retry);
        const answer = await retrying(async () => {
          const t0 = performance.now();
          const a = await client.propose({
            base: baseRev,
            target: targetRev,
            creds: null,
            credentials: credentialFieldsOf({}),
            type: 'full',
            source: { user: `editor-${i}`, via: 'editor' },
          });
          result.proposeMs.push(performance.now() - t0);
          return a;
        }, retry);
        result.proposedIds[i]!.add(answer.id);
        const applied = new Promise<void>((resolve) => (wake = resolve));
        held = { id: answer.id, k, rev: targetRev };
        await applied;
      }
    });

    try {
      await Promise.race([Promise.all(instanceLoops), failed]);
    } finally {
      done = true;
    }
    await Promise.all([...deviceLoops, killer]);
    result.seconds = (Date.now() - started) / 1000;
    result.noUpstream = pair.caddy.noUpstream();
    log(`fleet: ${total} deployments applied in ${result.seconds.toFixed(1)} s`);

    const verify = spawnSync(
      process.execPath,
      [CLI, 'audit', 'verify', '--json', '--data-dir', first.dataDir],
      { encoding: 'utf8' },
    );
    result.auditVerify = { status: verify.status, output: verify.stdout + verify.stderr };

    const db = new pg.Client({ connectionString: options.databaseUrl });
    await db.connect();
    try {
      result.rows = (
        await db.query<FleetResult['rows'][number]>(
          'SELECT id, instance_id, status, target FROM deployments',
        )
      ).rows;
      const { rows } = await db.query<{ id: string; n: number }>(
        `SELECT id, json_array_length(record->'approvals') AS n FROM deployments`,
      );
      result.approvalCounts = new Map(rows.map((r) => [r.id, r.n]));
    } finally {
      await db.end();
    }
    return result;
  } catch (err) {
    const tails = (pair?.replicas ?? []).map(
      (r) => `--- replica ${r.port} ---\n${r.output.slice(-3000)}`,
    );
    throw new Error(`${String(err)}\n${tails.join('\n')}`, { cause: err });
  } finally {
    await Promise.all(watchers.map((w) => w.close()));
    await pair?.stop();
  }
}

/** Stops a child: SIGTERM, then SIGKILL when it has not exited within 10 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The p-th percentile (0–100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
