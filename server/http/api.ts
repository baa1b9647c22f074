/** The HTTP API of DESIGN 5.7 under `/api/v1`: thin adapters that parse, call one function, answer. */
import { Router, type Request, type Response } from 'express';
import {
  CountersignError,
  DEPLOYMENT_STATES,
  ValidationError,
  isSha256Hex,
  parseFlows,
  parseModuleBlob,
  type ConfigResponse,
  type DeploymentStatus,
} from '../../protocol/index.js';
import { verifyDeviceProof } from '../auth/device-proof.js';
import type { Context } from '../context.js';
import { decide } from '../deployments/decide.js';
import { deploymentOf, expireDue } from '../deployments/lifecycle.js';
import { reportOutcome } from '../deployments/outcome.js';
import { propose } from '../deployments/propose.js';
import { detailOf, eventOf, summaryOf } from '../deployments/views.js';
import { listDevices, revokeDevice, setPush } from '../devices/devices.js';
import { enroll } from '../devices/enroll.js';
import { createInvitation } from '../devices/invitations.js';
import { instanceOfToken } from '../instances/instances.js';
import { recordDrift } from '../instances/drift.js';
import { sha256HexSync } from '../store/files.js';
import type { DeviceRecord, InstanceRecord } from '../store/types.js';
import { readJson, readRaw } from './body.js';
import { clientAddress } from './client-address.js';

/** Query parameters beyond `allowed`, or repeated ones, are bad requests. */
function onlyQuery(req: Request, allowed: string[]): void {
  for (const [key, value] of Object.entries(req.query)) {
    if (!allowed.includes(key) || typeof value !== 'string') {
      throw new ValidationError(`unexpected query parameter ${key.slice(0, 40)}`);
    }
  }
}

/** Builds the API router. */
/**
 * 5.7: a blob PUT is "the snapshot bytes". JSON, raw bytes or an untyped body are all taken (an
 * independent client may send any of them); the bytes are re-hashed and parsed as flows either way.
 */
function isBlobType(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === '' || type === 'application/json' || type === 'application/octet-stream';
}

