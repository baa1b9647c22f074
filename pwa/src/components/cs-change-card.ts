import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { Change, Flows } from '../lib/protocol.js';
import { cardView, type EdgeRow, type Section } from '../cards/card-view.js';
import type { PropertyRow } from '../cards/delta-rows.js';
import type { NodeIndex } from '../cards/node-index.js';
import type { Shown } from '../cards/shown-value.js';
import { minimapOf, sketchAround, type Sketch, type SketchSize } from '../cards/sketch.js';
import { alertIcon, flowIcon, lockIcon } from '../icons.js';
import { cardChips, cardHead } from '../styles/card-chips.js';
import { srOnly, warningBox } from '../styles/shared.js';
import './cs-flow-sketch.js';
import './cs-line-diff.js';

/**
 * One change, as DESIGN section 8 draws it: what happened (op, kind), to what (name, type, flow),
 * how risky, and the change itself: property diffs, a line diff for code, edge lists with names,
 * credential field names, or the nodes a layout change moved. Below it, a sketch of the flow around
 * the node: the change comes first, because it is what the reviewer decides on.
 */
export class CsChangeCard extends LitElement {
  static override properties = {
    change: { attribute: false },
    index: { attribute: false },
    base: { attribute: false },
    target: { attribute: false },
    changedIds: { attribute: false },
    nested: { type: Boolean, reflect: true },
  };

  declare change: Change;
  declare index: NodeIndex;
  declare base: Flows | null;
  declare target: Flows | null;
  declare changedIds: ReadonlySet<string>;
  /** Opened inside a group card: a smaller head, and no sketch (the group draws the flow once). */
  declare nested: boolean;

  constructor() {
    super();
    this.nested = false;
    this.base = null;
    this.target = null;
    this.changedIds = new Set();
  }

  static override styles = css`
    ${srOnly}
    ${cardChips}
    ${cardHead}
    ${warningBox}
    :host([nested]) h2 {
      font-size: 17px;
      margin-top: 6px;
    }
    .type {
      font-family: var(--mono);
      font-size: 13px;
      background: var(--surface-3);
      color: var(--text);
      border-radius: 6px;
      padding: 1px 6px;
    }
    figure.pending {
      height: 64px;
      display: grid;
      place-items: center;
      color: var(--faint);
      font-size: 13px;
    }
    .rows {
      display: flex;
      flex-direction: column;
      gap: 8px;
    }
    .row {
      border-left: 3px solid var(--amber);
      padding: 2px 0 2px 10px;
      min-width: 0;
    }
    .row.added {
      border-color: var(--approve);
    }
    .row.removed {
      border-color: var(--reject);
    }
    .row.moved,
    .row.plain {
      border-color: var(--border);
    }
    .path {
      font-family: var(--mono);
      font-size: 13px;
      font-weight: 600;
      overflow-wrap: anywhere;
    }
    .vals {
      font-family: var(--mono);
      font-size: 13px;
      overflow-wrap: anywhere;
      margin-top: 2px;
    }
    .old {
      color: var(--reject);
      background: var(--reject-bg);
      text-decoration: line-through;
      text-decoration-color: color-mix(in srgb, var(--reject) 45%, transparent);
      border-radius: 4px;
      padding: 0 3px;
    }
    .new {
      color: var(--approve);
      background: var(--approve-bg);
      border-radius: 4px;
      padding: 0 3px;
    }
    .arrow {
      color: var(--muted);
      padding: 0 4px;
    }
    /* Values keep every space and tab: a whitespace change must show. */
    span.old,
    span.new,
    span.v {
      white-space: pre-wrap;
    }
    mark {
      color: inherit;
      border-radius: 3px;
      padding: 0 1px;
    }
    .old mark {
      background: color-mix(in srgb, var(--reject) 32%, transparent);
    }
    .new mark {
      background: color-mix(in srgb, var(--approve) 32%, transparent);
    }
    p.note {
      margin: 4px 0 0;
      font-size: 13px;
      color: var(--amber);
      font-weight: 600;
    }
    .warning {
      margin: 0 0 6px;
      font-weight: 600;
    }
    pre {
      margin: 4px 0 0;
      padding: 8px 10px;
      border-radius: 8px;
      font-family: var(--mono);
      font-size: 12.5px;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    pre.old,
    pre.new {
      display: block;
    }
    cs-line-diff {
      margin-top: 8px;
    }
    dl.props {
      display: grid;
      grid-template-columns: minmax(64px, max-content) 1fr;
      gap: 0;
      margin: 0;
      border-radius: var(--radius-sm);
      overflow: hidden;
      border: 1px solid var(--border);
    }
    dl.props.added {
      border-left: 4px solid var(--approve);
    }
    dl.props.removed {
      border-left: 4px solid var(--reject);
    }
    dl.props dt,
    dl.props dd {
      margin: 0;
      padding: 7px 10px;
      border-top: 1px solid var(--border);
      font-family: var(--mono);
      font-size: 13px;
      min-width: 0;
      overflow-wrap: anywhere;
    }
    dl.props dt:first-of-type,
    dl.props dt:first-of-type + dd {
      border-top: 0;
    }
    dl.props dt {
      color: var(--muted);
      background: var(--surface-2);
      font-weight: 600;
    }
    dl.props.removed dd {
      text-decoration: line-through;
      text-decoration-color: color-mix(in srgb, var(--reject) 45%, transparent);
    }
    dl.props pre {
      margin: 0;
      padding: 0;
    }
    .blank {
      color: var(--muted);
      font-style: italic;
      font-family: var(--font);
    }
    .edge {
      display: grid;
      grid-template-columns: 22px 1fr;
      align-items: start;
      gap: 6px;
      font-size: 14.5px;
      padding: 8px 10px;
      border-radius: 10px;
      background: var(--surface-2);
      overflow-wrap: anywhere;
    }
    .edge .mark {
      font-weight: 800;
      text-align: center;
    }
    .edge.added {
      background: var(--approve-bg);
    }
    .edge.added .mark {
      color: var(--approve);
    }
    .edge.removed {
      background: var(--reject-bg);
    }
    .edge.removed .mark {
      color: var(--reject);
    }
    .edge .port {
      font-size: 12px;
      color: var(--muted);
      font-family: var(--mono);
    }
    .edge .to::before {
      content: '→ ';
      color: var(--muted);
    }
    .field {
      display: flex;
      align-items: center;
      gap: 10px;
      padding: 10px 12px;
      border-radius: 10px;
      background: var(--surface-2);
      border: 1px solid var(--border);
    }
    .field svg {
      width: 18px;
      height: 18px;
      color: var(--muted);
      flex: none;
    }
    .field .name {
      font-family: var(--mono);
      font-weight: 600;
      flex: 1;
      overflow-wrap: anywhere;
    }
    .field .hidden {
      font-size: 13px;
      color: var(--muted);
      font-style: italic;
    }
    .names li {
      padding: 6px 10px;
      border-radius: 8px;
      background: var(--surface-2);
      font-size: 14.5px;
    }
    .names li.lib.added {
      background: var(--reject-bg);
    }
    .names .t {
      color: var(--muted);
      font-family: var(--mono);
      font-size: 12.5px;
    }
    p.explain {
      color: var(--muted);
      font-size: 14px;
      margin: 8px 0 0;
    }
    .empty {
      color: var(--muted);
      font-style: italic;
    }
  `;

