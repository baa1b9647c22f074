import { LitElement, css, html, nothing } from 'lit';
import type { Change, Flows } from '../lib/protocol.js';
import {
  EMBEDDED_HEADING,
  groupView,
  type GroupView,
  type MemberRow,
  type Topic,
} from '../cards/group-view.js';
import type { ReviewCard } from '../cards/grouping.js';
import type { NodeIndex } from '../cards/node-index.js';
import { minimapOf } from '../cards/sketch.js';
import { flowIcon } from '../icons.js';
import { cardChips, cardHead } from '../styles/card-chips.js';
import { srOnly } from '../styles/shared.js';
import './cs-change-card.js';
import './cs-flow-sketch.js';

/** How far below the visible part of the card an embedded card is drawn ahead of the reader. */
const AHEAD = '900px 0px';

/** A rough height of a change's full card, so the card's length is right before it is drawn. */
function estimatedHeight(change: Change | undefined): number {
  const p = (change?.op === 'removed' ? change.before : change?.after) ?? {};
  let lines = 0;
  for (const value of Object.values(p)) {
    lines += typeof value === 'string' ? value.split('\n').length : 1;
  }
  return 200 + Math.min(lines, 400) * 21;
}

/** The element that scrolls `from` (the review's card), across shadow roots; null for the page. */
function scrollerOf(from: Element): HTMLElement | null {
  let at: Node | null = from;
  while (at !== null) {
    const parent: Node | null =
      at.parentNode instanceof ShadowRoot ? at.parentNode.host : at.parentNode;
    if (parent instanceof HTMLElement) {
      const overflow = getComputedStyle(parent).overflowY;
      if (overflow === 'auto' || overflow === 'scroll') return parent;
    }
    at = parent;
  }
  return null;
}

/** How much of a group card is still to read before it can be approved. */
export type GroupProgress = { id: string; left: number; read: boolean };

/**
 * A group card (DESIGN 8): a flow added or removed whole, or a flow's low-risk changes, decided at
 * once. It says what matters first (code, endpoints, outbound connections, files and processes,
 * credentials), then shows each high-risk change it holds as its own full card, in that order, then
 * lists every other change; each of those opens, in place, to its full card.
 *
 * The embedded cards are drawn as the reader comes near them (the first card of a big import stays
 * quick), and the card counts which ones have been on screen: the group is read once every one of
 * them has been, and its end. The review offers Approve for the group only then.
 *
 * @fires group-progress - detail `GroupProgress`, whenever what is left to read changes.
 */
export class CsGroupCard extends LitElement {
  static override properties = {
    card: { attribute: false },
    byId: { attribute: false },
    index: { attribute: false },
    base: { attribute: false },
    target: { attribute: false },
    _open: { state: true },
    _drawn: { state: true },
  };

  declare card: Exclude<ReviewCard, { kind: 'single' }>;
  declare byId: ReadonlyMap<string, Change>;
  declare index: NodeIndex;
  declare base: Flows | null;
  declare target: Flows | null;
  /** The changes opened to their full card. */
  declare _open: ReadonlySet<string>;
  /** The embedded high-risk changes drawn so far (each stays drawn). */
  declare _drawn: ReadonlySet<string>;

  private shownFor: string | null = null;
  /** The embedded changes in the order shown, for the card in view. */
  private embedded: string[] = [];
  /** Embedded changes on screen now, and those seen drawn on screen; and whether the end was. */
  private onScreen = new Set<string>();
  private seen = new Set<string>();
  private endSeen = false;
  private lastReport = '';
  private observing = false;
  private drawer: IntersectionObserver | null = null;
  private watcher: IntersectionObserver | null = null;

  constructor() {
    super();
    this.base = null;
    this.target = null;
    this._open = new Set();
    this._drawn = new Set();
  }

  override disconnectedCallback(): void {
    this.drawer?.disconnect();
    this.watcher?.disconnect();
    this.drawer = null;
    this.watcher = null;
    super.disconnectedCallback();
  }

  /** What is left to read: embedded changes not yet seen, and the end of the card. */
  get progress(): GroupProgress {
    const left = this.embedded.filter((id) => !this.seen.has(id)).length;
    return { id: this.card.id, left, read: left === 0 && this.endSeen };
  }

  /**
   * Brings the next embedded change not yet seen to the top of the card and moves the focus to it;
   * when all were seen, the end of the card.
   */
  showNext(): void {
    const next = this.embedded.find((id) => !this.seen.has(id));
    const target =
      next === undefined
        ? this.renderRoot.querySelector<HTMLElement>('.end')
        : this.renderRoot.querySelector<HTMLElement>(
            `.embed[data-member-id="${CSS.escape(next)}"]`,
          );
    const scroller = scrollerOf(this);
    if (target === null || scroller === null) return;
    const top = target.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    scroller.scrollTo({ top: scroller.scrollTop + top - 8 });
    if (next !== undefined) target.focus({ preventScroll: true });
  }

  private report(): void {
    const progress = this.progress;
    const key = JSON.stringify(progress);
    // Nothing read yet is what the review assumes of a card until told otherwise.
    const untouched = progress.left === this.embedded.length && !progress.read;
    if (key === this.lastReport || (this.lastReport === '' && untouched)) return;
    this.lastReport = key;
    this.dispatchEvent(
      new CustomEvent<GroupProgress>('group-progress', {
        detail: progress,
        bubbles: true,
        composed: true,
      }),
    );
  }

