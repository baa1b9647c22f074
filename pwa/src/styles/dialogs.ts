/** The confirmation dialog every view draws the same way: a card over a dimmed page, two buttons side by side. */
import { css } from 'lit';

/** `<dialog>` with an `h2`, a `p` and a `.dialog-actions` row of two buttons. */
export const dialogs = css`
  dialog {
    /* Margins on a small screen, whatever box-sizing the view around it uses. */
    box-sizing: border-box;
    border: 0;
    border-radius: 20px;
    padding: 20px;
    width: min(92vw, 400px);
    background: var(--surface);
    color: var(--text);
    box-shadow: var(--shadow-lift);
  }
  dialog::backdrop {
    background: rgb(8 10 20 / 55%);
  }
  dialog h2 {
    margin: 0 0 8px;
    font-size: 20px;
  }
  dialog p {
    color: var(--muted);
    margin: 0 0 16px;
  }
  .dialog-actions {
    display: grid;
    grid-template-columns: 1fr 1fr;
    gap: 10px;
  }
`;
