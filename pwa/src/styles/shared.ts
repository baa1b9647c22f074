/** Styles every view shares: buttons, headers, cards, focus rings. Tokens come from `app.css`. */
import { css } from 'lit';

/** Buttons: at least 48 px tall, clear focus ring, three tones. */
export const buttons = css`
  button,
  .button {
    box-sizing: border-box;
  }
  button,
  .button {
    font: inherit;
    font-weight: 600;
    min-height: var(--tap);
    min-width: var(--tap);
    padding: 0 18px;
    border-radius: 14px;
    border: 1px solid transparent;
    background: var(--surface-3);
    color: var(--text);
    cursor: pointer;
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 8px;
    text-decoration: none;
    touch-action: manipulation;
    user-select: none;
    -webkit-user-select: none;
  }
  button:focus-visible,
  .button:focus-visible,
  a:focus-visible,
  input:focus-visible,
  textarea:focus-visible,
  [tabindex]:focus-visible {
    outline: 3px solid var(--primary);
    outline-offset: 2px;
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  button.primary,
  .button.primary {
    background: var(--primary);
    color: var(--on-primary);
  }
  button.approve {
    background: var(--approve);
    color: var(--surface);
  }
  button.reject {
    background: var(--reject);
    color: var(--surface);
  }
  button.ghost,
  .button.ghost {
    background: transparent;
    border-color: var(--border);
  }
  button.danger-ghost {
    background: transparent;
    color: var(--reject);
    border-color: var(--reject-line);
  }
  button.wide {
    width: 100%;
  }
  button svg,
  .button svg {
    width: 22px;
    height: 22px;
    flex: none;
  }
  @media (prefers-reduced-motion: no-preference) {
    button {
      transition:
        transform 120ms ease,
        background-color 120ms ease;
    }
    button:active:not(:disabled) {
      transform: scale(0.97);
    }
  }
`;

/** Text for screen readers only: there, but not drawn. */
export const srOnly = css`
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;

/** A red box with an icon that warns before the reader decides: the review's T8 alert, a card's hidden characters. */
export const warningBox = css`
  .warning-box {
    display: flex;
    gap: 10px;
    align-items: flex-start;
    padding: 10px 12px;
    border-radius: 12px;
    background: var(--reject-bg);
    color: var(--reject);
    border: 1px solid var(--reject-line);
    font-size: 14px;
  }
  .warning-box svg {
    width: 22px;
    height: 22px;
    flex: none;
  }
`;

/** A view: header, scrolling body. */
export const view = css`
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  :host {
    display: flex;
    flex-direction: column;
    min-height: 100%;
  }
  header.bar {
    position: sticky;
    top: 0;
    z-index: 2;
    display: flex;
    align-items: center;
    gap: 8px;
    min-height: 56px;
    padding: calc(var(--safe-top) + 4px) 12px 4px 16px;
    background: color-mix(in srgb, var(--bg) 88%, transparent);
    backdrop-filter: blur(12px);
    -webkit-backdrop-filter: blur(12px);
  }
  header.bar h1 {
    font-size: 22px;
    font-weight: 750;
    letter-spacing: -0.01em;
    margin: 0;
    flex: 1;
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  main {
    flex: 1;
    padding: 4px 16px calc(24px + var(--safe-bottom));
  }
  .muted {
    color: var(--muted);
  }
  .mono {
    font-family: var(--mono);
  }
  .panel {
    background: var(--surface);
    border-radius: var(--radius);
    box-shadow: var(--shadow);
    padding: 16px;
  }
  .error {
    background: var(--reject-bg);
    color: var(--reject);
    border: 1px solid var(--reject-line);
    border-radius: var(--radius-sm);
    padding: 12px 14px;
  }
  .note {
    background: var(--amber-bg);
    border: 1px solid var(--amber-line);
    border-radius: var(--radius-sm);
    padding: 12px 14px;
  }
  ${srOnly}
  .icon-button {
    padding: 0;
    width: var(--tap);
    background: transparent;
    border-radius: 50%;
  }
`;

/** Inputs sized for thumbs. */
export const forms = css`
  input,
  textarea {
    box-sizing: border-box;
  }
  label {
    display: block;
    font-weight: 600;
    font-size: 14px;
    margin: 14px 0 6px;
  }
  input,
  textarea {
    font: inherit;
    width: 100%;
    min-height: var(--tap);
    padding: 10px 14px;
    border-radius: 12px;
    border: 1px solid var(--border);
    background: var(--surface-2);
    color: var(--text);
  }
  textarea {
    min-height: 96px;
    resize: vertical;
  }
`;
