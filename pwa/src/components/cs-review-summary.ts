import { LitElement, css, html, nothing } from 'lit';
import { MAX_NOTE_LENGTH } from '../lib/protocol.js';
import type { ReviewCounts } from '../lib/review-state.js';
import { alertIcon, checkIcon, crossIcon, shieldIcon } from '../icons.js';
import { dialogs } from '../styles/dialogs.js';
import { buttons, forms } from '../styles/shared.js';

/** Where the T8 check stands, as the summary needs it. */
export type CheckState = 'pending' | 'ok' | 'failed' | 'error';

/**
 * The last card: the counts, the rejected changes (each can be looked at again), the T8 check, and
 * for a rejection an optional note. The deck's footer holds the button ("Approve and sign" when
 * every change is approved, else "Reject deployment"), which calls `openConfirm()`: nothing is
 * signed before the confirmation.
 *
 * @fires sign - detail `{note}`: the reviewer confirmed; the deck signs and sends.
 * @fires revisit - detail `{id}`: show one card again to change its verdict.
 */
export class CsReviewSummary extends LitElement {
  static override properties = {
    counts: { attribute: false },
    rejected: { attribute: false },
    check: { type: String },
    checkMessage: { type: String },
    busy: { type: Boolean },
    instance: { type: String },
    orderOnly: { type: Boolean },
    _note: { state: true },
  };

  declare counts: ReviewCounts;
  /** The rejected cards: their id, and a sentence saying what each decides. */
  declare rejected: Array<{ id: string; text: string }>;
  declare check: CheckState;
  declare checkMessage: string;
  declare busy: boolean;
  declare instance: string;
  declare orderOnly: boolean;
  declare _note: string;

  constructor() {
    super();
    this.rejected = [];
    this.check = 'pending';
    this.checkMessage = '';
    this.busy = false;
    this.instance = '';
    this.orderOnly = false;
    this._note = '';
  }

  static override styles = [
    buttons,
    forms,
    dialogs,
    css`
      :host {
        display: block;
      }
      h2 {
        font-size: 22px;
        margin: 0 0 14px;
        letter-spacing: -0.01em;
      }
      .counts {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 10px;
      }
      .count {
        border-radius: 14px;
        padding: 12px 14px;
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      .count b {
        font-size: 30px;
        line-height: 1.1;
      }
      .count span {
        display: flex;
        align-items: center;
        gap: 6px;
        font-weight: 600;
        font-size: 14px;
      }
      .count svg {
        width: 18px;
        height: 18px;
      }
      .count.approve {
        background: var(--approve-bg);
        color: var(--approve);
      }
      .count.reject {
        background: var(--reject-bg);
        color: var(--reject);
      }
      h3 {
        font-size: 13px;
        text-transform: uppercase;
        letter-spacing: 0.05em;
        color: var(--muted);
        margin: 18px 0 8px;
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0;
        display: flex;
        flex-direction: column;
        gap: 6px;
      }
      li button {
        width: 100%;
        justify-content: flex-start;
        text-align: left;
        font-weight: 500;
        font-size: 14.5px;
        background: var(--surface-2);
        border: 1px solid var(--border);
        padding: 8px 12px;
      }
      li button .again {
        margin-left: auto;
        color: var(--primary);
        font-weight: 600;
        white-space: nowrap;
      }
      .check {
        display: flex;
        align-items: flex-start;
        gap: 10px;
        margin: 16px 0 0;
        padding: 12px 14px;
        border-radius: 12px;
        font-size: 14.5px;
      }
      .check svg {
        width: 22px;
        height: 22px;
        flex: none;
      }
      .check.ok {
        background: var(--approve-bg);
        color: var(--approve);
      }
      .check.pending {
        background: var(--surface-2);
        color: var(--muted);
      }
      .check.failed,
      .check.error {
        background: var(--reject-bg);
        color: var(--reject);
        border: 1px solid var(--reject-line);
      }
      .check strong {
        display: block;
      }
      .fine {
        font-size: 13.5px;
        color: var(--muted);
        margin: 12px 0 0;
      }
      .counter {
        text-align: right;
        font-size: 12px;
        color: var(--muted);
        margin-top: 4px;
      }
    `,
  ];

  private get approving(): boolean {
    return this.counts.rejected === 0 && this.counts.open === 0;
  }

