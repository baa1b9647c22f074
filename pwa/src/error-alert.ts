/** The error line views show above their content, announced to screen readers as it appears. */
import { html, nothing, type TemplateResult } from 'lit';

/** A `.error` paragraph with `role="alert"` for `message`, or nothing when it is empty. */
export function errorAlert(message: string): TemplateResult | typeof nothing {
  return message !== '' ? html`<p class="error" role="alert">${message}</p>` : nothing;
}
