/**
 * Small real flows for the gate's tests: an HTTP endpoint (`http in` → `function` → `http response`)
 * whose answer names the version, and an `http request` node with credentials.
 */
import type { Flows } from '../../protocol/index.js';

/** Flows answering `GET <nodeUrl>/<path>` with `answer`. */
export function endpointFlows(
  answer: string,
  options: { tab?: string; path?: string } = {},
): Flows {
  const tab = options.tab ?? 'tab-main';
  const path = options.path ?? '/version';
  return [
    { id: tab, type: 'tab', label: `Main ${tab}`, disabled: false, info: '' },
    {
      id: `${tab}-in`,
      type: 'http in',
      z: tab,
      name: 'version',
      url: path,
      method: 'get',
      upload: false,
      swaggerDoc: '',
      x: 120,
      y: 80,
      wires: [[`${tab}-fn`]],
    },
    {
      id: `${tab}-fn`,
      type: 'function',
      z: tab,
      name: 'answer',
      func: `msg.payload = ${JSON.stringify(answer)};\nreturn msg;`,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      x: 320,
      y: 80,
      wires: [[`${tab}-out`]],
    },
    {
      id: `${tab}-out`,
      type: 'http response',
      z: tab,
      name: '',
      statusCode: '',
      headers: {},
      x: 520,
      y: 80,
      wires: [],
    },
    {
      id: `${tab}-req`,
      type: 'http request',
      z: tab,
      name: 'with credentials',
      method: 'GET',
      ret: 'txt',
      paytoqs: 'ignore',
      url: 'http://127.0.0.1:9/never-called',
      tls: '',
      persist: false,
      proxy: '',
      insecureHTTPParser: false,
      authType: 'basic',
      senderr: false,
      headers: [],
      x: 140,
      y: 160,
      wires: [[]],
    },
  ] as Flows;
}

/** `GET <nodeUrl><path>`: the endpoint's answer, or the status when it does not answer 200. */
export async function ask(nodeUrl: string, path = '/version'): Promise<string> {
  const res = await fetch(`${nodeUrl}${path}`);
  return res.status === 200 ? await res.text() : `HTTP ${res.status}`;
}

/** Waits until the endpoint answers `expected` (flows start after Node-RED reports ready). */
export async function waitForAnswer(nodeUrl: string, expected: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    last = await ask(nodeUrl);
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the endpoint answered ${JSON.stringify(last)}, not ${JSON.stringify(expected)}`);
}
