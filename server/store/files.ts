import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsync, openSync, renameSync, writeSync } from 'node:fs';
import { open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** Lowercase hex SHA-256 (node:crypto: the server's hot paths). */
export function sha256HexSync(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Up to this size a file is opened, written, closed and renamed with synchronous calls (the bytes
 * go to the page cache: a fraction of a millisecond), and only its fsync, which waits for the disk,
 * runs on the thread pool. Each asynchronous call waits its turn of the event loop, which the
 * embedded server shares with Node-RED: on a busy loop five of them took longer than the writing.
 * Larger files (snapshots of big flows) are written asynchronously throughout.
 */
const SYNC_WRITE_MAX_BYTES = 1024 * 1024;

const fsyncAsync = promisify(fsync);

/** Writes a file atomically: a temp file in the same folder, fsynced, then renamed over. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (bytes.byteLength <= SYNC_WRITE_MAX_BYTES) {
    try {
      const fd = openSync(temp, 'w', mode);
      try {
        for (let at = 0; at < bytes.byteLength;) at += writeSync(fd, bytes, at);
        await fsyncAsync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    return;
  }
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
}

/**
 * The values of the complete lines of a JSON-lines file (none when it does not exist). A line
 * that does not parse — the last one, torn by a crash — is skipped: nothing relied on it yet.
 */
export async function readJsonLines(path: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    try {
      out.push(JSON.parse(line));
    } catch {
      // empty, or torn
    }
  }
  return out;
}

/** Deletes a file; false when it was not there. */
export async function deleteFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The names (without `.json`) of the `.json` files in `dir` last written before `beforeMs`. */
export async function namesOlderThan(dir: string, beforeMs: number): Promise<string[]> {
  const out: string[] = [];
  for (const file of await readdir(dir)) {
    if (!file.endsWith('.json')) continue;
    const info = await stat(join(dir, file)).catch(() => null);
    if (info && info.mtimeMs < beforeMs) out.push(file.slice(0, -'.json'.length));
  }
  return out;
}
