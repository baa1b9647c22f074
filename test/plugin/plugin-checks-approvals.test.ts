/**
 * The plugin alone refuses each of rows 2 and 4–13 of DESIGN 5.4 when a lying approval server hands
 * it the approval: a real Node-RED 4.1 with the gate, a real standalone server, and between them a
 * proxy that holds back the proposal's event and rewrites it into "approved" with approvals the
 * server never saw. The gate requires two people (`requiredApprovals: 2`) and forbids self-approval,
 * so each case hands one honest approval (bob's) and one broken one: only the broken one's row stands
 * between the deployment and the runtime. Nothing runs in any case; the honest pair applies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALG,
  TYP_APPROVAL,
  revOf,
  type ErrorCode,
  type Flows,
  type Verdict,
} from '../../protocol/index.js';
import { TestDevice, type DecideOptions } from '../helpers/device.js';
import type { RunningNodeRed } from '../helpers/node-red.js';
import type { TestServer } from '../helpers/server.js';
import { signRaw } from '../helpers/sign-raw.js';
import type { ApprovalProxy } from './approval-proxy.js';
import { activeRev, deploy, statusOf, viewOf } from './deploy.js';
import { ask, endpointFlows } from './flows-fixture.js';
import { startProxiedGate, type ProxiedGate } from './proxied-gate.js';

/** How long the gate waits for approvals (its own `expiresIn`): row 8 waits it out. */
const EXPIRES_IN_S = 15;

let rig: ProxiedGate;
let server: TestServer;
let proxy: ApprovalProxy;
let nr: RunningNodeRed;
let token: string;
let alice: TestDevice;
let alicesTablet: TestDevice;
let bob: TestDevice;
/** A device of the user who deploys through the admin API without a login ('anonymous'). */
let deployer: TestDevice;
let round = 0;

/** An approval as the lying server hands it to the plugin. */
type Handed = { device: string; jws: string; changes: unknown; verdict?: Verdict };

/** A signed approval of `id` by `device` as an honest phone makes it, then altered by `options`. */
async function approvalBy(device: TestDevice, id: string, options: DecideOptions = {}) {
  const { jws, changes } = await device.signedDecision(server.url, id, options);
  return { device: device.id, jws, changes };
}

/**
 * Deploys new flows with the event held back, builds the approvals the lying server will hand
 * over, then lets the rewritten event through and waits for the plugin's outcome in its log.
 */
async function handOver(
  make: (id: string) => Promise<Handed[]>,
  options: { flows?: Flows; waitBeforeS?: number } = {},
): Promise<{ id: string; line: string; flows: Flows }> {
  const flows = options.flows ?? endpointFlows(`round ${++round}`);
  proxy.pause();
  let id: string;
  try {
    id = await deploy(nr, flows);
    const handed = await make(id);
    proxy.rewrite = (view) =>
      view.id === id
        ? {
            ...view,
            status: 'approved',
            approvals: handed.map((a) => ({
              device: a.device,
              verdict: a.verdict ?? 'approve',
              at: new Date().toISOString(),
              jws: a.jws,
              changes: a.changes,
            })),
          }
        : view;
    if (options.waitBeforeS) await new Promise((r) => setTimeout(r, options.waitBeforeS! * 1000));
  } finally {
    proxy.resume();
  }
  const line = await nr.waitForLog(new RegExp(`deployment ${id} (failed|stale|approved by)`));
  proxy.rewrite = null;
  return { id, line, flows };
}

/** Hands over bob's honest approval and `broken`; expects the plugin to refuse with `code`. */
async function expectRefused(
  code: ErrorCode,
  broken: (id: string) => Promise<Handed | Handed[]>,
  options: { flows?: Flows; waitBeforeS?: number } = {},
): Promise<string> {
  const before = activeRev(nr);
  const answer = await ask(nr.nodeUrl);
  const { id, line } = await handOver(
    async (id) => [await approvalBy(bob, id), ...[await broken(id)].flat()],
    options,
  );
  // The quorum of two fails, and the broken approval is refused at its own row (row 8 refuses
  // the honest one too: the deployment is no longer pending for anyone).
  expect(line).toMatch(
    new RegExp(
      `deployment ${id} failed: the approvals did not verify: ERR_APPROVAL_INCOMPLETE approvals of ${code === 'ERR_DEPLOYMENT_NOT_PENDING' ? 0 : 1} of 2 required people verified: (.*; )?${code} `,
    ),
  );
  expect(activeRev(nr)).toBe(before);
  expect(await ask(nr.nodeUrl)).toBe(answer);
  return id;
}

