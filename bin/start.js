#!/usr/bin/env node
/**
 * `npm start`: a real Node-RED, guarded by the Countersign plugin, with the embedded approval server.
 * Node-RED runs from its own command line in a user directory (`./.countersign` by default) where this
 * package is linked as a module, as it would be after `npm install node-red-contrib-countersign`.
 * It builds first only when the build is missing or older than the sources, and ends its output
 * (after Node-RED's own start-up lines) with the URLs, the addresses a phone can use, and a QR code.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const USAGE = `Usage: npm start -- [--host H] [--public-url URL] [--tls-cert F --tls-key F] [--trust-proxy ADDR]
                    [--editor-port P] [--approval-port Q] [--user-dir DIR] [--owner NAME]

  --host H           where the editor and the approval server listen (default 127.0.0.1;
                     0.0.0.0 lets phones and other machines on your network reach them)
  --public-url URL   the https:// address phones open (a reverse proxy or tunnel in front)
  --tls-cert F, --tls-key F
                     serve the approval server over https with your own certificate
  --trust-proxy ADDR the reverse proxy's address, whose X-Forwarded-For names the client
  --owner NAME       the person the first phone belongs to (default: your user name)`;

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
      host: { type: 'string', default: '127.0.0.1' },
      'public-url': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'trust-proxy': { type: 'string' },
      owner: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (err) {
  fail(`${err.message}\n${USAGE}`);
}
if (args.help) {
  console.log(USAGE);
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
if (Boolean(args['tls-cert']) !== Boolean(args['tls-key']))
  fail('--tls-cert and --tls-key go together');
const tls = args['tls-cert']
  ? { cert: resolve(args['tls-cert']), key: resolve(args['tls-key']) }
  : null;
for (const file of tls ? [tls.cert, tls.key] : []) {
  if (!existsSync(file)) fail(`${file} does not exist`);
}
const host = args.host;
const owner = args.owner ?? systemUser();
const userDir = resolve(args['user-dir']);
const dataDir = join(userDir, 'countersign');

buildIfNeeded();
const reach = await import('../dist/server/cli/reach.js');
const publicUrl =
  args['public-url'] ??
  reach.defaultPublicUrl({
    host,
    port: approvalPort,
    ...(tls ? { certPem: readFileSync(tls.cert, 'utf8') } : {}),
  });
try {
  new URL(publicUrl);
} catch {
  fail(`--public-url is not a URL: ${publicUrl}`);
}
if (reach.reachOf(publicUrl) === 'insecure') {
  fail(
    [
      `--public-url ${publicUrl} is plain http on another machine's address.`,
      ...reach.httpsAdvice(approvalPort),
    ].join('\n'),
  );
}

// The user directory holds this package as a Node-RED module, and the settings for this start.
mkdirSync(join(userDir, 'node_modules'), { recursive: true });
const link = join(userDir, 'node_modules', 'node-red-contrib-countersign');
if (!existsSync(link) && !isLink(link)) symlinkSync(root, link, 'dir');
const settingsFile = join(userDir, 'countersign-settings.cjs');
const countersign = {
  server: 'embedded',
  port: approvalPort,
  host,
  publicUrl,
  ...(tls ? { tls } : {}),
  ...(args['trust-proxy'] ? { trustProxy: args['trust-proxy'].split(',') } : {}),
};
writeFileSync(
  settingsFile,
  `// Written by \`npm start\` at every start; for your own settings run node-red with its own settings.js.
module.exports = {
  uiPort: ${editorPort},
  uiHost: ${JSON.stringify(host)},
  flowFile: 'flows.json',
  countersign: ${JSON.stringify(countersign, null, 2).replace(/\n/g, '\n  ')},
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
  { stdio: ['inherit', 'pipe', 'pipe'] },
);
// Node-RED's output goes through as it is; its start is over once it reports its flows.
let flowsReported;
const flowsDone = new Promise((resolveDone) => (flowsReported = resolveDone));
let recent = '';
for (const [from, to] of [
  [nodeRed.stdout, process.stdout],
  [nodeRed.stderr, process.stderr],
]) {
  from.on('data', (chunk) => {
    to.write(chunk);
    recent = (recent + chunk.toString()).slice(-4000);
    if (/\] (Started flows|Stopped flows|Waiting for missing types)/.test(recent)) flowsReported();
  });
}
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

function systemUser() {
  try {
    const name = userInfo().username.trim();
    return name === '' || name === 'root' ? 'admin' : name;
  } catch {
    return 'admin';
  }
}

/** Runs `npm run build` when the build is missing or older than the sources (a checkout only). */
function buildIfNeeded() {
  const outputs = ['dist/plugin/register.js', 'dist/server/cli/reach.js', 'dist/pwa/index.html'];
  const sources = [
    'protocol',
    'server',
    'plugin',
    'pwa/src',
    'pwa/public',
    'pwa/index.html',
    'pwa/vite.config.ts',
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
  ].map((p) => join(root, p));
  const built = outputs.map((p) => join(root, p)).filter(existsSync);
  if (!existsSync(join(root, 'protocol'))) {
    // An installed package has no sources: its build is what it is.
    if (built.length < outputs.length) fail('the package is not built: run `npm run build`');
    return;
  }
  const oldestOutput = Math.min(...built.map((p) => statSync(p).mtimeMs));
  if (built.length === outputs.length && newest(sources) <= oldestOutput) return;
  console.log(
    built.length < outputs.length
      ? 'countersign: building (first start)…'
      : 'countersign: building (the sources changed since the last build)…',
  );
  const run = spawnSync(
    process.platform === 'win32' ? 'npm.cmd' : 'npm',
    ['run', 'build', '--silent'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (run.status !== 0) fail('the build failed (see above)');
}

/** The newest modification time under the given files and folders. */
function newest(paths) {
  let time = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      time = Math.max(
        time,
        newest(readdirSync(path).map((name) => join(path, name))),
        stat.mtimeMs,
      );
    } else {
      time = Math.max(time, stat.mtimeMs);
    }
  }
  return time;
}

