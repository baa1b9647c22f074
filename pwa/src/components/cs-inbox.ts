import { LitElement, css, html, type PropertyValues } from 'lit';
import type { DeploymentSummary } from '../lib/protocol.js';
import { messageOf } from '../lib/messages.js';
import type { Session } from '../lib/session.js';
import { agoText, untilText } from '../lib/time.js';
import { sourceText } from '../lib/source.js';
import { checkIcon, refreshIcon } from '../icons.js';
import { buttons, view } from '../styles/shared.js';
import { errorAlert } from '../error-alert.js';

const PULL_TRIGGER = 72;

/**
 * Pending deployments: instance, who deployed, how many changes, how long until expiry. Pull down
 * (or the refresh button) to reload; it also reloads when a push arrives or the app comes back.
 */
export class CsInbox extends LitElement {
  static override properties = {
    session: { attribute: false },
    refresh: { type: Number },
    _items: { state: true },
    _error: { state: true },
    _loading: { state: true },
    _pull: { state: true },
  };

  declare session: Session;
  declare refresh: number;
  declare _items: DeploymentSummary[] | null;
  declare _error: string;
  declare _loading: boolean;
  declare _pull: number;

  private pullStart: { y: number } | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.refresh = 0;
    this._items = null;
    this._error = '';
    this._loading = false;
    this._pull = 0;
  }

  static override styles = [
    buttons,
    view,
    css`
      .pull {
        display: grid;
        place-items: center;
        overflow: hidden;
        color: var(--muted);
      }
      .pull svg {
        width: 24px;
        height: 24px;
      }
      .pull.ready svg {
        color: var(--primary);
      }
      .spin svg {
        animation: spin 0.9s linear infinite;
      }
      @keyframes spin {
        to {
          transform: rotate(360deg);
        }
      }
      @media (prefers-reduced-motion: reduce) {
        .spin svg {
          animation: none;
        }
      }
      .server {
        font-size: 13.5px;
        color: var(--muted);
        margin: -4px 0 12px;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: flex;
        flex-direction: column;
        gap: 12px;
      }
      a.item {
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 4px 12px;
        padding: 16px;
        border-radius: var(--radius);
        background: var(--surface);
        box-shadow: var(--shadow);
        color: inherit;
        text-decoration: none;
        min-height: 88px;
        border-left: 5px solid var(--primary);
      }
      a.item:focus-visible {
        outline: 3px solid var(--primary);
        outline-offset: 2px;
      }
      .instance {
        font-size: 18px;
        font-weight: 700;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .who {
        grid-column: 1;
        color: var(--muted);
        font-size: 14.5px;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .count {
        grid-row: 1 / span 2;
        grid-column: 2;
        align-self: center;
        text-align: center;
        min-width: 64px;
        padding: 6px 10px;
        border-radius: 14px;
        background: var(--primary-soft);
        color: var(--primary);
      }
      .count b {
        display: block;
        font-size: 22px;
        line-height: 1.1;
      }
      .count small {
        font-size: 11.5px;
        font-weight: 600;
      }
      .meta {
        grid-column: 1 / span 2;
        display: flex;
        gap: 12px;
        font-size: 13px;
        color: var(--muted);
        margin-top: 4px;
      }
      .meta .soon {
        color: var(--reject);
        font-weight: 600;
      }
      .empty {
        text-align: center;
        padding: 48px 24px;
        color: var(--muted);
      }
      .empty .ok {
        width: 72px;
        height: 72px;
        margin: 0 auto 16px;
        border-radius: 50%;
        display: grid;
        place-items: center;
        background: var(--approve-bg);
        color: var(--approve);
      }
      .empty .ok svg {
        width: 36px;
        height: 36px;
      }
      .empty h2 {
        color: var(--text);
        font-size: 20px;
        margin: 0 0 6px;
      }
      .empty p {
        margin: 0 auto;
        max-width: 30ch;
      }
      .skeleton {
        height: 88px;
        border-radius: var(--radius);
        background: var(--surface);
        box-shadow: var(--shadow);
        opacity: 0.7;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    // Expiry times tick down while the inbox is open.
    this.timer = setInterval(() => this.requestUpdate(), 30_000);
    // Pull to refresh: touch events keep coming while the page scrolls; a mouse uses pointer events.
    this.addEventListener('touchstart', this.onTouchStart, { passive: true });
    this.addEventListener('touchmove', this.onTouchMove, { passive: true });
    this.addEventListener('touchend', this.onUp);
    this.addEventListener('touchcancel', this.onUp);
    this.addEventListener('pointerdown', this.onDown);
    this.addEventListener('pointermove', this.onMove);
    this.addEventListener('pointerup', this.onUp);
  }

  override disconnectedCallback(): void {
    clearInterval(this.timer);
    super.disconnectedCallback();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('refresh') || changed.has('session')) void this.load();
  }

  /** Reloads the list of pending deployments. */
  async load(): Promise<void> {
    if (this._loading) return;
    this._loading = true;
    try {
      const body = await this.session.api.deployments('pending');
      this._items = [...body.deployments].sort(
        (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt),
      );
      this._error = '';
    } catch (error) {
      this._error = messageOf(error);
    } finally {
      this._loading = false;
    }
  }

  private scroller(): HTMLElement | null {
    return this.parentElement;
  }

  private startPull(y: number): void {
    if ((this.scroller()?.scrollTop ?? 0) <= 0) this.pullStart = { y };
  }

  private movePull(y: number): void {
    if (this.pullStart === null) return;
    const dy = y - this.pullStart.y;
    this._pull = dy > 0 ? Math.min(110, dy * 0.6) : 0;
  }

  private onTouchStart = (e: TouchEvent): void => {
    if (e.touches.length === 1) this.startPull(e.touches[0]!.clientY);
  };

  private onTouchMove = (e: TouchEvent): void => {
    if (e.touches.length === 1) this.movePull(e.touches[0]!.clientY);
  };

  private onDown = (e: PointerEvent): void => {
    if (e.pointerType !== 'touch' && e.isPrimary && e.button === 0) this.startPull(e.clientY);
  };

  private onMove = (e: PointerEvent): void => {
    if (e.pointerType !== 'touch') this.movePull(e.clientY);
  };

  private onUp = (): void => {
    if (this.pullStart === null) return;
    this.pullStart = null;
    if (this._pull >= PULL_TRIGGER) void this.load();
    this._pull = 0;
  };

  private renderItem(d: DeploymentSummary) {
    const expiresMs = Date.parse(d.expiresAt) - Date.now();
    const soon = expiresMs < 60 * 60 * 1000;
    return html`<li>
      <a class="item" href="#/review/${encodeURIComponent(d.id)}">
        <span class="instance">${d.instance}</span>
        <span class="count"
          ><b>${d.changeCount}</b><small>${d.changeCount === 1 ? 'change' : 'changes'}</small></span
        >
        <span class="who">${sourceText(d.source)}</span>
        <span class="meta">
          <span>${agoText(d.createdAt)}</span>
          <span class=${soon ? 'soon' : ''}>expires ${untilText(d.expiresAt)}</span>
        </span>
      </a>
    </li>`;
  }

  override render() {
    const items = this._items;
    const pulling = this._pull > 0 || this._loading;
    return html`
      <header class="bar">
        <h1>Inbox</h1>
        <button
          class="icon-button ${this._loading ? 'spin' : ''}"
          aria-label="Refresh"
          @click=${() => void this.load()}
        >
          ${refreshIcon}
        </button>
      </header>
      <div
        class="pull ${this._pull >= PULL_TRIGGER ? 'ready' : ''} ${this._loading ? 'spin' : ''}"
        aria-hidden="true"
        .hidden=${!pulling || this._pull === 0}
      >
        ${refreshIcon}
      </div>
      <main>
        <p class="server">
          ${this.session.device.serverName} · this phone is ${this.session.device.name}
        </p>
        ${errorAlert(this._error)}
        ${
          items === null
            ? html`<ul aria-busy="true">
                <li class="skeleton"></li>
                <li class="skeleton"></li>
              </ul>`
            : items.length === 0
              ? html`<div class="empty">
                  <div class="ok">${checkIcon}</div>
                  <h2>Nothing to review</h2>
                  <p>When someone deploys, a notification brings you here.</p>
                </div>`
              : html`<ul aria-label="Deployments waiting for review">
                  ${items.map((d) => this.renderItem(d))}
                </ul>`
        }
      </main>
    `;
  }

  protected override updated(): void {
    const pull = this.renderRoot.querySelector<HTMLElement>('.pull');
    if (pull !== null) pull.style.height = `${this._pull}px`;
  }
}

customElements.define('cs-inbox', CsInbox);

declare global {
  interface HTMLElementTagNameMap {
    'cs-inbox': CsInbox;
  }
}
