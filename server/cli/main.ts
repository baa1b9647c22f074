/** The `countersign` command line (DESIGN 5.7): `serve`, and commands that call the running server's admin API. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  ValidationError,
  formatAuditQuery,
  formatHistoryQuery,
  isCountersignError,
  parseAuditPageResponse,
  parseAdminStatus,
  parseAuditQuery,
  parseAuditVerification,
  parseHistoryQuery,
  parsePruneReport,
  parseDeploymentPageResponse,
  parseDeviceListResponse,
  parseDeviceView,
  parseInvitationResponse,
  parseIssuedInstance,
  parseRevokeResponse,
  type DeviceView,
} from '../../protocol/index.js';
import { startServer } from '../start.js';
import { VERSION } from '../package-root.js';
import { adminCall, NoServerError } from './admin-client.js';
import { serveConfig, serverDataDirOf, type ServeFlags, type ServerDataDir } from './config.js';
import { terminalQr } from './qr.js';

/** Where the command line writes; tests pass their own. */
export type CliIo = {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** The folder relative paths and the data-directory search start from (default: the process's). */
  cwd?: string;
};

class UsageError extends Error {}

const COMMON = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const HELP: Record<string, string> = {
  main: `countersign ${VERSION}: the approval server of Countersign

Usage: countersign <command> [options]

Commands:
  serve                 run the approval server
  enroll                make a one-time enrolment link and QR code for a phone
  devices               list enrolled devices with their fingerprints
  revoke DEVICE         revoke a device (id or fingerprint); the devices it invited are suspended
  confirm DEVICE        confirm a suspended device
  instances add NAME    add a Node-RED instance and print its token (once)
  history               list deployments, newest first, a page at a time
  audit verify          check the audit log's hash chain
  audit list            list audit entries, newest first, a page at a time
  prune                 apply the retention now (snapshots of old decided deployments)
  status                show what the running server holds

Every command takes --data-dir DIR (or COUNTERSIGN_DATA_DIR; default ./.countersign), --json and --help.
Commands other than serve talk to the running server through its loopback admin API.`,
  serve: `Usage: countersign serve [--host H] [--port P] [--public-url URL] [--tls-cert F --tls-key F]
                        [--name NAME] [--push-subject mailto:...] [--required-approvals N]
                        [--forbid-self-approval] [--expires-in 24h] [--trust-proxy ADDR[,ADDR]]
                        [--retention-days 90] [--retention-keep 500] [--store postgres://...]
                        [--config FILE] [--data-dir DIR] [--json]

Runs the approval server. Settings come from flags, then the environment (COUNTERSIGN_PORT,
COUNTERSIGN_PUBLIC_URL, COUNTERSIGN_DATA_DIR, COUNTERSIGN_TRUST_PROXY, COUNTERSIGN_STORE), then the
config file (<data dir>/config.json or --config), a JSON object with host, port, publicUrl,
tls {cert, key}, name, pushSubject, policy, trustProxy, retention {days, keep},
quotas {blobMiB, proposals, windowMinutes}, store.
The store is lowdb in the data directory unless --store names a PostgreSQL database
(postgres://user@host/db); several replicas may serve one database, each with its own data directory
(where only server.json and a copy of the shared admin.token are kept).
Behind a reverse proxy, set --public-url to the URL phones open and --trust-proxy to the proxy's
address, so that X-Forwarded-For names the client (only from that address).
Decided deployments go to <data dir>/history/ (countersign history reads them); their snapshots and
change lists are kept --retention-days, and for the newest --retention-keep of them only.`,
  enroll: `Usage: countersign enroll --owner NAME --name DEVICE [--data-dir DIR] [--json]

Prints a one-time enrolment URL (valid 10 minutes) and its QR code. Open it on the phone.
With --json: {code, url, expiresAt}.`,
  devices: `Usage: countersign devices [--data-dir DIR] [--json]

Lists the enrolled devices: fingerprint (compare it with the phone), owner, name, state.`,
  revoke: `Usage: countersign revoke DEVICE [--data-dir DIR] [--json]

Revokes a device by its id or fingerprint: its proofs and approvals are refused from now on.
An id or fingerprint that starts with "-" goes after "--": countersign revoke -- -AbC...`,
  instances: `Usage: countersign instances add NAME [--required-approvals N] [--forbid-self-approval]
                                   [--expires-in 24h] [--rotate] [--data-dir DIR] [--json]

Adds a Node-RED instance and prints its token once ({id, name, token} with --json).
--rotate issues a new token to an existing instance (the old one stops working).`,
  audit: `Usage: countersign audit verify [--data-dir DIR] [--json]
       countersign audit list [--before SEQ] [--limit N] [--data-dir DIR] [--json]

verify checks every line of the audit log's hash chain; it exits 1 when a line was changed.
list prints entries newest first, N at a time (default 50); --before SEQ continues from an earlier page.`,
  history: `Usage: countersign history [--before CURSOR] [--limit N] [--data-dir DIR] [--json]

Lists deployments newest first, N at a time (default 20): those waiting for a decision or an outcome,
then the decided ones from the history files. The last line names the cursor of the next page.`,
  prune: `Usage: countersign prune [--data-dir DIR] [--json]

Applies the retention now (the server also does on its own): the snapshots and change lists of decided
deployments past it, and any nothing live refers to, are deleted. Their history (<data dir>/history/)
and the audit log keep everything else.`,
  confirm: `Usage: countersign confirm DEVICE [--data-dir DIR] [--json]

Confirms a device (id or fingerprint) suspended because the device that invited it was revoked.
Compare its fingerprint with the phone first.`,
  status: `Usage: countersign status [--data-dir DIR] [--json]

Shows the running server's address, devices, instances and pending deployments.`,
};

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...COMMON, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--before` and `--limit` as the query parameters they become (checked by the route's parser). */
function flagsOf(values: {
  before?: string | undefined;
  limit?: string | undefined;
}): URLSearchParams {
  const params = new URLSearchParams();
  if (values.before !== undefined) params.set('before', values.before);
  if (values.limit !== undefined) params.set('limit', values.limit);
  return params;
}

/** `parse()`'s answer; a value it refuses is a usage error naming the flag. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(`--${err.message}`);
    throw err;
  }
}

/** Rows under a header, each column as wide as its widest cell (the last column left ragged). */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((cells) =>
      cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '),
    )
    .join('\n');
}

function print(io: CliIo, json: boolean | undefined, value: unknown, human: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) : human());
}

/** The running server's data directory for a command (see `serverDataDirOf`). */
function serverOf(values: { 'data-dir'?: string | undefined }, io: CliIo): ServerDataDir {
  return serverDataDirOf(values['data-dir'], io.env, io.cwd);
}

/**
 * Calls the admin API of `server`; when nothing runs there, says where it looked and what to add.
 * Every answer goes through `parse`, its protocol/wire parser.
 */
async function call<T>(
  server: ServerDataDir,
  method: string,
  path: string,
  parse: (input: unknown) => T,
  body?: unknown,
): Promise<T> {
  try {
    return await adminCall(server.dir, method, path, parse, body);
  } catch (err) {
    if (!(err instanceof NoServerError) || server.how === 'given') throw err;
    throw new NoServerError(
      server.how === 'found'
        ? `the Countersign server of ${server.dir} is not running. Start it (\`npm start\` in this folder runs the one in .countersign/countersign; \`countersign serve --data-dir ${server.dir}\` runs a standalone one), or add --data-dir DIR for another server`
        : 'no Countersign server found here (looked in ./.countersign and ./.countersign/countersign). ' +
            "Run this in the folder where you ran `npm start`, or add --data-dir DIR (the server's data directory)",
    );
  }
}

