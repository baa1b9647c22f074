import { LitElement, css, html, nothing, svg } from 'lit';
import type { Sketch, SketchBox } from '../cards/sketch.js';

/** Characters that fit a box of `width` at the sketch's font size. */
function fit(label: string, width: number, size: number): string {
  const max = Math.max(2, Math.floor((width - 10) / (size * 0.58)));
  return label.length <= max ? label : `${label.slice(0, max - 1)}…`;
}

/** Draws a `Sketch`: the flow around a node, or a minimap of a tab. */
export class CsFlowSketch extends LitElement {
  static override properties = { sketch: { attribute: false } };

  declare sketch: Sketch | null;

  constructor() {
    super();
    this.sketch = null;
  }

  static override styles = css`
    :host {
      display: block;
    }
    svg {
      display: block;
      width: 100%;
      height: auto;
      overflow: visible;
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
      dominant-baseline: central;
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
      font-size: 10px;
    }
  `;

  private box(b: SketchBox, showLabel: boolean) {
    const size = b.subject ? 11.5 : 10.5;
    const cls = `box ${b.state}${b.subject ? ' subject' : ''}`;
    return svg`<g>
      <rect class=${cls} x=${b.x} y=${b.y} width=${b.w} height=${b.h} rx=${Math.min(7, b.h / 3)}></rect>
      ${
        showLabel
          ? svg`<text class=${b.subject ? 'label subject' : 'label'} x=${b.x + b.w / 2} y=${b.y + b.h / 2}
              font-size=${size}>${fit(b.label, b.w, size)}</text>`
          : nothing
      }
    </g>`;
  }

  override render() {
    const s = this.sketch;
    if (s === null) return nothing;
    const showLabels = s.boxes.every((b) => b.w >= 48);
    return html`<svg
      viewBox="-2 -2 ${s.width + 4} ${s.height + 4}"
      role="img"
      aria-label=${s.caption}
    >
      ${s.ghosts.map(
        (g) =>
          svg`<line class="trail" x1=${g.x + g.w / 2} y1=${g.y + g.h / 2} x2=${g.toX + g.w / 2} y2=${g.toY + g.h / 2}></line>
            <rect class="ghost" x=${g.x} y=${g.y} width=${g.w} height=${g.h} rx="2"></rect>`,
      )}
      ${s.lines.map((l) => svg`<path class="line ${l.state}" d=${l.d}></path>`)}
      ${s.boxes.map((b) => this.box(b, showLabels))}
      ${
        s.more.left > 0
          ? svg`<text class="more" x="6" y=${s.height - 1}>+${s.more.left} more</text>`
          : nothing
      }
      ${
        s.more.right > 0
          ? svg`<text class="more" x=${s.width - 6} y=${s.height - 1} text-anchor="end">+${s.more.right} more</text>`
          : nothing
      }
    </svg>`;
  }
}

customElements.define('cs-flow-sketch', CsFlowSketch);

declare global {
  interface HTMLElementTagNameMap {
    'cs-flow-sketch': CsFlowSketch;
  }
}
