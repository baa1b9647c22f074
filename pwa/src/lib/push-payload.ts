/** The push payload of DESIGN 5.6, checked before the service worker shows anything from it. */
import type { PushKind, PushPayload } from './protocol.js';

const KINDS: ReadonlySet<string> = new Set<PushKind>([
  'deployment',
  'decided',
  'device-revoked',
  'drift',
]);

/** The payload, or null when the text is not a v1 Countersign payload. */
export function parsePushPayload(text: string): PushPayload | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const p = value as Record<string, unknown>;
  if (p.v !== 1 || typeof p.kind !== 'string' || !KINDS.has(p.kind)) return null;
  if (typeof p.id !== 'string' || p.id === '' || typeof p.instance !== 'string') return null;
  const changes = typeof p.changes === 'number' && Number.isFinite(p.changes) ? p.changes : 0;
  return {
    v: 1,
    kind: p.kind as PushKind,
    id: p.id,
    instance: p.instance,
    changes,
    by: typeof p.by === 'string' ? p.by : '',
    expiresAt: typeof p.expiresAt === 'string' ? p.expiresAt : null,
  };
}

/** What a notification for a payload says and where a tap leads. */
export type NotificationPlan = {
  title: string;
  body: string;
  /** Replaces an earlier notification with the same tag. */
  tag: string;
  /** Quiet: no sound or vibration (information, not a request). */
  silent: boolean;
  /** The hash route a tap opens. */
  hash: string;
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The notification for a payload. A deployment names the instance and who deployed, and how many
 * changes wait; there is never an approve action, the review happens in the app (T7).
 */
export function planNotification(p: PushPayload, selfId: string | null): NotificationPlan {
  switch (p.kind) {
    case 'deployment':
      return {
        title: `${p.instance} · ${p.by || 'someone'} deployed`,
        body: `${plural(p.changes, 'change')} to review`,
        tag: `deployment:${p.instance}`,
        silent: false,
        hash: `#/review/${encodeURIComponent(p.id)}`,
      };
    case 'decided':
      return {
        title: `${p.instance} · deployment decided`,
        body: `Decided on another device (${p.by}). Nothing to do.`,
        tag: `info:${p.instance}`,
        silent: true,
        hash: '#/history',
      };
    case 'device-revoked':
      return p.id === selfId
        ? {
            title: 'This phone was revoked',
            body: 'It can no longer review or sign deployments.',
            tag: 'revoked',
            silent: false,
            hash: '#/inbox',
          }
        : {
            title: 'A device was revoked',
            body: `Revoked by ${p.by}. Open Devices to see who.`,
            tag: `revoked:${p.id}`,
            silent: true,
            hash: '#/devices',
          };
    case 'drift':
      return {
        title: `${p.instance} · flows changed on disk`,
        body: 'The running flows differ from the last approved ones. Open Countersign.',
        tag: `drift:${p.instance}`,
        silent: false,
        hash: '#/inbox',
      };
  }
}
