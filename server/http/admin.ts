/** The loopback admin API the command line calls (`Authorization: Bearer <admin.token>`). */
import { timingSafeEqual } from 'node:crypto';
import { Router, type Request } from 'express';
import {
  CountersignError,
  parseAuditQuery,
  parseHistoryQuery,
  parseInstanceRequest,
  type AdminStatus,
  parseInvitationRequest,
} from '../../protocol/index.js';
import type { Context } from '../context.js';
import { confirmDevice, listDevices, revokeDevice } from '../devices/devices.js';
import { createInvitation } from '../devices/invitations.js';
import { auditPage, deploymentPage } from '../history/pages.js';
import { issueInstance } from '../instances/instances.js';
import { sha256HexSync } from '../store/files.js';
import { readJson } from './body.js';
import { searchOf } from './query.js';

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Facts `GET /admin/status` adds that only the running server knows. */
export type StatusExtras = () => Partial<
  Pick<AdminStatus, 'url' | 'adminUrl' | 'pid' | 'eventStreams'>
>;

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
    res
      .status(201)
      .json(await createInvitation(ctx, parseInvitationRequest(await json(req)), 'admin'));
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
    const { name, policy, rotate } = parseInstanceRequest(await json(req));
    res.status(201).json(await issueInstance(ctx, name, policy, rotate ? 'ensure' : 'create'));
  });
  r.get('/audit/verify', async (_req, res) => {
    res.json(await ctx.store.verifyAudit());
  });
  r.get('/audit', async (req, res) => {
    const { after, before, limit, deployment } = parseAuditQuery(searchOf(req));
    if (deployment !== undefined) {
      res.json({ entries: await ctx.store.deploymentAudit(deployment), next: null });
      return;
    }
    res.json(
      await auditPage(
        ctx,
        after !== undefined
          ? { after, limit: limit ?? 50 }
          : { before: before ?? Number.MAX_SAFE_INTEGER, limit: limit ?? 50 },
      ),
    );
  });
  r.get('/history', async (req, res) => {
    const { before, limit } = parseHistoryQuery(searchOf(req));
    res.json(
      await deploymentPage(ctx, {
        ...(before !== undefined ? { before } : {}),
        limit: limit ?? 20,
      }),
    );
  });
  r.post('/prune', async (req, res) => {
    req.resume();
    res.json(await ctx.pruner.run());
  });
  r.get('/status', async (_req, res) => {
    const stats = await ctx.store.stats();
    const body: AdminStatus = {
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
      eventStreams: ctx.events.size,
      ...extras(),
    };
    res.json(body);
  });
  return r;
}
