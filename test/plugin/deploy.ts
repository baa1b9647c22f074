/**
 * Deploying through a gated Node-RED's editor API and reading back what the approval server and the
 * runtime then hold.
 */
import { expect } from 'vitest';
import { API_PREFIX, type Flows } from '../../protocol/index.js';
import type { RunningNodeRed } from '../helpers/node-red.js';
import type { TestServer } from '../helpers/server.js';

/** A deployment as the plugin's view of the approval server shows it. */
export type DeploymentView = {
  id: string;
  status: string;
  base: string;
  target: string;
  [key: string]: unknown;
};

/**
 * `POST /flows` with `flows` as JSON (`null` sends `{}`, as a reload does), with a
 * `Node-RED-Deployment-Type` header as the editor sends it when `type` is given.
 */
export function postFlows(
  nr: Pick<RunningNodeRed, 'editorUrl'>,
  flows: Flows | null,
  type?: string,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (type !== undefined) headers['Node-RED-Deployment-Type'] = type;
  return fetch(`${nr.editorUrl}/flows`, {
    method: 'POST',
    headers,
    body: JSON.stringify(flows ?? {}),
  });
}

/** Deploys `flows`, expects the gate to hold them (423) and returns the deployment id. */
export async function deploy(
  nr: RunningNodeRed,
  flows: Flows | null,
  type = 'full',
): Promise<string> {
  const res = await postFlows(nr, flows, type);
  const text = await res.text();
  expect(res.status, text).toBe(423);
  return /Deployment ([0-9a-f]{12})/.exec(text)![1]!;
}

/** The rev of the flows Node-RED is running. */
export function activeRev(nr: RunningNodeRed): string {
  return nr.RED.runtime._.flows.getFlows()!.rev;
}

/** The deployment `id` as the plugin (instance `token`) reads it from the approval server. */
export async function viewOf(
  server: TestServer,
  token: string,
  id: string,
): Promise<DeploymentView> {
  const res = await server.pluginFetch(token, 'GET', `${API_PREFIX}/deployments/${id}`);
  return (await res.json()) as DeploymentView;
}

/** The deployment's status as the plugin reads it. */
export async function statusOf(server: TestServer, token: string, id: string): Promise<string> {
  return (await viewOf(server, token, id)).status;
}
