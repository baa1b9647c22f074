/**
 * The libraries a function node lists in `libs` (DESIGN 7.1 item 5), apart from the module
 * descriptor of `module.ts`: the phone shows them on flows cards without loading that parser.
 */
import { isObject } from './wire/guards.js';

/**
 * One library a function node lists in `libs`: Node-RED installs package `module` (at `version`,
 * or the latest when null) when the flows start, and gives the node `module + subpath` as `var`.
 */
export type FunctionLib = { var: string; module: string; subpath: string; version: string | null };

/**
 * The libraries a node lists in `libs` (function nodes), parsed the way Node-RED's external-module
 * loader reads a module spec (`name`, `@scope/name`, `name@version`).
 */
export function functionLibsOf(node: Record<string, unknown>): FunctionLib[] {
  const libs = Array.isArray(node.libs) ? node.libs : node.libs === undefined ? [] : [node.libs];
  const out: FunctionLib[] = [];
  for (const lib of libs) {
    const spec = typeof lib === 'string' ? lib : isObject(lib) ? lib.module : undefined;
    if (typeof spec !== 'string' || spec === '') continue;
    const match = /^((?:@[^/]+\/)?[^/@]+)(\/[^/@]+)?(?:@([\s\S]+))?$/.exec(spec);
    out.push({
      var: isObject(lib) && typeof lib.var === 'string' ? lib.var : '',
      module: match ? match[1]! : spec,
      subpath: match?.[2] ?? '',
      version: match?.[3] ?? null,
    });
  }
  return out;
}
