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
export * from '../../../protocol/wire.js';
export type * from '../../../protocol/flows.js';
export type * from '../../../protocol/changes/types.js';
export type * from '../../../protocol/module.js';