/**
 * Once Node-RED has reported its flows: the URLs, the addresses phones can use, what to do about
 * HTTPS, and an enrolment link with a QR code when no device is enrolled.
 */
async function announce() {
  if (!(await waitForServer())) return;
  await Promise.race([flowsDone, new Promise((r) => setTimeout(r, 20_000))]);
  if (nodeRed.exitCode !== null) return;
  // The command line's own admin client and QR printer, from the build.
  const { adminCall } = await import('../dist/server/cli/admin-client.js');
  const { terminalQr } = await import('../dist/server/cli/qr.js');
  const { parseAdminStatus, parseInvitationResponse } = await import('../dist/protocol/index.js');
  try {
    const status = await adminCall(dataDir, 'GET', '/status', parseAdminStatus);
    const shownPublicUrl = status.publicUrl;
    const scheme = tls ? 'https' : 'http';
    const everywhere = reach.isEveryInterface(host);
    const editorHost = everywhere || reach.isLoopback(host) ? '127.0.0.1' : host;
    const lines = [
      '',
      'Countersign is guarding this Node-RED.',
      `  Editor:          http://${editorHost}:${editorPort}/`,
      `  Approval server: ${shownPublicUrl}`,
    ];
    const addresses = everywhere ? reach.networkAddresses() : reach.isLoopback(host) ? [] : [host];
    if (addresses.length > 0) {
      lines.push(
        '',
        'On your network it answers at:',
        ...addresses.slice(0, 4).map((a) => `  ${scheme}://${a}:${approvalPort}/`),
      );
    }
    const phones = reach.reachOf(shownPublicUrl);
    if (phones === 'this-machine' && addresses.length > 0) {
      lines.push(
        '',
        `${shownPublicUrl} works on this computer only.`,
        ...reach.httpsAdvice(approvalPort),
      );
    } else if (phones === 'this-machine') {
      lines.push(
        `  (on this computer only; for a phone: npm start -- --host 0.0.0.0, and see README "Reaching your phone")`,
      );
    } else if (args['public-url'] && !tls) {
      lines.push(
        `  (phones open ${shownPublicUrl}; your proxy or tunnel forwards to http://${editorHost}:${approvalPort})`,
      );
    } else if (tls) {
      lines.push('  (phones must trust the certificate of --tls-cert)');
    }
    if (status.devices.active === 0) {
      const invitation = await adminCall(dataDir, 'POST', '/invitations', parseInvitationResponse, {
        owner,
        name: 'First phone',
      });
      // A QR code of a localhost link would open the phone itself: offer it to this computer only.
      lines.push(
        '',
        phones === 'this-machine'
          ? `No device is enrolled yet. Enrol a browser on this computer as ${owner}'s device with this link (valid for 10 minutes, once):`
          : `No device is enrolled yet. Open this link on ${owner}'s phone (valid for 10 minutes, once):`,
        `  ${invitation.url}`,
        '',
        ...(phones === 'this-machine' ? [] : [terminalQr(invitation.url)]),
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
