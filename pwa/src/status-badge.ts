/** A deployment's state as a small coloured badge: green when it ran, red when refused, amber when stale. */
import { css, html, type TemplateResult } from 'lit';

const TONE: Record<string, string> = {
  approved: 'good',
  applied: 'good',
  rejected: 'bad',
  failed: 'bad',
  stale: 'warn',
  expired: 'quiet',
  superseded: 'quiet',
  pending: 'open',
};

/** The badge for `status`. */
export function statusBadge(status: string): TemplateResult {
  return html`<span class="status ${TONE[status] ?? ''}">${status}</span>`;
}

/** Its styles (add to the view's `styles`). */
export const statusBadgeStyles = css`
  .status {
    align-self: center;
    font-size: 12px;
    font-weight: 700;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    border-radius: 999px;
    padding: 4px 10px;
    background: var(--surface-3);
    color: var(--muted);
  }
  .status.good {
    background: var(--approve-bg);
    color: var(--approve);
  }
  .status.bad {
    background: var(--reject-bg);
    color: var(--reject);
  }
  .status.warn {
    background: var(--amber-bg);
    color: var(--amber);
  }
  .status.open {
    background: var(--primary-soft);
    color: var(--primary);
  }
`;
