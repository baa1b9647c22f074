/**
 * Node-RED projects under the gate (issue 9 item 7): every project action that would change the
 * flows or the credentials past the flows API (creating, initialising or switching a project,
 * checking out a branch, pulling, reverting a file, aborting or resolving a merge, changing the
 * flow files or the credential secret) is refused with a clear message, nothing changes, and the
 * flows keep running. Project actions that leave them alone still work. A real Node-RED 4.1 with
 * projects enabled and a real git, an active project made on disk before the start.
 */
import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flows } from '../../protocol/index.js';
import { checkProjects } from '../../plugin/flows/projects-guard.js';
import type { ProjectsStorage } from '../../plugin/runtime-modules.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { activeRev, deploy } from './deploy.js';
import { ask, endpointFlows, waitForAnswer } from './flows-fixture.js';

const SECRET = 'countersign-test-secret'; // the helper's credentialSecret, taken by the project
const ORIGINAL = { user: 'alice', password: 'secret-A' };

let nr: RunningNodeRed;
let phone: TestDevice;
let userDir: string;

/** A git project directory as Node-RED's projects expect it: package.json, README, flows, a commit. */
function makeProject(name: string, flows: Flows): void {
  const dir = join(userDir, 'projects', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name,
      description: `the ${name} project`,
      version: '0.0.1',
      dependencies: {},
      'node-red': { settings: { flowFile: 'flows.json', credentialsFile: 'flows_cred.json' } },
    }),
  );
  writeFileSync(join(dir, 'README.md'), `# ${name}\n`);
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  const git = (...args: string[]): void => {
    execFileSync(
      'git',
      ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args],
      {
        cwd: dir,
        stdio: 'ignore',
      },
    );
  };
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  git('branch', 'other');
}

/** The project's credentials file, decrypted with the project's secret. */
function projectCredentials(): Record<string, Record<string, unknown>> {
  const text = readFileSync(join(userDir, 'projects', 'demo', 'flows_cred.json'), 'utf8');
  const { $: data } = JSON.parse(text) as { $: string };
  const key = createHash('sha256').update(SECRET).digest();
  const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(data.slice(0, 32), 'hex'));
  return JSON.parse(decipher.update(data.slice(32), 'base64', 'utf8') + decipher.final('utf8'));
}