  /** Asks "Approve and sign?" or "Reject this deployment?"; `sign` fires on yes. */
  openConfirm(): void {
    this.renderRoot.querySelector('dialog')?.showModal();
  }

  private closeConfirm(): void {
    this.renderRoot.querySelector('dialog')?.close();
  }

  private confirm(): void {
    this.closeConfirm();
    this.dispatchEvent(
      new CustomEvent('sign', {
        detail: { note: this.approving ? '' : this._note },
        bubbles: true,
        composed: true,
      }),
    );
  }

  private renderCheck() {
    switch (this.check) {
      case 'ok':
        return html`<div class="check ok" role="status">
          ${shieldIcon}<span
            >Snapshots verified: the changes you saw are exactly what will run.</span
          >
        </div>`;
      case 'pending':
        return html`<div class="check pending" role="status">
          ${shieldIcon}<span>Checking the snapshots against the change list…</span>
        </div>`;
      case 'failed':
        return html`<div class="check failed" role="alert">
          ${alertIcon}<span
            ><strong>Countersign will not sign this approval.</strong>${this.checkMessage} The
            server may be compromised or its data damaged. Reject the deployment and tell whoever
            runs the server.</span
          >
        </div>`;
      case 'error':
        return html`<div class="check error" role="alert">
          ${alertIcon}<span
            ><strong>The snapshots could not be checked.</strong>${this.checkMessage} Approval waits
            until they can be.</span
          >
        </div>`;
    }
  }

  override render() {
    const c = this.counts;
    const approving = this.approving;
    const title = this.orderOnly
      ? 'Order-only deployment'
      : approving
        ? 'Every change approved'
        : `${c.rejected} of ${c.total} ${c.total === 1 ? 'change' : 'changes'} rejected`;
    return html`
      <h2>${title}</h2>
      ${
        this.orderOnly
          ? nothing
          : html`<div class="counts" aria-label="${c.approved} approved, ${c.rejected} rejected">
              <div class="count approve">
                <b>${c.approved}</b><span>${checkIcon} approved</span>
              </div>
              <div class="count reject"><b>${c.rejected}</b><span>${crossIcon} rejected</span></div>
            </div>`
      }
      ${
        this.rejected.length > 0
          ? html`<h3>Rejected</h3>
              <ul>
                ${this.rejected.map(
                  (card) =>
                    html`<li>
                      <button
                        @click=${() =>
                          this.dispatchEvent(
                            new CustomEvent('revisit', {
                              detail: { id: card.id },
                              bubbles: true,
                              composed: true,
                            }),
                          )}
                      >
                        <span>${card.text}</span><span class="again">Change</span>
                      </button>
                    </li>`,
                )}
              </ul>`
          : nothing
      }
      ${this.renderCheck()}
      ${
        approving
          ? html`<p class="fine">
              Approving signs with this phone's key. ${this.instance} then applies exactly these
              flows, nothing else.
            </p>`
          : html`<label for="note">Note for the deployer (optional)</label>
              <textarea
                id="note"
                maxlength=${MAX_NOTE_LENGTH}
                placeholder="Why it was rejected"
                .value=${this._note}
                @input=${(e: Event) => {
                  this._note = (e.target as HTMLTextAreaElement).value;
                }}
              ></textarea>
              <div class="counter">${this._note.length} / ${MAX_NOTE_LENGTH}</div>
              <p class="fine">Rejecting changes nothing on ${this.instance}.</p>`
      }
      <dialog aria-labelledby="confirm-title" @cancel=${this.closeConfirm}>
        <h2 id="confirm-title">${approving ? 'Approve and sign?' : 'Reject this deployment?'}</h2>
        <p>
          ${
            approving
              ? `${this.instance} will run ${this.orderOnly ? 'the reordered flows' : `all ${c.total} ${c.total === 1 ? 'change' : 'changes'}`} as soon as the approval is in.`
              : `${this.instance} keeps running the flows it has now.`
          }
        </p>
        <div class="dialog-actions">
          <button class="ghost" @click=${this.closeConfirm}>Cancel</button>
          <button class=${approving ? 'approve' : 'reject'} @click=${this.confirm}>
            ${approving ? 'Sign' : 'Reject'}
          </button>
        </div>
      </dialog>
    `;
  }
}

customElements.define('cs-review-summary', CsReviewSummary);

declare global {
  interface HTMLElementTagNameMap {
    'cs-review-summary': CsReviewSummary;
  }
}