  /** Draws embedded cards as they come within reach of the visible part of the card. */
  private onNear = (entries: IntersectionObserverEntry[]): void => {
    const near = entries
      .filter((e) => e.isIntersecting)
      .map((e) => (e.target as HTMLElement).dataset.memberId ?? '')
      .filter((id) => id !== '' && !this._drawn.has(id));
    if (near.length > 0) this._drawn = new Set([...this._drawn, ...near]);
  };

  /** Counts what has been on screen: a drawn embedded card, or the end of the card. */
  private onSeen = (entries: IntersectionObserverEntry[]): void => {
    for (const entry of entries) {
      const el = entry.target as HTMLElement;
      const visible =
        entry.isIntersecting &&
        entry.intersectionRect.height >= Math.min(48, entry.boundingClientRect.height);
      if (el.classList.contains('end')) {
        if (visible) this.endSeen = true;
        continue;
      }
      const id = el.dataset.memberId ?? '';
      if (visible) this.onScreen.add(id);
      else this.onScreen.delete(id);
    }
    this.countSeen();
  };

  private countSeen(): void {
    for (const id of this.onScreen) if (this._drawn.has(id)) this.seen.add(id);
    this.report();
  }

  protected override updated(): void {
    // Observed a frame later: the card's first frame is drawn without waiting on style or layout.
    if (!this.observing) {
      this.observing = true;
      requestAnimationFrame(() => {
        this.observing = false;
        if (this.isConnected) this.observe();
      });
    }
    this.countSeen();
  }

  private observe(): void {
    if (this.drawer === null || this.watcher === null) {
      this.drawer = new IntersectionObserver(this.onNear, {
        root: scrollerOf(this),
        rootMargin: AHEAD,
      });
      this.watcher = new IntersectionObserver(this.onSeen, { threshold: [0, 0.05, 0.25, 0.5, 1] });
    }
    for (const el of this.renderRoot.querySelectorAll('.embed, .end')) {
      // Observing an element again is a no-op; a new card's elements start observed afresh.
      if (el.classList.contains('embed')) this.drawer.observe(el);
      this.watcher.observe(el);
    }
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
    }
    .dot {
      font-size: 12px;
      font-weight: 700;
      display: inline-flex;
      align-items: center;
      gap: 4px;
    }
    .dot::before {
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
    h3.embedded-head {
      margin-top: 18px;
    }
    /* Each high-risk change as its own card: framed like one, drawn when the reader comes near. */
    section.embed {
      margin: 10px 0 14px;
      padding: 2px 12px 14px;
      border-radius: var(--radius-sm);
      border: 1px solid var(--border);
      border-left: 4px solid var(--reject);
      background: var(--surface);
      scroll-margin-top: 8px;
    }
    section.embed.drawn {
      content-visibility: auto;
      contain-intrinsic-size: auto 600px;
    }
    section.embed:focus-visible {
      outline: 3px solid var(--primary);
      outline-offset: 2px;
    }
    p.of {
      margin: 10px 0 0;
      font-size: 12.5px;
      font-weight: 600;
      color: var(--muted);
    }
    .pending-title {
      margin: 12px 0 0;
      font-size: 14.5px;
      overflow-wrap: anywhere;
    }
    .pending-title .t {
      color: var(--muted);
      font-family: var(--mono);
      font-size: 12.5px;
    }
    .pending-title .dot {
      margin-left: 8px;
    }
    .end {
      height: 1px;
    }
  `;

  protected override willUpdate(): void {
    // A new card starts closed, unread, with nothing of it drawn.
    if (this.shownFor !== this.card.id) {
      this.shownFor = this.card.id;
      this._open = new Set();
      this._drawn = new Set();
      this.onScreen = new Set();
      this.seen = new Set();
      this.endSeen = false;
      this.lastReport = '';
      // Elements kept from the last card are observed afresh, so their state is read again.
      this.drawer?.disconnect();
      this.watcher?.disconnect();
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

  private renderEmbedded(row: MemberRow, at: number, of: number) {
    const change = this.byId.get(row.id);
    const drawn = this._drawn.has(row.id) && change !== undefined;
    return html`<section
      class="embed ${drawn ? 'drawn' : 'pending'}"
      data-member-id=${row.id}
      tabindex="-1"
      aria-label=${`High-risk change ${at} of ${of}: ${row.title}`}
      style=${drawn ? '' : `min-height: ${estimatedHeight(change)}px`}
    >
      <p class="of">High-risk change ${at} of ${of}</p>
      ${
        drawn
          ? html`<cs-change-card
              .change=${change}
              .index=${this.index}
              .base=${null}
              .target=${null}
              nested
            ></cs-change-card>`
          : html`<p class="pending-title">
              <strong>${row.title}</strong
              >${row.type !== undefined ? html` <span class="t">${row.type}</span>` : nothing}
              <span class="dot ${row.risk}">${row.riskText}</span>
            </p>`
      }
    </section>`;
  }

  override render() {
    const view = groupView(this.card, this.byId, this.index);
    this.embedded = view.embedded.map((row) => row.id);
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
      ${
        view.embedded.length > 0
          ? html`<h3 class="embedded-head">${EMBEDDED_HEADING}</h3>
              ${view.embedded.map((row, i) => this.renderEmbedded(row, i + 1, view.embedded.length))}`
          : nothing
      }
      ${view.members.length > 0 ? this.renderList(view) : nothing} ${this.renderSketch()}
      <div class="end" aria-hidden="true"></div>
    `;
  }

  private renderList(view: GroupView) {
    const allOpen = this._open.size === view.members.length;
    return html`<div class="list-head">
        <h3 id="list">${view.listHeading}</h3>
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
      </ul>`;
  }
}

customElements.define('cs-group-card', CsGroupCard);

declare global {
  interface HTMLElementTagNameMap {
    'cs-group-card': CsGroupCard;
  }
}
