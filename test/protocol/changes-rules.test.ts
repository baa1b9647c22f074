import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  computeChanges,
  kindOf,
  riskOf,
  riskOfType,
  type FlowNode,
  type Flows,
} from '../../protocol/index.js';
import { FIXTURES_DIR, loadFlows } from '../helpers/fixtures.js';
import { cloneFlows } from '../helpers/mutations.js';

function example(name: string): Flows {
  return loadFlows(join(FIXTURES_DIR, 'node-red-examples', `${name}.json`));
}

function node(flows: Flows, id: string): FlowNode {
  const found = flows.find((n) => n.id === id);
  if (!found) throw new Error(`no node ${id}`);
  return found;
}

const acrossTabs = example('common__link__02_-_Link_across_tabs');
const linkCall = example('common__link__03_-_Link_call');

describe('kinds', () => {
  it('calls tabs flows, subflow definitions subflows, placed nodes nodes and the rest config', () => {
    expect(kindOf({ id: 't', type: 'tab' })).toBe('flow');
    expect(kindOf({ id: 's', type: 'subflow' })).toBe('subflow');
    expect(kindOf({ id: 'n', type: 'debug', z: 't', x: 1, y: 2 })).toBe('node');
    expect(kindOf({ id: 'c', type: 'mqtt-broker' })).toBe('config');
    expect(kindOf({ id: 'c', type: 'mqtt-broker', z: 't' })).toBe('config');
    expect(kindOf({ id: 'g', type: 'group', z: 't', x: 1, y: 1, w: 10, h: 10 })).toBe('node');
  });
});

describe('wiring', () => {
  it('reports a new wire as one wiring change with the added edge', () => {
    const target = cloneFlows(acrossTabs);
    (node(target, '41a35965.1b4ed8').wires as string[][])[0]!.push('bdc2bf14.e00a6');
    const changes = computeChanges(acrossTabs, target);
    expect(changes).toEqual([
      expect.objectContaining({
        id: 'wiring:41a35965.1b4ed8',
        kind: 'wiring',
        op: 'changed',
        flow: { id: 'f51b8a1a.95b448', label: 'TAB: 1st' },
        edges: {
          added: [{ from: '41a35965.1b4ed8', port: 0, to: 'bdc2bf14.e00a6', via: 'wire' }],
          removed: [],
        },
        risk: 'medium',
      }),
    ]);
  });

  it('reads link out and link call targets as edges from the node, link in sources as edges to it', () => {
    const target = cloneFlows(linkCall);
    node(target, '06a8cdd201630b4c').links = ['other-link-in'];
    node(target, 'e1b6b1fbd9b33c6d').links = ['5dc4c8eee329ed86'];
    const changes = computeChanges(linkCall, target);
    expect(changes.map((c) => [c.id, c.edges])).toEqual([
      [
        'wiring:06a8cdd201630b4c',
        {
          added: [{ from: '06a8cdd201630b4c', port: 0, to: 'other-link-in', via: 'link' }],
          removed: [{ from: '06a8cdd201630b4c', port: 0, to: 'e1b6b1fbd9b33c6d', via: 'link' }],
        },
      ],
      [
        'wiring:e1b6b1fbd9b33c6d',
        {
          added: [{ from: '5dc4c8eee329ed86', port: 0, to: 'e1b6b1fbd9b33c6d', via: 'link' }],
          removed: [],
        },
      ],
    ]);
  });

  it('lists an added node’s edges on its own change, not as a separate wiring change', () => {
    const target = cloneFlows(acrossTabs);
    target.push({ id: 'new', type: 'debug', z: 'ec5fae59.42a3b', x: 5, y: 5, wires: [] });
    (node(target, 'cc961da1.25402').wires as string[][])[0]!.push('new');
    const changes = computeChanges(acrossTabs, target);
    expect(changes.map((c) => c.id)).toEqual(['wiring:cc961da1.25402', 'node:new']);
    expect(changes[1]!.op).toBe('added');
  });
});