async function serve(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'public-url': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    name: { type: 'string' },
    'push-subject': { type: 'string' },
    'required-approvals': { type: 'string' },
    'forbid-self-approval': { type: 'boolean' },
    'expires-in': { type: 'string' },
    'trust-proxy': { type: 'string' },
    'retention-days': { type: 'string' },
    'retention-keep': { type: 'string' },
    store: { type: 'string' },
  });
  if (values.help) return help(io, 'serve');
  const config = serveConfig(values as ServeFlags, io.env, io.cwd);
  const running = await startServer({
    dataDir: config.dataDir,
    host: config.host,
    port: config.port,
    policy: config.policy,
    trustProxy: config.trustProxy,
    retention: config.retention,
    ...(config.quotas ? { quotas: config.quotas } : {}),
    ...(config.store ? { store: config.store } : {}),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.tls ? { tls: config.tls } : {}),
    ...(config.name ? { name: config.name } : {}),
    ...(config.pushSubject ? { pushSubject: config.pushSubject } : {}),
    log: {
      info: (m) => io.err(`countersign: ${m}`),
      warn: (m) => io.err(`countersign: ${m}`),
      error: (m) => io.err(`countersign: ${m}`),
    },
  });
  print(
    io,
    values.json,
    {
      url: running.url,
      publicUrl: running.publicUrl,
      serverId: running.serverId,
      dataDir: running.dataDir,
    },
    () =>
      [
        `Countersign approval server on ${running.url}`,
        `Phones use ${running.publicUrl}`,
        `Data directory ${running.dataDir}`,
        `Enrol a phone: countersign enroll --owner NAME --name DEVICE --data-dir ${running.dataDir}`,
      ].join('\n'),
  );
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveStop();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  return 0;
}

