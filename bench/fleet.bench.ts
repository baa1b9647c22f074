/**
 * The fleet row (DESIGN 9): two replicas of `countersign serve` on one PostgreSQL behind Caddy,
 * 100 instances on the plugin's own client, 1,000 deployments, three devices approving, one
 * replica killed with SIGKILL mid-run (the scenario of `test/fleet/`, at full size). The figure is
 * the 95th percentile of proposals answered through the proxy; the row fails when anything was
 * lost or applied twice.
 */
import { percentile, runFleet } from '../test/fleet/fleet.js';
import { freshDatabase, startPostgres } from '../test/helpers/postgres.js';
import type { BenchRow } from './row.js';

const INSTANCES = 100;
const PER_INSTANCE = 10;

export async function run(): Promise<BenchRow[]> {
  const server = await startPostgres();
  try {
    const result = await runFleet({
      databaseUrl: await freshDatabase(server.url),
      instances: INSTANCES,
      deploymentsPerInstance: PER_INSTANCE,
      killAfter: (INSTANCES * PER_INSTANCE) / 3,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const applied = result.rows.filter((r) => r.status === 'applied');
    const once = new Set(applied.map((r) => `${r.instance_id} ${r.target}`)).size;
    const intact =
      applied.length === INSTANCES * PER_INSTANCE &&
      once === applied.length &&
      result.applied.every((perInstance) => perInstance.every((n) => n === 1)) &&
      result.auditVerify.status === 0;
    const p95 = percentile(result.proposeMs, 95);
    process.stderr.write(
      `fleet: ${applied.length} applied (${once} distinct), ${result.retries} retries, ` +
        `propose p50 ${percentile(result.proposeMs, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, ` +
        `${result.seconds.toFixed(1)} s, ${result.noUpstream} answered "no upstreams available", audit verify ${result.auditVerify.status === 0 ? 'ok' : 'FAILED'}\n`,
    );
    return [
      {
        name: 'fleet-propose-p95-ms',
        value: Math.round(p95 * 10) / 10,
        unit: 'ms',
        budget: '<= 100 (and nothing lost or applied twice)',
        ok: p95 <= 100 && intact,
      },
    ];
  } finally {
    await server.stop();
  }
}
