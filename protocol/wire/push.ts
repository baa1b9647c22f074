/** The push payload (5.6). */
import { ValidationError } from '../errors.js';
import { integerAt, nullableAt, objectAt, oneOfAt, textAt, timeAt } from './guards.js';

/** Push kinds (5.6). */
export const PUSH_KINDS = ['deployment', 'decided', 'device-revoked', 'drift'] as const;

/** A push kind. */
export type PushKind = (typeof PUSH_KINDS)[number];

/** The push payload (5.6): at most 1 KiB, no flow content. */
export type PushPayload = {
  v: 1;
  kind: PushKind;
  id: string;
  instance: string;
  changes: number;
  by: string;
  expiresAt: string | null;
};

/** Largest push payload in bytes. */
export const MAX_PUSH_PAYLOAD_BYTES = 1024;

/** Checks a push payload (the service worker shows nothing from one that fails). */
export function parsePushPayload(input: unknown): PushPayload {
  const p = objectAt(input, 'the push payload');
  if (p.v !== 1) throw new ValidationError('the push payload must be version 1');
  return {
    v: 1,
    kind: oneOfAt(p.kind, 'kind', PUSH_KINDS),
    id: textAt(p.id, 'id', 128, 1),
    instance: textAt(p.instance, 'instance', 200),
    changes: integerAt(p.changes, 'changes', 0, Number.MAX_SAFE_INTEGER),
    by: textAt(p.by, 'by', 200),
    expiresAt: nullableAt(p.expiresAt ?? null, 'expiresAt', timeAt),
  };
}
