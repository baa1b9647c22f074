/** Reading the server's audit log as a device (`GET /audit?after=<seq>`, pages of up to 1,000). */
import type { Api } from './api.js';
import type { AuditEntry } from './protocol.js';

const PAGE = 1000;

/** Every entry, oldest first, up to `maxPages` pages. */
export async function readAudit(api: Api, maxPages = 20): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let after = 0;
  for (let page = 0; page < maxPages; page++) {
    const body = await api.json<{ entries: AuditEntry[] }>('GET', `/audit?after=${after}`);
    entries.push(...body.entries);
    if (body.entries.length < PAGE) break;
    after = body.entries[body.entries.length - 1]!.seq;
  }
  return entries;
}
