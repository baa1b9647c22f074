/**
 * Reaching the approval server: the embedded one, started here on its own port with the Node-RED
 * user directory's `countersign/` as its data directory, or a standalone one by URL and instance
 * token. Either way the gate then talks to it over HTTP, as DESIGN 5.7 says.
 */
import { CountersignError } from '../../protocol/index.js';
import { ApprovalClient } from './client.js';
import type { GateLog } from '../flows/gate.js';
import type { GateSettings } from '../settings.js';

/** A connection to the approval server. */
export type Connection = {
  client: ApprovalClient;
  /** The listen URL (embedded) or the configured URL (standalone). */
  url: string;
  publicUrl: string | null;
  /** The server id approvals are addressed to; fetched lazily from a standalone server. */
  serverId(): Promise<string>;
  close(): Promise<void>;
};

/** Starts or connects to the approval server. A port in use is a wrong setting (`ERR_CONFIG`). */
export async function connect(settings: GateSettings, log: GateLog): Promise<Connection> {
  const server = settings.server;
  if (server.kind === 'standalone') {
    const client = new ApprovalClient({ baseUrl: server.url, token: server.instanceToken });
    let serverId: Promise<string> | null = null;
    return {
      client,
      url: server.url,
      publicUrl: null,
      serverId() {
        serverId ??= client.config().then((c) => c.serverId);
        serverId.catch(() => {
          serverId = null; // try again next time
        });
        return serverId;
      },
      close: async () => client.close(),
    };
  }

  const { startServer } = await import('../../server/index.js');
  const policy = {
    requiredApprovals: settings.requiredApprovals,
    forbidSelfApproval: settings.forbidSelfApproval,
    expiresIn: settings.expiresIn,
  };
  const publicUrl =
    server.publicUrl ?? (server.port !== 0 ? `http://localhost:${server.port}` : undefined);
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer({
      dataDir: server.dataDir,
      host: server.host,
      port: server.port,
      name: settings.name,
      policy,
      log: {
        info: (m) => log.info(`Countersign server: ${m}`),
        warn: (m) => log.warn(`Countersign server: ${m}`),
        error: (m) => log.error(`Countersign server: ${m}`),
      },
      ...(publicUrl ? { publicUrl } : {}),
      ...(settings.tls ? { tls: settings.tls } : {}),
      ...(settings.pushSubject ? { pushSubject: settings.pushSubject } : {}),
      ...(settings.trustProxy ? { trustProxy: settings.trustProxy } : {}),
      ...(settings.retention ? { retention: settings.retention } : {}),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CountersignError(
        'ERR_CONFIG',
        `countersign.port ${server.port} is already in use on ${server.host}`,
        {
          cause: err,
        },
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new CountersignError(
        'ERR_CONFIG',
        `countersign.host ${server.host} cannot be listened on (${code})`,
        {
          cause: err,
        },
      );
    }
    if (code === 'EACCES') {
      throw new CountersignError(
        'ERR_CONFIG',
        `countersign.port ${server.port} needs privileges to listen on`,
        {
          cause: err,
        },
      );
    }
    if (err instanceof CountersignError && err.code === 'ERR_CONFIG') {
      throw new CountersignError('ERR_CONFIG', `countersign: ${err.message}`, { cause: err });
    }
    throw err;
  }
  const instance = await running.ensureInstance(settings.name, policy);
  // The plugin talks to its own server over loopback (with TLS, the certificate names the public host).
  const client = new ApprovalClient({ baseUrl: running.localUrl, token: instance.token });
  return {
    client,
    url: running.url,
    publicUrl: running.publicUrl,
    serverId: () => Promise.resolve(running.serverId),
    close: async () => {
      client.close();
      await running.close();
    },
  };
}
