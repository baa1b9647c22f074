import { LitElement, css, html, nothing } from 'lit';
import { diffStats, hunksOf, type DiffLine, type DiffPart } from '../cards/line-diff.js';

/**
 * A unified line diff: added lines green, removed red, the changed characters within a changed line
 * marked, long unchanged stretches folded behind a button. Lines wrap rather than scroll sideways,
 * because a sideways drag on a card is a decision.
 */
export class CsLineDiff extends LitElement {
  static override properties = {
    lines: { attribute: false },
    label: { type: String },
    context: { type: Number },
    _open: { state: true },
  };

  declare lines: DiffLine[];
  declare label: string;
  declare context: number;
  declare _open: Set<number>;

  constructor() {
    super();
    this.lines = [];
    this.label = '';
    this.context = 3;
    this._open = new Set();
  }

  static override styles = css`
    :host {
      display: block;
      font-family: var(--mono);
      font-size: 12.5px;
      line-height: 1.45;
      border: 1px solid var(--border);
      border-radius: var(--radius-sm);
      overflow: hidden;
      background: var(--surface-2);
    }
    .head {
      display: flex;
      justify-content: space-between;
      gap: 8px;
      padding: 6px 10px;
      font-family: var(--font);
      font-size: 13px;
      color: var(--text);
      border-bottom: 1px solid var(--border);
      background: var(--surface);
    }
    .head .label {
      font-family: var(--mono);
      font-weight: 600;
      overflow-wrap: anywhere;
    }
    .stats .add {
      color: var(--approve);
      font-weight: 700;
    }
    .stats .del {
      color: var(--reject);
      font-weight: 700;
    }
    .line {
      display: grid;
      grid-template-columns: 2.6em 1.2em 1fr;
      white-space: pre-wrap;
      word-break: break-word;
      overflow-wrap: anywhere;
    }
    .no {
      color: var(--faint);
      text-align: right;
      padding-right: 4px;
      user-select: none;
      -webkit-user-select: none;
    }
    .sign {
      text-align: center;
      user-select: none;
      -webkit-user-select: none;
    }
    .text {
      padding-right: 8px;
      min-width: 0;
    }
    .add {
      background: var(--approve-bg);
    }
    .add .sign {
      color: var(--approve);
    }
    .del {
      background: var(--reject-bg);
    }
    .del .sign {
      color: var(--reject);
    }
    .del .text {
      text-decoration: line-through;
      text-decoration-color: color-mix(in srgb, var(--reject) 45%, transparent);
    }
    /* The characters that changed within a changed line. */
    mark {
      color: inherit;
      border-radius: 2px;
    }
    .add mark {
      background: color-mix(in srgb, var(--approve) 35%, transparent);
    }
    .del mark {
      background: color-mix(in srgb, var(--reject) 35%, transparent);
    }
    .sr-only {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
    }
    button.fold {
      display: block;
      width: 100%;
      min-height: 44px;
      border: 0;
      border-top: 1px dashed var(--border);
      border-bottom: 1px dashed var(--border);
      background: var(--surface-3);
      color: var(--muted);
      font: 600 12.5px var(--font);
      cursor: pointer;
    }
    button.fold:focus-visible {
      outline: 3px solid var(--primary);
      outline-offset: -3px;
    }
  `;

  private renderLine(line: DiffLine) {
    const cls = line.op === '+' ? 'line add' : line.op === '-' ? 'line del' : 'line';
    const spoken = line.op === '+' ? 'added' : line.op === '-' ? 'removed' : '';
    return html`<div class=${cls}>
      <span class="no" aria-hidden="true">${line.op === '+' ? line.new : line.old}</span
      ><span class="sign" aria-hidden="true"
        >${line.op === ' ' ? '' : line.op === '+' ? '+' : '−'}</span
      ><span class="text"
        >${spoken ? html`<span class="sr-only">${spoken}: </span>` : nothing}${
          line.text === ''
            ? ' '
            : line.parts === undefined
              ? line.text
              : line.parts.map((p) => (p.mark ? html`<mark>${p.text}</mark>` : p.text))
        }</span
      >
    </div>`;
  }

  override render() {
    const stats = diffStats(this.lines);
    const parts: DiffPart[] = hunksOf(this.lines, this.context);
    // Folds that the reader opened show their lines again.
    let offset = 0;
    const items = parts.map((part, i) => {
      if ('lines' in part) {
        offset += part.lines.length;
        return part.lines.map((l) => this.renderLine(l));
      }
      const start = offset;
      offset += part.fold;
      if (this._open.has(i)) {
        return this.lines.slice(start, start + part.fold).map((l) => this.renderLine(l));
      }
      return html`<button
        class="fold"
        @click=${() => {
          this._open = new Set([...this._open, i]);
        }}
      >
        ⋯ ${part.fold} unchanged ${part.fold === 1 ? 'line' : 'lines'}
      </button>`;
    });
    return html`
      <div class="head">
        <span class="label">${this.label}</span>
        <span class="stats" aria-label="${stats.added} lines added, ${stats.removed} removed"
          >${stats.added > 0 ? html`<span class="add">+${stats.added}</span>` : nothing}
          ${stats.removed > 0 ? html`<span class="del">−${stats.removed}</span>` : nothing}</span
        >
      </div>
      <div role="group" aria-label=${`Line changes in ${this.label}`}>${items}</div>
    `;
  }
}

customElements.define('cs-line-diff', CsLineDiff);

declare global {
  interface HTMLElementTagNameMap {
    'cs-line-diff': CsLineDiff;
  }
}
