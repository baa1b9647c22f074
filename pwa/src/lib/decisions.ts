/**
 * Who decided what on a deployment (DESIGN 8: History opens each entry to who decided what, per
 * change, with the notes), from the audit log: each `decision` entry carries the device, the verdict,
 * the decision map (`changes`) and the `note` beside the JWS. Older entries had them only inside the
 * JWS, so they are read from its claims when the entry has none.
 */
import type { AuditEntry, Verdict } from './protocol.js';

/** One accepted decision. `changes` is the per-change map, when known. */
export type Decision = {
  device: string;
  verdict: Verdict;
  at: string;
  note: string | null;
  changes: Record<string, Verdict> | null;
};

/** One step of a deployment's life: proposed, decided, applied… */
export type Step = { status: string; at: string };

/** A deployment's history in the audit log. */
export type DeploymentHistory = { decisions: Decision[]; steps: Step[] };

function isVerdict(value: unknown): value is Verdict {
  return value === 'approve' || value === 'reject';
}

function verdictMap(value: unknown): Record<string, Verdict> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value as Record<string, unknown>);
  return entries.every(([, v]) => isVerdict(v))
    ? (Object.fromEntries(entries) as Record<string, Verdict>)
    : null;
}

/** The claims of a compact JWS, unverified (the server verified it; this is for display). */
function claimsOf(jws: unknown): Record<string, unknown> {
  if (typeof jws !== 'string') return {};
  const payload = jws.split('.')[1] ?? '';
  try {
    const b64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) =>
      c.charCodeAt(0),
    );
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The decision an audit entry records, or null when it is not a well-formed decision. */
export function decisionOf(entry: AuditEntry): Decision | null {
  const data = entry.data;
  if (entry.type !== 'decision' || typeof data.device !== 'string' || !isVerdict(data.verdict)) {
    return null;
  }
  const claims = data.changes === undefined || data.note === undefined ? claimsOf(data.jws) : {};
  const note = data.note !== undefined ? data.note : claims.note;
  return {
    device: data.device,
    verdict: data.verdict,
    at: entry.at,
    note: typeof note === 'string' && note.trim() !== '' ? note : null,
    changes: verdictMap(data.changes !== undefined ? data.changes : claims.changes),
  };
}

/** The decisions and life steps of deployment `id`, in the order they happened. */
export function historyOf(entries: readonly AuditEntry[], id: string): DeploymentHistory {
  const decisions: Decision[] = [];
  const steps: Step[] = [];
  for (const entry of entries) {
    if (entry.data.deployment !== id) continue;
    const decision = decisionOf(entry);
    if (decision !== null) decisions.push(decision);
    else if (entry.type.startsWith('deployment-')) {
      steps.push({ status: entry.type.slice('deployment-'.length), at: entry.at });
    }
  }
  return { decisions, steps };
}
