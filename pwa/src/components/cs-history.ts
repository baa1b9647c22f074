import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type {
  AuditEntry,
  AuditPageResponse,
  DeploymentPageResponse,
  DeploymentSummary,
} from '../lib/protocol.js';
import { messageOf } from '../lib/messages.js';
import type { Session } from '../lib/session.js';
import { agoText, dateText } from '../lib/time.js';
import { buttons, view } from '../styles/shared.js';
import { errorAlert } from '../error-alert.js';
import { statusBadge, statusBadgeStyles } from '../status-badge.js';
import './cs-history-entry.js';

type Tab = 'deployments' | 'audit';

/** Entries asked for at a time: the server reads a page at the same cost however long the history is. */
const PAGE = 50;

/** Deployments and the server's audit log, newest first, a page at a time. */
export class CsHistory extends LitElement {
  static override properties = {
    session: { attribute: false },
    refresh: { type: Number },
    entry: { type: String },
    _tab: { state: true },
    _deployments: { state: true },
    _audit: { state: true },
    _error: { state: true },
    _busy: { state: true },
  };

  declare session: Session;
  declare refresh: number;
  /** A deployment id: show that entry instead of the list. */
  declare entry: string;
  declare _tab: Tab;
  declare _deployments: DeploymentSummary[] | null;
  declare _audit: AuditEntry[] | null;
  declare _error: string;
  declare _busy: boolean;
  /** Where the next older page starts (null: nothing older). */
  private deploymentsNext: string | null = null;
  private auditNext: number | null = null;

  constructor() {
    super();
    this.refresh = 0;
    this.entry = '';
    this._tab = 'deployments';
    this._deployments = null;
    this._audit = null;
    this._error = '';
    this._busy = false;
  }