export function apiRouter(ctx: Context): Router {
  const r = Router({ caseSensitive: true, strict: false });
  const json = (req: Request, limit = ctx.config.limits.jsonBytes): Promise<unknown> =>
    readJson(req, limit);
  const device = (req: Request): Promise<DeviceRecord> =>
    verifyDeviceProof(ctx, { proof: req.get('dpop'), method: req.method, path: req.originalUrl });
  const instance = (req: Request): InstanceRecord => instanceOfToken(ctx, req.get('authorization'));
  /** A plugin when it sends a bearer token, otherwise a device with a proof. */
  const caller = async (
    req: Request,
  ): Promise<{ instance: InstanceRecord } | { device: DeviceRecord }> =>
    req.get('authorization') !== undefined
      ? { instance: instance(req) }
      : { device: await device(req) };

  r.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  // anyone
  r.get('/config', (_req, res) => {
    const body: ConfigResponse = {
      serverId: ctx.store.data.serverId,
      name: ctx.config.name,
      vapidPublicKey: ctx.config.vapidPublicKey,
      version: ctx.config.version,
    };
    res.json(body);
  });

  // PWA with an invitation (5.5)
  r.post('/devices', async (req, res) => {
    const client = clientAddress(req, ctx.config.trustProxy);
    if (ctx.enrollLimiter.blocked(client)) {
      req.resume();
      throw new CountersignError(
        'ERR_RATE_LIMITED',
        'too many bad invitation codes: try again later',
      );
    }
    res.status(201).json(await enroll(ctx, client, await json(req)));
  });

  // devices (5.3 proof on every request)
  r.get('/devices', async (req, res) => {
    const self = await device(req);
    res.json({ devices: listDevices(ctx, self.id) });
  });
  r.put('/devices/self/push', async (req, res) => {
    const self = await device(req);
    await setPush(ctx, self, await json(req));
    res.json({ ok: true });
  });
  r.post('/devices/:id/revoke', async (req, res) => {
    const self = await device(req);
    req.resume();
    res.json(await revokeDevice(ctx, req.params.id as string, self));
  });
  r.post('/invitations', async (req, res) => {
    const self = await device(req);
    res.status(201).json(await createInvitation(ctx, await json(req), self.id));
  });
  r.get('/deployments', async (req, res) => {
    await device(req);
    onlyQuery(req, ['status']);
    const status = req.query.status;
    if (status !== undefined && !(DEPLOYMENT_STATES as readonly unknown[]).includes(status)) {
      throw new ValidationError(`status must be one of ${DEPLOYMENT_STATES.join(', ')}`);
    }
    await expireDue(ctx);
    const list = ctx.store.data.deployments
      .filter((d) => status === undefined || d.status === (status as DeploymentStatus))
      .slice(-500)
      .reverse()
      .map((d) => summaryOf(ctx, d));
    res.json({ deployments: list });
  });
  r.get('/deployments/:id', async (req, res) => {
    const who = await caller(req);
    await expireDue(ctx);
    const own = 'instance' in who ? who.instance.id : undefined;
    res.json(
      await detailOf(ctx, deploymentOf(ctx, req.params.id as string, own), own !== undefined),
    );
  });
  r.post('/deployments/:id/decision', async (req, res) => {
    await device(req);
    const body = await json(req, ctx.config.limits.decisionBytes);
    res.json(await decide(ctx, req.params.id as string, body));
  });
  r.get('/audit', async (req, res) => {
    await device(req);
    onlyQuery(req, ['after']);
    const after = req.query.after === undefined ? 0 : Number(req.query.after);
    if (!Number.isSafeInteger(after) || after < 0)
      throw new ValidationError('after must be a sequence number');
    res.json({ entries: await ctx.store.audit.read(after, 1000) });
  });

  // blobs: plugins upload, plugins and devices read
  r.get('/blobs/:rev', async (req, res) => {
    const who = await caller(req);
    const rev = req.params.rev as string;
    if (!isSha256Hex(rev)) throw new ValidationError('a rev is 64 lowercase hex digits');
    const owners = ctx.store.data.blobOwners[rev] ?? [];
    const visible = 'device' in who ? owners.length > 0 : owners.includes(who.instance.id);
    const bytes = visible ? await ctx.store.blobs.get(rev) : null;
    if (!bytes) throw new CountersignError('ERR_NOT_FOUND', `no blob ${rev.slice(0, 12)}`);
    res.type('application/json').send(Buffer.from(bytes));
  });
  r.put('/blobs/:rev', async (req, res) => {
    const inst = instance(req);
    const rev = req.params.rev as string;
    if (!isSha256Hex(rev)) throw new ValidationError('a rev is 64 lowercase hex digits');
    if (!isBlobType(req)) {
      req.resume();
      throw new CountersignError(
        'ERR_BAD_REQUEST',
        'a blob is application/json (or application/octet-stream)',
      );
    }
    const raw = await readRaw(req, ctx.config.limits.blobBytes);
    if (sha256HexSync(raw) !== rev) {
      throw new CountersignError(
        'ERR_BLOB_MISMATCH',
        'the bytes do not hash to the rev in the URL',
      );
    }
    let text: string;
    let value: unknown;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
      value = JSON.parse(text);
    } catch {
      throw new ValidationError('a blob is the JSON text of a flows array or module descriptor', {
        code: 'ERR_FLOWS_INVALID',
      });
    }
    // A snapshot of flows, or the canonical module descriptor of a palette change (7.1).
    if (Array.isArray(value)) parseFlows(value);
    else parseModuleBlob(text);
    const bytes = new Uint8Array(new ArrayBuffer(raw.length));
    bytes.set(raw);
    await ctx.store.blobs.put(rev, bytes);
    await ctx.store.update((data) => {
      const owners = (data.blobOwners[rev] ??= []);
      if (!owners.includes(inst.id)) owners.push(inst.id);
    });
    res.status(201).json({ rev });
  });

  // plugins (bearer instance token)
  r.post('/deployments', async (req, res) => {
    const inst = instance(req);
    res.status(201).json(await propose(ctx, inst, await json(req)));
  });
  r.post('/deployments/:id/outcome', async (req, res) => {
    const inst = instance(req);
    res.json(await reportOutcome(ctx, inst, req.params.id as string, await json(req)));
  });
  r.get('/keys', (req, res) => {
    instance(req);
    const keys = ctx.store.data.devices
      .filter((d) => d.revokedAt === null)
      .map((d) => ({ ...d.jwk, kid: d.id, alg: 'ES256', use: 'sig', owner: d.owner }));
    res.json({ keys });
  });
  r.get('/instance/events', async (req, res: Response) => {
    const inst = instance(req);
    await expireDue(ctx);
    const waiting = ctx.store.data.deployments
      .filter((d) => d.instanceId === inst.id && d.status === 'approved')
      .map((d) => eventOf(ctx, d));
    ctx.events.open(inst.id, res, waiting);
  });
  r.post('/instance/drift', async (req, res) => {
    const inst = instance(req);
    await recordDrift(ctx, inst, await json(req));
    res.status(202).json({ ok: true });
  });
  return r;
}
