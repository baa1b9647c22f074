import { LitElement, css, html, nothing } from 'lit';
import { CountersignError, type DeviceView } from '../lib/protocol.js';
import { saveDevice } from '../lib/device-store.js';
import { messageOf } from '../lib/messages.js';
import { askNotificationPermission, subscribePush } from '../lib/push.js';
import type { Session } from '../lib/session.js';
import { dateText } from '../lib/time.js';
import { bellIcon, devicesIcon } from '../icons.js';
import { dialogs } from '../styles/dialogs.js';
import { buttons, view } from '../styles/shared.js';
import { errorAlert } from '../error-alert.js';
import './cs-invite.js';

/**
 * The enrolled devices, this one marked; revoke another or this one (with a confirmation), confirm
 * a device suspended because its inviter was revoked (5.5), invite another device of this owner,
 * and turn notifications on for this phone if they are off.
 *
 * @fires device-gone - detail `{error}`: this phone revoked itself.
 */
export class CsDevices extends LitElement {
  static override properties = {
    session: { attribute: false },
    _devices: { state: true },
    _error: { state: true },
    _confirm: { state: true },
    _busy: { state: true },
    _pushNote: { state: true },
    _pushBusy: { state: true },
  };

  declare session: Session;
  declare _devices: DeviceView[] | null;
  declare _error: string;
  declare _confirm: DeviceView | null;
  declare _busy: boolean;
  declare _pushNote: string;
  declare _pushBusy: boolean;

  constructor() {
    super();
    this._devices = null;
    this._error = '';
    this._confirm = null;
    this._busy = false;
    this._pushNote = '';
    this._pushBusy = false;
  }

