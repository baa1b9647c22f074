/**
 * Risk by what changed (DESIGN 5.2), pinned on real deployments from the shared histories: each
 * rule with a change someone really made, its rating and the reason the badge shows.
 */
import { describe, expect, it } from 'vitest';
import {
  assessChange,
  computeChanges,
  type Change,
  type Flows,
  type Risk,
} from '../../protocol/index.js';
import { historyVersion } from '../helpers/fixtures.js';

/** Version `n` (two digits) of one real history. */
const version = historyVersion;

/** The change `id` of the real deployment `from → to` of `repo`. */
function realChange(repo: string, from: string, to: string, id: string): Change {
  const change = computeChanges(version(repo, from), version(repo, to)).find((c) => c.id === id);
  if (change === undefined) throw new Error(`no change ${id} in ${repo} ${from}→${to}`);
  return change;
}

type Case = [rule: string, repo: string, from: string, to: string, id: string, Risk, string];

const CASES: Case[] = [
  // Presentation only: low, even on a network node.
  [
    'dashboard order',
    'Hackuarium__bioreactor-docker',
    '03',
    '04',
    'node:82e0dfd4.c1e2b',
    'low',
    'presentation only',
  ],
  [
    'a broker renamed',
    'Hackuarium__bioreactor-docker',
    '02',
    '03',
    'config:1013011c.82c3ef',
    'low',
    'presentation only',
  ],
  [
    'a function renamed',
    'PlanktoScope__PlanktoScope',
    '02',
    '03',
    'node:3269f55f.05d0d2',
    'low',
    'presentation only',
  ],
  [
    'a function documented',
    'PlanktoScope__PlanktoScope',
    '13',
    '14',
    'node:c9f510c0.7d1328',
    'low',
    'presentation only',
  ],
  [
    'chart size and label',
    'PlanktoScope__PlanktoScope',
    '03',
    '04',
    'node:458cd82e.03d258',
    'low',
    'presentation only',
  ],
  [
    'a tab relabelled',
    'AML225__home-assistant-config',
    '04',
    '05',
    'flow:852fda1caf311b19',
    'low',
    'presentation only',
  ],
  [
    'a subflow renamed',
    'AML225__home-assistant-config',
    '07',
    '08',
    'subflow:a917c23be2dabc28',
    'low',
    'presentation only',
  ],
  [
    'a dashboard spacer added',
    'Hackuarium__bioreactor-docker',
    '03',
    '04',
    'config:c90119c0.750858',
    'low',
    'presentation only',
  ],
  [
    'a debug node added',
    'AML225__home-assistant-config',
    '02',
    '03',
    'node:fffcb223.8e019',
    'low',
    'editor only',
  ],
  // Code and its libraries.
  [
    'function code',
    'Hackuarium__bioreactor-docker',
    '03',
    '04',
    'node:311594b1.42dc2c',
    'high',
    'runs code',
  ],
  [
    'a function added',
    'AML225__home-assistant-config',
    '02',
    '03',
    'node:3eeecad.42ad936',
    'high',
    'runs code',
  ],
  [
    'function libraries',
    'AML225__home-assistant-config',
    '06',
    '07',
    'node:55377041.3ef6f',
    'high',
    'installs libraries',
  ],
  [
    'dashboard template code',
    'Hackuarium__bioreactor-docker',
    '06',
    '07',
    'node:8fd9d2ee.01b3e',
    'high',
    'runs code in the dashboard',
  ],
  [
    'a template',
    'hokus15__home-assistant-config',
    '01',
    '02',
    'node:cd9d4a61.e49ec8',
    'high',
    'renders templates',
  ],
  // Processes and files.
  [
    'an exec command',
    'PlanktoScope__PlanktoScope',
    '02',
    '03',
    'node:c2b8d8b.0d90328',
    'high',
    'starts processes',
  ],
  [
    'an exec node rewired',
    'PlanktoScope__PlanktoScope',
    '02',
    '03',
    'wiring:386ce65d.a15d52',
    'high',
    'starts processes',
  ],
  [
    'a file name',
    'PlanktoScope__PlanktoScope',
    '15',
    '16',
    'node:7205d267.36adcc',
    'high',
    'touches files',
  ],
  // Outbound network.
  [
    'an HTTP request added',
    'AML225__home-assistant-config',
    '02',
    '03',
    'node:93c02068.87b53',
    'high',
    'sends data out',
  ],
  [
    'an MQTT publisher added',
    'PlanktoScope__PlanktoScope',
    '00',
    '01',
    'node:c3e50240.82aa58',
    'high',
    'sends data out',
  ],
  [
    'a broker setting',
    'PlanktoScope__PlanktoScope',
    '20',
    '21',
    'config:8dc3722c.06efa8',
    'high',
    'sends data out',
  ],
  [
    'an MQTT subscription moved to another broker',
    'AML225__home-assistant-config',
    '05',
    '06',
    'node:d4284571.377438',
    'high',
    'reaches the network',
  ],
  // Subflows and types the module does not know.
  [
    'a subflow added',
    'AML225__home-assistant-config',
    '07',
    '08',
    'subflow:6c6b4ddd94886f5f',
    'high',
    'changes a subflow',
  ],
  [
    'a subflow port rewired',
    'PlanktoScope__PlanktoScope',
    '02',
    '03',
    'subflow:1c24ad9c.bebec2',
    'high',
    'changes a subflow',
  ],
  [
    'a subflow instance’s settings',
    'PlanktoScope__PlanktoScope',
    '02',
    '03',
    'node:e2b277c1.07283',
    'high',
    'runs a subflow',
  ],
  [
    'an unknown type',
    'PlanktoScope__PlanktoScope',
    '05',
    '06',
    'node:ee57d11c.ed1dd',
    'high',
    'type not known to Countersign',
  ],
  // The rest: medium.
  [
    'switch rules',
    'AML225__home-assistant-config',
    '06',
    '07',
    'node:0b520140c9313079',
    'medium',
    'changes how messages are handled',
  ],
  [
    'a change node rewired',
    'AML225__home-assistant-config',
    '07',
    '08',
    'wiring:9bac677d12f5896d',
    'medium',
    'changes where messages go',
  ],
  [
    'a flow disabled',
    'AML225__home-assistant-config',
    '05',
    '06',
    'flow:21f238a495b3a00a',
    'medium',
    'turns a flow on or off',
  ],
  [
    'a dashboard switch added',
    'PlanktoScope__PlanktoScope',
    '00',
    '01',
    'node:f44de853.0c855',
    'medium',
    'takes input from the dashboard',
  ],
  [
    'a chart’s behaviour',
    'PlanktoScope__PlanktoScope',
    '02',
    '03',
    'node:84ac8611.1a6ac8',
    'medium',
    'shows data on the dashboard',
  ],
];

