import { LitElement, css, html, nothing } from 'lit';
import type { Change, Flows } from '../lib/protocol.js';
import { MEMBERS_HEADING, groupView, type GroupView, type Topic } from '../cards/group-view.js';
import type { ReviewCard } from '../cards/grouping.js';
import type { NodeIndex } from '../cards/node-index.js';
import { minimapOf } from '../cards/sketch.js';
import { flowIcon } from '../icons.js';
import { cardChips, cardHead } from '../styles/card-chips.js';
import { srOnly } from '../styles/shared.js';
import './cs-change-card.js';
import './cs-flow-sketch.js';

/**
 * A group card (DESIGN 8): a flow added or removed whole, or a flow's low-risk changes, decided at
 * once. It says what matters first (code, endpoints, outbound connections, files and processes,
 * credentials), then lists every change it holds; each opens, in place, to its full card.
 */
export class CsGroupCard extends LitElement {
  static override properties = {
    card: { attribute: false },
    byId: { attribute: false },
    index: { attribute: false },
    base: { attribute: false },
    target: { attribute: false },
    _open: { state: true },
  };

  declare card: Exclude<ReviewCard, { kind: 'single' }>;
  declare byId: ReadonlyMap<string, Change>;
  declare index: NodeIndex;
  declare base: Flows | null;
  declare target: Flows | null;
  /** The changes opened to their full card. */
  declare _open: ReadonlySet<string>;

  private shownFor: string | null = null;

  constructor() {
    super();
    this.base = null;
    this.target = null;
    this._open = new Set();
  }

  static override styles = css`
    ${srOnly}
    ${cardChips}
    ${cardHead}
    .counts {
      margin: 6px 0 0;
      font-size: 14px;
      color: var(--text);
      font-weight: 600;
    }
    section.matters {
      margin-top: 6px;
      border-radius: var(--radius-sm);
      border: 1px solid var(--reject-line);
      background: var(--reject-bg);
      padding: 2px 12px 10px;
    }
    section.matters h3 {
      color: var(--reject);
      margin-top: 10px;
    }
    section.matters li {
      font-size: 14.5px;
      overflow-wrap: anywhere;
    }
    section.matters .detail {
      margin-left: 6px;
      font-family: var(--mono);
      font-size: 13px;
      color: var(--text);
    }
    p.quiet {
      color: var(--muted);
      font-size: 14px;
      margin: 8px 0 0;
    }
    .list-head {
      display: flex;
      align-items: center;
      justify-content: space-between;
      gap: 8px;
    }
    .list-head button {
      min-height: 44px;
      padding: 0 12px;
      border-radius: 10px;
      border: 1px solid var(--border);
      background: var(--surface-2);
      color: var(--primary);
      font: 600 14px var(--font);
      cursor: pointer;
    }
    .list-head button:focus-visible,
    summary:focus-visible {
      outline: 3px solid var(--primary);
      outline-offset: 2px;
    }
    details {
      border-radius: 10px;
      background: var(--surface-2);
      border: 1px solid var(--border);
    }
    details[open] {
      background: var(--surface);
    }
    summary {
      display: grid;
      grid-template-columns: 1fr auto;
      gap: 2px 8px;
      align-items: center;
      min-height: 44px;
      padding: 6px 10px;
      cursor: pointer;
      list-style: none;
      border-radius: 10px;
    }
    summary::-webkit-details-marker {
      display: none;
    }
    summary .title {
      font-size: 14.5px;
      font-weight: 600;
      overflow-wrap: anywhere;
    }
    summary .t {
      color: var(--muted);
      font-family: var(--mono);
      font-size: 12.5px;
      font-weight: 400;
    }
    summary .what {
      grid-column: 1;
      font-size: 13px;
      color: var(--muted);
      overflow-wrap: anywhere;
    }
    summary .dot {
      grid-row: 1 / span 2;
      grid-column: 2;
      font-size: 12px;
      font-weight: 700;
      display: inline-flex;
      align-items: center;
      gap: 4px;
    }
    summary .dot::before {
      content: '';
      width: 8px;
      height: 8px;
      border-radius: 50%;
      background: currentColor;
    }
    .dot.high {
      color: var(--reject);
    }
    .dot.medium {
      color: var(--amber);
    }
    .dot.low {
      color: var(--approve);
    }
    .full {
      padding: 4px 10px 12px;
      border-top: 1px solid var(--border);
    }
  `;

