import { LitElement, css, html, nothing, svg } from 'lit';
import { labelLines, type Sketch, type SketchBox } from '../cards/sketch.js';
import { dialogs } from '../styles/dialogs.js';
import { buttons } from '../styles/shared.js';

/**
 * Draws a `Sketch`: the flow around a node, or a minimap of a tab. Labels are the editor's, at
 * 12 CSS px or more on a 360 px screen, on up to two lines. With `enlarge`, a tap (or Enter) opens
 * the same picture drawn larger, with full labels, in a dialog that scrolls.
 */
export class CsFlowSketch extends LitElement {
  static override properties = {
    sketch: { attribute: false },
    enlarge: { attribute: false },
    _large: { state: true },
  };

  declare sketch: Sketch | null;
  /** Draws the enlarged picture; no enlarging when null. */
  declare enlarge: (() => Sketch | null) | null;
  declare _large: Sketch | null;

  constructor() {
    super();
    this.sketch = null;
    this.enlarge = null;
    this._large = null;
  }

  static override styles = [
    buttons,
    dialogs,
    css`
      :host {
        display: block;
      }
      svg {
        display: block;
        width: 100%;
        height: auto;
        overflow: visible;
      }
      .picture {
        cursor: zoom-in;
      }
      button.open {
        display: flex;
        margin: 6px 0 0 auto;
        min-height: 44px;
        padding: 0 14px;
        font-size: 14px;
        color: var(--text);
      }
      .scroll:focus-visible {
        outline: 3px solid var(--primary);
        outline-offset: 2px;
      }
      dialog.large {
        width: calc(100vw - 16px);
        max-width: none;
        max-height: calc(100vh - 32px);
        padding: 12px;
      }
      dialog.large .dialog-actions {
        grid-template-columns: 1fr;
        margin-top: 10px;
      }
      .scroll {
        overflow: auto;
        max-height: calc(100vh - 140px);
        overscroll-behavior: contain;
        touch-action: pan-x pan-y;
      }
      .scroll svg {
        width: auto;
      }
      .box {
        fill: var(--surface);
        stroke: var(--border);
        stroke-width: 1.2;
      }
      .box.subject {
        stroke-width: 2;
      }
      .box.added {
        fill: var(--approve-bg);
        stroke: var(--approve);
      }
      .box.removed {
        fill: var(--reject-bg);
        stroke: var(--reject);
        stroke-dasharray: 4 3;
      }
      .box.changed {
        fill: var(--amber-bg);
        stroke: var(--amber);
      }
      .label {
        fill: var(--text);
        font-family: var(--font);
        text-anchor: middle;
      }
      .label.subject {
        font-weight: 700;
      }
      .line {
        fill: none;
        stroke: var(--faint);
        stroke-width: 1.6;
      }
      .line.added {
        stroke: var(--approve);
        stroke-width: 2.4;
      }
      .line.removed {
        stroke: var(--reject);
        stroke-width: 2.4;
        stroke-dasharray: 5 4;
      }
      .ghost {
        fill: none;
        stroke: var(--amber);
        stroke-dasharray: 3 3;
        opacity: 0.8;
      }
      .trail {
        stroke: var(--amber);
        stroke-width: 1;
        opacity: 0.6;
      }
      .more {
        fill: var(--muted);
        font-family: var(--font);
      }
    `,
  ];

  private box(b: SketchBox, s: Sketch, showLabel: boolean) {
    const cls = `box ${b.state}${b.subject ? ' subject' : ''}`;
    const lines = showLabel ? labelLines(b.label, b.w, s.font, s.labelLines) : [];
    const lineH = s.font * 1.15;
    const top = b.y + b.h / 2 - ((lines.length - 1) * lineH) / 2;
    return svg`<g>
      <rect class=${cls} x=${b.x} y=${b.y} width=${b.w} height=${b.h} rx=${Math.min(7, b.h / 3)}></rect>
      ${
        lines.length > 0
          ? svg`<text class=${b.subject ? 'label subject' : 'label'} font-size=${s.font}>${lines.map(
              (line, i) =>
                svg`<tspan x=${b.x + b.w / 2} y=${top + i * lineH} dominant-baseline="central">${line}</tspan>`,
            )}</text>`
          : nothing
      }
    </g>`;
  }