async function enroll(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { owner: { type: 'string' }, name: { type: 'string' } });
  if (values.help) return help(io, 'enroll');
  if (!values.owner || !values.name)
    throw new UsageError('enroll needs --owner NAME and --name DEVICE');
  const inv = await call(serverOf(values, io), 'POST', '/invitations', parseInvitationResponse, {
    owner: values.owner,
    name: values.name,
  });
  print(io, values.json, inv, () =>
    [
      `Open this on ${values.name} (${values.owner}) within 10 minutes; it works once:`,
      '',
      inv.url,
      '',
      terminalQr(inv.url),
      '',
      `Expires ${inv.expiresAt}. Then compare the fingerprint the phone shows with: countersign devices`,
    ].join('\n'),
  );
  return 0;
}

async function devices(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) return help(io, 'devices');
  const { devices: list } = await call(
    serverOf(values, io),
    'GET',
    '/devices',
    parseDeviceListResponse,
  );
  print(io, values.json, { devices: list }, () =>
    list.length === 0
      ? 'No devices enrolled. Make an invitation with: countersign enroll --owner NAME --name DEVICE'
      : table(
          ['FINGERPRINT', 'OWNER', 'DEVICE', 'STATE', 'PUSH', 'ID'],
          list.map((d) => [
            d.fingerprint,
            d.owner,
            d.name,
            d.revokedAt ? `revoked ${d.revokedAt}` : 'active',
            d.push ? 'yes' : 'no',
            d.id,
          ]),
        ),
  );
  return 0;
}

async function revoke(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help(io, 'revoke');
  const wanted = positionals.join(' ').trim();
  if (!wanted) throw new UsageError('revoke needs a device id or fingerprint');
  const server = serverOf(values, io);
  const { devices: list } = await call(server, 'GET', '/devices', parseDeviceListResponse);
  const device = matchDevice(list, wanted);
  const result = await call(
    server,
    'POST',
    `/devices/${encodeURIComponent(device.id)}/revoke`,
    parseRevokeResponse,
  );
  const label = (id: string): string => {
    const d = list.find((x) => x.id === id);
    return d ? `${d.fingerprint} (${d.owner}: ${d.name})` : id;
  };
  print(io, values.json, result, () =>
    [
      `Revoked ${label(result.id)} at ${result.revokedAt}`,
      ...result.suspended.map(
        (id) =>
          `Suspended ${label(id)}: it was invited through the revoked device (countersign confirm ${id})`,
      ),
    ].join('\n'),
  );
  return 0;
}

/** The one device whose id or fingerprint is `wanted`. */
function matchDevice(list: DeviceView[], wanted: string): DeviceView {
  const compact = wanted.replace(/\s+/g, '');
  const matches = list.filter(
    (d) => d.id === wanted || (compact.length >= 8 && d.id.startsWith(compact)),
  );
  if (matches.length !== 1) {
    throw new UsageError(
      matches.length === 0
        ? `no device matches ${wanted}`
        : `${wanted} matches ${matches.length} devices: give the full id`,
    );
  }
  return matches[0]!;
}

async function confirm(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help(io, 'confirm');
  const wanted = positionals.join(' ').trim();
  if (!wanted) throw new UsageError('confirm needs a device id or fingerprint');
  const server = serverOf(values, io);
  const { devices: list } = await call(server, 'GET', '/devices', parseDeviceListResponse);
  const device = matchDevice(list, wanted);
  const result = await call(
    server,
    'POST',
    `/devices/${encodeURIComponent(device.id)}/confirm`,
    parseDeviceView,
  );
  print(
    io,
    values.json,
    result,
    () => `Confirmed ${device.fingerprint} (${device.owner}: ${device.name})`,
  );
  return 0;
}

async function history(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { before: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) return help(io, 'history');
  const query = formatHistoryQuery(usage(() => parseHistoryQuery(flagsOf(values))));
  const page = await call(
    serverOf(values, io),
    'GET',
    `/history${query}`,
    parseDeploymentPageResponse,
  );
  print(io, values.json, page, () =>
    [
      ...(page.deployments.length === 0 ? ['No deployments.'] : []),
      ...page.deployments.map((d) =>
        [
          d.createdAt,
          d.id,
          d.status.padEnd(10),
          d.instance,
          `${d.changeCount} changes by ${d.source.user}`,
        ].join('  '),
      ),
      ...(page.next ? [`More: countersign history --before ${page.next}`] : []),
    ].join('\n'),
  );
  return 0;
}

async function prune(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) return help(io, 'prune');
  const report = await call(serverOf(values, io), 'POST', '/prune', parsePruneReport);
  print(
    io,
    values.json,
    report,
    () =>
      `${report.pastRetention} decided deployments passed the retention; deleted ${report.blobsDeleted} blobs and ${report.changesDeleted} change lists nothing live refers to (their history stays)`,
  );
  return 0;
}

