import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import {
  nowSeconds,
  type Change,
  type DecisionResponse,
  type DeploymentDetail,
  type Flows,
  type Verdict,
} from '../lib/protocol.js';
import { visibleText } from '../../../protocol/text.js';
import { sentenceOf } from '../cards/describe.js';
import { groupSentence } from '../cards/group-view.js';
import { reviewCards, type ReviewCard } from '../cards/grouping.js';
import { NodeIndex } from '../cards/node-index.js';
import { approvalFor, signDecision } from '../lib/approval.js';
import { codeOf, messageOf } from '../lib/messages.js';
import { ORDER_ONLY, ReviewState } from '../lib/review-state.js';
import {
  DeploymentFollower,
  closedNow,
  closedText,
  newerOf,
  type Closed,
} from '../lib/follow-deployment.js';
import type { Session } from '../lib/session.js';
import { sourceText } from '../lib/source.js';
import type { VerifyResult } from '../lib/verify.js';
import { alertIcon, backIcon, checkIcon, crossIcon, shieldIcon, undoIcon } from '../icons.js';
import { buttons, view, warningBox } from '../styles/shared.js';
import './cs-change-card.js';
import type { CheckState } from './cs-review-summary.js';

/**
 * Parts of a review that not every deployment shows before Approve is usable, loaded on demand to
 * keep the first load small (DESIGN 9): group and palette cards when the deck holds one (awaited
 * before the first card), and the summary, fetched once Approve is usable or when it is shown.
 */
const parts = {
  group: () => import('./cs-group-card.js'),
  module: () => import('./cs-module-card.js'),
  summary: () => import('./cs-review-summary.js'),
};

/** The card elements a deck needs beyond the change card. */
function cardParts(cards: readonly ReviewCard[], byId: ReadonlyMap<string, Change>) {
  const needs = new Set<'group' | 'module'>();
  for (const card of cards) {
    if (card.kind !== 'single') needs.add('group');
    else if (byId.get(card.id)?.kind === 'module') needs.add('module');
  }
  return Promise.all([...needs].map((part) => parts[part]()));
}

type Phase = 'loading' | 'error' | 'closed' | 'review' | 'signing' | 'done';

type Drag = { id: number; x: number; y: number; dx: number; active: boolean };

