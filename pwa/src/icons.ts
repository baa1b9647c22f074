/** Line icons drawn inline (24×24, stroke = currentColor), so no icon font or extra request. */
import { svg, type SVGTemplateResult } from 'lit';

function icon(body: SVGTemplateResult): SVGTemplateResult {
  return svg`<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2"
    stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;
}

export const checkIcon = icon(svg`<path d="M5 12.5l4.5 4.5L19 7.5"/>`);
export const crossIcon = icon(svg`<path d="M6 6l12 12M18 6L6 18"/>`);
export const undoIcon = icon(
  svg`<path d="M9 14L4 9l5-5"/><path d="M4 9h10.5a5.5 5.5 0 010 11H11"/>`,
);
export const downIcon = icon(svg`<path d="M12 5v14M6 13l6 6 6-6"/>`);
export const backIcon = icon(svg`<path d="M15 18l-6-6 6-6"/>`);
export const refreshIcon = icon(svg`<path d="M20 11a8 8 0 10-2.3 5.7"/><path d="M20 4v7h-7"/>`);
export const inboxIcon = icon(
  svg`<path d="M4 13l2.5-7.5A2 2 0 018.4 4h7.2a2 2 0 011.9 1.5L20 13"/><path d="M4 13v5a2 2 0 002 2h12a2 2 0 002-2v-5h-5a3 3 0 01-6 0H4z"/>`,
);
export const historyIcon = icon(
  svg`<path d="M3 12a9 9 0 109-9 9 9 0 00-6.4 2.6L3 8"/><path d="M3 3v5h5"/><path d="M12 7v5l3 2"/>`,
);
export const devicesIcon = icon(
  svg`<rect x="6" y="2.5" width="12" height="19" rx="2.5"/><path d="M11 18h2"/>`,
);
export const lockIcon = icon(
  svg`<rect x="4.5" y="10.5" width="15" height="10" rx="2"/><path d="M8 10.5V7a4 4 0 018 0v3.5"/>`,
);
export const shieldIcon = icon(
  svg`<path d="M12 3l7.5 3v5.5c0 4.6-3.2 8.3-7.5 9.5-4.3-1.2-7.5-4.9-7.5-9.5V6L12 3z"/><path d="M8.8 12.2l2.3 2.3 4.3-4.5"/>`,
);
export const alertIcon = icon(
  svg`<path d="M12 3.5l9.5 16.5h-19L12 3.5z"/><path d="M12 10v4.5M12 17.5v.2"/>`,
);
export const flowIcon = icon(
  svg`<rect x="2.5" y="4" width="7" height="5" rx="1.5"/><rect x="14.5" y="15" width="7" height="5" rx="1.5"/><path d="M9.5 6.5h2.5a2 2 0 012 2v7a2 2 0 002 2h-1.5"/>`,
);
export const plusIcon = icon(svg`<path d="M12 5v14M5 12h14"/>`);
export const bellIcon = icon(
  svg`<path d="M6 16V11a6 6 0 0112 0v5l1.5 2h-15L6 16z"/><path d="M10 20.5a2 2 0 004 0"/>`,
);
export const keyIcon = icon(
  svg`<circle cx="8" cy="14" r="4.5"/><path d="M11.5 11l8-8M16 6.5l2.5 2.5"/>`,
);