/** A request to Node-RED's admin API as the editor sends it. */
async function admin(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const res = await fetch(`${nr.editorUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: { code?: string; message?: string } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    parsed = { message: text };
  }
  return { status: res.status, body: parsed };
}

/** Nothing changed: the same flows run, with the same credentials, in memory and on disk. */
async function expectStillRunning(rev: string): Promise<void> {
  expect(activeRev(nr)).toBe(rev);
  expect((nr.RED.runtime._.flows as unknown as { state(): string }).state()).toBe('start');
  expect(await ask(nr.nodeUrl)).toBe('A');
  expect(nr.RED.nodes.getCredentials('tab-main-req')).toEqual(ORIGINAL);
  expect(projectCredentials()['tab-main-req']).toEqual(ORIGINAL);
}

beforeAll(async () => {
  userDir = mkdtempSync(join(tmpdir(), 'countersign-projects-'));
  makeProject('demo', endpointFlows('A'));
  makeProject('other', endpointFlows('OTHER'));
  nr = await startNodeRed({
    userDir,
    settings: { flowFile: 'demo', editorTheme: { tours: false, projects: { enabled: true } } },
  });
  expect(nr.startError).toBeNull();
  await waitForAnswer(nr.nodeUrl, 'A');
  phone = await nr.enrollDevice({ owner: 'alice' });
  // Credentials set through an approved deployment: the project's credentials file is encrypted.
  const withCredentials = endpointFlows('A').map((n) =>
    n.id === 'tab-main-req' ? { ...n, credentials: ORIGINAL } : n,
  );
  const id = await deploy(nr, withCredentials);
  expect((await phone.decide(nr.approvalUrl, id)).status).toBe(200);
  await nr.waitForLog(new RegExp(`deployment ${id} approved by`));
  expect(projectCredentials()['tab-main-req']).toEqual(ORIGINAL);
});

afterAll(async () => {
  await nr?.close();
  rmSync(userDir, { recursive: true, force: true });
});

describe('project actions that would change flows or credentials', () => {
  it('refuses to reset the credential secret: nothing is wiped or re-keyed', async () => {
    const rev = activeRev(nr);
    const answer = await admin('PUT', '/projects/demo', {
      credentialSecret: 'a-new-secret',
      resetCredentialSecret: true,
    });
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('ERR_PROJECTS_REFUSED');
    expect(answer.body.message).toMatch(
      /credential secret.*Nothing changed and the flows keep running/,
    );
    await expectStillRunning(rev);
  });

  it('refuses to create a project, and the flows keep running', async () => {
    const rev = activeRev(nr);
    const answer = await admin('POST', '/projects', {
      name: 'created',
      summary: 'a new project',
      files: { flow: 'flows.json', credentials: 'flows_cred.json' },
      credentialSecret: 'another-secret',
    });
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('ERR_PROJECTS_REFUSED');
    expect(answer.body.message).toMatch(/^Countersign refused creating a project/);
    expect(existsSync(join(userDir, 'projects', 'created'))).toBe(false);
    await expectStillRunning(rev);
  });

  it('refuses switching projects, checking out a branch, pulling, reverting, merges and flow files', async () => {
    const rev = activeRev(nr);
    const attempts: Array<[string, string, unknown]> = [
      ['PUT', '/projects/other', { active: true }],
      ['PUT', '/projects/demo', { initialise: true }],
      ['PUT', '/projects/demo', { credentialSecret: 'changed', currentCredentialSecret: SECRET }],
      ['PUT', '/projects/demo', { files: { flow: 'other.json' } }],
      ['POST', '/projects/demo/branches', { name: 'other' }],
      ['POST', '/projects/demo/pull/origin/main', {}],
      ['DELETE', '/projects/demo/files/_/flows.json', undefined],
      ['DELETE', '/projects/demo/merge', undefined],
      ['POST', '/projects/demo/resolve/flows.json', { resolutions: {} }],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await admin(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body.code, `${method} ${path}`).toBe('ERR_PROJECTS_REFUSED');
    }
    expect(
      execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], {
        cwd: join(userDir, 'projects', 'demo'),
      })
        .toString()
        .trim(),
    ).toBe('main');
    await expectStillRunning(rev);
  });
});

describe('project actions that leave the flows alone', () => {
  it('still change the summary, read the status and list branches', async () => {
    expect((await admin('PUT', '/projects/demo', { summary: 'still here' })).status).toBe(200);
    expect((await admin('GET', '/projects/demo/status')).status).toBe(200);
    expect((await admin('GET', '/projects/demo/branches')).status).toBe(200);
    expect(
      JSON.parse(readFileSync(join(userDir, 'projects', 'demo', 'package.json'), 'utf8'))
        .description,
    ).toBe('still here');
    expect(await ask(nr.nodeUrl)).toBe('A');
  });
});

describe('the seams', () => {
  it('are all there in this Node-RED, and a missing one stops the start by name', () => {
    const storage = nr.RED.runtime._.storage as { projects?: ProjectsStorage };
    expect(() => checkProjects(storage.projects!)).not.toThrow();
    const { pull: _pull, ...withoutPull } = storage.projects!;
    expect(_pull).toBeTypeOf('function');
    expect(() => checkProjects(withoutPull as ProjectsStorage)).toThrow(
      expect.objectContaining({
        code: 'ERR_GATE_UNSUPPORTED',
        message: expect.stringContaining('storage.projects.pull is missing'),
      }),
    );
  });
});
