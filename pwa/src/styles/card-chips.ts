import { css } from 'lit';

/**
 * The head of a review card: the chips saying what happened (op), what it is (kind) and how risky
 * it is, shared by the change card and the module card so both read alike.
 */
export const cardChips = css`
  .chips {
    display: flex;
    align-items: center;
    gap: 6px;
    flex-wrap: wrap;
  }
  .chip {
    display: inline-flex;
    align-items: center;
    height: 26px;
    padding: 0 10px;
    border-radius: 999px;
    font-size: 12.5px;
    font-weight: 700;
    letter-spacing: 0.02em;
    text-transform: uppercase;
  }
  .op-added {
    background: var(--approve-bg);
    color: var(--approve);
  }
  .op-removed {
    background: var(--reject-bg);
    color: var(--reject);
  }
  .op-changed {
    background: var(--amber-bg);
    color: var(--amber);
  }
  .kind {
    color: var(--muted);
    font-size: 13px;
    font-weight: 600;
  }
  .risk {
    margin-left: auto;
    text-transform: none;
    letter-spacing: 0;
    gap: 6px;
    height: auto;
    min-height: 26px;
    padding: 3px 10px;
    text-align: left;
    border: 1px solid var(--border);
    color: var(--muted);
  }
  .risk::before {
    content: '';
    flex: none;
    width: 8px;
    height: 8px;
    border-radius: 50%;
    background: currentColor;
  }
  .risk-high {
    color: var(--reject);
    border-color: var(--reject-line);
    background: var(--reject-bg);
  }
  .risk-medium {
    color: var(--amber);
    border-color: var(--amber-line);
  }
  .risk-low {
    color: var(--approve);
    border-color: var(--approve-line);
  }
`;

/** The rest of a card's head and its section headings, shared by the change and group cards. */
export const cardHead = css`
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
  h3 {
    font-size: 13px;
    font-weight: 700;
    text-transform: uppercase;
    letter-spacing: 0.05em;
    color: var(--muted);
    margin: 16px 0 8px;
  }
  figure {
    margin: 16px 0 4px;
    padding: 10px 8px;
    border-radius: var(--radius-sm);
    background: var(--surface-2);
    border: 1px solid var(--border);
  }
  ul.plain {
    list-style: none;
    margin: 0;
    padding: 0;
    display: flex;
    flex-direction: column;
    gap: 6px;
  }
`;

/** The words of the risk chip (kept with the card's other words). */
export { RISK_TEXT } from '../cards/describe.js';
