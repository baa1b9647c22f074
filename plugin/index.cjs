'use strict';
/**
 * Node-RED loads plugins with require(): this CommonJS entry registers Countersign and hands over
 * to the compiled ES modules in dist/. Node-RED waits for the returned promise. `cli` tells the
 * plugin whether Node-RED runs from its own command line (red.js), where a wrong setting exits.
 */
const path = require('node:path');

module.exports = function countersign(RED) {
  const main = require.main && require.main.filename;
  const cli = Boolean(main) && path.basename(main) === 'red.js';
  return import('../dist/plugin/register.js').then((plugin) => plugin.register(RED, { cli }));
};
