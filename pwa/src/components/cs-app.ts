import { LitElement, css, html, nothing } from 'lit';
import type { CountersignError } from '../lib/protocol.js';
import { forgetDevice, loadDevice, type DeviceRecord } from '../lib/device-store.js';
import { parseRoute, type Route } from '../lib/router.js';
import { sessionOf, type Session } from '../lib/session.js';
import { alertIcon, devicesIcon, historyIcon, inboxIcon } from '../icons.js';
import { buttons, view } from '../styles/shared.js';
import './cs-review.js';

/**
 * Views loaded on first use, to keep the first load small. The review, the view a notification
 * opens, comes with the app itself.
 */
const lazy = {
  inbox: () => import('./cs-inbox.js'),
  enroll: () => import('./cs-enroll.js'),
  devices: () => import('./cs-devices.js'),
  history: () => import('./cs-history.js'),
};

/**
 * The app shell: finds this phone's enrolment, follows the hash route, and shows one view. A
 * revoked or forgotten device gets a clear screen instead of broken views; an app update waits
 * until no review is under way.
 *
 * @fires update-accepted - the person asked to load the new version.
 */
export class CsApp extends LitElement {
  static override properties = {
    updateReady: { type: Boolean },
    _route: { state: true },
    _session: { state: true },
    _loaded: { state: true },
    _gone: { state: true },
    _reviewing: { state: true },
    _refreshTick: { state: true },
    _lazyReady: { state: true },
  };

  declare updateReady: boolean;
  declare _route: Route;
  declare _session: Session | null;
  declare _loaded: boolean;
  declare _gone: CountersignError | null;
  declare _reviewing: boolean;
  declare _refreshTick: number;
  declare _lazyReady: Set<string>;

  constructor() {
    super();
    this.updateReady = false;
    this._route = parseRoute(location.hash);
    this._session = null;
    this._loaded = false;
    this._gone = null;
    this._reviewing = false;
    this._refreshTick = 0;
    this._lazyReady = new Set();
  }

