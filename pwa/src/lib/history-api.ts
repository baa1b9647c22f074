/**
 * The History screen's calls (5.7 `GET /deployments` pages, `GET /audit`), typed and checked by
 * their protocol/wire parsers; apart from `api.ts` so that they load with that screen.
 */
import type { Api } from './api.js';
import { parseAuditPageResponse, type AuditPageResponse } from '../../../protocol/wire/audit.js';
import {
  parseDeploymentPageResponse,
  type DeploymentPageResponse,
} from '../../../protocol/wire/deployments.js';

/** `GET /deployments`: every deployment, newest first, a page at a time. */
export function historyPage(
  api: Api,
  limit: number,
  before: string | null,
): Promise<DeploymentPageResponse> {
  const after = before === null ? '' : `&before=${encodeURIComponent(before)}`;
  return api.call('GET', `/deployments?limit=${limit}${after}`, parseDeploymentPageResponse);
}

/** `GET /audit?…`: a page of the audit log (`before`, `after`, `limit`, or one `deployment`). */
export function auditPage(
  api: Api,
  query: Record<string, string | number>,
): Promise<AuditPageResponse> {
  const search = Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return api.call('GET', `/audit?${search}`, parseAuditPageResponse);
}