describe('layout', () => {
  it('groups nodes that only moved into one change per flow, sorted by id', () => {
    const target = cloneFlows(acrossTabs);
    for (const id of ['ce8b8ea5.364cb', 'cc961da1.25402', '41a35965.1b4ed8']) {
      node(target, id).x = 999;
    }
    const changes = computeChanges(acrossTabs, target);
    expect(changes).toEqual([
      {
        id: 'layout:f51b8a1a.95b448',
        kind: 'layout',
        op: 'changed',
        flow: { id: 'f51b8a1a.95b448', label: 'TAB: 1st' },
        nodes: ['41a35965.1b4ed8'],
        risk: 'low',
      },
      {
        id: 'layout:ec5fae59.42a3b',
        kind: 'layout',
        op: 'changed',
        flow: { id: 'ec5fae59.42a3b', label: 'TAB: 2nd' },
        nodes: ['cc961da1.25402', 'ce8b8ea5.364cb'],
        risk: 'low',
      },
    ]);
  });

  it('treats a group’s style as layout and its members as behaviour', () => {
    const target = cloneFlows(linkCall);
    const group = node(target, '502424230fe03b8e');
    group.style = { label: true, fill: '#ff0000' };
    expect(computeChanges(linkCall, target).map((c) => c.id)).toEqual(['layout:2cdc739225d6a4e8']);
    group.nodes = [...(group.nodes as string[]), '943afa6102c26e24'];
    const changes = computeChanges(linkCall, target);
    expect(changes.map((c) => c.id)).toEqual(['node:502424230fe03b8e']);
    expect(changes[0]!.delta).toHaveProperty('nodes');
  });

  it('does not count a node that moved and changed as layout', () => {
    const target = cloneFlows(acrossTabs);
    const debug = node(target, 'ce8b8ea5.364cb');
    debug.x = 1;
    debug.name = 'renamed';
    expect(computeChanges(acrossTabs, target).map((c) => c.id)).toEqual(['node:ce8b8ea5.364cb']);
  });
});

describe('subflows and config nodes', () => {
  const subflowFlows: Flows = [
    { id: 'tab1', type: 'tab', label: 'Main' },
    {
      id: 'sf1',
      type: 'subflow',
      name: 'Scale',
      in: [{ x: 40, y: 40, wires: [{ id: 'sf-fn' }] }],
      out: [{ x: 300, y: 40, wires: [{ id: 'sf-fn', port: 0 }] }],
      env: [],
    },
    { id: 'sf-fn', type: 'function', z: 'sf1', func: 'return msg;', x: 150, y: 40, wires: [[]] },
    { id: 'inst', type: 'subflow:sf1', z: 'tab1', x: 100, y: 100, wires: [[]] },
    { id: 'broker', type: 'mqtt-broker', name: 'Broker', broker: 'localhost' },
  ];

  it('reports a moved subflow port as layout and a rewired one as a subflow change', () => {
    const moved = cloneFlows(subflowFlows);
    (node(moved, 'sf1').in as Array<{ x: number }>)[0]!.x = 60;
    expect(computeChanges(subflowFlows, moved).map((c) => c.id)).toEqual(['layout:sf1']);

    const rewired = cloneFlows(subflowFlows);
    (node(rewired, 'sf1').in as Array<{ wires: unknown[] }>)[0]!.wires = [];
    const changes = computeChanges(subflowFlows, rewired);
    expect(changes.map((c) => [c.id, c.risk, c.flow])).toEqual([
      ['subflow:sf1', 'high', { id: 'sf1', label: 'Scale' }],
    ]);
  });

  it('places nodes inside a subflow in that subflow and global config nodes in no flow', () => {
    const target = cloneFlows(subflowFlows);
    node(target, 'sf-fn').func = 'msg.payload *= 2;\nreturn msg;';
    node(target, 'broker').broker = 'mqtt.example.com';
    const changes = computeChanges(subflowFlows, target);
    expect(changes.map((c) => [c.id, c.flow?.label ?? null, c.risk])).toEqual([
      ['node:sf-fn', 'Scale', 'high'],
      ['config:broker', null, 'high'],
    ]);
    expect(changes[1]!.delta).toEqual({ broker: ['localhost', 'mqtt.example.com'] });
  });

  it('rates subflow instances and unknown types high', () => {
    expect(riskOfType('subflow:sf1')).toBe('high');
    expect(riskOfType('api-call-service')).toBe('high');
    expect(riskOfType('function')).toBe('high');
    expect(riskOfType('exec')).toBe('high');
    expect(riskOfType('debug')).toBe('low');
    expect(riskOfType('comment')).toBe('low');
    expect(riskOf('layout', 'function')).toBe('low');
    expect(riskOf('wiring', 'comment')).toBe('medium');
    expect(riskOf('credentials', 'debug')).toBe('high');
  });
});

