import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { collapsed, runsOf, type Run } from '../cards/code-line.js';
import { diffStats, hunksOf, type DiffLine, type DiffPart } from '../cards/line-diff.js';

/**
 * A unified line diff: added lines green, removed red, the changed characters within a changed line
 * marked, long unchanged stretches folded behind a button. Lines wrap rather than scroll sideways,
 * because a sideways drag on a card is a decision; they wrap between tokens, and a string literal
 * that fits on a line is never cut. A very long line shows what changed with some context, the rest
 * one tap away. Kept and added lines carry their number in the new code, removed ones in the old.
 */
export class CsLineDiff extends LitElement {
  static override properties = {
    lines: { attribute: false },
    label: { type: String },
    context: { type: Number },
    _open: { state: true },
    _wide: { state: true },
  };

  declare lines: DiffLine[];
  declare label: string;
  declare context: number;
  declare _open: Set<number>;
  /** Long lines opened in full, by their index in `lines`. */
  declare _wide: ReadonlySet<number>;

  constructor() {
    super();
    this.lines = [];
    this.label = '';
    this.context = 3;
    this._open = new Set();
    this._wide = new Set();
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
      /* Wrap between tokens; cut inside one only when it is longer than the whole line. */
      overflow-wrap: anywhere;
    }
    /* A string literal stays on one line when it fits. */
    .str {
      display: inline-block;
      max-width: 100%;
    }
    button.more {
      display: inline;
      margin: 0 2px;
      padding: 0 6px;
      min-height: 24px;
      border: 1px dashed var(--border);
      border-radius: 6px;
      background: var(--surface-3);
      color: var(--text);
      font: 600 12px var(--font);
      cursor: pointer;
      white-space: nowrap;
    }
    button.more:focus-visible {
      outline: 3px solid var(--primary);
      outline-offset: 1px;
    }
    .no {
      color: var(--muted);
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

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Another diff in the same element (the next card): folds start closed again.
    if (changed.has('lines') && changed.get('lines') !== undefined) {
      this._open = new Set();
      this._wide = new Set();
    }
  }

  private renderRun(run: Run, at: number) {
    if ('fold' in run) {
      const count = Array.from(run.fold).length;
      return html`<button
        class="more"
        aria-label="Show ${count.toLocaleString('en')} more characters of line ${at + 1}"
        @click=${() => {
          this._wide = new Set([...this._wide, at]);
        }}
      >
        ⋯ ${count.toLocaleString('en')} more
      </button>`;
    }
    const pieces = run.pieces.map((p) => (p.mark ? html`<mark>${p.text}</mark>` : p.text));
    return html`${run.str ? html`<span class="str">${pieces}</span>` : pieces}${run.breakAfter ? html`<wbr />` : nothing}`;
  }

  private renderLine(line: DiffLine, at: number) {
    const cls = line.op === '+' ? 'line add' : line.op === '-' ? 'line del' : 'line';
    const spoken = line.op === '+' ? 'added' : line.op === '-' ? 'removed' : '';
    const parts = line.parts ?? [{ text: line.text }];
    const runs = runsOf(this._wide.has(at) ? parts : collapsed(parts));
    return html`<div class=${cls}>
      <span class="no" aria-hidden="true">${line.op === '-' ? line.old : line.new}</span
      ><span class="sign" aria-hidden="true"
        >${line.op === ' ' ? '' : line.op === '+' ? '+' : '−'}</span
      ><span class="text"
        >${spoken ? html`<span class="sr-only">${spoken}: </span>` : nothing}${
          line.text === '' ? ' ' : runs.map((run) => this.renderRun(run, at))
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
        const start = offset;
        offset += part.lines.length;
        return part.lines.map((l, k) => this.renderLine(l, start + k));
      }
      const start = offset;
      offset += part.fold;
      if (this._open.has(i)) {
        return this.lines
          .slice(start, start + part.fold)
          .map((l, k) => this.renderLine(l, start + k));
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
