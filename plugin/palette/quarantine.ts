/**
 * The quarantine (7.1): every tarball a palette change would install is fetched once into
 * `<userDir>/countersign-gate/quarantine/`, outside `node_modules`, named by its SHA-512, and
 * nothing in it is run. The descriptor is computed from those bytes, and the approved install reads
 * them back from here, checking their integrity again.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CountersignError, ValidationError } from '../../protocol/index.js';
import { MAX_TARBALL_BYTES, integrityOf } from './tarball.js';

/** The file name of a tarball in quarantine: the hex of its SHA-512. */
function fileOf(integrity: string): string {
  const hex = Buffer.from(integrity.replace(/^sha512-/, ''), 'base64').toString('hex');
  if (hex.length !== 128) throw new CountersignError('ERR_BAD_REQUEST', 'not a sha512 integrity');
  return `${hex}.tgz`;
}

/** How to run npm: Node-RED's own npm, with Node's executable, as its installer does. */
export type NpmRunner = { execPath: string; npmCli: string };

/** The quarantine folder of one Node-RED user directory. */
export class Quarantine {
  readonly dir: string;
  readonly #userDir: string;
  readonly #npm: NpmRunner;

  constructor(userDir: string, npm: NpmRunner) {
    this.#userDir = userDir;
    this.dir = join(userDir, 'countersign-gate', 'quarantine');
    this.#npm = npm;
  }

  /** Where the tarball with `integrity` is kept. */
  pathOf(integrity: string): string {
    return join(this.dir, fileOf(integrity));
  }

  /** Keeps `bytes` (written once, atomically); returns their integrity and path. */
  async store(bytes: Uint8Array): Promise<{ integrity: string; path: string }> {
    const integrity = integrityOf(bytes);
    const path = this.pathOf(integrity);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, bytes, { mode: 0o600 });
    await rename(temp, path);
    return { integrity, path };
  }

  /**
   * Reads the tarball back and checks it is still exactly the one with `integrity`; throws
   * `ERR_APPLY_FAILED` when it is missing or changed.
   */
  async read(integrity: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(integrity));
    } catch (cause) {
      throw new CountersignError('ERR_APPLY_FAILED', 'the quarantined tarball is missing', {
        cause,
      });
    }
    if (integrityOf(bytes) !== integrity) {
      throw new CountersignError(
        'ERR_APPLY_FAILED',
        'the quarantined tarball changed after the proposal (its sha512 differs)',
      );
    }
    return bytes;
  }

  /**
   * Fetches `spec` (a registry name@version, an http(s) tarball URL or a folder) with `npm pack
   * --ignore-scripts`, which runs none of the package's scripts, and keeps the tarball.
   */
  async pack(spec: string): Promise<{ bytes: Buffer; integrity: string; path: string }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = await mkdtemp(join(this.dir, 'pack-'));
    try {
      await new Promise<void>((resolve, reject) => {
        execFile(
          this.#npm.execPath,
          [
            this.#npm.npmCli,
            'pack',
            '--ignore-scripts',
            '--json',
            '--no-update-notifier',
            '--pack-destination',
            temp,
            '--',
            spec,
          ],
          { cwd: this.#userDir, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
          (err, _stdout, stderr) => {
            if (!err) return resolve();
            const why = /E404|404 Not Found/.test(stderr)
              ? 'not found'
              : (stderr.split('\n').find((l) => /ERR!/.test(l)) ?? err.message);
            reject(new ValidationError(`cannot fetch ${spec}: ${why.slice(0, 200)}`));
          },
        );
      });
      const files = (await readdir(temp)).filter((f) => f.endsWith('.tgz'));
      if (files.length !== 1) throw new ValidationError(`npm pack ${spec} made no tarball`);
      const bytes = await readFile(join(temp, files[0]!));
      if (bytes.length > MAX_TARBALL_BYTES) throw new ValidationError(`${spec} is too large`);
      return { bytes, ...(await this.store(bytes)) };
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /**
   * Deletes every quarantined tarball that no held change names and that the user directory's
   * package.json does not install from (an approved install from quarantine: npm needs the file
   * for later installs). `held` is asked again before each deletion: a change being proposed
   * while the folder is read (its tarball just stored) is held by then, and its tarball stays.
   */
  async tidy(held: () => ReadonlyArray<{ integrity: string | null }>): Promise<void> {
    const keep = (): Set<string> =>
      new Set(held().flatMap((d) => (d.integrity ? [fileOf(d.integrity)] : [])));
    const referenced = await this.#referenced();
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch {
      return;
    }
    for (const file of files) {
      if (!file.endsWith('.tgz') || keep().has(file) || referenced.has(file)) continue;
      await rm(join(this.dir, file), { force: true });
    }
  }

  /** The quarantine files the user directory's package.json installs from. */
  async #referenced(): Promise<Set<string>> {
    const out = new Set<string>();
    try {
      const pkg = JSON.parse(await readFile(join(this.#userDir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, unknown>;
      };
      const prefix = `file:${relative(this.#userDir, this.dir)}/`;
      for (const value of Object.values(pkg.dependencies ?? {})) {
        if (typeof value === 'string' && value.startsWith(prefix))
          out.add(value.slice(prefix.length));
      }
    } catch {
      // No package.json yet: nothing installs from quarantine.
    }
    return out;
  }
}
