/** The HTTP API of DESIGN 5.7 under `/api/v1`: thin adapters that parse, call one function, answer. */
import { Router, type Request, type Response } from 'express';
import {
  CountersignError,
  ValidationError,
  isSha256Hex,
  parseDriftRequest,
  parseEnrollRequest,
  parseFlows,
  parseInvitationRequest,
  parseModuleBlob,
  parseOutcomeRequest,
  parseProposalRequest,
  parseAuditQuery,
  parseDeploymentsQuery,
  parsePushUpdateRequest,
  type ConfigResponse,
  type Flows,
  type KeysResponse,
} from '../../protocol/index.js';
import { verifyDeviceProof } from '../auth/device-proof.js';
import type { Context } from '../context.js';
import { deploymentOf, expireDue } from '../deployments/lifecycle.js';
import { reportOutcome } from '../deployments/outcome.js';
import { propose } from '../deployments/propose.js';
import { detailOf, eventOf, summaryOf } from '../deployments/views.js';
import { confirmDevice, listDevices, revokeDevice, setPush } from '../devices/devices.js';
import { BAD_CODES, enroll } from '../devices/enroll.js';
import { createInvitation } from '../devices/invitations.js';
import { auditPage, deploymentPage } from '../history/pages.js';
import { instanceOfToken } from '../instances/instances.js';
import { recordDrift } from '../instances/drift.js';
import { chargeQuota, sizeText } from '../instances/quota.js';
import { isActive } from '../store/device-rules.js';
import { sha256HexSync } from '../store/files.js';
import type { DeviceRecord, InstanceRecord } from '../store/types.js';
import { nextTurn } from '../next-turn.js';
import { readJson, readRaw, utf8Text } from './body.js';
import { clientAddress } from './client-address.js';
import { decisionHandler } from './decision-route.js';
import { searchOf } from './query.js';
import { errorHandler } from './errors.js';

/**
 * The flows of an uploaded snapshot, or null for the canonical module descriptor of a palette change
 * (7.1); throws `ERR_FLOWS_INVALID` for anything else. Each step over a large snapshot is
 * milliseconds long: the event loop runs in between.
 */
async function readSnapshot(raw: Buffer): Promise<Flows | null> {
  const notJson = (): ValidationError =>
    new ValidationError('a blob is the JSON text of a flows array or module descriptor', {
      code: 'ERR_FLOWS_INVALID',
    });
  const text = utf8Text(raw);
  if (text === null) throw notJson();
  await nextTurn();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw notJson();
  }
  await nextTurn();
  if (Array.isArray(value)) return parseFlows(value);
  parseModuleBlob(text);
  return null;
}

/**
 * 5.7: a blob PUT is "the snapshot bytes". JSON, raw bytes or an untyped body are all taken (an
 * independent client may send any of them); the bytes are re-hashed and parsed as flows either way.
 */
function isBlobType(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === '' || type === 'application/json' || type === 'application/octet-stream';
}

