/**
 * The doors a Node-RED user, a script or an editor plugin has to the flows and credentials, tried
 * against a real Node-RED 4.1 with the gate: changes hidden in a subflow, a group, the global
 * environment, a tab's environment or the credentials alone are held; hostile bodies and ids get a
 * clean 4xx; no error body can carry markup into the editor (which shows it as HTML); the library
 * and the palette are not doors to the flows. After each, nothing changed: not the active rev, not
 * the running nodes, not the credential cache, not the files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revOf, type Flows, type FlowNode } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { endpointFlows, waitForAnswer } from './flows-fixture.js';
import { expectGateUnchanged, gateStateOf, type GateState } from './gate-state.js';

/** The endpoint flows plus a subflow (with an instance), a group and the global environment. */
const base: Flows = [
  ...endpointFlows('A').map((n) => (n.id === 'tab-main-req' ? { ...n, g: 'grp' } : n)),
  {
    id: 'sf',
    type: 'subflow',
    name: 'Double',
    info: '',
    category: '',
    in: [{ x: 40, y: 40, wires: [{ id: 'sf-fn' }] }],
    out: [{ x: 300, y: 40, wires: [{ id: 'sf-fn', port: 0 }] }],
    env: [],
    color: '#DDAA99',
  },
  {
    id: 'sf-fn',
    type: 'function',
    z: 'sf',
    name: 'double',
    func: 'msg.payload = msg.payload * 2;\nreturn msg;',
    outputs: 1,
    timeout: 0,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    x: 160,
    y: 40,
    wires: [[]],
  },
  { id: 'sf-inst', type: 'subflow:sf', z: 'tab-main', name: '', x: 320, y: 220, wires: [[]] },
  {
    id: 'grp',
    type: 'group',
    z: 'tab-main',
    name: 'Outbound',
    style: { label: true },
    nodes: ['tab-main-req'],
    x: 34,
    y: 119,
    w: 252,
    h: 82,
  },
  {
    id: 'gcfg',
    type: 'global-config',
    env: [{ name: 'MODE', value: 'safe', type: 'str' }],
    modules: {},
  },
] as Flows;

let nr: RunningNodeRed;
let phone: TestDevice;
let before: GateState;

const snapshot = (): GateState => gateStateOf(nr, 'sf-inst');

const expectNothingChanged = (): Promise<void> => expectGateUnchanged(nr, before, 'sf-inst', 'A');

async function expectHeld(res: Response): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(423);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const match = /^Deployment ([0-9a-f]{12}) is held for approval\./.exec(text);
  expect(match, text).not.toBeNull();
  return match![1]!;
}

/** A clean refusal: 4xx, `{code, message}` (or Node-RED's body parser's own 4xx), no markup. */
async function expectRefused(
  res: Response,
  status = 400,
): Promise<{ code?: string; text: string }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(text).not.toMatch(/[<>]/);
  try {
    return { ...(JSON.parse(text) as { code?: string }), text };
  } catch {
    return { text };
  }
}

/** The gate's own refusal of a request it cannot propose (DESIGN 5.2): 400, text/plain, a message. */
async function expectFlowsRefused(res: Response): Promise<string> {
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const { text } = await expectRefused(res);
  expect(text.length).toBeGreaterThan(10);
  return text;
}

