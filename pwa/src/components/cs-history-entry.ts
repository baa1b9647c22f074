import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import {
  fingerprintOf,
  type Change,
  type DeploymentDetail,
  type DeviceView,
  type Verdict,
} from '../lib/protocol.js';
import { readDeploymentAudit } from '../lib/audit.js';
import { historyOf, type Decision, type DeploymentHistory } from '../lib/decisions.js';
import { messageOf } from '../lib/messages.js';
import type { Session } from '../lib/session.js';
import { sourceText } from '../lib/source.js';
import { dateText } from '../lib/time.js';
import { sentenceOf } from '../cards/describe.js';
import { NodeIndex } from '../cards/node-index.js';
import { backIcon, checkIcon, crossIcon } from '../icons.js';
import { buttons, view } from '../styles/shared.js';
import { errorAlert } from '../error-alert.js';
import { statusBadge, statusBadgeStyles } from '../status-badge.js';

const STEP_WORD: Record<string, string> = {
  proposed: 'Proposed',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  superseded: 'Replaced by a newer deployment',
  applied: 'Applied by Node-RED',
  stale: 'Not applied: the flows had changed (stale)',
  failed: 'Not applied: failed',
};

/**
 * One deployment of the History (DESIGN 8): what it was, who decided what, per change, with their
 * notes, and what became of it. Decisions come from the audit log, devices are named from the
 * device list (a revoked or unknown device by its fingerprint).
 */
export class CsHistoryEntry extends LitElement {
  static override properties = {
    session: { attribute: false },
    deploymentId: { type: String },
    _detail: { state: true },
    _history: { state: true },
    _devices: { state: true },
    _error: { state: true },
  };

  declare session: Session;
  declare deploymentId: string;
  declare _detail: DeploymentDetail | null;
  declare _history: DeploymentHistory | null;
  declare _devices: Map<string, DeviceView>;
  declare _error: string;

  private index = new NodeIndex([]);
  private byId = new Map<string, Change>();

  constructor() {
    super();
    this.deploymentId = '';
    this._detail = null;
    this._history = null;
    this._devices = new Map();
    this._error = '';
  }