  static override styles = [
    buttons,
    view,
    dialogs,
    css`
      main {
        display: flex;
        flex-direction: column;
        gap: 16px;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: flex;
        flex-direction: column;
        gap: 12px;
      }
      li.device {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 4px 12px;
        background: var(--surface);
        border-radius: var(--radius);
        box-shadow: var(--shadow);
        padding: 14px 16px;
      }
      li.device.revoked {
        opacity: 0.6;
        box-shadow: none;
        border: 1px dashed var(--border);
        background: transparent;
      }
      .icon {
        grid-row: 1 / span 3;
        width: 40px;
        height: 40px;
        border-radius: 12px;
        display: grid;
        place-items: center;
        background: var(--primary-soft);
        color: var(--primary);
      }
      .icon svg {
        width: 22px;
        height: 22px;
      }
      .name {
        font-weight: 700;
        display: flex;
        align-items: center;
        gap: 8px;
        flex-wrap: wrap;
      }
      .tag {
        font-size: 11.5px;
        font-weight: 700;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        border-radius: 999px;
        padding: 2px 8px;
        background: var(--primary);
        color: var(--on-primary);
      }
      .tag.off {
        background: var(--reject-bg);
        color: var(--reject);
      }
      .tag.held {
        background: var(--amber-bg);
        color: var(--amber);
      }
      .why {
        grid-column: 1 / span 2;
        font-size: 13.5px;
        margin: 6px 0 0;
      }
      .fp {
        font-family: var(--mono);
        font-size: 13.5px;
        letter-spacing: 0.04em;
      }
      .meta {
        font-size: 13px;
        color: var(--muted);
      }
      .actions {
        grid-column: 1 / span 2;
        display: flex;
        gap: 8px;
        margin-top: 8px;
        flex-wrap: wrap;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const body = await this.session.api.json<{ devices: DeviceView[] }>('GET', '/devices');
      this._devices = [...body.devices].sort(
        (a, b) =>
          Number(b.self) - Number(a.self) ||
          Number(a.revokedAt !== null) - Number(b.revokedAt !== null) ||
          a.name.localeCompare(b.name),
      );
      this._error = '';
    } catch (error) {
      this._error = messageOf(error);
    }
  }

  private ask(device: DeviceView): void {
    this._confirm = device;
    void this.updateComplete.then(() => this.renderRoot.querySelector('dialog')?.showModal());
  }

  private close(): void {
    this.renderRoot.querySelector('dialog')?.close();
    this._confirm = null;
  }

  private async revoke(device: DeviceView): Promise<void> {
    this.close();
    this._busy = true;
    try {
      await this.session.api.json('POST', `/devices/${encodeURIComponent(device.id)}/revoke`);
      if (device.self) {
        this.dispatchEvent(
          new CustomEvent('device-gone', {
            detail: {
              error: new CountersignError('ERR_DEVICE_REVOKED', 'This phone revoked itself.'),
            },
            bubbles: true,
            composed: true,
          }),
        );
        return;
      }
      await this.load();
    } catch (error) {
      this._error = messageOf(error);
    } finally {
      this._busy = false;
    }
  }

  /** Turns push on for this phone, saying at each step what it waits for. */
  private async turnOnPush(): Promise<void> {
    this._pushBusy = true;
    this._pushNote = 'Asking this browser to allow notifications…';
    try {
      const permission = await askNotificationPermission();
      if (permission !== 'granted') {
        this._pushNote =
          permission === 'unsupported'
            ? 'This browser cannot show notifications. Open Countersign to see what waits for you.'
            : 'Notifications are blocked for this app. Allow them in the browser’s site settings, then try again.';
        return;
      }
      this._pushNote =
        'Notifications are allowed. Subscribing to push (this can take a few seconds)…';
      const config = await this.session.api.config();
      const setup = await subscribePush(config.vapidPublicKey);
      if (!setup.ok) {
        this._pushNote = `Notifications are allowed, but push could not be set up: ${setup.reason} Deployments still show in the inbox.`;
        return;
      }
      await this.session.api.json('PUT', '/devices/self/push', { push: setup.subscription });
      await saveDevice({ ...this.session.device, push: true });
      this._pushNote = 'Notifications are on.';
      await this.load();
    } catch (error) {
      this._pushNote = messageOf(error);
    } finally {
      this._pushBusy = false;
    }
  }

  private async confirm(device: DeviceView): Promise<void> {
    this._busy = true;
    try {
      await this.session.api.json('POST', `/devices/${encodeURIComponent(device.id)}/confirm`);
      await this.load();
    } catch (error) {
      this._error = messageOf(error);
    } finally {
      this._busy = false;
    }
  }

  private renderDevice(d: DeviceView) {
    const revoked = d.revokedAt !== null;
    const suspended = !revoked && d.suspendedAt !== null;
    return html`<li class="device ${revoked ? 'revoked' : ''} ${suspended ? 'suspended' : ''}">
      <span class="icon">${devicesIcon}</span>
      <span class="name"
        >${d.name} ${d.self ? html`<span class="tag">This device</span>` : nothing}
        ${revoked ? html`<span class="tag off">Revoked</span>` : nothing}
        ${suspended ? html`<span class="tag held">Suspended</span>` : nothing}</span
      >
      <span class="fp" aria-label="Fingerprint">${d.fingerprint}</span>
      <span class="meta"
        >${d.owner} · since ${dateText(d.createdAt)} ·
        ${d.push ? 'notifications on' : 'no notifications'}</span
      >
      ${
        suspended
          ? html`<p class="why">
              The phone that invited it was revoked. Compare the fingerprint with the phone, then
              confirm it, or revoke it.
            </p>`
          : nothing
      }
      ${
        revoked
          ? nothing
          : html`<div class="actions">
              ${
                suspended && !d.self
                  ? html`<button
                      class="ghost"
                      ?disabled=${this._busy}
                      @click=${() => void this.confirm(d)}
                    >
                      Confirm
                    </button>`
                  : nothing
              }
              ${
                d.self && !d.push
                  ? html`<button
                      class="ghost"
                      ?disabled=${this._pushBusy}
                      aria-busy=${this._pushBusy ? 'true' : 'false'}
                      @click=${() => void this.turnOnPush()}
                    >
                      ${bellIcon} ${this._pushBusy ? 'Turning on…' : 'Turn on notifications'}
                    </button>`
                  : nothing
              }
              <button class="danger-ghost" ?disabled=${this._busy} @click=${() => this.ask(d)}>
                ${d.self ? 'Revoke this phone' : 'Revoke'}
              </button>
            </div>`
      }
    </li>`;
  }

  override render() {
    const target = this._confirm;
    return html`
      <header class="bar"><h1>Devices</h1></header>
      <main>
        ${errorAlert(this._error)}
        ${this._pushNote !== '' ? html`<p class="note" role="status">${this._pushNote}</p>` : nothing}
        ${
          this._devices === null
            ? html`<p class="muted" aria-busy="true">Loading devices…</p>`
            : html`<ul aria-label="Enrolled devices">
                ${this._devices.map((d) => this.renderDevice(d))}
              </ul>`
        }
        <cs-invite .session=${this.session} @device-enrolled=${() => void this.load()}></cs-invite>
      </main>
      <dialog aria-labelledby="revoke-title" @cancel=${this.close}>
        ${
          target === null
            ? nothing
            : html`<h2 id="revoke-title">Revoke ${target.self ? 'this phone' : target.name}?</h2>
                <p>
                  ${
                    target.self
                      ? 'This phone will no longer be able to review or sign anything. Enrolling again needs a new invitation.'
                      : `${target.name} (${target.owner}) will no longer be able to review or sign anything. This cannot be undone.`
                  }
                </p>
                <div class="dialog-actions">
                  <button class="ghost" @click=${this.close}>Cancel</button>
                  <button class="reject" @click=${() => void this.revoke(target)}>Revoke</button>
                </div>`
        }
      </dialog>
    `;
  }
}

customElements.define('cs-devices', CsDevices);

declare global {
  interface HTMLElementTagNameMap {
    'cs-devices': CsDevices;
  }
}