  private opClass(): string {
    if (this.change.kind === 'wiring' || this.change.kind === 'layout') return 'op-changed';
    return `op-${this.change.op}`;
  }

  private sketch(size: SketchSize = 'card'): Sketch | null | 'none' {
    const c = this.change;
    if (c.kind === 'credentials' && c.node === undefined) return 'none';
    if (c.kind === 'config' || (c.kind === 'credentials' && c.flow === null)) return 'none';
    if (this.base === null || this.target === null) return null;
    if (c.kind === 'layout' || c.kind === 'flow' || c.kind === 'subflow')
      return minimapOf(c, this.index, size) ?? 'none';
    return sketchAround(c, this.index, this.base, this.target, this.changedIds, size) ?? 'none';
  }

  private enlarged = (): Sketch | null => {
    const large = this.sketch('large');
    return large === 'none' ? null : large;
  };

  private renderSketch() {
    if (this.nested) return nothing;
    const sketch = this.sketch();
    if (sketch === 'none') return nothing;
    if (sketch === null) {
      return html`<figure class="pending" aria-hidden="true">Loading the flow sketch…</figure>`;
    }
    return html`<figure>
      <cs-flow-sketch .sketch=${sketch} .enlarge=${this.enlarged}></cs-flow-sketch>
    </figure>`;
  }

  private parts(shown: Shown): TemplateResult | string {
    if (shown.parts === undefined) return shown.text;
    return html`${shown.parts.map((p) => (p.mark ? html`<mark>${p.text}</mark>` : p.text))}`;
  }

  private value(shown: Shown, tone: 'old' | 'new'): TemplateResult {
    if (shown.blank) return html`<span class="${tone} blank">${shown.text}</span>`;
    if (shown.block) return html`<pre class=${tone}>${shown.text}</pre>`;
    return html`<span class=${tone}>${this.parts(shown)}</span>`;
  }

  private note(row: PropertyRow) {
    return row.note !== undefined ? html`<p class="note">${row.note}</p>` : nothing;
  }

  private deltaRow(row: PropertyRow): TemplateResult {
    if (row.lines !== undefined) {
      return html`<div class="diff-row">
        <cs-line-diff .lines=${row.lines} .label=${row.path}></cs-line-diff>${this.note(row)}
      </div>`;
    }
    let body: TemplateResult;
    if (row.op === 'moved') {
      body = html`<div class="vals">moved to position ${(row.to ?? 0) + 1}</div>`;
    } else if (row.old === undefined || row.new === undefined) {
      const shown = (row.new ?? row.old)!;
      body = html`<div class="vals">${this.value(shown, row.new ? 'new' : 'old')}</div>`;
    } else if (row.old.block || row.new.block) {
      body = html`<div class="vals">
        ${this.value(row.old, 'old')}${this.value(row.new, 'new')}
      </div>`;
    } else {
      body = html`<div class="vals">
        ${this.value(row.old, 'old')}<span class="arrow" aria-label="becomes">→</span
        >${this.value(row.new, 'new')}
      </div>`;
    }
    const verb = row.op === 'changed' ? '' : ` (${row.op})`;
    return html`<div class="row ${row.op}">
      <div class="path">${row.path}<span class="sr-only">${verb}</span></div>
      ${body} ${this.note(row)}
    </div>`;
  }

