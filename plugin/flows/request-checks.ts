/**
 * Requests the gate refuses before proposing anything (400 `ERR_FLOWS_INVALID`, text/plain, naming
 * the node and the rule), because Node-RED would do something with them that the review cannot show:
 * - flows outside the canonical shape of DESIGN 5.2 (`parseFlows`: string ids, types and flows,
 *   wires as arrays of arrays of node ids, link lists of node ids, no reserved key, finite numbers);
 * - a node id, or a flow (`z`), group (`g`) or subflow type a node refers to, that names an
 *   `Object.prototype` member (`__proto__`, `constructor`, `hasOwnProperty`...): Node-RED indexes
 *   nodes, flows and subflows by id in plain objects, where such a name reaches the prototype or a
 *   method instead of a node;
 * - a separate credentials set (API v2 `credentials`, the runtime's second argument) that is not
 *   `{[node id]: {field: value}}` or the encrypted `{$: string}`: Node-RED stores any value it is
 *   given for a node (`null` wipes the node's credentials), while the change list only shows field
 *   objects;
 * - a node's own `credentials` that is neither absent nor a field object.
 */
import {
  isPrototypeKey,
  parseFlows,
  quoteName,
  ValidationError,
  type Flows,
} from '../../protocol/index.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(message: string): never {
  throw new ValidationError(message, { code: 'ERR_FLOWS_INVALID' });
}

const quote = quoteName;

/**
 * The flows of a request the gate may propose, parsed once (`parseFlows` does not copy); throws
 * `ERR_FLOWS_INVALID` (400) for a request it must not (see above).
 */
export function checkRequest(input: unknown, credentials: unknown): Flows {
  const flows = parseFlows(input);
  for (const node of flows) {
    if (isPrototypeKey(node.id)) refuse(`node id ${quote(node.id)} is not allowed`);
    // Node-RED also looks up a node's flow (z), group (g) and subflow type by name in plain objects.
    const subflow = /^subflow:(.*)$/.exec(node.type)?.[1];
    for (const ref of [node.z, node.g, subflow]) {
      if (typeof ref === 'string' && isPrototypeKey(ref))
        refuse(`node ${quote(node.id)} refers to ${quote(ref)}, which is not allowed`);
    }
    const own = node.credentials;
    if (own !== undefined && own !== null && !isPlainObject(own)) {
      refuse(`the credentials of node ${quote(node.id)} must be an object of fields`);
    }
  }
  if (credentials === undefined || credentials === null) return flows;
  if (!isPlainObject(credentials)) refuse('credentials must be an object keyed by node id');
  for (const [id, fields] of Object.entries(credentials)) {
    if (isPrototypeKey(id)) refuse(`credentials for node id ${quote(id)} are not allowed`);
    if (id === '$') {
      if (typeof fields !== 'string' || fields === '')
        refuse('encrypted credentials ($) must be a string');
    } else if (!isPlainObject(fields)) {
      refuse(`the credentials of node ${quote(id)} must be an object of fields`);
    }
  }
  return flows;
}