async function instances(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    'required-approvals': { type: 'string' },
    'forbid-self-approval': { type: 'boolean' },
    'expires-in': { type: 'string' },
    rotate: { type: 'boolean' },
  });
  if (values.help || positionals[0] !== 'add') {
    if (values.help) return help(io, 'instances');
    throw new UsageError('usage: countersign instances add NAME');
  }
  const name = positionals.slice(1).join(' ');
  if (!name) throw new UsageError('instances add needs a NAME');
  const policy: Record<string, unknown> = {};
  if (values['required-approvals'] !== undefined) {
    const n = Number(values['required-approvals']);
    if (!Number.isInteger(n)) throw new UsageError('--required-approvals must be an integer');
    policy.requiredApprovals = n;
  }
  if (values['forbid-self-approval']) policy.forbidSelfApproval = true;
  if (values['expires-in'] !== undefined) policy.expiresIn = values['expires-in'];
  const issued = await call(serverOf(values, io), 'POST', '/instances', parseIssuedInstance, {
    name,
    policy,
    rotate: values.rotate === true,
  });
  print(io, values.json, issued, () =>
    [
      `Instance ${issued.name} (${issued.id})`,
      `Token (shown once; set it as the instance's countersign.instanceToken):`,
      issued.token,
    ].join('\n'),
  );
  return 0;
}

async function audit(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    before: { type: 'string' },
    limit: { type: 'string' },
  });
  if (values.help) return help(io, 'audit');
  if (positionals[0] === 'list') {
    const query = formatAuditQuery(usage(() => parseAuditQuery(flagsOf(values))));
    const page = await call(serverOf(values, io), 'GET', `/audit${query}`, parseAuditPageResponse);
    print(io, values.json, page, () =>
      [
        ...(page.entries.length === 0 ? ['The audit log is empty.'] : []),
        ...page.entries.map((e) => `#${e.seq}  ${e.at}  ${e.type}  ${auditSummary(e.data)}`),
        ...(page.next ? [`More: countersign audit list --before ${page.next}`] : []),
      ].join('\n'),
    );
    return 0;
  }
  if (positionals[0] !== 'verify') throw new UsageError('usage: countersign audit verify | list');
  const result = await call(serverOf(values, io), 'GET', '/audit/verify', parseAuditVerification);
  print(io, values.json, result, () =>
    result.ok
      ? `Audit log intact: ${result.entries} entries`
      : `Audit log BROKEN at entry ${result.badSeq}: ${result.reason} (${result.entries} entries)`,
  );
  return result.ok ? 0 : 1;
}

async function status(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) return help(io, 'status');
  const s = await call(serverOf(values, io), 'GET', '/status', parseAdminStatus);
  const deps = s.deployments;
  const byStatus = Object.entries(deps.byStatus).filter(([, n]) => n > 0);
  print(io, values.json, s, () =>
    [
      `Countersign ${s.version} "${s.name}" (server ${s.serverId})${s.pid === undefined ? '' : `, pid ${s.pid}`}`,
      `${s.url === undefined ? '' : `Listening on ${s.url}; `}phones use ${s.publicUrl}`,
      `Devices: ${s.devices.active} active (${s.devices.withPush} with push), ${s.devices.suspended} suspended, ${s.devices.revoked} revoked`,
      `Instances: ${s.instances}; plugin event streams open: ${s.eventStreams}`,
      `Deployments: ${deps.total === 0 ? 'none yet' : `${byStatus.map(([state, n]) => `${n} ${state}`).join(', ')} (${deps.total} in all)`}`,
      `Retention: snapshots and change lists kept for the newest ${deps.retained} decided`,
    ].join('\n'),
  );
  return 0;
}

/** An audit entry's plain fields, `key=value`, long values shortened. */
function auditSummary(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => {
      const text = String(v);
      return `${k}=${text.length > 40 ? `${text.slice(0, 16)}…` : text}`;
    })
    .join(' ');
}

function help(io: CliIo, topic: string): number {
  io.out(HELP[topic] ?? HELP.main!);
  return 0;
}

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  serve,
  enroll,
  devices,
  revoke,
  confirm,
  instances,
  history,
  audit,
  prune,
  status,
};

/** Runs the command line; resolves to the exit code. Errors are one plain line. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help')
    return help(io, 'main');
  if (command === '--version') {
    io.out(VERSION);
    return 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.err(`countersign: unknown command "${command}" (see countersign --help)`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`countersign ${command}: ${err.message} (see countersign ${command} --help)`);
      return 2;
    }
    if (err instanceof NoServerError) {
      io.err(`countersign: ${err.message}`);
      return 3;
    }
    if (isCountersignError(err)) {
      io.err(`countersign: ${err.message}`);
      return 1;
    }
    io.err(`countersign: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}

/** `bin/countersign.js` calls this. */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    env: process.env,
  });
  process.exitCode = code;
}
