/**
 * The palette's backstop (7.1), below the held entry points: Node-RED's own `preInstall` and
 * `preUninstall` hooks and the registry's `enableNode`/`disableNode` refuse every change an
 * approval did not release. A release names exactly one change (a tarball by its SHA-512, a module
 * removal, a node set's state) and lasts while the approved change is applied. The one exception is
 * Node-RED installing a library a function node of the running (approved) flows lists in `libs`.
 */
import { readFile } from 'node:fs/promises';
import { functionLibsOf, type Flows } from '../../protocol/index.js';
import { integrityOf } from './tarball.js';

/** One change an approval lets through. */
export type Release =
  | { kind: 'install'; name: string; integrity: string }
  | { kind: 'remove'; name: string }
  | { kind: 'set'; id: string; enabled: boolean };

/** The releases in force. */
export class Releases {
  readonly #active: Release[] = [];

  /** Lets `release` through until the returned function withdraws it. */
  grant(release: Release): () => void {
    this.#active.push(release);
    let withdrawn = false;
    return () => {
      if (withdrawn) return;
      withdrawn = true;
      const at = this.#active.indexOf(release);
      if (at >= 0) this.#active.splice(at, 1);
    };
  }

  /** Runs `apply` with `release` in force, and withdraws it whatever happens. */
  async during<T>(release: Release, apply: () => Promise<T>): Promise<T> {
    const withdraw = this.grant(release);
    try {
      return await apply();
    } finally {
      withdraw();
    }
  }

  /** The release of an install of `name`, if one is in force. */
  install(name: string): Extract<Release, { kind: 'install' }> | undefined {
    return this.#active.find(
      (r): r is Extract<Release, { kind: 'install' }> => r.kind === 'install' && r.name === name,
    );
  }

  /** True when the removal of `name` is released. */
  removes(name: string): boolean {
    return this.#active.some((r) => r.kind === 'remove' && r.name === name);
  }

  /** True when setting node set `id` to `enabled` is released. */
  sets(id: string, enabled: boolean): boolean {
    return this.#active.some((r) => r.kind === 'set' && r.id === id && r.enabled === enabled);
  }
}

function refused(what: string): Error {
  return new Error(`Countersign: ${what} was not approved; nothing changed`);
}

/** True when a function node of `flows` that runs lists `module` (at `version`) in its `libs`. */
export function isFlowLibrary(flows: Flows, module: unknown, version: unknown): boolean {
  return flows.some(
    (n) =>
      n.type === 'function' &&
      n.d !== true &&
      functionLibsOf(n).some(
        (lib) => lib.module === module && (lib.version ?? undefined) === version,
      ),
  );
}

/**
 * The `preInstall` hook: Node-RED's installer (palette installs, `payload.url` the tarball it is
 * about to install) and its external-module loader (function libraries: no `url`, no `isUpgrade`)
 * both call it before npm runs. An install passes when an approval released exactly this tarball,
 * checked by hashing the file npm is given, or when it is a library the running flows list.
 */
export function preInstallHook(
  releases: Releases,
  activeFlows: () => Flows,
): (payload: Record<string, unknown>) => Promise<void> {
  return async (payload) => {
    const name = String(payload.module ?? '');
    const released = releases.install(name);
    if (released && typeof payload.url === 'string') {
      const bytes = await readFile(payload.url).catch(() => null);
      if (bytes && integrityOf(bytes) === released.integrity) return;
      throw refused(`installing ${name} from a tarball other than the approved one`);
    }
    const isLibrary = !('url' in payload) && !('isUpgrade' in payload);
    if (isLibrary && isFlowLibrary(activeFlows(), payload.module, payload.version)) return;
    throw refused(`installing ${name}`);
  };
}

/** The `preUninstall` hook: a removal passes only while its approval releases it. */
export function preUninstallHook(
  releases: Releases,
): (payload: Record<string, unknown>) => Promise<void> {
  return async (payload) => {
    const name = String(payload.module ?? '');
    if (!releases.removes(name)) throw refused(`removing ${name}`);
  };
}

/** Wraps the registry's `enableNode` or `disableNode`: a node set's state changes only when released. */
export function guardedSetState(
  releases: Releases,
  original: (id: unknown) => Promise<unknown>,
  enabled: boolean,
): (id: unknown) => Promise<unknown> {
  return async function setState(id: unknown) {
    if (typeof id !== 'string' || !releases.sets(id, enabled)) {
      throw refused(`${enabled ? 'enabling' : 'disabling'} ${String(id).slice(0, 100)}`);
    }
    return original(id);
  };
}