  static override styles = [
    buttons,
    view,
    css`
      .tabs {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 4px;
        padding: 4px;
        border-radius: 14px;
        background: var(--surface-3);
        margin-bottom: 14px;
      }
      .tabs button {
        background: transparent;
        min-height: 44px;
        border-radius: 10px;
        color: var(--muted);
      }
      .tabs button[aria-selected='true'] {
        background: var(--surface);
        color: var(--text);
        box-shadow: var(--shadow);
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: flex;
        flex-direction: column;
        gap: 10px;
      }
      .dep {
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 2px 10px;
        padding: 12px 14px;
        border-radius: 14px;
        background: var(--surface);
        box-shadow: var(--shadow);
        color: inherit;
        text-decoration: none;
      }
      .dep b {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .dep .sub {
        color: var(--muted);
        font-size: 13.5px;
      }
      .audit li {
        padding: 10px 12px;
        border-radius: 12px;
        background: var(--surface);
        border: 1px solid var(--border);
        font-size: 14px;
      }
      .audit .type {
        font-weight: 700;
        font-family: var(--mono);
        font-size: 13px;
      }
      .audit .when {
        float: right;
        color: var(--muted);
        font-size: 12.5px;
      }
      .audit .data {
        color: var(--muted);
        font-size: 13px;
        overflow-wrap: anywhere;
        margin-top: 2px;
      }
      .audit .seq {
        color: var(--faint);
        font-family: var(--mono);
        font-size: 12px;
      }
      .more {
        margin-top: 12px;
      }
      .dep .status {
        grid-row: 1 / span 2;
        grid-column: 2;
      }
    `,
    statusBadgeStyles,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('refresh') || changed.has('session')) void this.load();
  }

  private async load(): Promise<void> {
    try {
      this._deployments = null;
      this._audit = null;
      await (this._tab === 'audit' ? this.moreAudit() : this.moreDeployments());
      this._error = '';
    } catch (error) {
      this._error = messageOf(error);
    }
  }

  /** The next older page of deployments (the first when none is loaded). */
  private async moreDeployments(): Promise<void> {
    const before =
      this._deployments === null ? '' : `&before=${encodeURIComponent(this.deploymentsNext ?? '')}`;
    const page = await this.session.api.json<DeploymentPageResponse>(
      'GET',
      `/deployments?limit=${PAGE}${before}`,
    );
    const seen = new Set((this._deployments ?? []).map((d) => d.id));
    this._deployments = [
      ...(this._deployments ?? []),
      ...page.deployments.filter((d) => !seen.has(d.id)),
    ];
    this.deploymentsNext = page.next;
  }

  /** The next older page of the audit log (the newest when none is loaded). */
  private async moreAudit(): Promise<void> {
    const before = this._audit === null ? Number.MAX_SAFE_INTEGER : (this.auditNext ?? 1);
    const page = await this.session.api.json<AuditPageResponse>(
      'GET',
      `/audit?before=${before}&limit=${PAGE}`,
    );
    this._audit = [...(this._audit ?? []), ...page.entries];
    this.auditNext = page.next;
  }

  private async more(): Promise<void> {
    this._busy = true;
    try {
      await (this._tab === 'audit' ? this.moreAudit() : this.moreDeployments());
      this._error = '';
    } catch (error) {
      this._error = messageOf(error);
    } finally {
      this._busy = false;
    }
  }

  private select(tab: Tab): void {
    this._tab = tab;
    const empty = tab === 'audit' ? this._audit === null : this._deployments === null;
    if (empty) void this.more();
  }

  private renderDeployments() {
    const list = this._deployments;
    if (list === null) return html`<p class="muted" aria-busy="true">Loading…</p>`;
    if (list.length === 0) return html`<p class="muted">No deployments yet.</p>`;
    return html`<ul aria-label="Deployments, newest first">
        ${list.map((d) => {
          const body = html`<b>${d.instance}</b>
            ${statusBadge(d.status)}
            <span class="sub"
              >${d.changeCount} ${d.changeCount === 1 ? 'change' : 'changes'} by ${d.source.user} ·
              ${agoText(d.createdAt)}</span
            >`;
          // A pending deployment opens its review; any other opens who decided what (DESIGN 8).
          const href =
            d.status === 'pending'
              ? `#/review/${encodeURIComponent(d.id)}`
              : `#/history/${encodeURIComponent(d.id)}`;
          return html`<li><a class="dep" href=${href}>${body}</a></li>`;
        })}
      </ul>
      ${this.deploymentsNext !== null ? this.renderMore() : nothing}`;
  }

  private renderMore() {
    return html`<button
      class="ghost wide more"
      ?disabled=${this._busy}
      @click=${() => void this.more()}
    >
      ${this._busy ? 'Loading…' : 'Show older'}
    </button>`;
  }

  private renderAudit() {
    const list = this._audit;
    if (list === null) return html`<p class="muted" aria-busy="true">Loading the audit log…</p>`;
    if (list.length === 0) return html`<p class="muted">The audit log is empty.</p>`;
    return html`<ul class="audit" aria-label="Audit log, newest first">
        ${list.map(
          (e) =>
            html`<li>
              <span class="when">${dateText(e.at)}</span>
              <span class="type">${e.type}</span> <span class="seq">#${e.seq}</span>
              <div class="data">${summaryOf(e.data)}</div>
            </li>`,
        )}
      </ul>
      ${this.auditNext !== null ? this.renderMore() : nothing}`;
  }

  override render() {
    if (this.entry !== '') {
      return html`<cs-history-entry
        .session=${this.session}
        .deploymentId=${this.entry}
      ></cs-history-entry>`;
    }
    return html`
      <header class="bar"><h1>History</h1></header>
      <main>
        <div class="tabs" role="tablist" aria-label="History">
          <button
            role="tab"
            aria-selected=${this._tab === 'deployments'}
            @click=${() => this.select('deployments')}
          >
            Deployments
          </button>
          <button
            role="tab"
            aria-selected=${this._tab === 'audit'}
            @click=${() => this.select('audit')}
          >
            Audit log
          </button>
        </div>
        ${errorAlert(this._error)}
        <div role="tabpanel">
          ${this._tab === 'deployments' ? this.renderDeployments() : this.renderAudit()}
        </div>
      </main>
    `;
  }
}

/** The plain fields of an audit entry's data, as "key: value" pairs; long values shortened. */
function summaryOf(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => {
      const text = String(v);
      return `${k}: ${text.length > 24 ? `${text.slice(0, 12)}…` : text}`;
    })
    .join(' · ');
}

customElements.define('cs-history', CsHistory);

declare global {
  interface HTMLElementTagNameMap {
    'cs-history': CsHistory;
  }
}
