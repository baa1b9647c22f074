/** The audit log on the wire (5.7, 6). */
import { integerAt, jsonAt, listAt, nullableAt, objectAt, textAt, timeAt } from './guards.js';

/** Most entries one page holds. */
const MAX_ENTRIES = 1000;

/** One line of the audit log. */
export type AuditEntry = {
  seq: number;
  at: string;
  type: string;
  data: Record<string, unknown>;
  prev: string;
  hash: string;
};

/** Checks one audit entry; its `data` is any JSON object without prototype keys. */
export function parseAuditEntry(input: unknown, name = 'the entry'): AuditEntry {
  const e = objectAt(input, name);
  return {
    seq: integerAt(e.seq, `${name}.seq`, 0, Number.MAX_SAFE_INTEGER),
    at: timeAt(e.at, `${name}.at`),
    type: textAt(e.type, `${name}.type`, 100, 1),
    data: jsonAt(objectAt(e.data, `${name}.data`), `${name}.data`) as Record<string, unknown>,
    prev: textAt(e.prev, `${name}.prev`, 128),
    hash: textAt(e.hash, `${name}.hash`, 128),
  };
}

/** `GET /audit`: `after` pages oldest first, `before` newest first; `next` continues (null at the end). */
export type AuditPageResponse = { entries: AuditEntry[]; next: number | null };

/** Checks a page of the audit log. */
export function parseAuditPageResponse(input: unknown): AuditPageResponse {
  const b = objectAt(input, 'the audit page');
  return {
    entries: listAt(b.entries, 'entries', MAX_ENTRIES, parseAuditEntry),
    next: nullableAt(b.next ?? null, 'next', (v, n) => integerAt(v, n, 0, Number.MAX_SAFE_INTEGER)),
  };
}
