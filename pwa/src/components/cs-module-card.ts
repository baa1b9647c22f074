import { LitElement, css, html, nothing } from 'lit';
import type { Change, ModuleDescriptor, ModuleUse } from '../lib/protocol.js';
import { COUNTERSIGN_PACKAGE } from '../../../protocol/risk.js';
import { linesOf, type DiffLine } from '../cards/line-diff.js';
import { alertIcon } from '../icons.js';
import { RISK_TEXT, cardChips } from '../styles/card-chips.js';
import './cs-line-diff.js';

const ACTION_WORD: Record<ModuleDescriptor['action'], string> = {
  install: 'Install',
  update: 'Update',
  remove: 'Remove',
  enable: 'Enable',
  disable: 'Disable',
};

const SCRIPT_WHEN: Record<string, string> = {
  preinstall: 'runs before npm installs the package',
  install: 'runs while npm installs the package',
  postinstall: 'runs after npm installs the package',
  preprepare: 'runs before prepare',
  prepare: 'runs when npm prepares the package',
  postprepare: 'runs after prepare',
};

/** "48.2 kB" for a byte count. */
function sizeText(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A script as code: every line of it, numbered, as new lines. */
function codeLines(code: string): DiffLine[] {
  return linesOf(code).map((text, i) => ({ op: '+', text, new: i + 1 }));
}

/** Where a module's tarball came from, in words. */
export function sourceText(d: ModuleDescriptor): string {
  switch (d.source) {
    case 'registry':
      return `The npm registry: ${d.origin}`;
    case 'upload':
      return `Uploaded in the editor as ${d.origin}`;
    case 'file':
      return `A file on the Node-RED machine: ${d.origin}`;
    case 'url':
      return `Downloaded from ${d.origin}`;
    case 'installed':
      return 'Already installed in Node-RED';
  }
}

/**
 * A palette change (DESIGN 7.1): what the module is, where its tarball came from, how big it is,
 * the node types it adds or takes away, every install script in full as code, what npm also pulls
 * in, and which running flows use its types. An update shows both versions.
 */
export class CsModuleCard extends LitElement {
  static override properties = { change: { attribute: false } };

  declare change: Change;

  static override styles = css`
    ${cardChips}
    :host {
      display: block;
      color: var(--text);
    }
    header {
      padding-top: 2px;
    }
    h2 {
      font-size: 21px;
      line-height: 1.2;
      font-weight: 750;
      margin: 10px 0 4px;
      overflow-wrap: anywhere;
      font-family: var(--mono);
    }
    .version {
      margin: 0;
      font-family: var(--mono);
      font-size: 15px;
      display: flex;
      align-items: center;
      gap: 6px;
      flex-wrap: wrap;
    }
    .old {
      color: var(--reject);
      background: var(--reject-bg);
      text-decoration: line-through;
      border-radius: 4px;
      padding: 0 4px;
    }
    .new {
      color: var(--approve);
      background: var(--approve-bg);
      border-radius: 4px;
      padding: 0 4px;
    }
    .warn {
      display: flex;
      gap: 8px;
      margin: 12px 0 0;
      padding: 10px 12px;
      border-radius: var(--radius-sm);
      background: var(--reject-bg);
      color: var(--reject);
      border: 1px solid var(--reject-line);
      font-size: 14px;
    }
    .warn svg {
      width: 20px;
      height: 20px;
      flex: none;
    }
    h3 {
      font-size: 13px;
      font-weight: 700;
      text-transform: uppercase;
      letter-spacing: 0.05em;
      color: var(--muted);
      margin: 16px 0 6px;
    }
    dl {
      display: grid;
      grid-template-columns: max-content 1fr;
      margin: 0;
      border: 1px solid var(--border);
      border-radius: var(--radius-sm);
      overflow: hidden;
      font-size: 14px;
    }
    dt,
    dd {
      margin: 0;
      padding: 7px 10px;
      border-top: 1px solid var(--border);
      min-width: 0;
      overflow-wrap: anywhere;
    }
    dt:first-of-type,
    dt:first-of-type + dd {
      border-top: 0;
    }
    dt {
      color: var(--muted);
      background: var(--surface-2);
      font-weight: 600;
    }
    .mono {
      font-family: var(--mono);
      font-size: 12.5px;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
    }
    li.type {
      font-family: var(--mono);
      font-size: 13px;
      padding: 4px 8px;
      border-radius: 6px;
      background: var(--surface-3);
    }
    li.type.added {
      background: var(--approve-bg);
      color: var(--approve);
    }
    li.type.removed {
      background: var(--reject-bg);
      color: var(--reject);
      text-decoration: line-through;
    }
    ul.rows {
      flex-direction: column;
      flex-wrap: nowrap;
    }
    ul.rows li {
      padding: 7px 10px;
      border-radius: 8px;
      background: var(--surface-2);
      font-size: 14.5px;
      overflow-wrap: anywhere;
    }
    .muted {
      color: var(--muted);
    }
    p.muted {
      margin: 0;
      font-size: 14px;
    }
    .script {
      margin-top: 8px;
    }
    .script p {
      margin: 0 0 4px;
      font-size: 13px;
      color: var(--muted);
    }
    p.digest {
      margin: 0;
      overflow-wrap: anywhere;
      color: var(--muted);
    }
    p.explain {
      color: var(--muted);
      font-size: 14px;
      margin: 8px 0 0;
    }
  `;

  private get descriptor(): ModuleDescriptor {
    return this.change.module!.descriptor;
  }

  private renderVersion() {
    const d = this.descriptor;
    if (d.previous !== null) {
      return html`<p class="version">
        <span class="old" aria-label="from version">${d.previous.version}</span>
        <span aria-hidden="true">→</span>
        <span class="new" aria-label="to version">${d.version}</span>
      </p>`;
    }
    return html`<p class="version">version ${d.version}</p>`;
  }

  private renderTypes() {
    const d = this.descriptor;
    const previous = new Set(d.previous?.types ?? []);
    const now = new Set(d.types);
    const heading =
      d.action === 'install' || d.action === 'update'
        ? 'Node types it adds'
        : d.action === 'remove'
          ? 'Node types it removes'
          : d.action === 'enable'
            ? 'Node types it enables'
            : 'Node types it disables';
    const gone = [...previous].filter((t) => !now.has(t));
    return html`<h3>${heading}</h3>
      ${
        d.types.length === 0 && gone.length === 0
          ? html`<p class="muted">None.</p>`
          : html`<ul>
              ${d.types.map(
                (t) =>
                  html`<li class="type ${d.previous !== null && !previous.has(t) ? 'added' : ''}">
                    ${t}
                  </li>`,
              )}
              ${gone.map((t) => html`<li class="type removed"><s>${t}</s> (no longer)</li>`)}
            </ul>`
      }
      ${
        d.sets.length > 0
          ? html`<h3>Node sets</h3>
              <ul class="rows">
                ${d.sets.map((s) => html`<li class="mono">${s}</li>`)}
              </ul>`
          : nothing
      }
      ${
        d.plugins.length > 0
          ? html`<h3>Plugins it loads into Node-RED</h3>
              <ul class="rows">
                ${d.plugins.map((p) => html`<li class="mono">${p}</li>`)}
              </ul>`
          : nothing
      }`;
  }

  private renderScripts() {
    const scripts = Object.entries(this.descriptor.scripts);
    if (scripts.length === 0) {
      return this.descriptor.integrity !== null
        ? html`<h3>Install scripts</h3>
            <p class="muted">None: npm runs no script of this package when installing it.</p>`
        : nothing;
    }
    return html`<h3>Install scripts (run code on this machine)</h3>
      ${scripts.map(
        ([name, code]) =>
          html`<div class="script">
            <p><strong>${name}</strong>: ${SCRIPT_WHEN[name] ?? 'runs during the install'}</p>
            <cs-line-diff .lines=${codeLines(code)} .label=${name}></cs-line-diff>
          </div>`,
      )}`;
  }

  private renderDependencies() {
    const deps = Object.entries(this.descriptor.dependencies);
    if (deps.length === 0) return nothing;
    return html`<h3>npm also installs from the registry</h3>
      <ul class="rows">
        ${deps.map(([name, range]) => html`<li class="mono">${name} ${range}</li>`)}
      </ul>
      <p class="explain">
        These packages are fetched when the module is installed; their code and install scripts are
        not part of this review.
      </p>`;
  }

  private useText(use: ModuleUse): string {
    const where = use.flow === null ? 'Global configuration' : use.flow.label;
    return `${where}: ${use.nodes} ${use.nodes === 1 ? 'node' : 'nodes'} (${use.types.join(', ')})`;
  }

  private renderUsers() {
    const d = this.descriptor;
    const uses = this.change.module!.usedBy;
    const heading =
      d.action === 'install' || d.action === 'enable'
        ? 'Flows waiting for these types (they start running)'
        : d.action === 'update'
          ? 'Flows using these types (they run the new version)'
          : 'Flows using these types';
    return html`<h3>${heading}</h3>
      ${
        uses.length === 0
          ? html`<p class="muted">No flow uses them.</p>`
          : html`<ul class="rows">
              ${uses.map((u) => html`<li>${this.useText(u)}</li>`)}
            </ul>`
      }
      ${
        d.action === 'remove' || d.action === 'disable'
          ? html`<p class="explain">
              Node-RED refuses to remove or disable node types the flows use; if a flow uses them
              when this is applied, nothing changes and the deployment fails.
            </p>`
          : nothing
      }`;
  }

  private renderOrigin() {
    const d = this.descriptor;
    return html`<h3>What it is</h3>
      <dl>
        <dt>From</dt>
        <dd>${sourceText(d)}</dd>
        ${
          d.size !== null
            ? html`<dt>Size</dt>
                <dd>${sizeText(d.size)} (${d.size.toLocaleString('en')} bytes)</dd>`
            : nothing
        }
      </dl>`;
  }

  private renderAfter() {
    const d = this.descriptor;
    if (d.integrity !== null) {
      return html`<h3>Tarball fingerprint</h3>
        <p class="mono digest">${d.integrity}</p>
        <p class="explain">
          Approving installs exactly this tarball (its sha512 checked again) with Node-RED's own
          installer${d.action === 'update' ? '; the new version runs after Node-RED restarts' : ''}.
        </p>`;
    }
    return nothing;
  }

  override render() {
    const c = this.change;
    const d = this.descriptor;
    const gate = d.name === COUNTERSIGN_PACKAGE;
    return html`<header>
        <div class="chips">
          <span class="chip op-${c.op}">${ACTION_WORD[d.action]}</span>
          <span class="kind">Palette module</span>
          <span class="chip risk risk-${c.risk}">${RISK_TEXT[c.risk]}</span>
        </div>
        <h2>${d.name}</h2>
        ${this.renderVersion()}
      </header>
      ${
        gate && (d.action === 'remove' || d.action === 'disable')
          ? html`<p class="warn" role="note">
              ${alertIcon}<span
                >This is Countersign itself. Without it, deployments and palette changes are no
                longer held for approval.</span
              >
            </p>`
          : nothing
      }
      ${this.renderOrigin()} ${this.renderScripts()} ${this.renderTypes()}
      ${this.renderDependencies()} ${this.renderUsers()} ${this.renderAfter()}`;
  }
}

customElements.define('cs-module-card', CsModuleCard);

declare global {
  interface HTMLElementTagNameMap {
    'cs-module-card': CsModuleCard;
  }
}