  static override styles = [
    buttons,
    view,
    css`
      :host {
        display: flex;
        flex-direction: column;
        height: 100%;
        height: 100dvh;
      }
      .view {
        flex: 1;
        min-height: 0;
        overflow-y: auto;
        display: flex;
        flex-direction: column;
      }
      .view > * {
        flex: 1;
      }
      nav {
        display: grid;
        grid-template-columns: repeat(3, 1fr);
        background: var(--surface);
        border-top: 1px solid var(--border);
        padding-bottom: var(--safe-bottom);
      }
      nav a {
        min-height: 56px;
        display: flex;
        flex-direction: column;
        align-items: center;
        justify-content: center;
        gap: 2px;
        color: var(--muted);
        text-decoration: none;
        font-size: 12px;
        font-weight: 600;
      }
      nav a svg {
        width: 24px;
        height: 24px;
      }
      nav a[aria-current='page'] {
        color: var(--primary);
      }
      .update {
        display: flex;
        align-items: center;
        gap: 10px;
        margin: 8px 12px 0;
        padding: 8px 8px 8px 14px;
        border-radius: 14px;
        background: var(--primary-soft);
        color: var(--text);
        font-size: 14.5px;
      }
      .update span {
        flex: 1;
      }
      .update button {
        min-height: 44px;
      }
      .gone {
        flex: 1;
        display: flex;
        flex-direction: column;
        justify-content: center;
        gap: 16px;
        padding: 32px 24px;
      }
      .gone .icon {
        width: 64px;
        height: 64px;
        border-radius: 50%;
        display: grid;
        place-items: center;
        background: var(--reject-bg);
        color: var(--reject);
      }
      .gone .icon svg {
        width: 34px;
        height: 34px;
      }
      .gone h1 {
        margin: 0;
        font-size: 24px;
      }
      .gone p {
        margin: 0;
        color: var(--muted);
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    navigator.serviceWorker?.addEventListener('message', this.onWorkerMessage);
    document.addEventListener('visibilitychange', this.onVisible);
    void this.start();
  }

  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.onHash);
    navigator.serviceWorker?.removeEventListener('message', this.onWorkerMessage);
    document.removeEventListener('visibilitychange', this.onVisible);
    super.disconnectedCallback();
  }

  private async start(): Promise<void> {
    await this.useDevice(await loadDevice().catch(() => null));
    this._loaded = true;
  }

  /** Switches to a device (after enrolment) or to none. */
  private async useDevice(device: DeviceRecord | null): Promise<void> {
    this._gone = null;
    this._session =
      device === null ? null : await sessionOf(device, (error) => (this._gone = error));
    this.loadLazy(this._route);
  }

  private onHash = (): void => {
    this._route = parseRoute(location.hash);
    // A review that was left is over, even though its element could not say so once removed.
    if (this._route.name !== 'review') this._reviewing = false;
    this.loadLazy(this._route);
  };

  private onVisible = (): void => {
    if (document.visibilityState === 'visible') this._refreshTick++;
  };

  /** The service worker asks to open a review (notification tap) or says a push arrived. */
  private onWorkerMessage = (event: MessageEvent): void => {
    const data = event.data as { type?: unknown; hash?: unknown } | null;
    if (data?.type === 'open' && typeof data.hash === 'string' && data.hash.startsWith('#/')) {
      location.hash = data.hash;
    } else if (data?.type === 'push') {
      this._refreshTick++;
    }
  };

  private loadLazy(route: Route): void {
    const name = !this._session && route.name !== 'enroll' ? 'enroll' : route.name;
    if (name in lazy && !this._lazyReady.has(name)) {
      void lazy[name as keyof typeof lazy]().then(() => {
        this._lazyReady = new Set([...this._lazyReady, name]);
      });
    }
  }

  private async forget(): Promise<void> {
    await forgetDevice();
    await this.useDevice(null);
    location.hash = '#/inbox';
  }

  private onEnrolled = (e: CustomEvent<{ device: DeviceRecord }>): void => {
    void this.useDevice(e.detail.device);
  };

  private renderGone() {
    const revoked = this._gone?.code === 'ERR_DEVICE_REVOKED';
    return html`<div class="gone" role="alert">
      <div class="icon">${alertIcon}</div>
      <h1>${revoked ? 'This phone was revoked' : 'This phone is not enrolled any more'}</h1>
      <p>
        ${
          revoked
            ? "It can no longer review or sign deployments. Someone revoked it from another device or from the server's command line."
            : "The approval server does not know this phone's key: its data may have been reset."
        }
      </p>
      <p>To use this phone again, forget the old key and enrol with a new invitation.</p>
      <button class="primary" @click=${() => void this.forget()}>Forget this device</button>
    </div>`;
  }

  private renderView() {
    const route = this._route;
    const session = this._session;
    if (route.name === 'enroll' || session === null) {
      if (!this._lazyReady.has('enroll')) return nothing;
      return html`<cs-enroll
        .code=${route.name === 'enroll' ? route.code : ''}
        .current=${session?.device ?? null}
        @enrolled=${this.onEnrolled}
      ></cs-enroll>`;
    }
    switch (route.name) {
      case 'review':
        return html`<cs-review
          .session=${session}
          .deploymentId=${route.id}
          @review-state=${(e: CustomEvent<{ active: boolean }>) => (this._reviewing = e.detail.active)}
        ></cs-review>`;
      case 'devices':
        return this._lazyReady.has('devices')
          ? html`<cs-devices
              .session=${session}
              @device-gone=${(e: CustomEvent<{ error: CountersignError }>) => (this._gone = e.detail.error)}
            ></cs-devices>`
          : nothing;
      case 'history':
        return this._lazyReady.has('history')
          ? html`<cs-history
              .session=${session}
              .refresh=${this._refreshTick}
              .entry=${route.id ?? ''}
            ></cs-history>`
          : nothing;
      default:
        return this._lazyReady.has('inbox')
          ? html`<cs-inbox .session=${session} .refresh=${this._refreshTick}></cs-inbox>`
          : nothing;
    }
  }

  private renderNav() {
    const route = this._route.name;
    const item = (name: Route['name'], label: string, icon: unknown) =>
      html`<a href="#/${name}" aria-current=${route === name ? 'page' : 'false'}
        >${icon}${label}</a
      >`;
    return html`<nav aria-label="Main">
      ${item('inbox', 'Inbox', inboxIcon)} ${item('history', 'History', historyIcon)}
      ${item('devices', 'Devices', devicesIcon)}
    </nav>`;
  }

  override render() {
    if (!this._loaded) return nothing;
    if (this._gone !== null) return this.renderGone();
    const inReview = this._route.name === 'review';
    const showNav = this._session !== null && !inReview && this._route.name !== 'enroll';
    const showUpdate = this.updateReady && !this._reviewing;
    return html`
      ${
        showUpdate
          ? html`<div class="update" role="status">
              <span>A new version of Countersign is ready.</span>
              <button
                class="primary"
                @click=${() => this.dispatchEvent(new CustomEvent('update-accepted', { bubbles: true }))}
              >
                Update
              </button>
            </div>`
          : nothing
      }
      <div class="view">${this.renderView()}</div>
      ${showNav ? this.renderNav() : nothing}
    `;
  }
}

customElements.define('cs-app', CsApp);

declare global {
  interface HTMLElementTagNameMap {
    'cs-app': CsApp;
  }
}