const now = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  rig = await startProxiedGate({
    policy: { requiredApprovals: 2 },
    countersign: {
      requiredApprovals: 2,
      forbidSelfApproval: true,
      expiresIn: `${EXPIRES_IN_S}s`,
    },
    nodeRed: { credentials: { 'tab-main-req': { user: 'alice', password: 'secret-A' } } },
  });
  ({ server, proxy, nr, token } = rig);
  alice = await server.enrollDevice({ owner: 'alice' });
  alicesTablet = await server.enrollDevice({ owner: 'alice', name: "alice's tablet" });
  bob = await server.enrollDevice({ owner: 'bob' });
  deployer = await server.enrollDevice({ owner: 'anonymous', name: "the deployer's phone" });
});

afterAll(async () => {
  await rig?.close();
});

describe('the honest pair', () => {
  it('applies a deployment two people approved, handed over exactly as the server keeps it', async () => {
    const { id, line, flows } = await handOver(async (id) => [
      await approvalBy(alice, id),
      await approvalBy(bob, id),
    ]);
    expect(line).toMatch(new RegExp(`deployment ${id} approved by alice .*, bob `));
    expect(activeRev(nr)).toBe(await revOf(flows));
    expect(await ask(nr.nodeUrl)).toBe(`round ${round}`);
  });
});

describe('each row, checked by the plugin alone', () => {
  it('row 2: a header other than ES256 / countersign-approval+jwt', async () => {
    await expectRefused('ERR_APPROVAL_HEADER', async (id) => {
      const { claims, changes } = await alice.approval(server.url, id);
      const jws = await signRaw(alice, { alg: ALG, typ: 'JWT', kid: alice.id }, claims);
      return { device: alice.id, jws, changes };
    });
  });

  it('row 3: a kid that names no published key', async () => {
    const stranger = await TestDevice.create({ owner: 'carol' });
    await expectRefused('ERR_DEVICE_UNKNOWN', async (id) => {
      const { claims, changes } = await alice.approval(server.url, id, {
        overrides: { iss: stranger.id },
      });
      return { device: stranger.id, jws: await stranger.signApproval(claims), changes };
    });
  });

  it("row 4: alice's kid on a signature made with another key", async () => {
    const mallory = await TestDevice.create({ owner: 'mallory' });
    await expectRefused('ERR_APPROVAL_SIGNATURE', async (id) => {
      const { claims, changes } = await alice.approval(server.url, id);
      const jws = await signRaw(mallory, { alg: ALG, typ: TYP_APPROVAL, kid: alice.id }, claims);
      return { device: alice.id, jws, changes };
    });
  });

  it('row 5: an approval for another server, or for another deployment', async () => {
    await expectRefused('ERR_APPROVAL_CLAIMS', (id) =>
      approvalBy(alice, id, { overrides: { aud: 'another-server' } }),
    );
    await expectRefused('ERR_APPROVAL_CLAIMS', (id) =>
      approvalBy(alice, id, { overrides: { sub: 'ffffffffffff' } }),
    );
  });

  it('row 6: an approval that expired a day ago, and one with a ten-year lifetime', async () => {
    await expectRefused('ERR_APPROVAL_EXPIRED', (id) =>
      approvalBy(alice, id, { overrides: { iat: now() - 86_400 - 120, exp: now() - 86_400 } }),
    );
    await expectRefused('ERR_APPROVAL_EXPIRED', (id) =>
      approvalBy(alice, id, { overrides: { iat: now(), exp: now() + 10 * 365 * 86_400 } }),
    );
  });

  it('row 7: a jti the plugin applied before', async () => {
    const { id: first, line } = await handOver(async (id) => [
      await approvalBy(alice, id, { overrides: { jti: 'reused-jti' } }),
      await approvalBy(bob, id),
    ]);
    expect(line).toMatch(new RegExp(`deployment ${first} approved by`));
    // The server never saw these approvals: the plugin recorded the jti itself.
    expect((await viewOf(server, token, first)).approvals).toEqual([]);
    await expectRefused('ERR_APPROVAL_REPLAY', (id) =>
      approvalBy(alice, id, { overrides: { jti: 'reused-jti' } }),
    );
  });

  it('row 8: a deployment whose wait ran out at the plugin (its own expiresIn)', async () => {
    await expectRefused('ERR_DEPLOYMENT_NOT_PENDING', (id) => approvalBy(alice, id), {
      waitBeforeS: EXPIRES_IN_S + 1,
    });
  }, 60_000);

  it('row 9: another base, target or credentials digest', async () => {
    await expectRefused('ERR_APPROVAL_MISMATCH', (id) =>
      approvalBy(alice, id, { overrides: { target: 'f'.repeat(64) } }),
    );
    await expectRefused('ERR_APPROVAL_MISMATCH', (id) =>
      approvalBy(alice, id, { overrides: { creds: 'c'.repeat(64) } }),
    );
  });

  it('row 10: an empty decision map, one without the credentials change, one not matching its digest', async () => {
    await expectRefused('ERR_APPROVAL_INCOMPLETE', (id) =>
      approvalBy(alice, id, { changes: {}, verdict: 'approve' }),
    );
    // A deployment that sets a credential: the lying server's list (and so the map) leaves the
    // credentials change out; the plugin recomputes the list from what it holds.
    const withCredentials = endpointFlows('with a new password').map((n) =>
      n.id === 'tab-main-req' ? { ...n, credentials: { password: 'secret-B' } } : n,
    );
    await expectRefused(
      'ERR_APPROVAL_INCOMPLETE',
      async (id) => {
        const { changes } = await alice.approval(server.url, id);
        expect(Object.keys(changes)).toContain('credentials:tab-main-req');
        const shown = { ...changes };
        delete shown['credentials:tab-main-req'];
        return approvalBy(alice, id, { changes: shown });
      },
      { flows: withCredentials },
    );
    expect(nr.RED.nodes.getCredentials('tab-main-req')).toMatchObject({ password: 'secret-A' });
    await expectRefused('ERR_APPROVAL_INCOMPLETE', async (id) => {
      const { changes } = await alice.approval(server.url, id);
      const first = Object.keys(changes)[0]!;
      return approvalBy(alice, id, { sentChanges: { ...changes, [first]: 'reject' } });
    });
  });

  it('row 11: approve as the verdict with a change rejected', async () => {
    await expectRefused('ERR_APPROVAL_INCONSISTENT', async (id) => {
      const { changes } = await alice.approval(server.url, id);
      const first = Object.keys(changes)[0]!;
      return approvalBy(alice, id, {
        changes: { ...changes, [first]: 'reject' },
        verdict: 'approve',
      });
    });
  });

  it('row 12: the same device twice', async () => {
    await expectRefused('ERR_APPROVAL_DUPLICATE', async (id) => [await approvalBy(bob, id)]);
  });

  it("row 13: the deploying user's own device, with forbidSelfApproval", async () => {
    await expectRefused('ERR_SELF_APPROVAL', (id) => approvalBy(deployer, id));
  });
});