  static override styles = [
    buttons,
    view,
    css`
      header.bar {
        padding-left: 4px;
      }
      .summary {
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 2px 10px;
        align-items: center;
        margin-bottom: 18px;
      }
      .summary .sub {
        grid-column: 1 / span 2;
        color: var(--muted);
        font-size: 14px;
      }
      h2 {
        font-size: 13px;
        text-transform: uppercase;
        letter-spacing: 0.05em;
        color: var(--muted);
        margin: 18px 0 8px;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: flex;
        flex-direction: column;
        gap: 10px;
      }
      .decision {
        background: var(--surface);
        border-radius: var(--radius);
        box-shadow: var(--shadow);
        padding: 14px 16px;
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 2px 12px;
      }
      .mark {
        grid-row: 1 / span 2;
        width: 36px;
        height: 36px;
        border-radius: 50%;
        display: grid;
        place-items: center;
      }
      .mark svg {
        width: 20px;
        height: 20px;
      }
      .mark.approve {
        background: var(--approve-bg);
        color: var(--approve);
      }
      .mark.reject {
        background: var(--reject-bg);
        color: var(--reject);
      }
      .who {
        font-weight: 700;
        overflow-wrap: anywhere;
      }
      .meta {
        color: var(--muted);
        font-size: 13px;
      }
      .fp {
        font-family: var(--mono);
        letter-spacing: 0.03em;
      }
      .body {
        grid-column: 1 / span 2;
        margin-top: 8px;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      blockquote {
        margin: 0;
        padding: 10px 12px;
        border-left: 4px solid var(--border);
        background: var(--surface-2);
        border-radius: 0 10px 10px 0;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      .decision.reject blockquote {
        border-left-color: var(--reject);
      }
      .changes li {
        display: grid;
        grid-template-columns: 20px 1fr;
        gap: 8px;
        font-size: 14px;
        overflow-wrap: anywhere;
      }
      .changes li svg {
        width: 18px;
        height: 18px;
        margin-top: 2px;
      }
      .changes .approve svg {
        color: var(--approve);
      }
      .changes .reject svg {
        color: var(--reject);
      }
      .changes {
        gap: 6px;
      }
      details summary {
        cursor: pointer;
        min-height: var(--tap);
        display: flex;
        align-items: center;
        gap: 6px;
        color: var(--primary);
        font-weight: 600;
        list-style: none;
      }
      details summary::-webkit-details-marker {
        display: none;
      }
      details summary::before {
        content: '▸';
      }
      details[open] summary::before {
        content: '▾';
      }
      .steps li {
        display: flex;
        justify-content: space-between;
        gap: 12px;
        font-size: 14px;
        padding: 8px 0;
        border-bottom: 1px solid var(--border);
      }
      .steps time {
        color: var(--muted);
        white-space: nowrap;
      }
    `,
    statusBadgeStyles,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('deploymentId') || changed.has('session')) void this.load();
  }

  private async load(): Promise<void> {
    const id = this.deploymentId;
    this._detail = null;
    this._history = null;
    try {
      const [detail, devices, audit] = await Promise.all([
        this.session.api.json<DeploymentDetail>('GET', `/deployments/${encodeURIComponent(id)}`),
        this.session.api.json<{ devices: DeviceView[] }>('GET', '/devices'),
        readDeploymentAudit(this.session.api, id),
      ]);
      if (id !== this.deploymentId) return;
      this.index = new NodeIndex(detail.changes);
      this.byId = new Map(detail.changes.map((c) => [c.id, c]));
      this._devices = new Map(devices.devices.map((d) => [d.id, d]));
      this._history = historyOf(audit, id);
      this._detail = detail;
      this._error = '';
    } catch (error) {
      this._error = messageOf(error);
    }
  }

  private changeText(id: string): string {
    const change = this.byId.get(id);
    return change ? sentenceOf(change, this.index) : id;
  }

  private renderChanges(ids: string[], verdicts: Record<string, Verdict>) {
    return html`<ul class="changes">
      ${ids.map(
        (id) =>
          html`<li class=${verdicts[id] ?? ''}>
            ${verdicts[id] === 'reject' ? crossIcon : checkIcon}
            <span
              >${verdicts[id] === 'reject' ? 'Rejected: ' : 'Approved: '}${this.changeText(id)}</span
            >
          </li>`,
      )}
    </ul>`;
  }

  private renderDecision(d: Decision) {
    const device = this._devices.get(d.device);
    const fingerprint = fingerprintOf(d.device);
    const who = device ? `${device.owner} · ${device.name}` : 'A device no longer listed';
    const ids = d.changes ? Object.keys(d.changes) : [];
    const rejected = ids.filter((id) => d.changes![id] === 'reject');
    return html`<li class="decision ${d.verdict}">
      <span class="mark ${d.verdict}">${d.verdict === 'approve' ? checkIcon : crossIcon}</span>
      <span class="who">${d.verdict === 'approve' ? 'Approved' : 'Rejected'} by ${who}</span>
      <span class="meta"><span class="fp">${fingerprint}</span> · ${dateText(d.at)}</span>
      <div class="body">
        ${
          d.note !== null
            ? html`<blockquote
                aria-label="Note from ${device?.owner ?? 'the approver'}"
                .textContent=${d.note}
              ></blockquote>`
            : nothing
        }
        ${d.changes === null ? nothing : rejected.length > 0 ? this.renderChanges(rejected, d.changes) : nothing}
        ${
          d.changes === null || ids.length === 0
            ? nothing
            : html`<details>
                <summary>
                  ${
                    rejected.length === 0
                      ? `All ${ids.length} ${ids.length === 1 ? 'change' : 'changes'} approved`
                      : `Every change (${ids.length})`
                  }
                </summary>
                ${this.renderChanges(ids, d.changes)}
              </details>`
        }
      </div>
    </li>`;
  }

  private renderBody() {
    const d = this._detail;
    const history = this._history;
    if (d === null || history === null) {
      return this._error === '' ? html`<p class="muted" aria-busy="true">Loading…</p>` : nothing;
    }
    return html`<div class="summary">
        <b>${d.changeCount} ${d.changeCount === 1 ? 'change' : 'changes'}</b>
        ${statusBadge(d.status)}
        <span class="sub">${sourceText(d.source)}</span>
      </div>
      <h2>Decisions</h2>
      ${
        history.decisions.length === 0
          ? html`<p class="muted">Nobody decided this deployment.</p>`
          : html`<ul aria-label="Decisions">
              ${history.decisions.map((x) => this.renderDecision(x))}
            </ul>`
      }
      <h2>What happened</h2>
      <ul class="steps" aria-label="What happened">
        ${history.steps.map(
          (s) =>
            html`<li>
              <span>${STEP_WORD[s.status] ?? s.status}</span><time>${dateText(s.at)}</time>
            </li>`,
        )}
      </ul>`;
  }

  override render() {
    return html`<header class="bar">
        <a class="button icon-button" href="#/history" aria-label="Back to the history"
          >${backIcon}</a
        >
        <h1>${this._detail?.instance ?? 'Deployment'}</h1>
      </header>
      <main>${errorAlert(this._error)} ${this.renderBody()}</main>`;
  }
}

customElements.define('cs-history-entry', CsHistoryEntry);

declare global {
  interface HTMLElementTagNameMap {
    'cs-history-entry': CsHistoryEntry;
  }
}