  private drawing(s: Sketch, large: boolean) {
    // Labels only where a box can hold a few characters at the label size.
    const showLabels = s.boxes.every((b) => b.w >= s.font * 3.5);
    return html`<svg
      viewBox="-2 -2 ${s.width + 4} ${s.height + 4}"
      width=${large ? s.width + 4 : nothing}
      role="img"
      aria-label=${s.caption}
    >
      ${s.ghosts.map(
        (g) =>
          svg`<line class="trail" x1=${g.x + g.w / 2} y1=${g.y + g.h / 2} x2=${g.toX + g.w / 2} y2=${g.toY + g.h / 2}></line>
            <rect class="ghost" x=${g.x} y=${g.y} width=${g.w} height=${g.h} rx="2"></rect>`,
      )}
      ${s.lines.map((l) => svg`<path class="line ${l.state}" d=${l.d}></path>`)}
      ${s.boxes.map((b) => this.box(b, s, showLabels))}
      ${
        s.more.left > 0
          ? svg`<text class="more" font-size=${s.font} x="6" y=${s.height - 1}>+${s.more.left} more</text>`
          : nothing
      }
      ${
        s.more.right > 0
          ? svg`<text class="more" font-size=${s.font} x=${s.width - 6} y=${s.height - 1} text-anchor="end">+${s.more.right} more</text>`
          : nothing
      }
    </svg>`;
  }

  private open(): void {
    const large = this.enlarge?.() ?? null;
    this._large = large;
    void this.updateComplete.then(() => {
      this.renderRoot.querySelector<HTMLDialogElement>('dialog.large')?.showModal();
      // The node the card is about in the middle of the view (a unit is a pixel here).
      const scroller = this.renderRoot.querySelector<HTMLElement>('.scroll');
      const subject = large?.boxes.find((b) => b.subject);
      if (scroller !== null && subject !== undefined) {
        scroller.scrollLeft = subject.x + subject.w / 2 - scroller.clientWidth / 2;
        scroller.scrollTop = subject.y + subject.h / 2 - scroller.clientHeight / 2;
      }
    });
  }

  private close(): void {
    this.renderRoot.querySelector<HTMLDialogElement>('dialog.large')?.close();
    this._large = null;
  }

  override render() {
    const s = this.sketch;
    if (s === null) return nothing;
    if (this.enlarge === null) return this.drawing(s, false);
    const large = this._large;
    // A drag inside the dialog scrolls the picture; it must not reach the card and decide it.
    const keep = (e: Event): void => e.stopPropagation();
    // A tap on the picture enlarges it; the button does the same from the keyboard.
    return html`<div class="picture" @click=${this.open}>${this.drawing(s, false)}</div>
      <button class="open ghost" @click=${this.open}>Enlarge the sketch</button>
      <dialog
        class="large"
        aria-label="The sketch, enlarged"
        @cancel=${this.close}
        @pointerdown=${keep}
        @pointermove=${keep}
        @pointerup=${keep}
        @keydown=${keep}
      >
        ${
          large !== null
            ? html`<div
                class="scroll"
                tabindex="0"
                aria-label="The sketch; scroll to see all of it"
              >
                ${this.drawing(large, true)}
              </div>`
            : nothing
        }
        <div class="dialog-actions">
          <button class="ghost" @click=${this.close}>Close</button>
        </div>
      </dialog>`;
  }
}

customElements.define('cs-flow-sketch', CsFlowSketch);

declare global {
  interface HTMLElementTagNameMap {
    'cs-flow-sketch': CsFlowSketch;
  }
}