describe('quorum counts people', () => {
  it('does not apply with two phones of one person', async () => {
    const before = activeRev(nr);
    const { id, line } = await handOver(async (id) => [
      await approvalBy(alice, id),
      await approvalBy(alicesTablet, id),
    ]);
    expect(line).toMatch(
      new RegExp(
        `deployment ${id} failed: .*ERR_APPROVAL_INCOMPLETE approvals of 1 of 2 required people`,
      ),
    );
    expect(activeRev(nr)).toBe(before);
  });

  it('does not apply when a valid rejection is among the approvals', async () => {
    const before = activeRev(nr);
    const { id, line } = await handOver(async (id) => [
      await approvalBy(alice, id),
      await approvalBy(bob, id),
      { ...(await approvalBy(alicesTablet, id, { verdict: 'reject' })), verdict: 'reject' },
    ]);
    expect(line).toMatch(new RegExp(`deployment ${id} failed: .*ERR_APPROVAL_INCONSISTENT`));
    expect(activeRev(nr)).toBe(before);
    expect(await statusOf(server, token, id)).toBe('pending');
  });
});

describe('reports that break the contract', () => {
  it('decides nothing from a deployment report that does not parse, even with an honest pair in it', async () => {
    const before = activeRev(nr);
    const answer = await ask(nr.nodeUrl);
    proxy.pause();
    let id: string;
    try {
      id = await deploy(nr, endpointFlows(`round ${++round}`));
      const handed = [await approvalBy(alice, id), await approvalBy(bob, id)];
      // Without protocol/wire's parser at the plugin's boundary, these two approvals would apply.
      proxy.rewrite = (view) =>
        view.id === id
          ? {
              ...view,
              status: 'approved',
              base: 'not a rev',
              approvals: handed.map((a) => ({
                device: a.device,
                verdict: 'approve',
                at: new Date().toISOString(),
                jws: a.jws,
                changes: a.changes,
              })),
            }
          : view;
    } finally {
      proxy.resume();
    }
    try {
      const line = await nr.waitForLog(/malformed (event|answer).*base must be 64 lowercase hex/);
      expect(line).toContain('Countersign:');
    } finally {
      proxy.rewrite = null;
    }
    expect(activeRev(nr)).toBe(before);
    expect(await ask(nr.nodeUrl)).toBe(answer);
    expect(await statusOf(server, token, id)).toBe('pending');
  });
});
