import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import {
  fingerprintOf,
  generateDeviceKey,
  signEnrollProof,
  type ConfigResponse,
  type PushSubscriptionJson,
} from '../lib/protocol.js';
import { Api } from '../lib/api.js';
import { saveDevice, type DeviceRecord } from '../lib/device-store.js';
import { messageOf } from '../lib/messages.js';
import { needsHomeScreen, suggestedDeviceName } from '../lib/platform.js';
import { canHoldKeys } from '../lib/secure-origin.js';
import { askNotificationPermission, persistStorage, subscribePush } from '../lib/push.js';
import { parseRoute } from '../lib/router.js';
import { alertIcon, bellIcon, checkIcon, keyIcon } from '../icons.js';
import { buttons, forms, view } from '../styles/shared.js';
import { errorAlert } from '../error-alert.js';

type Phase = 'welcome' | 'loading' | 'ready' | 'working' | 'done' | 'error';

/**
 * Enrolment (DESIGN 5.5): from the invitation link, make a non-extractable key, ask for
 * notifications on the tap, subscribe to push (or say why not and go on), ask to keep storage,
 * enrol with the proof of possession, and show the fingerprint to compare with the terminal.
 * Without a code it explains how to get one. On iOS in Safari it explains the home-screen step.
 *
 * @fires enrolled - detail `{device}`: this phone is enrolled and its record saved.
 */
export class CsEnroll extends LitElement {
  static override properties = {
    code: { type: String },
    current: { attribute: false },
    _phase: { state: true },
    _config: { state: true },
    _name: { state: true },
    _error: { state: true },
    _step: { state: true },
    _pushNote: { state: true },
    _result: { state: true },
    _link: { state: true },
  };

  declare code: string;
  declare current: DeviceRecord | null;
  declare _phase: Phase;
  declare _config: ConfigResponse | null;
  declare _name: string;
  declare _error: string;
  declare _step: string;
  declare _pushNote: string;
  declare _result: DeviceRecord | null;
  declare _link: string;

  private api = new Api(location.origin);

  constructor() {
    super();
    this.code = '';
    this.current = null;
    this._phase = 'welcome';
    this._config = null;
    // Empty: the name the invitation gave (the inviter chose it); typing one replaces it.
    this._name = '';
    this._error = '';
    this._step = '';
    this._pushNote = '';
    this._result = null;
    this._link = '';
  }

