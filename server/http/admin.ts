/** The loopback admin API the command line calls (`Authorization: Bearer <admin.token>`). */
import { timingSafeEqual } from 'node:crypto';
import { Router, type Request } from 'express';
import { CountersignError, ValidationError } from '../../protocol/index.js';
import type { Context } from '../context.js';
import { confirmDevice, listDevices, revokeDevice } from '../devices/devices.js';
import { createInvitation } from '../devices/invitations.js';
import { auditPage, deploymentPage, pageSize, sequence } from '../history/pages.js';
import { issueInstance } from '../instances/instances.js';
import { parsePolicy, type Policy } from '../policy.js';
import { sha256HexSync } from '../store/files.js';
import { readJson } from './body.js';

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Facts `GET /admin/status` adds that only the running server knows. */
export type StatusExtras = () => Record<string, unknown>;

/** Builds the admin router: loopback callers with the admin token only. */
export function adminRouter(ctx: Context, adminToken: string, extras: StatusExtras): Router {
  const r = Router();
  const expected = Buffer.from(sha256HexSync(adminToken), 'hex');
  r.use((req, res, next) => {
    res.set('Cache-Control', 'no-store');
    if (!LOOPBACK.test(req.socket.remoteAddress ?? '')) {
      throw new CountersignError('ERR_FORBIDDEN', 'the admin API answers this machine only');
    }
    const match = /^Bearer (\S{1,512})$/.exec(req.get('authorization') ?? '');
    const given = Buffer.from(sha256HexSync(match?.[1] ?? ''), 'hex');
    if (!match || !timingSafeEqual(given, expected)) {
      throw new CountersignError('ERR_UNAUTHORIZED', 'the admin API needs the admin token');
    }
    next();
  });
  const json = (req: Request): Promise<unknown> => readJson(req, ctx.config.limits.jsonBytes);

  r.post('/invitations', async (req, res) => {
    res.status(201).json(await createInvitation(ctx, await json(req), 'admin'));
  });
  r.get('/devices', async (_req, res) => {
    res.json({ devices: await listDevices(ctx, null) });
  });
  r.post('/devices/:id/revoke', async (req, res) => {
    req.resume();
    res.json(await revokeDevice(ctx, req.params.id as string, 'admin'));
  });
  r.post('/devices/:id/confirm', async (req, res) => {
    req.resume();
    res.json(await confirmDevice(ctx, req.params.id as string, 'admin'));
  });
  r.get('/instances', async (_req, res) => {
    res.json({
      instances: (await ctx.store.instances()).map((i) => ({
        id: i.id,
        name: i.name,
        policy: i.policy,
        createdAt: i.createdAt,
      })),
    });
  });
  r.post('/instances', async (req, res) => {
    const body = (await json(req)) as Record<string, unknown> | null;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationError('the body must be {name, policy?}');
    }
    const policy = (body.policy ?? undefined) as Partial<Policy> | undefined;
    try {
      parsePolicy(policy);
    } catch (err) {
      throw new ValidationError((err as Error).message);
    }
    const mode = body.rotate === true ? 'ensure' : 'create';
    res.status(201).json(await issueInstance(ctx, body.name, policy, mode));
  });
  r.get('/audit/verify', async (_req, res) => {
    res.json(await ctx.store.verifyAudit());
  });
  r.get('/audit', async (req, res) => {
    const after = sequence(req.query.after, 'after');
    const before = sequence(req.query.before, 'before');
    const limit = pageSize(req.query.limit, 50);
    res.json(
      await auditPage(
        ctx,
        after !== undefined
          ? { after, limit }
          : { before: before ?? Number.MAX_SAFE_INTEGER, limit },
      ),
    );
  });
  r.get('/history', async (req, res) => {
    res.json(
      await deploymentPage(ctx, {
        ...(typeof req.query.before === 'string' ? { before: req.query.before } : {}),
        limit: pageSize(req.query.limit, 20),
      }),
    );
  });
  r.post('/prune', async (req, res) => {
    req.resume();
    res.json(await ctx.pruner.run());
  });
  r.get('/status', async (_req, res) => {
    const stats = await ctx.store.stats();
    res.json({
      serverId: ctx.store.serverId,
      name: ctx.config.name,
      version: ctx.config.version,
      publicUrl: ctx.config.publicUrl,
      devices: stats.devices,
      instances: stats.instances,
      deployments: {
        pending: stats.deployments.pending,
        approved: stats.deployments.approved,
        total: stats.deployments.pending + stats.deployments.approved + stats.deployments.decided,
        byStatus: stats.deployments.byStatus,
        decided: stats.deployments.decided,
        retained: stats.deployments.retained,
      },
      retention: ctx.config.retention,
      auditEntries: stats.auditEntries,
      ...extras(),
    });
  });
  return r;
}
