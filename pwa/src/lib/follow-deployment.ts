/**
 * The review follows its deployment live (DESIGN 8): superseded, expired or decided elsewhere, the
 * phone says so at once and offers the newer deployment. How it hears: the service worker posts
 * every push to the open page (a `decided` push for this deployment, a `deployment` push for a newer
 * one of the same instance), a timer fires at the expiry, and a poll every 20 s (and whenever the app
 * comes back to the screen) covers a phone without push. Each of them only triggers a fresh
 * `GET /deployments/:id`; what the server answers decides.
 */
import type { Api } from './api.js';
import type { DeploymentSummary, PushPayload } from './protocol.js';

type DeploymentStatus = DeploymentSummary['status'];

/** A deployment that no longer waits, and the newer one of its instance that does (if any). */
export type Closed = { status: DeploymentStatus; newer: DeploymentSummary | null };

/** The deployment being followed. */
export type Followed = Pick<DeploymentSummary, 'id' | 'instance' | 'expiresAt'>;

/** The newest pending deployment of `instance` other than `id`, or null. */
export async function newerOf(api: Api, followed: Followed): Promise<DeploymentSummary | null> {
  const { deployments } = await api.deployments('pending');
  const candidates = deployments
    .filter((d) => d.instance === followed.instance && d.id !== followed.id)
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  return candidates[0] ?? null;
}

/** What became of `followed` now: null while it is pending. */
export async function closedNow(api: Api, followed: Followed): Promise<Closed | null> {
  const now = await api.deployment(followed.id);
  if (now.status === 'pending') return null;
  return { status: now.status, newer: await newerOf(api, followed).catch(() => null) };
}

/** A title and a sentence for a deployment that no longer waits. */
export function closedText(closed: Closed, instance: string): { title: string; text: string } {
  switch (closed.status) {
    case 'superseded':
      return {
        title: 'Replaced by a newer deployment',
        text:
          closed.newer !== null
            ? `${instance} has a newer deployment waiting: ${closed.newer.changeCount} ${closed.newer.changeCount === 1 ? 'change' : 'changes'} by ${closed.newer.source.user}. Review that one instead.`
            : `A newer deployment of ${instance} replaced this one, and it is not waiting any more.`,
      };
    case 'expired':
      return {
        title: 'This deployment expired',
        text: `Nobody decided it in time, so nothing changed on ${instance}. Deploying again proposes it anew.`,
      };
    case 'rejected':
      return {
        title: 'Rejected on another device',
        text: `Someone rejected it already. Nothing changes on ${instance}.`,
      };
    case 'applied':
      return {
        title: 'Decided on another device',
        text: `It was approved, and ${instance} applied it.`,
      };
    default:
      return {
        title: 'Decided on another device',
        text: `It was approved already (now ${closed.status}). There is nothing left to decide.`,
      };
  }
}

/** Watches one deployment while it is reviewed; `onClosed` is called once, when it stops waiting. */
export class DeploymentFollower {
  readonly #api: Api;
  readonly #followed: Followed;
  readonly #onClosed: (closed: Closed) => void;
  readonly #pollMs: number;
  #timers: Array<ReturnType<typeof setTimeout>> = [];
  #done = false;
  #checking: Promise<Closed | null> | null = null;

  constructor(
    api: Api,
    followed: Followed,
    onClosed: (closed: Closed) => void,
    options: { pollMs?: number } = {},
  ) {
    this.#api = api;
    this.#followed = followed;
    this.#onClosed = onClosed;
    this.#pollMs = options.pollMs ?? 20_000;
  }

  /** Starts listening: pushes, the expiry, a poll, and the app coming back to the screen. */
  start(): void {
    navigator.serviceWorker?.addEventListener('message', this.#onMessage);
    document.addEventListener('visibilitychange', this.#onVisible);
    this.#timers.push(setInterval(() => void this.check(), this.#pollMs));
    const untilExpiry = Date.parse(this.#followed.expiresAt) - Date.now();
    if (Number.isFinite(untilExpiry) && untilExpiry < 2 ** 31 - 1) {
      this.#timers.push(setTimeout(() => void this.check(), Math.max(0, untilExpiry) + 1000));
    }
  }

  /** Stops listening. */
  stop(): void {
    this.#done = true;
    navigator.serviceWorker?.removeEventListener('message', this.#onMessage);
    document.removeEventListener('visibilitychange', this.#onVisible);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
  }

  /** Asks the server now; reports (once) when the deployment no longer waits. */
  check(): Promise<Closed | null> {
    this.#checking ??= closedNow(this.#api, this.#followed)
      .catch(() => null) // offline or refused: the next trigger asks again
      .then((closed) => {
        if (closed !== null && !this.#done) {
          this.stop();
          this.#onClosed(closed);
        }
        return closed;
      })
      .finally(() => {
        this.#checking = null;
      });
    return this.#checking;
  }

  #onMessage = (event: MessageEvent): void => {
    const data = event.data as { type?: unknown; payload?: PushPayload } | null;
    const p = data?.type === 'push' ? data.payload : undefined;
    if (p === undefined) return;
    const mine = p.id === this.#followed.id;
    const newer = p.kind === 'deployment' && p.instance === this.#followed.instance && !mine;
    if ((p.kind === 'decided' && mine) || newer) void this.check();
  };

  #onVisible = (): void => {
    if (document.visibilityState === 'visible') void this.check();
  };
}
