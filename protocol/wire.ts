/**
 * The HTTP API of 5.7 and the push payload of 5.6: every request and response body has one type and
 * one parser here (each throws `ValidationError`), used by the server, the plugin and the phone.
 * Field names are the contract.
 */
export * from './wire/guards.js';
export * from './wire/error-body.js';
export * from './wire/devices.js';
export * from './wire/proposals.js';
export * from './wire/deployments.js';
export * from './wire/keys.js';
export * from './wire/audit.js';
export * from './wire/admin.js';
export * from './wire/queries.js';
export * from './wire/sse.js';
export * from './wire/push.js';

/** The API prefix. */
export const API_PREFIX = '/api/v1';
