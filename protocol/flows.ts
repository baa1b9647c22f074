import { ValidationError } from './errors.js';

/** One object of a Node-RED flows array: a tab, subflow, node, config node, group or junction. */
export type FlowNode = {
  id: string;
  type: string;
  z?: string;
  [property: string]: unknown;
};

/** A flows array as Node-RED saves it. */
export type Flows = FlowNode[];

/**
 * Checks that `input` is a flows array: an array of objects, each with a string `id` and `type`.
 * It does not copy; the caller keeps the same objects.
 */
export function parseFlows(input: unknown): Flows {
  if (!Array.isArray(input)) {
    throw new ValidationError('flows must be an array of node objects', {
      code: 'ERR_FLOWS_INVALID',
    });
  }
  for (let i = 0; i < input.length; i++) {
    const node: unknown = input[i];
    if (typeof node !== 'object' || node === null || Array.isArray(node)) {
      throw new ValidationError(`flows[${i}] is not an object`, { code: 'ERR_FLOWS_INVALID' });
    }
    const { id, type } = node as { id?: unknown; type?: unknown };
    if (typeof id !== 'string' || id === '') {
      throw new ValidationError(`flows[${i}] has no string id`, { code: 'ERR_FLOWS_INVALID' });
    }
    if (typeof type !== 'string' || type === '') {
      throw new ValidationError(`flows[${i}] (${id}) has no string type`, {
        code: 'ERR_FLOWS_INVALID',
      });
    }
  }
  return input as Flows;
}
