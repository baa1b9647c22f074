/**
 * The proxy in front of two replicas (README, DESIGN 11) after one replica dies: once Caddy has
 * noticed, every request is answered by the surviving replica, also past the moment a passive
 * health check would let the dead one back in (`fail_duration 30s` made Caddy 2.6 answer 503 to
 * everything for 30 s there, because the retry of a request whose dial to the dead replica failed
 * fails on the live one too, which the passive check then marks down).
 */
import { describe, expect, it } from 'vitest';
import { parseIssuedInstance, snapshotBytes, revOf, type Flows } from '../../protocol/index.js';
import { adminCall } from '../../server/cli/admin-client.js';
import { ApprovalClient, ServerError } from '../../plugin/link/client.js';
import { freshDatabase } from '../helpers/postgres.js';
import { startPair } from './fleet.js';

/** Longer than the 30 s `fail_duration` the proxy's configuration had. */
const WATCH_MS = 40_000;

describe('Caddy in front of two replicas', () => {
  it('sends every request to the surviving replica after the other is killed', async () => {
    const server = process.env.COUNTERSIGN_TEST_POSTGRES;
    expect(server, 'the postgres global setup runs').toBeTruthy();
    const pair = await startPair(await freshDatabase(server!));
    try {
      const [first, second] = pair.replicas;
      const instance = await adminCall(first.dataDir, 'POST', '/instances', parseIssuedInstance, {
        name: 'line-1',
        policy: { requiredApprovals: 1 },
      });
      const client = new ApprovalClient({ baseUrl: pair.publicUrl, token: instance.token });
      // A write with a body (the case Caddy's retry got wrong), a different blob each time; its
      // status, 0 when unreachable. The instance's rate limit answers 429 soon: a replica answered.
      let n = 0;
      const write = async (): Promise<number> => {
        const flows = [{ id: `tab${n++}`, type: 'tab', label: 'line' }] as Flows;
        try {
          await client.uploadBlob(await revOf(flows), snapshotBytes(flows));
          return 200;
        } catch (err) {
          if (err instanceof ServerError) return err.httpStatus ?? 0;
          throw err;
        }
      };
      const answered = (status: number): boolean => status > 0 && status < 500;
      expect(await write()).toBe(200);

      second.child.kill('SIGKILL');
      // Until the proxy has noticed, a write may fail (the plugin sends it again).
      let inARow = 0;
      for (let tries = 0; inARow < 20; tries++) {
        expect(tries, 'the proxy never settled on the surviving replica').toBeLessThan(2000);
        inARow = answered(await write()) ? inARow + 1 : 0;
      }
      const failed: number[] = [];
      const until = Date.now() + WATCH_MS;
      while (Date.now() < until) {
        const status = await write();
        if (!answered(status)) failed.push(status);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(failed).toEqual([]);
      expect(pair.caddy.noUpstream()).toBe(0);
    } finally {
      await pair.stop();
    }
  }, 180_000);
});
