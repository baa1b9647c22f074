/**
 * The rig of the refusal tests: a real Node-RED 4.1 with the gate (flows `endpointFlows('A')` unless
 * told otherwise) talking to a real standalone approval server through the proxy that can hold back
 * or rewrite what the plugin learns (`approval-proxy.ts`). Resolves once the flows run and the
 * gate's event stream is connected.
 */
import { expect } from 'vitest';
import {
  startNodeRed,
  type RunningNodeRed,
  type StartNodeRedOptions,
} from '../helpers/node-red.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startApprovalProxy, type ApprovalProxy } from './approval-proxy.js';
import { endpointFlows } from './flows-fixture.js';
import { until } from './until.js';

/** What `startProxiedGate` gives; `close()` stops all three. */
export type ProxiedGate = {
  server: TestServer;
  proxy: ApprovalProxy;
  nr: RunningNodeRed;
  /** The instance token the gate uses. */
  token: string;
  close(): Promise<void>;
};

/** Starts the server, its instance (with `policy`), the proxy and Node-RED. */
export async function startProxiedGate(
  options: {
    policy?: Parameters<TestServer['addInstance']>[1];
    /** More `countersign` settings beside the server URL and token. */
    countersign?: Record<string, unknown>;
    nodeRed?: Omit<StartNodeRedOptions, 'countersign'>;
  } = {},
): Promise<ProxiedGate> {
  const server = await startTestServer();
  const { token } = await server.addInstance('line-1', options.policy);
  const proxy = await startApprovalProxy(server.url);
  const nr = await startNodeRed({
    flows: endpointFlows('A'),
    ...options.nodeRed,
    countersign: { server: proxy.url, instanceToken: token, ...options.countersign },
  });
  expect(nr.startError).toBeNull();
  await nr.waitForLog(/Started flows/);
  await until(nr, 'the event stream', async () => nr.status()?.eventsConnected);
  return {
    server,
    proxy,
    nr,
    token,
    async close() {
      await nr.close();
      await proxy.close();
      await server.close();
    },
  };
}
