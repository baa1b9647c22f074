/**
 * Palette changes for the server and phone tests (7.1): module descriptors like the gate makes, and
 * proposing one as a `module` deployment (the running flows as base, the descriptor's canonical
 * text as the target blob), as the plugin does.
 */
import {
  API_PREFIX,
  moduleDescriptorText,
  sha256Hex,
  utf8,
  type Flows,
  type ModuleDescriptor,
  type ProposalResponse,
} from '../../protocol/index.js';
import type { TestServer } from './server.js';

/** A descriptor of an upload of `node-red-contrib-weather` 2.1.0 with a postinstall script. */
export function sampleDescriptor(overrides: Partial<ModuleDescriptor> = {}): ModuleDescriptor {
  return {
    action: 'install',
    name: 'node-red-contrib-weather',
    version: '2.1.0',
    integrity: `sha512-${'A'.repeat(86)}==`,
    size: 48_213,
    types: ['weather-now', 'weather-forecast'],
    scripts: { postinstall: 'node scripts/fetch-binary.js --target=$npm_config_arch' },
    source: 'upload',
    origin: 'node-red-contrib-weather-2.1.0.tgz',
    previous: null,
    sets: [],
    plugins: [],
    dependencies: { axios: '^1.7.0' },
    ...overrides,
  };
}

/** Uploads the descriptor's canonical text as a blob; returns its rev (the target). */
export async function uploadDescriptor(
  server: TestServer,
  token: string,
  text: string,
): Promise<{ status: number; rev: string; body: string }> {
  const rev = await sha256Hex(text);
  const res = await server.pluginFetch(token, 'PUT', `${API_PREFIX}/blobs/${rev}`, utf8(text));
  return { status: res.status, rev, body: await res.text() };
}

/** Proposes a palette change against the running `base` flows, as the plugin does. */
export async function proposeModule(
  server: TestServer,
  token: string,
  base: Flows,
  descriptor: ModuleDescriptor,
  source = { user: 'marta', via: 'palette' },
): Promise<ProposalResponse> {
  const baseRev = await server.uploadBlob(token, base);
  const { rev, status, body } = await uploadDescriptor(
    server,
    token,
    moduleDescriptorText(descriptor),
  );
  if (status !== 201) throw new Error(`descriptor upload: ${status} ${body}`);
  const res = await server.pluginFetch(token, 'POST', `${API_PREFIX}/deployments`, {
    base: baseRev,
    target: rev,
    creds: null,
    credentials: {},
    type: 'module',
    source,
  });
  const answer = (await res.json()) as ProposalResponse;
  if (res.status !== 201) throw new Error(`proposal: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}
