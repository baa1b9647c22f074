/** The approval rules of 5.4, written once for the server, the plugin and the phone. */
export * from './decisions.js';
export * from './verify-approval.js';
export * from './quorum.js';
export * from './credentials-rule.js';
