/** Who made a deployment and how, in words: "jonas · in the editor". */
import type { DeploymentSource } from './protocol.js';

const VIA: Record<string, string> = {
  editor: 'in the editor',
  'admin-api': 'through the admin API',
  runtime: 'by code in Node-RED',
};

/** How a deployment arrived, in words (an unknown label as it is). */
export function viaText(via: string): string {
  return VIA[via] ?? via;
}

/** "by jonas · in the editor". */
export function sourceText(source: DeploymentSource): string {
  return `by ${source.user} · ${viaText(source.via)}`;
}
