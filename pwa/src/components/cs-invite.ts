import { LitElement, css, html, svg } from 'lit';
import { generate } from 'lean-qr';
import { toSvgPath } from 'lean-qr/extras/svg';
import type { DeviceView, InvitationResponse } from '../lib/protocol.js';
import { checkIcon } from '../icons.js';
import { messageOf } from '../lib/messages.js';
import type { Session } from '../lib/session.js';
import { untilText } from '../lib/time.js';
import { buttons, forms, view } from '../styles/shared.js';
import { errorAlert } from '../error-alert.js';

/**
 * Invites another device: asks the server for a one-time code and shows its enrolment URL as a QR
 * code to scan with the new phone's camera, with the time left (invitations last 10 minutes). While
 * it is shown, the device list is asked every few seconds; once the new device has enrolled, the
 * spent QR code gives way to its name and fingerprint.
 *
 * @fires device-enrolled - detail `{device}`: the invited device has enrolled.
 */
export class CsInvite extends LitElement {
  static override properties = {
    session: { attribute: false },
    _owner: { state: true },
    _name: { state: true },
    _invitation: { state: true },
    _error: { state: true },
    _busy: { state: true },
    _copied: { state: true },
    _enrolled: { state: true },
  };

  declare session: Session;
  declare _owner: string;
  declare _name: string;
  declare _invitation: InvitationResponse | null;
  declare _error: string;
  declare _busy: boolean;
  declare _copied: boolean;
  declare _enrolled: DeviceView | null;

  private timer: ReturnType<typeof setInterval> | undefined;
  private watch: ReturnType<typeof setInterval> | undefined;
  /** Devices there before the invitation: a new id is the invited device. */
  private known: ReadonlySet<string> = new Set();

  constructor() {
    super();
    this._owner = '';
    this._name = '';
    this._invitation = null;
    this._error = '';
    this._busy = false;
    this._copied = false;
    this._enrolled = null;
  }

  static override styles = [
    buttons,
    forms,
    view,
    css`
      :host {
        display: block;
      }
      .qr {
        display: block;
        width: min(100%, 260px);
        margin: 8px auto;
        border-radius: 12px;
        background: #fff;
      }
      .qr rect {
        fill: #fff;
      }
      .qr path {
        fill: #111;
      }
      .url {
        font-family: var(--mono);
        font-size: 12px;
        overflow-wrap: anywhere;
        color: var(--muted);
        text-align: center;
      }
      .row {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 10px;
        margin-top: 12px;
      }
      .expiry {
        text-align: center;
        font-weight: 600;
      }
      p {
        margin: 8px 0;
      }
      .enrolled {
        display: flex;
        align-items: center;
        gap: 8px;
        color: var(--approve);
      }
      .enrolled svg {
        width: 24px;
        height: 24px;
      }
      .fp {
        font-family: var(--mono);
        white-space: nowrap;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this._owner = this.session.device.owner;
    this.timer = setInterval(() => this.requestUpdate(), 15_000);
  }

  override disconnectedCallback(): void {
    clearInterval(this.timer);
    clearInterval(this.watch);
    super.disconnectedCallback();
  }

  private async devices(): Promise<DeviceView[]> {
    return (await this.session.api.json<{ devices: DeviceView[] }>('GET', '/devices')).devices;
  }

  /** Every 3 s while the invitation is shown and unexpired: has the invited device enrolled? */
  private startWatching(): void {
    clearInterval(this.watch);
    this.watch = setInterval(() => void this.look(), 3000);
  }

  private async look(): Promise<void> {
    const inv = this._invitation;
    if (inv === null || untilText(inv.expiresAt) === 'expired') {
      clearInterval(this.watch);
      return;
    }
    try {
      const found = (await this.devices()).find((d) => !this.known.has(d.id));
      if (found === undefined || this._invitation !== inv) return;
      clearInterval(this.watch);
      this._enrolled = found;
      this.dispatchEvent(
        new CustomEvent('device-enrolled', {
          detail: { device: found },
          bubbles: true,
          composed: true,
        }),
      );
    } catch {
      // Offline for a moment: the next look tries again.
    }
  }

  private done(): void {
    clearInterval(this.watch);
    this._invitation = null;
    this._enrolled = null;
    this._copied = false;
  }

  private async create(): Promise<void> {
    this._busy = true;
    this._error = '';
    try {
      this.known = new Set((await this.devices()).map((d) => d.id));
      this._enrolled = null;
      this._invitation = await this.session.api.json<InvitationResponse>('POST', '/invitations', {
        owner: this._owner,
        name: this._name.trim(),
      });
      this.startWatching();
    } catch (error) {
      this._error = messageOf(error);
    } finally {
      this._busy = false;
    }
  }

  private async copy(url: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(url);
      this._copied = true;
    } catch {
      this._error = 'Copying is not allowed here; long-press the link instead.';
    }
  }

  private renderQr(url: string) {
    const code = generate(url);
    const pad = 3;
    const size = code.size + pad * 2;
    return html`<svg
      class="qr"
      viewBox="${-pad} ${-pad} ${size} ${size}"
      role="img"
      aria-label="QR code of the enrolment link"
      shape-rendering="crispEdges"
    >
      ${svg`<rect x=${-pad} y=${-pad} width=${size} height=${size}></rect><path d=${toSvgPath(code)}></path>`}
    </svg>`;
  }

  private renderEnrolled(device: DeviceView) {
    return html`<section class="panel" role="status">
      <p class="enrolled">${checkIcon} <b>${device.name} is enrolled</b></p>
      <p>
        It belongs to ${device.owner}. Its fingerprint is
        <span class="fp">${device.fingerprint}</span>: the new phone shows the same.
      </p>
      <button class="primary wide" @click=${this.done}>Done</button>
    </section>`;
  }

  override render() {
    const inv = this._invitation;
    if (this._enrolled !== null) return this.renderEnrolled(this._enrolled);
    if (inv !== null) {
      const left = untilText(inv.expiresAt);
      return html`<section class="panel" aria-live="polite">
        <b>Scan with the new phone</b>
        ${
          left === 'expired'
            ? html`<p class="error">This invitation expired. Make a new one.</p>`
            : this.renderQr(inv.url)
        }
        <p class="expiry">${left === 'expired' ? '' : `Single use, expires ${left}`}</p>
        <p class="url">${inv.url}</p>
        <div class="row">
          <button class="ghost" @click=${() => void this.copy(inv.url)}>
            ${this._copied ? 'Copied' : 'Copy link'}
          </button>
          <button class="ghost" @click=${this.done}>Done</button>
        </div>
      </section>`;
    }
    const ready = this._name.trim() !== '';
    return html`<section class="panel">
      <b>Invite another device of yours</b>
      <p class="muted">
        It will belong to ${this._owner}, as this one does. A new person is invited on the approval
        server: <code>countersign enroll --owner NAME --name DEVICE</code>.
      </p>
      <label for="dname">Device name</label>
      <input
        id="dname"
        autocomplete="off"
        placeholder="My tablet"
        .value=${this._name}
        @input=${(e: Event) => (this._name = (e.target as HTMLInputElement).value)}
      />
      ${errorAlert(this._error)}
      <p>
        <button
          class="primary wide"
          ?disabled=${!ready || this._busy}
          @click=${() => void this.create()}
        >
          Make an invitation
        </button>
      </p>
    </section>`;
  }
}

customElements.define('cs-invite', CsInvite);

declare global {
  interface HTMLElementTagNameMap {
    'cs-invite': CsInvite;
  }
}
