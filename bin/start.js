#!/usr/bin/env node
/**
 * `npm start`: a real Node-RED, guarded by the Countersign plugin, with the embedded approval server.
 * Node-RED runs from its own command line in a user directory (`./.countersign` by default) where this
 * package is linked as a module, as it would be after `npm install node-red-contrib-countersign`.
 *
 *   npm start -- [--user-dir DIR] [--editor-port P] [--approval-port Q] [--public-url URL]
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`countersign: ${message}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      'user-dir': { type: 'string', default: '.countersign' },
      'editor-port': { type: 'string', default: '1880' },
      'approval-port': { type: 'string', default: '1881' },
      'public-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (err) {
  fail(
    `${err.message}\nUsage: npm start -- [--user-dir DIR] [--editor-port P] [--approval-port Q] [--public-url URL]`,
  );
}
if (args.help) {
  console.log(
    'Usage: npm start -- [--user-dir DIR] [--editor-port P] [--approval-port Q] [--public-url URL]',
  );
  process.exit(0);
}

const port = (name) => {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    fail(`--${name} must be a port number (1–65535)`);
  return value;
};
const editorPort = port('editor-port');
const approvalPort = port('approval-port');
if (editorPort === approvalPort) fail('--editor-port and --approval-port must differ');
const publicUrl = args['public-url'] ?? `http://localhost:${approvalPort}`;
try {
  new URL(publicUrl);
} catch {
  fail(`--public-url is not a URL: ${publicUrl}`);
}
const userDir = resolve(args['user-dir']);
const dataDir = join(userDir, 'countersign');

if (!existsSync(join(root, 'dist/plugin/register.js')))
  fail('the plugin is not built: run `npm run build` first');

// The user directory holds this package as a Node-RED module, and the settings for this start.
mkdirSync(join(userDir, 'node_modules'), { recursive: true });
const link = join(userDir, 'node_modules', 'node-red-contrib-countersign');
if (!existsSync(link) && !isLink(link)) symlinkSync(root, link, 'dir');
const settingsFile = join(userDir, 'countersign-settings.cjs');
writeFileSync(
  settingsFile,
  `// Written by \`npm start\` at every start; for your own settings run node-red with its own settings.js.
module.exports = {
  uiPort: ${editorPort},
  flowFile: 'flows.json',
  countersign: ${JSON.stringify({ server: 'embedded', port: approvalPort, publicUrl }, null, 2).replace(/\n/g, '\n  ')},
};
`,
);

const started = Date.now();
const nodeRed = spawn(
  process.execPath,
  [
    require.resolve('node-red/red.js'),
    '--userDir',
    userDir,
    '--settings',
    settingsFile,
    '--port',
    String(editorPort),
  ],
  { stdio: 'inherit' },
);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    nodeRed.kill(signal);
  });
}
nodeRed.on('exit', (code, signal) => {
  if (!stopping && code !== 0)
    console.error(`countersign: Node-RED stopped (${signal ?? `exit code ${code}`})`);
  process.exit(stopping ? 0 : (code ?? 1));
});

await announce();

function isLink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Once the embedded approval server is up: the URLs, and an enrolment link when no device is enrolled. */
async function announce() {
  if (!(await waitForServer())) return;
  // The command line's own admin client and QR printer, from the build.
  const { adminCall } = await import('../dist/server/cli/admin-client.js');
  const { terminalQr } = await import('../dist/server/cli/qr.js');
  try {
    const status = await adminCall(dataDir, 'GET', '/status');
    const lines = [
      '',
      'Countersign is guarding this Node-RED.',
      `  Editor:          http://127.0.0.1:${editorPort}/`,
      `  Approval server: ${status.publicUrl ?? publicUrl}`,
    ];
    if ((status.devices?.active ?? 0) === 0) {
      const invitation = await adminCall(dataDir, 'POST', '/invitations', {
        owner: 'owner',
        name: 'First device',
      });
      lines.push(
        '',
        'No device is enrolled yet. Open this link on your phone (valid for 10 minutes, once):',
        `  ${invitation.url}`,
        '',
        terminalQr(invitation.url),
        `Another link: npx countersign enroll --data-dir ${dataDir} --owner NAME --name DEVICE`,
      );
    }
    console.log(lines.join('\n') + '\n');
  } catch (err) {
    console.error(`countersign: could not reach the embedded approval server: ${err.message}`);
  }
}

/** Waits for `server.json`, written by the embedded approval server when it listens (this start's, not an old one). */
async function waitForServer() {
  const file = join(dataDir, 'server.json');
  for (let i = 0; i < 600 && nodeRed.exitCode === null; i++) {
    if (existsSync(file) && statSync(file).mtimeMs >= started - 1000) {
      try {
        if (JSON.parse(readFileSync(file, 'utf8')).adminUrl) return true;
      } catch {
        // Written but not complete yet: try again.
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (nodeRed.exitCode === null)
    console.error('countersign: the embedded approval server did not start within a minute');
  return false;
}
