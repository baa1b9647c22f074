import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { Change, Edge, Flows } from '../lib/protocol.js';
import {
  blockText,
  deltaRows,
  isLongString,
  propertyRows,
  valueText,
  wantsBlock,
  type DeltaRow,
} from '../cards/delta-rows.js';
import { edgeText, flowText, kindWord, opWord, titleOf } from '../cards/describe.js';
import { libRows, libText } from '../cards/libs.js';
import { lineDiff } from '../cards/line-diff.js';
import type { NodeIndex } from '../cards/node-index.js';
import { minimapOf, sketchAround, type Sketch } from '../cards/sketch.js';
import { flowIcon, lockIcon } from '../icons.js';
import { RISK_TEXT, cardChips } from '../styles/card-chips.js';
import { srOnly } from '../styles/shared.js';
import './cs-flow-sketch.js';
import './cs-line-diff.js';

const MAX_LISTED = 12;

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
  };

  declare change: Change;
  declare index: NodeIndex;
  declare base: Flows | null;
  declare target: Flows | null;
  declare changedIds: ReadonlySet<string>;

  constructor() {
    super();
    this.base = null;
    this.target = null;
    this.changedIds = new Set();
  }

  static override styles = css`
    ${srOnly}
    ${cardChips}
    :host {
      display: block;
      color: var(--text);
    }
    header {
      padding: 2px 0 10px;
    }
    h2 {
      font-size: 22px;
      line-height: 1.2;
      font-weight: 750;
      letter-spacing: -0.01em;
      margin: 10px 0 4px;
      overflow-wrap: anywhere;
    }
    .sub {
      display: flex;
      align-items: center;
      gap: 6px;
      flex-wrap: wrap;
      margin: 0;
      color: var(--muted);
      font-size: 14px;
    }
    .sub svg {
      width: 16px;
      height: 16px;
    }
    .type {
      font-family: var(--mono);
      font-size: 13px;
      background: var(--surface-3);
      color: var(--text);
      border-radius: 6px;
      padding: 1px 6px;
    }
    figure {
      margin: 16px 0 4px;
      padding: 10px 8px;
      border-radius: var(--radius-sm);
      background: var(--surface-2);
      border: 1px solid var(--border);
    }
    figure.pending {
      height: 64px;
      display: grid;
      place-items: center;
      color: var(--faint);
      font-size: 13px;
    }
    h3 {
      font-size: 13px;
      font-weight: 700;
      text-transform: uppercase;
      letter-spacing: 0.05em;
      color: var(--muted);
      margin: 16px 0 8px;
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
      color: var(--faint);
      padding: 0 4px;
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
      color: var(--faint);
      font-style: italic;
      font-family: var(--font);
    }
    ul.edges,
    ul.names {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-direction: column;
      gap: 6px;
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

  private sketch(): Sketch | null | 'none' {
    const c = this.change;
    if (c.kind === 'credentials' && c.node === undefined) return 'none';
    if (c.kind === 'config' || (c.kind === 'credentials' && c.flow === null)) return 'none';
    if (this.base === null || this.target === null) return null;
    if (c.kind === 'layout' || c.kind === 'flow' || c.kind === 'subflow')
      return minimapOf(c, this.index) ?? 'none';
    return sketchAround(c, this.index, this.base, this.target, this.changedIds) ?? 'none';
  }

  private renderSketch() {
    const sketch = this.sketch();
    if (sketch === 'none') return nothing;
    if (sketch === null) {
      return html`<figure class="pending" aria-hidden="true">Loading the flow sketch…</figure>`;
    }
    return html`<figure><cs-flow-sketch .sketch=${sketch}></cs-flow-sketch></figure>`;
  }

  private value(value: unknown, tone: 'old' | 'new'): TemplateResult {
    if (wantsBlock(value)) return html`<pre class=${tone}>${blockText(value)}</pre>`;
    return html`<span class=${tone}>${valueText(value)}</span>`;
  }

  private deltaRow(row: DeltaRow): TemplateResult {
    if (row.lines !== undefined) {
      return html`<cs-line-diff .lines=${row.lines} .label=${row.path}></cs-line-diff>`;
    }
    let body: TemplateResult;
    if (row.op === 'added') {
      body = html`<div class="vals">${this.value(row.after, 'new')}</div>`;
    } else if (row.op === 'removed') {
      body = html`<div class="vals">${this.value(row.before, 'old')}</div>`;
    } else if (row.op === 'moved') {
      body = html`<div class="vals">moved to position ${(row.to ?? 0) + 1}</div>`;
    } else if (wantsBlock(row.before) || wantsBlock(row.after)) {
      body = html`<div class="vals">
        ${this.value(row.before, 'old')}${this.value(row.after, 'new')}
      </div>`;
    } else {
      body = html`<div class="vals">
        ${this.value(row.before, 'old')}<span class="arrow" aria-label="becomes">→</span
        >${this.value(row.after, 'new')}
      </div>`;
    }
    const verb = row.op === 'changed' ? '' : ` (${row.op})`;
    return html`<div class="row ${row.op}">
      <div class="path">${row.path}<span class="sr-only">${verb}</span></div>
      ${body}
    </div>`;
  }

  private renderProperties(props: Record<string, unknown> | undefined, op: 'added' | 'removed') {
    const rows = propertyRows(props);
    if (rows.length === 0) return html`<p class="empty">No properties.</p>`;
    const blocks = rows.filter(({ value }) => isLongString(value));
    const short = rows.filter(({ value }) => !isLongString(value));
    return html`${
      short.length > 0
        ? html`<dl class="props ${op}">
            ${short.map(
              ({ key, value }) =>
                html`<dt>${key}</dt>
                  <dd>
                    ${
                      value === ''
                        ? html`<span class="blank">empty</span>`
                        : wantsBlock(value)
                          ? html`<pre>${blockText(value)}</pre>`
                          : valueText(value)
                    }
                  </dd>`,
            )}
          </dl>`
        : nothing
    }
    ${blocks.map(({ key, value }) => {
      const text = value as string;
      const lines = op === 'added' ? lineDiff('', text) : lineDiff(text, '');
      return html`<cs-line-diff .lines=${lines} .label=${key}></cs-line-diff>`;
    })}`;
  }

  private renderEdges(edges: Edge[], state: 'added' | 'removed') {
    return edges.map((edge) => {
      const t = edgeText(edge, this.index);
      return html`<li class="edge ${state}">
        <span class="mark" aria-hidden="true">${state === 'added' ? '+' : '−'}</span>
        <span>
          <span class="sr-only"
            >${state === 'added' ? 'New connection' : 'Removed connection'}:
          </span>
          <span class="from">${t.from}</span>
          ${t.port !== '' ? html`<span class="port">${t.port}</span>` : nothing}
          <span class="to">${t.to}</span>
        </span>
      </li>`;
    });
  }

  private renderEdgeSection(edges: { added: Edge[]; removed: Edge[] } | undefined) {
    if (edges === undefined || (edges.added.length === 0 && edges.removed.length === 0))
      return nothing;
    return html`<h3>Connections</h3>
      <ul class="edges">
        ${this.renderEdges(edges.removed, 'removed')} ${this.renderEdges(edges.added, 'added')}
      </ul>`;
  }

  private renderUsers() {
    const c = this.change;
    if (c.node === undefined || !this.index.complete) return nothing;
    const users = this.index.usersOf(c.node.id);
    if (users.length === 0) return nothing;
    return html`<h3>Used by</h3>
      ${this.renderNames(users)}`;
  }

  private renderNames(ids: string[]) {
    const shown = ids.slice(0, MAX_LISTED);
    return html`<ul class="names">
      ${shown.map((id) => {
        const type = this.index.typeOf(id);
        const name = this.index.label(id);
        return html`<li>
          ${name}${type !== undefined && !name.startsWith(type) ? html` <span class="t">${type}</span>` : nothing}
        </li>`;
      })}
      ${ids.length > shown.length ? html`<li class="muted">and ${ids.length - shown.length} more</li>` : nothing}
    </ul>`;
  }

  /** Item 5 of 7.1: libraries Node-RED installs for a function node, with their versions. */
  private renderLibs() {
    const rows = libRows(this.change);
    if (rows.length === 0) return nothing;
    return html`<h3>Libraries Node-RED installs from npm</h3>
      <ul class="names libs">
        ${rows.map(
          ({ lib, state }) =>
            html`<li class="lib ${state}">
              ${state === 'added' ? html`<strong>New:</strong> ` : state === 'removed' ? html`<strong>Dropped:</strong> ` : nothing}${libText(lib)}${lib.var ? html` <span class="t">as ${lib.var}</span>` : nothing}
            </li>`,
        )}
      </ul>
      <p class="explain">Node-RED downloads and runs these packages when the flows start.</p>`;
  }

  private renderBody() {
    const c = this.change;
    switch (c.kind) {
      case 'wiring':
        return html`${this.renderEdgeSection(c.edges)}
          <p class="explain">
            Only the connections of this node changed. Messages will now flow as shown.
          </p>`;
      case 'credentials':
        return html`<h3>Credential fields set</h3>
          <ul class="edges">
            ${(c.fields ?? []).map(
              (field) =>
                html`<li class="field">
                  ${lockIcon}<span class="name">${field}</span
                  ><span class="hidden">value hidden</span>
                </li>`,
            )}
          </ul>
          <p class="explain">
            Credential values never leave Node-RED. The signature covers a digest of them, so they
            cannot be swapped after you approve.
          </p>`;
      case 'layout':
        return html`<p class="explain">
            These nodes only moved on the canvas. Nothing about what they do changed.
          </p>
          <h3>Moved</h3>
          ${this.renderNames(c.nodes ?? [])}`;
      default:
        break;
    }
    if (c.op === 'added') {
      return html`${this.renderLibs()}
        <h3>Properties</h3>
        ${this.renderProperties(c.after, 'added')} ${this.renderEdgeSection(c.edges)}
        ${c.kind === 'config' ? this.renderUsers() : nothing}`;
    }
    if (c.op === 'removed') {
      return html`<h3>Properties it had</h3>
        ${this.renderProperties(c.before, 'removed')} ${this.renderEdgeSection(c.edges)}`;
    }
    const rows = deltaRows(c.delta, c.before, c.after);
    return html`${this.renderLibs()}
      <h3>What changed</h3>
      ${
        rows.length > 0
          ? html`<div class="rows">${rows.map((row) => this.deltaRow(row))}</div>`
          : html`<p class="explain">
              This id appears more than once in the flows file, and the copies differ. Which copy
              runs depends on their order.
            </p>`
      }
      ${c.kind === 'config' ? this.renderUsers() : nothing}`;
  }

  override render() {
    const c = this.change;
    const type = c.node?.type;
    return html`
      <header>
        <div class="chips">
          <span class="chip ${this.opClass()}">${opWord(c)}</span>
          <span class="kind">${kindWord(c)}</span>
          <span class="chip risk risk-${c.risk}">${RISK_TEXT[c.risk]}</span>
        </div>
        <h2>${titleOf(c, this.index)}</h2>
        <p class="sub">
          ${type !== undefined && c.kind !== 'flow' ? html`<span class="type">${type}</span>` : nothing}
          <span>${flowIcon}</span><span>${flowText(c)}</span>
        </p>
      </header>
      ${this.renderBody()} ${this.renderSketch()}
    `;
  }
}

customElements.define('cs-change-card', CsChangeCard);

declare global {
  interface HTMLElementTagNameMap {
    'cs-change-card': CsChangeCard;
  }
}