  static override styles = [
    buttons,
    forms,
    view,
    css`
      main {
        display: flex;
        flex-direction: column;
        gap: 16px;
        padding-top: 12px;
      }
      .hero {
        display: flex;
        flex-direction: column;
        align-items: flex-start;
        gap: 10px;
        padding-top: 12px;
      }
      .hero img {
        width: 64px;
        height: 64px;
        border-radius: 16px;
        box-shadow: var(--shadow);
      }
      .hero h1 {
        font-size: 26px;
        line-height: 1.15;
        letter-spacing: -0.02em;
        margin: 4px 0 0;
      }
      .hero p {
        margin: 0;
        color: var(--muted);
      }
      .server {
        display: flex;
        align-items: center;
        gap: 12px;
      }
      .server .dot {
        width: 40px;
        height: 40px;
        border-radius: 12px;
        display: grid;
        place-items: center;
        background: var(--primary-soft);
        color: var(--primary);
        flex: none;
      }
      .server .dot svg {
        width: 22px;
        height: 22px;
      }
      .server b {
        display: block;
      }
      .server small {
        color: var(--muted);
      }
      ol.steps {
        margin: 8px 0 0;
        padding-left: 20px;
        color: var(--muted);
      }
      ol.steps li {
        margin: 4px 0;
      }
      .go {
        min-height: 56px;
        font-size: 17px;
      }
      .fine {
        font-size: 13.5px;
        color: var(--muted);
        margin: 0;
      }
      .fingerprint {
        font-family: var(--mono);
        font-size: clamp(17px, 5.4vw, 26px);
        font-weight: 700;
        letter-spacing: 0.04em;
        text-align: center;
        padding: 16px 8px;
        margin: 8px 0 0;
        border-radius: 16px;
        background: var(--surface-2);
        border: 2px dashed var(--border);
        word-spacing: 0.25em;
      }
      .fingerprint span {
        display: inline-block;
        white-space: nowrap;
      }
      .done-badge {
        width: 64px;
        height: 64px;
        border-radius: 50%;
        display: grid;
        place-items: center;
        background: var(--approve-bg);
        color: var(--approve);
      }
      .done-badge svg {
        width: 34px;
        height: 34px;
      }
      .status {
        display: flex;
        gap: 10px;
        align-items: center;
        color: var(--muted);
        margin: 0;
      }
      .status svg {
        width: 22px;
        height: 22px;
        color: var(--approve);
      }
      .line {
        display: flex;
        gap: 10px;
        align-items: flex-start;
      }
      .line svg {
        width: 22px;
        height: 22px;
        flex: none;
      }
      code {
        font-family: var(--mono);
        font-size: 13px;
        background: var(--surface-3);
        padding: 2px 5px;
        border-radius: 5px;
        overflow-wrap: anywhere;
      }
      #name-hint {
        margin-top: 8px;
      }
      .insecure p {
        margin: 0 0 12px;
      }
      .insecure p:last-child {
        margin-bottom: 0;
      }
      code.command {
        display: block;
        padding: 10px 12px;
        border-radius: 10px;
        white-space: pre-wrap;
      }
    `,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('code') && this._phase !== 'done') {
      if (this.code === '') {
        this._phase = 'welcome';
      } else {
        void this.loadConfig();
      }
    }
  }

  private async loadConfig(): Promise<void> {
    this._phase = 'loading';
    try {
      this._config = await this.api.config();
      this._phase = 'ready';
    } catch (error) {
      this._error = messageOf(error);
      this._phase = 'error';
    }
  }

  /** The whole enrolment, from one tap: permission first, while the gesture still counts. */
  private async enrol(withPush: boolean): Promise<void> {
    const config = this._config;
    if (config === null) return;
    const name = this._name.trim() || null;
    this._phase = 'working';
    this._error = '';
    this._pushNote = '';
    try {
      let push: PushSubscriptionJson | null = null;
      if (withPush) {
        this._step = 'Asking for notifications…';
        const permission = await askNotificationPermission();
        if (permission === 'granted') {
          this._step = 'Subscribing to push…';
          const setup = await subscribePush(config.vapidPublicKey);
          if (setup.ok) push = setup.subscription;
          else this._pushNote = setup.reason;
        } else {
          this._pushNote =
            permission === 'unsupported'
              ? 'This browser cannot show notifications.'
              : 'Notifications were not allowed.';
        }
      } else {
        this._pushNote = 'You chose to enrol without notifications.';
      }
      await persistStorage();
      this._step = 'Making this phone’s key…';
      const key = await generateDeviceKey();
      const proof = await signEnrollProof(key, { aud: config.serverId, code: this.code });
      this._step = 'Enrolling…';
      const enrolled = await this.api.enroll({
        code: this.code,
        name,
        publicJwk: key.publicJwk,
        push,
        proof,
      });
      if (enrolled.id !== key.id) throw new Error('The server registered a different key.');
      const record: DeviceRecord = {
        privateKey: key.privateKey,
        publicKey: key.publicKey,
        id: key.id,
        fingerprint: fingerprintOf(key.id),
        serverId: config.serverId,
        serverName: config.name,
        owner: enrolled.owner,
        name: enrolled.name,
        enrolledAt: new Date().toISOString(),
        push: push !== null,
      };
      await saveDevice(record);
      this._result = record;
      this._phase = 'done';
      // The invitation is spent: take it out of the address bar and history.
      history.replaceState(null, '', `${location.pathname}${location.search}#/enroll`);
      this.dispatchEvent(
        new CustomEvent('enrolled', { detail: { device: record }, bubbles: true, composed: true }),
      );
    } catch (error) {
      this._error = messageOf(error);
      this._phase = 'error';
    }
  }

  private openLink(): void {
    const text = this._link.trim();
    const hash = text.includes('#') ? text.slice(text.indexOf('#')) : '';
    const route = parseRoute(hash);
    if (route.name === 'enroll' && route.code !== '') location.hash = hash;
    else this._error = 'That is not an enrolment link. It looks like …/#/enroll?code=…';
  }

  private renderHero(title: string, text: string) {
    return html`<div class="hero">
      <img src="./icons/icon-192.png" alt="" width="64" height="64" />
      <h1>${title}</h1>
      <p>${text}</p>
    </div>`;
  }

  private renderWelcome() {
    return html`<main>
      ${this.renderHero(
        'Countersign',
        'Review and sign Node-RED deployments on this phone before they run.',
      )}
      <section class="panel">
        <b>Enrol this phone</b>
        <p class="fine">Ask whoever runs the approval server for an invitation:</p>
        <p><code class="command">countersign enroll --owner you --name "Your phone"</code></p>
        <p class="fine">Scan its QR code with the camera, or paste the link here.</p>
        <label for="link">Enrolment link</label>
        <input
          id="link"
          inputmode="url"
          autocomplete="off"
          placeholder="https://…/#/enroll?code=…"
          .value=${this._link}
          @input=${(e: Event) => (this._link = (e.target as HTMLInputElement).value)}
        />
        ${errorAlert(this._error)}
        <p><button class="primary wide" @click=${this.openLink}>Open the invitation</button></p>
      </section>
    </main>`;
  }

  private renderHomeScreen() {
    return html`<section class="note" aria-labelledby="ios-title">
      <div class="line">
        ${bellIcon}
        <div>
          <b id="ios-title">Add Countersign to your Home Screen first</b>
          <p class="fine">
            On iPhone and iPad, notifications only work for apps opened from the Home Screen.
          </p>
          <ol class="steps">
            <li>Tap the Share button in Safari.</li>
            <li>Choose <b>Add to Home Screen</b>.</li>
            <li>Open Countersign from the Home Screen and paste this invitation link there.</li>
          </ol>
        </div>
      </div>
    </section>`;
  }

  private renderReady() {
    const config = this._config!;
    const ios = needsHomeScreen();
    return html`<main>
      ${this.renderHero('Enrol this phone', 'It will get a push when someone deploys, and sign approvals with a key that never leaves it.')}
      <section class="panel server">
        <span class="dot">${keyIcon}</span>
        <span><b>${config.name}</b><small>Approval server · ${location.host}</small></span>
      </section>
      ${
        this.current !== null
          ? html`<p class="note" role="note">
              This phone is already enrolled as <b>${this.current.name}</b>. Enrolling again makes a
              new key; revoke the old one from Devices afterwards.
            </p>`
          : nothing
      }
      ${ios ? this.renderHomeScreen() : nothing}
      <section>
        <label for="name">Name for this phone</label>
        <input
          id="name"
          autocomplete="off"
          maxlength="80"
          placeholder="As the invitation names it"
          aria-describedby="name-hint"
          .value=${this._name}
          @input=${(e: Event) => (this._name = (e.target as HTMLInputElement).value)}
        />
        <p class="fine" id="name-hint">
          Leave it empty to keep the name in the invitation, or type one, such as
          “${suggestedDeviceName()}”.
        </p>
      </section>
      ${
        ios
          ? html`<button class="ghost wide go" @click=${() => void this.enrol(false)}>
              Enrol without notifications
            </button>`
          : html`<button class="primary wide go" @click=${() => void this.enrol(true)}>
                ${bellIcon} Allow notifications and enrol
              </button>
              <p class="fine">
                Your browser will ask to allow notifications. They carry only an id: you decide
                every change here, never on the notification.
              </p>`
      }
    </main>`;
  }

  private renderDone() {
    const r = this._result!;
    return html`<main>
      <div class="hero">
        <div class="done-badge">${checkIcon}</div>
        <h1>Enrolled</h1>
        <p>${r.name} · belongs to ${r.owner}</p>
      </div>
      <section class="panel">
        <b>Compare the fingerprint</b>
        <p class="fine">The terminal that made the invitation shows the same characters.</p>
        <p class="fingerprint" aria-label="Fingerprint ${r.fingerprint.split('').join(' ')}">
          ${r.fingerprint.split(' ').map((group, i) => html`${i > 0 ? ' ' : ''}<span>${group}</span>`)}
        </p>
      </section>
      ${
        this._pushNote !== ''
          ? html`<p class="note" role="status">
              <b>Notifications are off.</b> ${this._pushNote} Open Countersign to see deployments
              waiting for you; you can turn notifications on later from Devices.
            </p>`
          : html`<p class="status">${bellIcon} Notifications are on.</p>`
      }
      <a class="button primary go" href="#/inbox">Go to the inbox</a>
    </main>`;
  }

  /** Opened at a plain-http address other than localhost: nothing here can work; say why and what to do. */
  private renderInsecure() {
    return html`<main>
      ${this.renderHero(
        'This address is not secure',
        'Countersign cannot enrol this phone from here.',
      )}
      <section class="panel insecure" role="alert">
        <p>
          This page was opened at <code>${location.origin}</code>, over plain <b>http</b>. Phones
          allow the device key, notifications and the offline app Countersign needs only on
          <b>https://</b> addresses (or on <code>localhost</code>, which on a phone is the phone
          itself).
        </p>
        <p class="fine">
          Ask whoever runs Countersign for an <b>https://</b> link. They can put HTTPS in front of
          the approval server with Tailscale Serve, a Cloudflare Tunnel, Caddy, or a certificate of
          their own, then start it with that address as its public URL (the README's “Reaching your
          phone” explains each).
        </p>
      </section>
    </main>`;
  }

  override render() {
    if (!canHoldKeys()) return this.renderInsecure();
    switch (this._phase) {
      case 'welcome':
        return this.renderWelcome();
      case 'loading':
        return html`<main aria-busy="true">
          ${this.renderHero('Enrol this phone', 'Contacting the approval server…')}
        </main>`;
      case 'working':
        return html`<main aria-busy="true">${this.renderHero('Enrolling…', this._step)}</main>`;
      case 'done':
        return this.renderDone();
      case 'error':
        return html`<main>
          ${this.renderHero('Enrolment failed', '')}
          <p class="error line" role="alert">${alertIcon}<span>${this._error}</span></p>
          ${
            this._config !== null
              ? html`<button class="primary wide go" @click=${() => (this._phase = 'ready')}>
                  Try again
                </button>`
              : html`<button class="primary wide go" @click=${() => void this.loadConfig()}>
                  Try again
                </button>`
          }
        </main>`;
      default:
        return this.renderReady();
    }
  }
}

customElements.define('cs-enroll', CsEnroll);

declare global {
  interface HTMLElementTagNameMap {
    'cs-enroll': CsEnroll;
  }
}
