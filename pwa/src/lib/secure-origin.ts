/**
 * Browsers allow service workers, push and Web Crypto keys only in a secure context: an `https://`
 * page, or `http://localhost` on the machine itself. Anywhere else the app cannot enrol or sign.
 */

/** True when this page may make and keep a device key. */
export function canHoldKeys(): boolean {
  return globalThis.isSecureContext === true && globalThis.crypto?.subtle !== undefined;
}