/** Builds the API router. */
export function apiRouter(ctx: Context): Router {
  const r = Router({ caseSensitive: true, strict: false });
  const json = (req: Request, limit = ctx.config.limits.jsonBytes): Promise<unknown> =>
    readJson(req, limit);
  const device = (req: Request): Promise<DeviceRecord> =>
    verifyDeviceProof(ctx, { proof: req.get('dpop'), method: req.method, path: req.originalUrl });
  const instance = (req: Request): Promise<InstanceRecord> =>
    instanceOfToken(ctx, req.get('authorization'));
  /** A plugin when it sends a bearer token, otherwise a device with a proof. */
  const caller = async (
    req: Request,
  ): Promise<{ instance: InstanceRecord } | { device: DeviceRecord }> =>
    req.get('authorization') !== undefined
      ? { instance: await instance(req) }
      : { device: await device(req) };

  r.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  // anyone
  r.get('/config', (_req, res) => {
    const body: ConfigResponse = {
      serverId: ctx.store.serverId,
      name: ctx.config.name,
      vapidPublicKey: ctx.config.vapidPublicKey,
      version: ctx.config.version,
    };
    res.json(body);
  });

  // PWA with an invitation (5.5)
  r.post('/devices', async (req, res) => {
    // The socket's peer, or behind a configured trusted proxy the address it forwarded (5.5).
    const client = clientAddress(req, ctx.config.trustProxy);
    await ctx.enrollLimiter.check(client, BAD_CODES).catch((err: unknown) => {
      req.resume();
      throw err;
    });
    res.status(201).json(await enroll(ctx, client, parseEnrollRequest(await json(req))));
  });

  // devices (5.3 proof on every request)
  r.get('/devices', async (req, res) => {
    const self = await device(req);
    res.json({ devices: await listDevices(ctx, self.id) });
  });
  r.put('/devices/self/push', async (req, res) => {
    const self = await device(req);
    await setPush(ctx, self, parsePushUpdateRequest(await json(req)));
    res.json({ ok: true });
  });
  r.post('/devices/:id/revoke', async (req, res) => {
    const self = await device(req);
    req.resume();
    res.json(await revokeDevice(ctx, req.params.id as string, self));
  });
  r.post('/devices/:id/confirm', async (req, res) => {
    const self = await device(req);
    req.resume();
    res.json(await confirmDevice(ctx, req.params.id as string, self));
  });
  r.post('/invitations', async (req, res) => {
    const self = await device(req);
    res
      .status(201)
      .json(await createInvitation(ctx, parseInvitationRequest(await json(req)), self));
  });
  r.get('/deployments', async (req, res) => {
    await device(req);
    const query = parseDeploymentsQuery(searchOf(req));
    await expireDue(ctx);
    if (query.status !== undefined) {
      // The live deployments in one state (the inbox asks for `pending`).
      const list = await ctx.store.deployments({ status: query.status });
      res.json({ deployments: list.slice(0, 500).map(summaryOf) });
      return;
    }
    // Every deployment, newest first, a page at a time (the History screen).
    res.json(
      await deploymentPage(ctx, {
        ...(query.before !== undefined ? { before: query.before } : {}),
        limit: query.limit ?? 50,
      }),
    );
  });
  r.get('/deployments/:id', async (req, res) => {
    const who = await caller(req);
    await expireDue(ctx);
    const own = 'instance' in who ? who.instance.id : undefined;
    res.json(
      await detailOf(ctx, await deploymentOf(ctx, req.params.id as string, own), own !== undefined),
    );
  });
  // The same handler answers the route's plain form before express (`decision-route.ts`).
  const decision = decisionHandler(ctx);
  r.post('/deployments/:id/decision', (req, res) =>
    decision(req, res, { id: req.params.id as string, url: req.originalUrl }),
  );
  r.get('/audit', async (req, res) => {
    await device(req);
    const { after, before, limit, deployment } = parseAuditQuery(searchOf(req));
    if (deployment !== undefined) {
      // The lines about one deployment (its History entry), however long the log is.
      res.json({ entries: await ctx.store.deploymentAudit(deployment), next: null });
      return;
    }
    res.json(
      await auditPage(
        ctx,
        before !== undefined
          ? { before, limit: limit ?? 100 }
          : { after: after ?? 0, limit: limit ?? 1000 },
      ),
    );
  });

  // blobs: plugins upload, plugins and devices read
  r.get('/blobs/:rev', async (req, res) => {
    const who = await caller(req);
    const rev = req.params.rev as string;
    if (!isSha256Hex(rev)) throw new ValidationError('a rev is 64 lowercase hex digits');
    const owners = await ctx.store.blobOwners(rev);
    const visible = 'device' in who ? owners.length > 0 : owners.includes(who.instance.id);
    const bytes = visible ? await ctx.store.blob(rev) : null;
    if (!bytes) throw new CountersignError('ERR_NOT_FOUND', `no blob ${rev.slice(0, 12)}`);
    res.type('application/json').send(Buffer.from(bytes));
  });
  r.put('/blobs/:rev', async (req, res) => {
    const inst = await instance(req);
    const rev = req.params.rev as string;
    if (!isSha256Hex(rev)) throw new ValidationError('a rev is 64 lowercase hex digits');
    if (!isBlobType(req)) {
      req.resume();
      throw new CountersignError(
        'ERR_BAD_REQUEST',
        'a blob is application/json (or application/octet-stream)',
      );
    }
    try {
      await chargeQuota(ctx, inst, 'upload');
    } catch (err) {
      req.resume();
      throw err;
    }
    const max = ctx.config.quotas.blobBytes;
    const raw = await readRaw(
      req,
      max,
      `a snapshot may be at most ${sizeText(max)} (the server's blob quota)`,
    );
    if (sha256HexSync(raw) !== rev) {
      throw new CountersignError(
        'ERR_BLOB_MISMATCH',
        'the bytes do not hash to the rev in the URL',
      );
    }
    const bytes = new Uint8Array(new ArrayBuffer(raw.length));
    bytes.set(raw);
    // The store writes the bytes while they are read; it records them only once they read well.
    let flows: Flows | null = null;
    await ctx.store.putBlob(
      rev,
      bytes,
      inst.id,
      new Date(ctx.clock.now()).toISOString(),
      async () => {
        flows = await readSnapshot(raw);
      },
    );
    // A proposal against these flows follows: they need not be read and parsed again.
    if (flows !== null) ctx.snapshots.remember(rev, flows, raw.length);
    res.status(201).json({ rev });
  });

  // plugins (bearer instance token)
  r.post('/deployments', async (req, res) => {
    const inst = await instance(req);
    res.status(201).json(await propose(ctx, inst, parseProposalRequest(await json(req))));
  });
  r.post('/deployments/:id/outcome', async (req, res) => {
    const inst = await instance(req);
    res.json(
      await reportOutcome(ctx, inst, req.params.id as string, parseOutcomeRequest(await json(req))),
    );
  });
  r.get('/keys', async (req, res) => {
    await instance(req);
    // Active devices only: a revoked or suspended device's approvals must not count at the plugin.
    const body: KeysResponse = {
      keys: (await ctx.store.devices())
        .filter(isActive)
        .map((d) => ({ ...d.jwk, kid: d.id, owner: d.owner, alg: 'ES256', use: 'sig' })),
    };
    res.json(body);
  });
  r.get('/instance/events', async (req, res: Response) => {
    const inst = await instance(req);
    await expireDue(ctx);
    const waiting = (await ctx.store.deployments({ instanceId: inst.id, status: 'approved' }))
      .reverse()
      .map(eventOf);
    ctx.events.open(inst.id, res, waiting);
  });
  r.post('/instance/drift', async (req, res) => {
    const inst = await instance(req);
    await recordDrift(ctx, inst, parseDriftRequest(await json(req)));
    res.status(202).json({ ok: true });
  });
  // Errors answered here, where they happen: not passed out of the router (a turn of the event
  // loop) and along the app's remaining layers to the same handler.
  r.use(errorHandler(ctx.log));
  return r;
}
