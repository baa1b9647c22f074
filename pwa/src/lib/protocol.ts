/**
 * The parts of `protocol/` the first load needs, imported file by file. `protocol/index.js` also
 * re-exports the change model, whose jsondiffpatch would then ride along on every first load; the
 * change model is only needed for the T8 check, which `verify.ts` loads on demand.
 */
export * from '../../../protocol/errors.js';
export * from '../../../protocol/claims.js';
export * from '../../../protocol/device-id.js';
export * from '../../../protocol/sign.js';
export * from '../../../protocol/approval/decisions.js';
export { edgesOf } from '../../../protocol/changes/edges.js';
// The wire contract module by module: the parsers of the screens loaded on demand load with them.
export * from '../../../protocol/wire/prefix.js';
export * from '../../../protocol/wire/guards.js';
export * from '../../../protocol/wire/error-body.js';
export * from '../../../protocol/wire/proposals.js';
export * from '../../../protocol/wire/deployments.js';
export * from '../../../protocol/wire/push.js';
export type * from '../../../protocol/wire/devices.js';
export type * from '../../../protocol/wire/audit.js';
export type * from '../../../protocol/flows.js';
export type * from '../../../protocol/changes/types.js';
export type * from '../../../protocol/module.js';
