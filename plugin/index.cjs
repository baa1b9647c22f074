'use strict';
/**
 * Node-RED loads plugins with require(): this CommonJS entry registers Countersign and hands over
 * to the compiled ES modules in dist/. Node-RED waits for the returned promise.
 */
module.exports = function countersign(RED) {
  return import('../dist/plugin/register.js').then((plugin) => plugin.register(RED));
};
