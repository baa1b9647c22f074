/**
 * The fleet rows (DESIGN 9): two replicas of `countersign serve` on one PostgreSQL behind Caddy,
 * 100 instances on the plugin's own client, three devices approving (the scenario of `test/fleet/`,
 * at full size).
 *
 * `fleet-propose-p95-ms`: 1,000 deployments, the instances' first ones arriving over 5 s (one every
 * 50 ms, as a fleet's deployments come on their own), one replica killed with SIGKILL mid-run. The
 * figure is the 95th percentile of proposals answered through the proxy; the row fails when
 * anything was lost or applied twice.
 *
 * `fleet-burst-p95-ms` (information): on two freshly started replicas, the 100 instances propose
 * at one instant, once each: what a synchronized burst waits on this machine, where the client,
 * the proxy, both replicas and the database share two cores.
 */
import { percentile, runFleet, type FleetResult } from '../test/fleet/fleet.js';
import { freshDatabase, startPostgres } from '../test/helpers/postgres.js';
import type { BenchRow } from './row.js';

const INSTANCES = 100;
const PER_INSTANCE = 10;
const SPREAD_MS = 5000;

/** Everything applied once, the audit chain intact. */
function intact(result: FleetResult, perInstance: number): boolean {
  const applied = result.rows.filter((r) => r.status === 'applied');
  const once = new Set(applied.map((r) => `${r.instance_id} ${r.target}`)).size;
  return (
    applied.length === INSTANCES * perInstance &&
    once === applied.length &&
    result.applied.every((counts) => counts.every((n) => n === 1)) &&
    result.auditVerify.status === 0
  );
}

function summary(what: string, result: FleetResult, ok: boolean): string {
  return (
    `${what}: ${result.rows.filter((r) => r.status === 'applied').length} applied ` +
    `${ok ? 'once each' : 'NOT ONCE EACH'}, ${result.retries} retries, propose p50 ` +
    `${percentile(result.proposeMs, 50).toFixed(1)} ms, p95 ${percentile(result.proposeMs, 95).toFixed(1)} ms, ` +
    `${result.seconds.toFixed(1)} s, ${result.noUpstream} answered "no upstreams available", ` +
    `audit verify ${result.auditVerify.status === 0 ? 'ok' : 'FAILED'}\n`
  );
}

export async function run(): Promise<BenchRow[]> {
  const server = await startPostgres();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  try {
    const spread = await runFleet({
      databaseUrl: await freshDatabase(server.url),
      instances: INSTANCES,
      deploymentsPerInstance: PER_INSTANCE,
      killAfter: (INSTANCES * PER_INSTANCE) / 3,
      startSpreadMs: SPREAD_MS,
      log,
    });
    const spreadOk = intact(spread, PER_INSTANCE);
    process.stderr.write(summary('fleet', spread, spreadOk));
    const burst = await runFleet({
      databaseUrl: await freshDatabase(server.url),
      instances: INSTANCES,
      deploymentsPerInstance: 1,
      killAfter: Infinity,
      log,
    });
    const burstOk = intact(burst, 1);
    process.stderr.write(summary('fleet burst', burst, burstOk));
    const p95 = percentile(spread.proposeMs, 95);
    const burstP95 = percentile(burst.proposeMs, 95);
    return [
      {
        name: 'fleet-propose-p95-ms',
        value: Math.round(p95 * 10) / 10,
        unit: 'ms',
        budget: `<= 100 (1,000 deployments, first ones over ${SPREAD_MS / 1000} s, a replica killed; nothing lost or applied twice)`,
        ok: p95 <= 100 && spreadOk,
      },
      {
        name: 'fleet-burst-p95-ms',
        value: Math.round(burstP95 * 10) / 10,
        unit: 'ms',
        budget:
          'info (100 proposals at one instant on fresh replicas; nothing lost or applied twice)',
        ok: burstOk,
      },
    ];
  } finally {
    await server.stop();
  }
}
