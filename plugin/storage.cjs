'use strict';
/**
 * Countersign's storage backstop for settings.js (DESIGN 7). It wraps a Node-RED storage module so
 * that flows (and credentials) are written only while an approval has released the rev being saved:
 * whatever path reaches storage, unapproved flows never land on disk.
 *
 *   // settings.js: wraps Node-RED's default file storage
 *   storageModule: require('node-red-contrib-countersign/plugin/storage.cjs'),
 *   // or around another storage module
 *   storageModule: require('node-red-contrib-countersign/plugin/storage.cjs').wrap(require('my-storage')),
 *
 * The gate (the Countersign plugin) releases a rev just before it applies an approved deployment.
 * Without the plugin loaded, nothing is released and every save is refused (fail closed).
 */
const { createHash } = require('node:crypto');
const { createRequire } = require('node:module');
const path = require('node:path');

const KEY = Symbol.for('countersign.storage-backstop');

/** The registry shared with the plugin (plugin/flows/backstop.ts). */
function registry() {
  let value = globalThis[KEY];
  if (!value) {
    value = { released: new Map() };
    Object.defineProperty(globalThis, KEY, {
      value,
      enumerable: false,
      configurable: false,
      writable: false,
    });
  }
  return value;
}

function refused(what) {
  const err = new Error(`Countersign refused to save ${what}: no approval released it`);
  err.code = 'ERR_FORBIDDEN';
  return err;
}

/** Wraps a storage module: every member passes through except the saves of flows and credentials. */
function wrap(inner) {
  if (!inner || typeof inner.saveFlows !== 'function' || typeof inner.getFlows !== 'function') {
    throw new Error('countersign storage: the wrapped module must be a Node-RED storage module');
  }
  const wrapped = {};
  for (const key of Object.keys(inner)) {
    const value = inner[key];
    wrapped[key] = typeof value === 'function' ? value.bind(inner) : value;
  }
  wrapped.saveFlows = async function saveFlows(flows, user) {
    const rev = createHash('sha256').update(JSON.stringify(flows)).digest('hex');
    if (!((registry().released.get(rev) || 0) > 0)) throw refused(`flows rev ${rev.slice(0, 12)}`);
    return inner.saveFlows(flows, user);
  };
  wrapped.saveCredentials = async function saveCredentials(credentials) {
    // Credentials have no rev; they are written only while some approved rev is being applied.
    if (registry().released.size === 0) throw refused('credentials');
    return inner.saveCredentials(credentials);
  };
  return wrapped;
}

/** Node-RED's own file storage, from the Node-RED that is running (or the one beside this package). */
function localFileSystem() {
  const bases = [];
  if (require.main && require.main.filename) bases.push(require.main.filename);
  bases.push(path.join(process.cwd(), 'index.js'), path.join(__dirname, 'storage.cjs'));
  for (const base of bases) {
    try {
      return createRequire(base)('@node-red/runtime/lib/storage/localfilesystem');
    } catch {
      // try the next place
    }
  }
  throw new Error('countersign storage: cannot find @node-red/runtime/lib/storage/localfilesystem');
}

let defaultModule = null;
const lazyDefault = {};
for (const key of [
  'init',
  'getFlows',
  'saveFlows',
  'getCredentials',
  'saveCredentials',
  'getSettings',
  'saveSettings',
  'getSessions',
  'saveSessions',
  'getLibraryEntry',
  'saveLibraryEntry',
]) {
  lazyDefault[key] = function (...args) {
    if (!defaultModule) defaultModule = wrap(localFileSystem());
    return defaultModule[key](...args);
  };
}

module.exports = lazyDefault;
module.exports.wrap = wrap;
