/** The approval policy's one type and parser live in protocol/ (shared with the plugin). */
export { DEFAULT_POLICY, durationSeconds, parsePolicy, type Policy } from '../protocol/policy.js';
