import { randomBytes } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import webpush from 'web-push';
import { CountersignError } from '../protocol/index.js';
import { writeFileAtomic } from './store/files.js';

/** The server's VAPID key pair (DESIGN 5.6), base64url as web-push uses them. */
export type VapidKeys = { publicKey: string; privateKey: string };

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** `vapid.json` in the data directory: made at first start (mode 0600), then kept. */
export async function loadVapidKeys(dataDir: string): Promise<VapidKeys> {
  const path = join(dataDir, 'vapid.json');
  const text = await readIfExists(path);
  if (text === null) {
    const keys = webpush.generateVAPIDKeys();
    await writeFileAtomic(path, JSON.stringify(keys, null, 2) + '\n', 0o600);
    return keys;
  }
  try {
    const keys = JSON.parse(text) as Partial<VapidKeys>;
    if (typeof keys.publicKey === 'string' && typeof keys.privateKey === 'string') {
      await chmod(path, 0o600);
      return { publicKey: keys.publicKey, privateKey: keys.privateKey };
    }
  } catch {
    // reported below
  }
  throw new CountersignError('ERR_STORE_CORRUPT', `${path} is not a VAPID key file; not changed`);
}

/** `admin.token` in the data directory: made at first start (mode 0600), then kept. */
export async function loadAdminToken(dataDir: string): Promise<string> {
  const path = join(dataDir, 'admin.token');
  const text = await readIfExists(path);
  if (text === null) {
    const token = randomBytes(32).toString('base64url');
    await writeFileAtomic(path, token + '\n', 0o600);
    return token;
  }
  const token = text.trim();
  if (token.length < 32) {
    throw new CountersignError('ERR_STORE_CORRUPT', `${path} does not hold a token; not changed`);
  }
  await chmod(path, 0o600);
  return token;
}