describe('order', () => {
  it('follows the target’s tabs, then node order in target, then removed nodes in base order', () => {
    const base = cloneFlows(acrossTabs);
    const target = cloneFlows(acrossTabs);
    // Put the second tab first in the target.
    target.unshift(target.splice(1, 1)[0]!);
    node(target, '64752acd.6cfcb4').name = 'edited';
    node(target, '5b4e5338.81ce5c').name = 'edited';
    target.splice(target.indexOf(node(target, 'bdc2bf14.e00a6')), 1);
    target.splice(target.indexOf(node(target, '6cc2116d.b2d41')), 1);
    target.push({ id: 'z-added', type: 'comment', z: 'f51b8a1a.95b448', x: 1, y: 1, wires: [] });
    expect(computeChanges(base, target).map((c) => c.id)).toEqual([
      'node:64752acd.6cfcb4',
      'node:5b4e5338.81ce5c',
      'node:z-added',
      'node:6cc2116d.b2d41',
      'node:bdc2bf14.e00a6',
    ]);
  });

  it('puts a tab’s own change first in its group', () => {
    const target = cloneFlows(acrossTabs);
    node(target, 'ce8b8ea5.364cb').name = 'x';
    node(target, 'ec5fae59.42a3b').label = 'Second';
    const changes = computeChanges(acrossTabs, target);
    expect(changes.map((c) => c.id)).toEqual(['flow:ec5fae59.42a3b', 'node:ce8b8ea5.364cb']);
    expect(changes[1]!.flow).toEqual({ id: 'ec5fae59.42a3b', label: 'Second' });
  });
});

describe('credentials', () => {
  it('names the fields a deployment sets and never carries values', () => {
    const target = cloneFlows(acrossTabs);
    node(target, 'ce8b8ea5.364cb').credentials = { password: 'hunter2' };
    const changes = computeChanges(acrossTabs, target, { 'ce8b8ea5.364cb': ['password'] });
    expect(changes).toEqual([
      {
        id: 'credentials:ce8b8ea5.364cb',
        kind: 'credentials',
        op: 'changed',
        flow: { id: 'ec5fae59.42a3b', label: 'TAB: 2nd' },
        node: { id: 'ce8b8ea5.364cb', type: 'debug' },
        fields: ['password'],
        risk: 'high',
      },
    ]);
    expect(JSON.stringify(changes)).not.toContain('hunter2');
  });

  it('keeps credential values out of an added node’s properties', () => {
    const target = cloneFlows(acrossTabs);
    target.push({
      id: 'req',
      type: 'http request',
      z: 'ec5fae59.42a3b',
      x: 1,
      y: 1,
      credentials: { user: 'u', password: 'hunter2' },
      wires: [[]],
    });
    const changes = computeChanges(acrossTabs, target, { req: ['password', 'user'] });
    expect(changes.map((c) => [c.id, c.op])).toEqual([
      ['node:req', 'added'],
      ['credentials:req', 'added'],
    ]);
    expect(JSON.stringify(changes)).not.toContain('hunter2');
  });
});

describe('hostile input', () => {
  it('sees a property named __proto__', () => {
    const base: Flows = JSON.parse('[{"id":"a","type":"debug","z":"t","x":1,"y":1}]');
    const target: Flows = JSON.parse(
      '[{"id":"a","type":"debug","z":"t","x":1,"y":1,"__proto__":{"polluted":true}}]',
    );
    const changes = computeChanges(base, target);
    expect(changes.map((c) => c.id)).toEqual(['node:a']);
    expect(Object.keys(changes[0]!.after!)).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reports a repeated id whose hidden copy changed', () => {
    const base: Flows = [
      { id: 'd', type: 'debug', z: 't', x: 1, y: 1, name: 'a' },
      { id: 'd', type: 'debug', z: 't', x: 1, y: 1, name: 'b' },
    ];
    const target = cloneFlows(base);
    target[0]!.name = 'evil';
    const changes = computeChanges(base, target);
    expect(changes.map((c) => [c.id, c.risk])).toEqual([['node:d', 'high']]);
  });
});
