/** The push payload of DESIGN 5.6, checked by its protocol parser before the service worker shows anything from it. */
import { parseJsonText, parsePushPayload, type PushPayload } from './protocol.js';

/** The payload, or null when the text is not a v1 Countersign payload (the worker then shows a plain notice). */
export function readPushPayload(text: string): PushPayload | null {
  try {
    return parsePushPayload(parseJsonText(text, 'the push payload', 8));
  } catch {
    return null;
  }
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