function reducedMotion(): boolean {
  return matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/**
 * The review of one deployment: one card per change, swiped right to approve and left to reject (or
 * the buttons, or the arrow keys), with undo and progress, then the summary that signs. The cards
 * come from the server's list at once; the T8 check runs behind them and gates only the signature.
 *
 * @fires review-state - detail `{active}`: true while a review is under way (the app holds updates).
 */
export class CsReview extends LitElement {
  static override properties = {
    session: { attribute: false },
    deploymentId: { type: String },
    _phase: { state: true },
    _detail: { state: true },
    _error: { state: true },
    _check: { state: true },
    _checkMessage: { state: true },
    _flows: { state: true },
    _tick: { state: true },
    _result: { state: true },
    _announce: { state: true },
    _closed: { state: true },
  };

  declare session: Session;
  declare deploymentId: string;
  declare _phase: Phase;
  declare _detail: DeploymentDetail | null;
  declare _error: string;
  declare _check: CheckState;
  declare _checkMessage: string;
  declare _flows: { base: Flows; target: Flows } | null;
  declare _tick: number;
  declare _result: DecisionResponse | null;
  declare _announce: string;
  /** What became of the deployment when it stopped waiting (DESIGN 8: the review follows it live). */
  declare _closed: Closed | null;

  private state = new ReviewState([]);
  private index = new NodeIndex([]);
  private changedIds: ReadonlySet<string> = new Set();
  private byId = new Map<string, Change>();
  /** The deck's cards by card id: a change of its own, or a group (DESIGN 8). */
  private deck = new Map<string, ReviewCard>();
  private verifying: Promise<VerifyResult | null> | null = null;
  /** What must have happened before a person can approve (marked for the bench): card and check. */
  private readonly ready = new Set<'card' | 'check'>();
  private drag: Drag | null = null;
  private animating = false;
  private loadedFor = '';
  private follower: DeploymentFollower | null = null;

  constructor() {
    super();
    this.deploymentId = '';
    this._phase = 'loading';
    this._detail = null;
    this._error = '';
    this._check = 'pending';
    this._checkMessage = '';
    this._flows = null;
    this._tick = 0;
    this._result = null;
    this._announce = '';
    this._closed = null;
  }

  static override styles = [
    buttons,
    view,
    warningBox,
    css`
      :host {
        height: 100%;
        min-height: 0;
        overflow: hidden;
      }
      header.bar {
        position: static;
        background: transparent;
        backdrop-filter: none;
        -webkit-backdrop-filter: none;
        padding-left: 4px;
      }
      .titles {
        flex: 1;
        min-width: 0;
      }
      .titles h1 {
        font-size: 18px;
        font-weight: 700;
        margin: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .titles p {
        margin: 0;
        font-size: 13px;
        color: var(--muted);
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .verified {
        display: inline-flex;
        align-items: center;
        gap: 4px;
        font-size: 12.5px;
        font-weight: 600;
        border-radius: 999px;
        padding: 4px 10px 4px 6px;
        white-space: nowrap;
      }
      .verified svg {
        width: 16px;
        height: 16px;
      }
      .verified.ok {
        color: var(--approve);
        background: var(--approve-bg);
      }
      .verified.pending {
        color: var(--muted);
        background: var(--surface-3);
      }
      .verified.failed,
      .verified.error {
        color: var(--reject);
        background: var(--reject-bg);
      }
      .progress {
        display: flex;
        align-items: center;
        gap: 10px;
        padding: 0 16px 8px;
        font-size: 13px;
        color: var(--muted);
        font-variant-numeric: tabular-nums;
      }
      .segments {
        flex: 1;
        display: flex;
        gap: 3px;
        height: 6px;
      }
      .segments.dense {
        gap: 0;
      }
      .seg {
        flex: 1;
        border-radius: 3px;
        background: var(--surface-3);
      }
      .segments.dense .seg {
        border-radius: 0;
      }
      .seg.approve {
        background: var(--approve);
      }
      .seg.reject {
        background: var(--reject);
      }
      .seg.here {
        background: var(--primary);
      }
      .alert {
        margin: 0 12px 8px;
      }
      .alert button {
        margin-top: 6px;
      }
      .stage {
        flex: 1;
        min-height: 0;
        position: relative;
        padding: 0 12px;
      }
      .card {
        position: relative;
        height: 100%;
        overflow-y: auto;
        overscroll-behavior: contain;
        touch-action: pan-y;
        background: var(--surface);
        border-radius: var(--radius);
        box-shadow: var(--shadow);
        padding: 16px 16px 24px;
        outline: none;
        will-change: transform;
      }
      .card.dragging {
        user-select: none;
        -webkit-user-select: none;
        box-shadow: var(--shadow-lift);
      }
      .stamp {
        position: absolute;
        top: 18px;
        z-index: 3;
        padding: 4px 12px;
        border: 3px solid currentColor;
        border-radius: 10px;
        font-weight: 800;
        font-size: 20px;
        letter-spacing: 0.08em;
        opacity: 0;
        pointer-events: none;
      }
      .stamp.approve {
        left: 18px;
        color: var(--approve);
        transform: rotate(-10deg);
      }
      .stamp.reject {
        right: 18px;
        color: var(--reject);
        transform: rotate(10deg);
      }
      footer {
        display: grid;
        grid-template-columns: 1fr auto 1fr;
        gap: 10px;
        padding: 12px 12px calc(12px + var(--safe-bottom));
      }
      footer button {
        min-height: 56px;
        font-size: 17px;
      }
      footer.final {
        grid-template-columns: auto 1fr;
      }
      footer .undo {
        width: 56px;
        padding: 0;
        background: var(--surface);
        border: 1px solid var(--border);
        box-shadow: var(--shadow);
      }
      .center {
        flex: 1;
        display: flex;
        flex-direction: column;
        align-items: center;
        justify-content: center;
        text-align: center;
        padding: 24px;
        gap: 14px;
      }
      .center h2 {
        margin: 0;
        font-size: 22px;
      }
      .center p {
        margin: 0;
        color: var(--muted);
        max-width: 32ch;
      }
      .center .button {
        width: min(100%, 320px);
      }
      .badge {
        width: 72px;
        height: 72px;
        border-radius: 50%;
        display: grid;
        place-items: center;
      }
      .badge svg {
        width: 38px;
        height: 38px;
      }
      .badge.approve {
        background: var(--approve-bg);
        color: var(--approve);
      }
      .badge.reject {
        background: var(--reject-bg);
        color: var(--reject);
      }
      .badge.neutral {
        background: var(--surface-3);
        color: var(--muted);
      }
      .skeleton {
        height: 100%;
        border-radius: var(--radius);
        background: var(--surface);
        box-shadow: var(--shadow);
        padding: 16px;
      }
      .skeleton i {
        display: block;
        height: 14px;
        border-radius: 7px;
        background: var(--surface-3);
        margin-bottom: 12px;
      }
      .skeleton i.short {
        width: 45%;
      }
      .order-card h2 {
        font-size: 22px;
        margin: 8px 0;
      }
      .order-card p {
        color: var(--muted);
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    window.removeEventListener('keydown', this.onKey);
    this.follower?.stop();
    this.setActive(false);
    super.disconnectedCallback();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (
      (changed.has('deploymentId') || changed.has('session')) &&
      this.loadedFor !== this.deploymentId
    ) {
      this.loadedFor = this.deploymentId;
      void this.load();
    }
  }

  private setActive(active: boolean): void {
    this.dispatchEvent(
      new CustomEvent('review-state', { detail: { active }, bubbles: true, composed: true }),
    );
  }

  /** Loads the deployment and shows its first card at once; the T8 check starts behind it. */
  private async load(): Promise<void> {
    this._phase = 'loading';
    this._flows = null;
    this._check = 'pending';
    this._result = null;
    this._closed = null;
    this.follower?.stop();
    try {
      const detail = await this.session.api.deployment(this.deploymentId);
      this._detail = detail;
      this.byId = new Map(detail.changes.map((c) => [c.id, c]));
      this.changedIds = new Set(detail.changes.flatMap((c) => (c.node ? [c.node.id] : [])));
      this.index = new NodeIndex(detail.changes);
      const cards = reviewCards(detail.changes);
      this.deck = new Map(cards.map((c) => [c.id, c]));
      this.state = new ReviewState(cards);
      if (detail.id !== this.deploymentId)
        throw new Error('The server answered with another deployment.');
      if (detail.status !== 'pending') {
        this._closed = {
          status: detail.status,
          newer: await newerOf(this.session.api, detail).catch(() => null),
        };
        this._phase = 'closed';
        return;
      }
      if (detail.approvals.some((a) => a.device === this.session.key.id)) {
        // Waiting for other approvers: this phone has said its part.
        this._error =
          'This phone has already decided this deployment; it waits for other approvers.';
        this._detail = null;
        this._phase = 'closed';
        return;
      }
      await cardParts(cards, this.byId);
      this._phase = 'review';
      this.setActive(true);
      this.follower = new DeploymentFollower(this.session.api, detail, (closed) => {
        if (this._phase !== 'review' || this._detail !== detail) return;
        this._closed = closed;
        this._phase = 'closed';
        this.setActive(false);
      });
      this.follower.start();
      this.verifying = this.runCheck(detail);
      await this.updateComplete;
      await this.renderRoot.querySelector<LitElement>('cs-change-card, cs-group-card')
        ?.updateComplete;
      performance.mark('countersign:first-card');
      this.markReady('card');
    } catch (error) {
      this._error = messageOf(error);
      this._phase = codeOf(error) === 'ERR_NOT_FOUND' ? 'closed' : 'error';
    }
  }

  private async runCheck(detail: DeploymentDetail): Promise<VerifyResult | null> {
    this._check = 'pending';
    try {
      const { verifyDeployment } = await import('../lib/verify.js');
      const result = await verifyDeployment(detail, (rev) =>
        this.session.api.bytes(`/blobs/${encodeURIComponent(rev)}`),
      );
      if (this._detail !== detail) return result;
      if (result.ok) {
        this._check = 'ok';
        this._flows = { base: result.base, target: result.target };
        this.index = new NodeIndex(detail.changes, result.base, result.target);
        void this.updateComplete.then(() => this.markReady('check'));
      } else {
        this._check = 'failed';
        this._checkMessage = `${result.message} `;
      }
      return result;
    } catch (error) {
      if (this._detail === detail) {
        if (codeOf(error) === 'ERR_BLOB_MISMATCH') {
          // The server itself found its stored snapshot changed since the proposal.
          this._check = 'failed';
          this._checkMessage =
            'A snapshot stored on the server changed after the deployment was proposed. ';
        } else {
          this._check = 'error';
          this._checkMessage = `${messageOf(error)} `;
        }
      }
      return null;
    }
  }

  /** `countersign:approve-ready` once the first card shows and the snapshot check passed (T8). */
  private markReady(part: 'card' | 'check'): void {
    if (this.ready.size === 2) return;
    this.ready.add(part);
    if (this.ready.size === 2) {
      performance.mark('countersign:approve-ready');
      void parts.summary();
    }
  }

  private retryCheck(): void {
    if (this._detail !== null) this.verifying = this.runCheck(this._detail);
  }

  private onKey = (e: KeyboardEvent): void => {
    if (this._phase !== 'review' || e.defaultPrevented || e.altKey || e.metaKey) return;
    const target = e.composedPath()[0];
    if (target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    if (this.renderRoot.querySelector('dialog[open]') !== null) return;
    if (e.key === 'ArrowRight' && this.state.current !== null) {
      e.preventDefault();
      void this.decide('approve');
    } else if (e.key === 'ArrowLeft' && this.state.current !== null) {
      e.preventDefault();
      void this.decide('reject');
    } else if (e.key === 'Backspace' || (e.key === 'z' && e.ctrlKey) || e.key === 'u') {
      if (!this.state.canUndo) return;
      e.preventDefault();
      this.undo();
    }
  };

  private get cardEl(): HTMLElement | null {
    return this.renderRoot.querySelector<HTMLElement>('.card');
  }

  /** Decides the card in view: it flies off to its side, the next one comes in. */
  private async decide(verdict: Verdict): Promise<void> {
    if (this.animating || this.state.current === null) return;
    const id = this.state.current;
    const card = this.cardEl;
    this.animating = true;
    try {
      if (card !== null && !reducedMotion()) {
        const sign = verdict === 'approve' ? 1 : -1;
        const from = card.style.transform || 'none';
        await card.animate(
          [
            { transform: from, opacity: 1 },
            {
              transform: `translateX(${sign * (card.offsetWidth + 80)}px) rotate(${sign * 10}deg)`,
              opacity: 0,
            },
          ],
          { duration: 220, easing: 'cubic-bezier(.4,0,1,1)', fill: 'forwards' },
        ).finished;
      }
      this.state.decide(verdict);
      const said = this.sentence(id);
      this._announce = `${verdict === 'approve' ? 'Approved' : 'Rejected'}${said ? `: ${said}` : ''}.`;
      this.refresh();
      await this.updateComplete;
      this.enterCard();
    } finally {
      this.animating = false;
    }
  }

  private undo(): void {
    if (this.animating) return;
    const id = this.state.undo();
    if (id === null) return;
    const said = this.sentence(id);
    this._announce = `Undone${said ? `: ${said}` : ''}.`;
    this.refresh();
    void this.updateComplete.then(() => this.enterCard());
  }

  private revisit(id: string): void {
    this.state.revisit(id);
    this.refresh();
    void this.updateComplete.then(() => this.enterCard());
  }

  /** What a card decides, in a sentence (for screen readers and the summary). */
  private sentence(cardId: string): string {
    const card = this.deck.get(cardId);
    if (card === undefined) return '';
    if (card.kind !== 'single') return groupSentence(card, this.byId, this.index);
    const change = this.byId.get(card.id);
    return change ? sentenceOf(change, this.index) : '';
  }

  private refresh(): void {
    this._tick++;
  }

  private enterCard(): void {
    const card = this.cardEl;
    if (card === null) return;
    card.style.transform = '';
    card.getAnimations().forEach((a) => a.cancel());
    card.scrollTop = 0;
    this.stamps(0);
    if (!reducedMotion()) {
      card.animate(
        [
          { transform: 'scale(0.96)', opacity: 0 },
          { transform: 'none', opacity: 1 },
        ],
        { duration: 180, easing: 'ease-out' },
      );
    }
  }

  private stamps(dx: number): void {
    const approve = this.renderRoot.querySelector<HTMLElement>('.stamp.approve');
    const reject = this.renderRoot.querySelector<HTMLElement>('.stamp.reject');
    if (approve) approve.style.opacity = String(Math.max(0, Math.min(1, dx / 100)));
    if (reject) reject.style.opacity = String(Math.max(0, Math.min(1, -dx / 100)));
  }

  private onPointerDown = (e: PointerEvent): void => {
    if (!e.isPrimary || e.button !== 0 || this.animating) return;
    this.drag = { id: e.pointerId, x: e.clientX, y: e.clientY, dx: 0, active: false };
  };

  private onPointerMove = (e: PointerEvent): void => {
    const d = this.drag;
    const card = this.cardEl;
    if (d === null || d.id !== e.pointerId || card === null) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.active) {
      if (Math.abs(dy) > 14 && Math.abs(dy) > Math.abs(dx)) {
        this.drag = null; // a scroll, not a swipe
        return;
      }
      if (Math.abs(dx) < 10) return;
      d.active = true;
      card.setPointerCapture(e.pointerId);
      card.classList.add('dragging');
    }
    d.dx = dx;
    card.style.transform = `translateX(${dx}px) rotate(${dx / 24}deg)`;
    this.stamps(dx);
  };

  private onPointerUp = (e: PointerEvent): void => {
    const d = this.drag;
    const card = this.cardEl;
    this.drag = null;
    if (d === null || d.id !== e.pointerId || card === null || !d.active) return;
    card.classList.remove('dragging');
    const threshold = Math.min(120, card.offsetWidth * 0.3);
    if (Math.abs(d.dx) >= threshold) {
      void this.decide(d.dx > 0 ? 'approve' : 'reject');
    } else {
      this.snapBack(card);
    }
  };

  private onPointerCancel = (): void => {
    const card = this.cardEl;
    this.drag = null;
    if (card !== null) {
      card.classList.remove('dragging');
      this.snapBack(card);
    }
  };

  private snapBack(card: HTMLElement): void {
    const from = card.style.transform;
    card.style.transform = '';
    this.stamps(0);
    if (from && !reducedMotion()) {
      card.animate([{ transform: from }, { transform: 'none' }], {
        duration: 180,
        easing: 'ease-out',
      });
    }
  }

  /** Signs the decision with the device key and sends it; T8 gates an approval. */
  private async sign(note: string): Promise<void> {
    const detail = this._detail;
    if (detail === null || this._phase !== 'review') return;
    const verdict = this.state.verdict;
    this._phase = 'signing';
    try {
      if (verdict === 'approve') {
        const result = await this.verifying;
        if (result === null || !result.ok) {
          this._phase = 'review';
          return;
        }
      }
      const { device, key, api } = this.session;
      const approval = await approvalFor({
        deviceId: key.id,
        serverId: device.serverId,
        detail,
        changes: this.state.changesClaim,
        verdict,
        note,
        now: nowSeconds(),
      });
      this._result = await api.decide(detail.id, await signDecision(key, approval));
      this._phase = 'done';
      this.setActive(false);
    } catch (error) {
      this._error = messageOf(error);
      if (codeOf(error) === 'ERR_DEPLOYMENT_NOT_PENDING') {
        // Decided, replaced or expired while this phone signed: say which, from the server.
        this._closed = await closedNow(this.session.api, detail).catch(() => null);
        this._phase = 'closed';
      } else {
        this._phase = 'error';
      }
      this.follower?.stop();
      this.setActive(false);
    }
  }

  /** The summary's confirmation; its element may still be on its way (see `parts`). */
  private async openConfirm(): Promise<void> {
    await customElements.whenDefined('cs-review-summary');
    this.renderRoot.querySelector('cs-review-summary')?.openConfirm();
  }

  private back(): void {
    location.hash = '#/inbox';
  }

  private renderHeader() {
    const d = this._detail;
    const check = this._check;
    const checkText =
      check === 'ok'
        ? 'Verified'
        : check === 'pending'
          ? 'Checking'
          : check === 'failed'
            ? 'Mismatch'
            : 'Unchecked';
    return html`<header class="bar">
      <button class="icon-button" aria-label="Back to the inbox" @click=${this.back}>
        ${backIcon}
      </button>
      <div class="titles">
        <h1>${d ? visibleText(d.instance) : 'Deployment'}</h1>
        <p>${d ? visibleText(sourceText(d.source)) : ''}</p>
      </div>
      ${
        d && this._phase === 'review'
          ? html`<span
              class="verified ${check}"
              role="status"
              aria-label="Snapshot check: ${checkText}"
              >${check === 'ok' || check === 'pending' ? shieldIcon : alertIcon}${checkText}</span
            >`
          : nothing
      }
    </header>`;
  }

  private renderProgress() {
    const cards = this.state.cards;
    const dense = cards.length > 40;
    const position = Math.min(this.state.index + 1, cards.length);
    const onSummary = this.state.current === null;
    return html`<div class="progress">
      <div
        class="segments ${dense ? 'dense' : ''}"
        role="progressbar"
        aria-label="Review progress"
        aria-valuemin="0"
        aria-valuemax=${cards.length}
        aria-valuenow=${cards.length - this.state.counts.open}
      >
        ${cards.map((id, i) => {
          const v = this.state.verdictOf(id);
          const cls = v ?? (i === this.state.index ? 'here' : '');
          return html`<span class="seg ${cls}"></span>`;
        })}
      </div>
      <span>${onSummary ? 'Done' : `${position} / ${cards.length}`}</span>
    </div>`;
  }

  private renderAlert() {
    if (this._check !== 'failed' && this._check !== 'error') return nothing;
    return html`<div class="alert warning-box" role="alert">
      ${alertIcon}
      <div>
        <strong>${this._check === 'failed' ? 'Do not approve.' : 'Snapshots not checked.'}</strong>
        ${this._checkMessage}
        ${
          this._check === 'error'
            ? html`<div><button class="ghost" @click=${this.retryCheck}>Try again</button></div>`
            : nothing
        }
      </div>
    </div>`;
  }

  private renderCard() {
    const id = this.state.current;
    if (id === null) {
      void parts.summary();
      const rejected = this.state.cards
        .filter((i) => i !== ORDER_ONLY && this.state.verdictOf(i) === 'reject')
        .map((i) => ({ id: i, text: this.sentence(i) }));
      return html`<div class="card summary">
        <cs-review-summary
          .counts=${this.state.counts}
          .rejected=${rejected}
          .check=${this._check}
          .checkMessage=${this._checkMessage}
          .busy=${this._phase === 'signing'}
          .instance=${this._detail?.instance ?? ''}
          .orderOnly=${this.state.ids.length === 0}
          @sign=${(e: CustomEvent<{ note: string }>) => void this.sign(e.detail.note)}
          @revisit=${(e: CustomEvent<{ id: string }>) => this.revisit(e.detail.id)}
        ></cs-review-summary>
      </div>`;
    }
    const card = this.deck.get(id);
    const change = this.byId.get(id);
    return html`<div
      class="card"
      tabindex="0"
      data-change-id=${id === ORDER_ONLY ? '' : id}
      aria-roledescription=${card !== undefined && card.kind !== 'single' ? 'group card' : 'change card'}
      aria-label=${id === ORDER_ONLY ? 'Order-only deployment' : this.sentence(id)}
      @pointerdown=${this.onPointerDown}
      @pointermove=${this.onPointerMove}
      @pointerup=${this.onPointerUp}
      @pointercancel=${this.onPointerCancel}
    >
      <span class="stamp approve" aria-hidden="true">APPROVE</span>
      <span class="stamp reject" aria-hidden="true">REJECT</span>
      ${
        card !== undefined && card.kind !== 'single'
          ? html`<cs-group-card
              .card=${card}
              .byId=${this.byId}
              .index=${this.index}
              .base=${this._flows?.base ?? null}
              .target=${this._flows?.target ?? null}
            ></cs-group-card>`
          : id === ORDER_ONLY || change === undefined
            ? html`<div class="order-card">
                <h2>Only the order changed</h2>
                <p>
                  The new flows hold the same nodes with the same properties and connections; only
                  their order in the file differs. Nothing about what runs changes.
                </p>
              </div>`
            : change.kind === 'module'
              ? html`<cs-module-card .change=${change}></cs-module-card>`
              : html`<cs-change-card
                  .change=${change}
                  .index=${this.index}
                  .base=${this._flows?.base ?? null}
                  .target=${this._flows?.target ?? null}
                  .changedIds=${this.changedIds}
                ></cs-change-card>`
      }
    </div>`;
  }

  private renderFooter() {
    const undo = html`<button
      class="undo"
      aria-label="Undo the last decision"
      ?disabled=${!this.state.canUndo || this._phase === 'signing'}
      @click=${this.undo}
    >
      ${undoIcon}
    </button>`;
    if (this.state.current === null) {
      // The summary's one action sits where the thumb is.
      const approving = this.state.verdict === 'approve';
      const blocked = this._phase === 'signing' || (approving && this._check !== 'ok');
      return html`<footer class="final">
        ${undo}
        <button
          class=${approving ? 'approve' : 'reject'}
          ?disabled=${blocked}
          @click=${() => void this.openConfirm()}
        >
          ${approving ? html`${checkIcon} Approve and sign` : html`${crossIcon} Reject deployment`}
        </button>
      </footer>`;
    }
    return html`<footer>
      <button class="reject" @click=${() => void this.decide('reject')}>${crossIcon} Reject</button>
      ${undo}
      <button class="approve" @click=${() => void this.decide('approve')}>
        ${checkIcon} Approve
      </button>
    </footer>`;
  }

  private renderCenter(
    kind: 'approve' | 'reject' | 'neutral',
    title: string,
    text: string,
    action: { href: string; label: string } | null = null,
  ) {
    const icon = kind === 'approve' ? checkIcon : kind === 'reject' ? crossIcon : alertIcon;
    return html`${this.renderHeader()}
      <div class="center" role="status">
        <div class="badge ${kind}">${icon}</div>
        <h2>${title}</h2>
        <p>${text}</p>
        ${action === null ? nothing : html`<a class="button primary" href=${action.href}>${action.label}</a>`}
        <a class="button ${action === null ? 'primary' : 'ghost'}" href="#/inbox"
          >Back to the inbox</a
        >
      </div>`;
  }

  override render() {
    switch (this._phase) {
      case 'loading':
        return html`${this.renderHeader()}
          <div class="stage" aria-busy="true">
            <div class="skeleton" aria-label="Loading the deployment">
              <i class="short"></i><i></i><i></i><i class="short"></i>
            </div>
          </div>`;
      case 'error':
        return this.renderCenter('neutral', 'Something went wrong', this._error);
      case 'closed': {
        if (this._closed === null)
          return this.renderCenter('neutral', 'Not waiting for you', this._error);
        const { title, text } = closedText(this._closed, this._detail?.instance ?? 'Node-RED');
        const newer = this._closed.newer;
        return this.renderCenter(
          'neutral',
          title,
          text,
          newer === null
            ? null
            : {
                href: `#/review/${encodeURIComponent(newer.id)}`,
                label: 'Review the newer one',
              },
        );
      }
      case 'done': {
        const status = this._result?.status ?? 'pending';
        const approvals = this._result?.approvals.length ?? 0;
        if (status === 'approved') {
          return this.renderCenter(
            'approve',
            'Approved and signed',
            `${this._detail?.instance ?? 'Node-RED'} will apply exactly the flows you reviewed.`,
          );
        }
        if (status === 'rejected') {
          return this.renderCenter(
            'reject',
            'Deployment rejected',
            `Nothing changes on ${this._detail?.instance ?? 'Node-RED'}.`,
          );
        }
        return this.renderCenter(
          'approve',
          'Your approval is in',
          `${approvals} ${approvals === 1 ? 'approval' : 'approvals'} so far; it needs more before it runs.`,
        );
      }
      default:
        return html`${this.renderHeader()} ${this.renderProgress()} ${this.renderAlert()}
          <div class="stage">${this.renderCard()}</div>
          ${this.renderFooter()}
          <p class="sr-only" aria-live="polite">${this._announce}</p>`;
    }
  }
}

customElements.define('cs-review', CsReview);

declare global {
  interface HTMLElementTagNameMap {
    'cs-review': CsReview;
  }
}