  protected override willUpdate(): void {
    // A new card starts closed.
    if (this.shownFor !== this.card.id) {
      this.shownFor = this.card.id;
      this._open = new Set();
    }
  }

  private toggle(id: string, open: boolean): void {
    const next = new Set(this._open);
    if (open) next.add(id);
    else next.delete(id);
    this._open = next;
  }

  private toggleAll(view: GroupView): void {
    const all = this._open.size === view.members.length;
    this._open = all ? new Set() : new Set(view.members.map((m) => m.id));
  }

  private renderTopic(topic: Topic) {
    return html`<h3>${topic.heading}</h3>
      <ul class="plain">
        ${topic.items.map(
          (item) =>
            html`<li><strong>${item.name}</strong><span class="detail">${item.detail}</span></li>`,
        )}
      </ul>`;
  }

  private renderSketch() {
    if (this.card.kind !== 'whole' || !this.index.complete) return nothing;
    const subject = this.byId.get(this.card.subject);
    const sketch = subject === undefined ? null : minimapOf(subject, this.index);
    if (sketch === null || subject === undefined) return nothing;
    return html`<figure>
      <cs-flow-sketch
        .sketch=${sketch}
        .enlarge=${() => minimapOf(subject, this.index, 'large')}
      ></cs-flow-sketch>
    </figure>`;
  }

  override render() {
    const view = groupView(this.card, this.byId, this.index);
    const allOpen = this._open.size === view.members.length;
    return html`
      <header>
        <div class="chips">
          <span class="chip op-${this.card.kind === 'whole' ? this.card.op : 'changed'}"
            >${view.op}</span
          >
          <span class="kind">${view.kind}</span>
          <span class="chip risk risk-${view.risk}">${`${view.riskText} · ${view.why}`}</span>
        </div>
        <h2>${view.title}</h2>
        <p class="sub"><span>${flowIcon}</span><span>${view.flow}</span></p>
        ${this.card.kind === 'whole' ? html`<p class="counts">${view.counts}</p>` : nothing}
      </header>
      ${
        view.topics.length > 0
          ? html`<section class="matters" aria-label="What matters in it">
              ${view.topics.map((t) => this.renderTopic(t))}
            </section>`
          : view.quiet !== undefined
            ? html`<p class="quiet">${view.quiet}</p>`
            : nothing
      }
      <div class="list-head">
        <h3 id="list">${MEMBERS_HEADING}</h3>
        <button aria-expanded=${allOpen ? 'true' : 'false'} @click=${() => this.toggleAll(view)}>
          ${allOpen ? 'Close all' : 'Open all'}
        </button>
      </div>
      <ul class="members plain" aria-labelledby="list">
        ${view.members.map((row) => {
          const open = this._open.has(row.id);
          const change = this.byId.get(row.id);
          return html`<li>
            <details
              .open=${open}
              data-member-id=${row.id}
              @toggle=${(e: Event) => {
                const now = (e.target as HTMLDetailsElement).open;
                if (now !== this._open.has(row.id)) this.toggle(row.id, now);
              }}
            >
              <summary>
                <span class="title"
                  >${row.title}${row.type !== undefined ? html` <span class="t">${row.type}</span>` : nothing}</span
                >
                <span class="what">${row.what}</span>
                <span class="dot ${row.risk}">${row.riskText}</span>
              </summary>
              ${
                open && change !== undefined
                  ? html`<div class="full">
                      <cs-change-card
                        .change=${change}
                        .index=${this.index}
                        .base=${null}
                        .target=${null}
                        nested
                      ></cs-change-card>
                    </div>`
                  : nothing
              }
            </details>
          </li>`;
        })}
      </ul>
      ${this.renderSketch()}
    `;
  }
}

customElements.define('cs-group-card', CsGroupCard);

declare global {
  interface HTMLElementTagNameMap {
    'cs-group-card': CsGroupCard;
  }
}
