/**
 * This phone's enrolment, kept in IndexedDB: the device key pair as CryptoKey objects (structured
 * clone keeps the private key non-extractable) and what the server told us at enrolment. The page
 * and the service worker both read it.
 */

/** What this phone keeps about itself. */
export type DeviceRecord = {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** RFC 7638 thumbprint of the public key: the device id. */
  id: string;
  fingerprint: string;
  /** The server this key was enrolled with: the `aud` of every approval. */
  serverId: string;
  serverName: string;
  owner: string;
  name: string;
  enrolledAt: string;
  push: boolean;
};

const DB_NAME = 'countersign';
const STORE = 'device';
const SELF = 'self';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB did not open'));
  });
}

async function run<T>(
  mode: IDBTransactionMode,
  op: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = op(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

/** The enrolled device, or null before enrolment. */
export async function loadDevice(): Promise<DeviceRecord | null> {
  const value = (await run('readonly', (s) => s.get(SELF))) as DeviceRecord | undefined;
  return value ?? null;
}

/** Keeps the device record (replacing any earlier one). */
export async function saveDevice(record: DeviceRecord): Promise<void> {
  await run('readwrite', (s) => s.put(record, SELF));
}

/** Forgets this device: its key is gone for good. */
export async function forgetDevice(): Promise<void> {
  await run('readwrite', (s) => s.delete(SELF));
}