  private renderProperties(section: Extract<Section, { kind: 'properties' }>) {
    if (section.rows.length === 0) return html`<p class="empty">No properties.</p>`;
    const blocks = section.rows.filter((row) => row.lines !== undefined);
    const short = section.rows.filter((row) => row.lines === undefined);
    return html`${
      short.length > 0
        ? html`<dl class="props ${section.op}">
            ${short.map((row) => {
              const shown = (row.new ?? row.old)!;
              return html`<dt>${row.path}</dt>
                <dd>
                  ${
                    shown.blank
                      ? html`<span class="blank">${shown.text}</span>`
                      : shown.block
                        ? html`<pre>${shown.text}</pre>`
                        : html`<span class="v">${shown.text}</span>`
                  }
                </dd>`;
            })}
          </dl>`
        : nothing
    }
    ${blocks.map((row) => html`<cs-line-diff .lines=${row.lines} .label=${row.path}></cs-line-diff>`)}`;
  }

  private renderEdges(rows: EdgeRow[]) {
    return html`<ul class="plain edges">
      ${rows.map(
        (r) =>
          html`<li class="edge ${r.state}">
            <span class="mark" aria-hidden="true">${r.state === 'added' ? '+' : '−'}</span>
            <span>
              <span class="sr-only"
                >${r.state === 'added' ? 'New connection' : 'Removed connection'}:
              </span>
              <span class="from">${r.from}</span>
              ${r.port !== '' ? html`<span class="port">${r.port}</span>` : nothing}
              <span class="to">${r.to}</span>
            </span>
          </li>`,
      )}
    </ul>`;
  }

  private renderNames(section: Extract<Section, { kind: 'names' }>) {
    return html`<ul class="plain names">
      ${section.rows.map(
        (r) =>
          html`<li>
            ${r.name}${r.type !== undefined ? html` <span class="t">${r.type}</span>` : nothing}
          </li>`,
      )}
      ${section.more > 0 ? html`<li class="muted">and ${section.more} more</li>` : nothing}
    </ul>`;
  }

  /** Item 5 of 7.1: libraries Node-RED installs for a function node, with their versions. */
  private renderLibs(section: Extract<Section, { kind: 'libs' }>) {
    return html`<h3>${section.heading}</h3>
      <ul class="plain names libs">
        ${section.rows.map(
          (r) =>
            html`<li class="lib ${r.state}">
              ${r.state === 'added' ? html`<strong>New:</strong> ` : r.state === 'removed' ? html`<strong>Dropped:</strong> ` : nothing}${r.text}${r.as !== undefined ? html` <span class="t">as ${r.as}</span>` : nothing}
            </li>`,
        )}
      </ul>`;
  }

  private renderSection(section: Section) {
    switch (section.kind) {
      case 'explain':
        return html`<p class="explain">${section.text}</p>`;
      case 'properties':
        return html`<h3>${section.heading}</h3>
          ${this.renderProperties(section)}`;
      case 'changes':
        return html`<h3>${section.heading}</h3>
          <div class="rows">${section.rows.map((row) => this.deltaRow(row))}</div>`;
      case 'edges':
        return html`<h3>${section.heading}</h3>
          ${this.renderEdges(section.rows)}`;
      case 'fields':
        return html`<h3>${section.heading}</h3>
          <ul class="plain edges">
            ${section.fields.map(
              (field) =>
                html`<li class="field">
                  ${lockIcon}<span class="name">${field}</span
                  ><span class="hidden">value hidden</span>
                </li>`,
            )}
          </ul>`;
      case 'names':
        return html`<h3>${section.heading}</h3>
          ${this.renderNames(section)}`;
      case 'libs':
        return this.renderLibs(section);
    }
  }

  override render() {
    const view = cardView(this.change, this.index);
    return html`
      <header>
        <div class="chips">
          <span class="chip ${this.opClass()}">${view.op}</span>
          <span class="kind">${view.kind}</span>
          <span class="chip risk risk-${view.risk}">${`${view.riskText} · ${view.why}`}</span>
        </div>
        <h2>${view.title}</h2>
        <p class="sub">
          ${view.type !== undefined ? html`<span class="type">${view.type}</span>` : nothing}
          <span>${flowIcon}</span><span>${view.flow}</span>
        </p>
      </header>
      ${view.warnings.map(
        (text) =>
          html`<p class="warning warning-box" role="note">${alertIcon}<span>${text}</span></p>`,
      )}
      ${view.sections.map((section) => this.renderSection(section))} ${this.renderSketch()}
    `;
  }
}

customElements.define('cs-change-card', CsChangeCard);

declare global {
  interface HTMLElementTagNameMap {
    'cs-change-card': CsChangeCard;
  }
}
