/** Reading the server's audit log as a device (`GET /audit`). */
import type { Api } from './api.js';
import type { AuditEntry } from './protocol.js';

/** The lines about one deployment, oldest first: one request, whatever the log's length. */
export async function readDeploymentAudit(api: Api, id: string): Promise<AuditEntry[]> {
  const body = await api.json<{ entries: AuditEntry[] }>(
    'GET',
    `/audit?deployment=${encodeURIComponent(id)}`,
  );
  return body.entries;
}