function send(
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${nr.editorUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const edit = (id: string, change: Partial<FlowNode>): Flows =>
  base.map((n) => (n.id === id ? { ...n, ...change } : n)) as Flows;

async function changeIdsOf(id: string): Promise<string[]> {
  return (await phone.deployment(nr.approvalUrl, id)).changes.map((c) => c.id);
}

beforeAll(async () => {
  nr = await startNodeRed({
    flows: base,
    credentials: { 'tab-main-req': { user: 'alice', password: 'secret-A' } },
  });
  expect(nr.startError).toBeNull();
  phone = await nr.enrollDevice({ owner: 'alice' });
  await waitForAnswer(nr.nodeUrl, 'A');
  before = snapshot();
  expect(before.rev).toBe(await revOf(base));
  expect(before.credentials).toEqual({ user: 'alice', password: 'secret-A' });
});

afterAll(async () => {
  await nr?.close();
});

describe('POST /flows with every deployment type', () => {
  const target = edit('sf-fn', { func: 'return null;' });
  for (const type of ['full', 'nodes', 'flows']) {
    it(`holds a ${type} deployment through API v1, v2 with the editor rev, and v2 without it`, async () => {
      const answers = [
        await send('POST', '/flows', target, { 'Node-RED-Deployment-Type': type }),
        await send(
          'POST',
          '/flows',
          { flows: target, rev: before.rev },
          { 'Node-RED-Deployment-Type': type, 'Node-RED-API-Version': 'v2' },
        ),
        await send(
          'POST',
          '/flows',
          { flows: target },
          { 'Node-RED-Deployment-Type': type, 'Node-RED-API-Version': 'v2' },
        ),
      ];
      for (const res of answers) {
        const id = await expectHeld(res);
        const deployment = await phone.deployment(nr.approvalUrl, id);
        expect(deployment.type).toBe(type);
        expect(deployment.target).toBe(await revOf(target));
      }
      await expectNothingChanged();
    });
  }

  it('holds a reload through API v2, and refuses an unknown deployment type', async () => {
    const id = await expectHeld(
      await send(
        'POST',
        '/flows',
        { rev: before.rev },
        { 'Node-RED-Deployment-Type': 'reload', 'Node-RED-API-Version': 'v2' },
      ),
    );
    expect((await phone.deployment(nr.approvalUrl, id)).type).toBe('reload');
    for (const type of ['FULL', 'load', '__proto__']) {
      const res = await send('POST', '/flows', target, { 'Node-RED-Deployment-Type': type });
      expect((await expectRefused(res)).code).toBe('invalid_deployment_type');
    }
    await expectNothingChanged();
  });
});

describe('changes that hide in a corner of the flows', () => {
  it('holds a change made only inside a subflow definition', async () => {
    const target = edit('sf-fn', { func: "msg.payload = 'EVIL';\nreturn msg;" });
    const id = await expectHeld(await send('POST', '/flows', target));
    expect(await changeIdsOf(id)).toContain('node:sf-fn');
    expect((await phone.deployment(nr.approvalUrl, id)).target).toBe(await revOf(target));
    await expectNothingChanged();
  });

  it('holds a change made only to a group', async () => {
    const id = await expectHeld(
      await send('POST', '/flows', edit('grp', { name: 'Renamed' }), {
        'Node-RED-Deployment-Type': 'nodes',
      }),
    );
    expect(await changeIdsOf(id)).toContain('node:grp');
    await expectNothingChanged();
  });

  it('holds a change of the global environment (global-config)', async () => {
    const target = edit('gcfg', { env: [{ name: 'MODE', value: 'unsafe', type: 'str' }] });
    const id = await expectHeld(
      await send('POST', '/flows', target, { 'Node-RED-Deployment-Type': 'flows' }),
    );
    expect(await changeIdsOf(id)).toContain('config:gcfg');
    await expectNothingChanged();
  });

  it('holds PUT /flow/global, which replaces the config nodes and subflows', async () => {
    const res = await send('PUT', '/flow/global', {
      id: 'global',
      configs: [
        { id: 'gcfg', type: 'global-config', env: [{ name: 'MODE', value: 'x', type: 'str' }] },
      ],
      subflows: [],
    });
    const id = await expectHeld(res);
    const changes = await changeIdsOf(id);
    expect(changes).toContain('config:gcfg');
    expect(changes).toContain('subflow:sf');
    await expectNothingChanged();
  });

  it("holds PUT /flow/:id that only sets the tab's environment", async () => {
    const res = await send('PUT', '/flow/tab-main', {
      id: 'tab-main',
      label: 'Main tab-main',
      info: '',
      disabled: false,
      env: [{ name: 'MODE', value: 'unsafe', type: 'str' }],
      nodes: base.filter((n) => n.z === 'tab-main'),
    });
    const id = await expectHeld(res);
    expect(await changeIdsOf(id)).toContain('flow:tab-main');
    await expectNothingChanged();
  });
});

describe('credentials', () => {
  it('holds a deployment that changes only credentials, the flows being the same', async () => {
    const target = edit('tab-main-req', { credentials: { password: 'secret-EVIL' } });
    const id = await expectHeld(await send('POST', '/flows', target));
    const deployment = await phone.deployment(nr.approvalUrl, id);
    expect(deployment.base).toBe(before.rev);
    expect(deployment.target).toBe(before.rev);
    expect(deployment.credentials).toEqual({ 'tab-main-req': ['password'] });
    expect(deployment.changes.some((c) => c.kind === 'credentials')).toBe(true);
    await expectNothingChanged();
  });

  it('holds a v2 deployment that brings a separate credentials set', async () => {
    const res = await send(
      'POST',
      '/flows',
      {
        flows: base,
        rev: before.rev,
        credentials: { 'tab-main-req': { user: 'mallory', password: 'x' } },
      },
      { 'Node-RED-API-Version': 'v2' },
    );
    const id = await expectHeld(res);
    const deployment = await phone.deployment(nr.approvalUrl, id);
    expect(deployment.credentials).toEqual({ 'tab-main-req': ['password', 'user'] });
    await expectNothingChanged();
  });

  it('holds credentials sent through PUT /flow/:id and POST /flow, the cache unchanged', async () => {
    const put = await send('PUT', '/flow/tab-main', {
      id: 'tab-main',
      label: 'Main tab-main',
      credentials: { map: { TOKEN: 'secret-env' } },
      env: [{ name: 'TOKEN', type: 'cred' }],
      nodes: base
        .filter((n) => n.z === 'tab-main')
        .map((n) => (n.id === 'tab-main-req' ? { ...n, credentials: { password: 'p2' } } : n)),
    });
    const putId = await expectHeld(put);
    expect((await phone.deployment(nr.approvalUrl, putId)).credentials).toEqual({
      'tab-main': ['map'],
      'tab-main-req': ['password'],
    });
    const post = await send('POST', '/flow', {
      label: 'Added',
      nodes: [
        {
          id: 'added-req',
          type: 'http request',
          method: 'GET',
          url: 'http://127.0.0.1:9/',
          authType: 'basic',
          credentials: { user: 'u', password: 'p' },
          wires: [[]],
        },
      ],
    });
    const postId = await expectHeld(post);
    expect((await phone.deployment(nr.approvalUrl, postId)).credentials).toEqual({
      'added-req': ['password', 'user'],
    });
    expect(nr.RED.nodes.getCredentials('added-req')).toBeUndefined();
    await expectNothingChanged();
  });

  it('refuses a separate credentials set whose entries are not field objects (they would wipe credentials unseen)', async () => {
    for (const credentials of [
      { 'tab-main-req': null },
      { 'tab-main-req': 'wipe' },
      { 'tab-main-req': ['x'] },
      { $: 42 },
      ['tab-main-req'],
      'tab-main-req',
    ]) {
      const res = await send(
        'POST',
        '/flows',
        { flows: base, rev: before.rev, credentials },
        { 'Node-RED-API-Version': 'v2' },
      );
      expect(await expectFlowsRefused(res)).toMatch(/credentials/);
    }
    await expectNothingChanged();
  });
});

describe('hostile requests', () => {
  it('refuses bodies that are not a flows array with 400, changing nothing', async () => {
    const v1 = ['{}', '{"flows": []}', '[1]', '[null]', '[[]]', '[{"type":"tab"}]', '[{"id":"x"}]'];
    for (const body of v1) {
      const refused = await expectRefused(await send('POST', '/flows', body));
      expect(refused.code ?? refused.text).toBeTruthy();
    }
    for (const body of ['{}', '{"flows": {}}', '{"flows": "x", "rev": null}', '{"flows": [7]}']) {
      const res = await send('POST', '/flows', body, { 'Node-RED-API-Version': 'v2' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(await res.text()).not.toMatch(/[<>]/);
    }
    for (const body of ['"flows"', '42', 'null', '[', 'x'.repeat(100)]) {
      const res = await send('POST', '/flows', body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(nr.status()?.held).toEqual(expect.any(Array));
    await expectNothingChanged();
  });

  it('refuses node ids, flows, groups and subflow types that name Object.prototype members, changing nothing', async () => {
    for (const hostile of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
      for (const node of [
        { id: hostile, type: 'comment', z: 'tab-main' },
        { id: 'ok-1', type: 'comment', z: hostile },
        { id: 'ok-2', type: 'comment', z: 'tab-main', g: hostile },
        { id: 'ok-3', type: `subflow:${hostile}`, z: 'tab-main', x: 1, y: 1, wires: [] },
      ]) {
        const res = await send('POST', '/flows', JSON.stringify([...base, node]));
        expect(await expectFlowsRefused(res)).toMatch(/not allowed/);
      }
      const withCredentials = edit('tab-main-req', {});
      const res2 = await send(
        'POST',
        '/flows',
        `{"flows": ${JSON.stringify(withCredentials)}, "credentials": {"${hostile}": {"tab-main-req": {"password": "p"}}}}`,
        { 'Node-RED-API-Version': 'v2' },
      );
      expect(await expectFlowsRefused(res2)).toMatch(/not allowed/);
    }
    expect(({} as Record<string, unknown>)['tab-main-req']).toBeUndefined();
    await expectNothingChanged();
  });

  it('never echoes markup from a request into an error body the editor shows as HTML', async () => {
    const markup = '<img src=x onerror=alert(1)>';
    const answers = [
      await send('POST', '/flows', [{ id: markup }]),
      await send('POST', '/flows', [
        { id: 'x', type: 'comment' },
        { id: markup, type: 7 },
      ]),
      await send('POST', '/flows', base, { 'Node-RED-Deployment-Type': markup }),
      await send('POST', '/flow', { label: 'x', nodes: [{ id: 'a', type: 'tab' }] }),
      await send('PUT', `/flow/${encodeURIComponent(markup)}`, { nodes: [] }),
    ];
    for (const res of answers) {
      const text = await res.text();
      expect(res.status, text).toBeGreaterThanOrEqual(400);
      expect(res.status, text).toBeLessThan(500);
      expect(text).not.toMatch(/[<>]/);
    }
    await expectNothingChanged();
  });

  it("refuses a body over Node-RED's size limit, and holds a large one that fits", async () => {
    const filler = 'x'.repeat(1000);
    const big = (count: number): Flows => [
      ...base,
      ...Array.from({ length: count }, (_, i) => ({
        id: `big-${i}`,
        type: 'comment',
        z: 'tab-main',
        name: 'filler',
        info: filler,
        x: 100,
        y: 300 + i,
        wires: [],
      })),
    ];
    const tooBig = await send('POST', '/flows', big(6000));
    expect(tooBig.status).toBe(413);
    const id = await expectHeld(await send('POST', '/flows', big(2000)));
    expect((await phone.deployment(nr.approvalUrl, id)).target).toBe(await revOf(big(2000)));
    await expectNothingChanged();
  });
});

describe('doors that are not deployments', () => {
  it('a library save stores an entry and changes no flows', async () => {
    const target = edit('sf-fn', { func: "msg.payload = 'EVIL';\nreturn msg;" });
    const saved = await send('POST', '/library/local/flows/evil', target);
    expect(saved.status).toBe(204);
    const escape = await send('POST', '/library/local/flows/..%2F..%2Fflows', target);
    expect(escape.status).toBeGreaterThanOrEqual(400);
    await expectNothingChanged();
  });

  it('disabling a module whose nodes run is refused by Node-RED (palette changes are T4, not held yet)', async () => {
    const res = await send('PUT', '/nodes/node-red', { enabled: false });
    expect(res.status).toBe(400);
    await expectNothingChanged();
  });
});