describe('risk by what changed, on real deployments', () => {
  it.each(CASES)('%s: %s %s→%s %s', (_rule, repo, from, to, id, risk, reason) => {
    const change = realChange(repo, from, to, id);
    const assessed = assessChange(change);
    expect(change.risk).toBe(risk);
    expect(assessed.risk).toBe(risk);
    expect(assessed.reasons).toContain(reason);
  });

  it('rates the whole Hackuarium 03→04 deployment: four code edits high, the rest presentation', () => {
    const repo = 'Hackuarium__bioreactor-docker';
    const changes = computeChanges(version(repo, '03'), version(repo, '04'));
    expect(changes).toHaveLength(13);
    const high = changes.filter((c) => c.risk === 'high');
    expect(high.map((c) => c.node?.type)).toEqual(['function', 'function', 'function', 'function']);
    expect(changes.filter((c) => c.risk === 'low')).toHaveLength(9);
  });
});

describe('risk rules on what a hostile edit would try', () => {
  const base: Flows = [
    { id: 't1', type: 'tab', label: 'Flow' },
    {
      id: 'in',
      type: 'http in',
      z: 't1',
      name: 'hook',
      url: '/a',
      method: 'get',
      x: 1,
      y: 1,
      wires: [[]],
    },
    {
      id: 'fn',
      type: 'function',
      z: 't1',
      name: 'f',
      func: 'return msg;',
      x: 2,
      y: 2,
      wires: [[]],
    },
  ];

  function changeOf(edit: (flows: Flows) => void, id: string): Change {
    const target = structuredClone(base);
    edit(target);
    const change = computeChanges(base, target).find((c) => c.id === id);
    if (change === undefined) throw new Error(`no change ${id}`);
    return change;
  }

  it('rates a new HTTP endpoint high: it opens an endpoint', () => {
    const change = changeOf(
      (f) =>
        f.push({
          id: 'in2',
          type: 'http in',
          z: 't1',
          url: '/b',
          method: 'post',
          x: 3,
          y: 3,
          wires: [[]],
        }),
      'node:in2',
    );
    expect(assessChange(change)).toEqual({ risk: 'high', reasons: ['opens an endpoint'] });
  });

  it('rates a name change that also changes code high', () => {
    const change = changeOf((f) => {
      f[2]!.name = 'renamed';
      f[2]!.func = "return { payload: global.get('secrets') };";
    }, 'node:fn');
    expect(assessChange(change)).toEqual({ risk: 'high', reasons: ['runs code'] });
  });

  it('does not take dashboard keys as presentation on a non-dashboard node', () => {
    // `order` and `label` only place dashboard widgets; on a function they are unknown settings.
    const change = changeOf((f) => {
      f[2]!.order = 3;
    }, 'node:fn');
    expect(change.risk).toBe('high');
    const tab = changeOf((f) => {
      f[0]!.disabled = true;
    }, 'flow:t1');
    expect(tab.risk).toBe('medium');
  });

  it('rates a node whose type changed by the worse of both types', () => {
    const change = changeOf((f) => {
      f[2]!.type = 'comment';
    }, 'node:fn');
    expect(assessChange(change)).toMatchObject({ risk: 'high' });
  });

  it('rates a presentation change high when it hides characters, and says so', () => {
    const change = changeOf((f) => {
      f[1]!.name = 'hook\u202E';
    }, 'node:in');
    expect(assessChange(change)).toEqual({ risk: 'high', reasons: ['hidden characters'] });
  });

  it('rates credentials high whatever the node', () => {
    const target = structuredClone(base);
    const [change] = computeChanges(base, target, { fn: ['token'] });
    expect(assessChange(change!)).toEqual({ risk: 'high', reasons: ['sets credentials'] });
  });
});
