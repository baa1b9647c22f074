/** The protocol shared by the plugin, the server and the phone. Web APIs only. */
export * from './errors.js';
export * from './flows.js';
export * from './hash.js';
export * from './canonical.js';
export * from './snapshot.js';
export * from './credentials.js';
export * from './claims.js';
export * from './states.js';
export * from './device-id.js';
export * from './wire.js';
export * from './risk.js';
export * from './module.js';
export * from './changes/types.js';
export { computeChanges, kindOf } from './changes/compute-changes.js';
export { edgesOf, diffEdges, sortEdges, LINK_TYPES } from './changes/edges.js';
export { behaviourOf, layoutOf } from './changes/properties.js';
export { deepEqual } from './changes/deep-equal.js';
export * from './sign.js';
