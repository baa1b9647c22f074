/**
 * The local push receiver (`test/helpers/push-receiver.ts`) in a process of its own, for the rows
 * that time the server's path to a push: a real push service runs on another machine, so the
 * receiver's VAPID check and RFC 8291 decryption must not take turns of the event loop the
 * measured deploy runs on (in the same process they fell between the push and the plugin's 423).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PushSubscriptionJson } from '../protocol/index.js';
import { startPushReceiver } from '../test/helpers/push-receiver.js';

/** The receiver in its process, asked over IPC. */
export type RemoteReceiver = {
  origin: string;
  createPushSubscription(): Promise<PushSubscriptionJson>;
  /** Resolves once at least `count` messages were delivered. */
  waitForMessages(count: number, options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
};

type Ask = { op: 'subscribe' } | { op: 'wait'; count: number; timeoutMs: number } | { op: 'close' };
type Request = Ask & { id: number };
type Reply = { id: number; value?: unknown; error?: string };

/** Starts the receiver in a child process (the same Node.js and loader as this one). */
export async function startReceiverProcess(): Promise<RemoteReceiver> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--receiver'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const origin = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { origin: string }).origin));
    child.once('exit', (code) => reject(new Error(`the push receiver exited ${code}`)));
  });
  // The server's push policy exempts the receiver's origin (DESIGN 5.6), as the helper does.
  process.env.COUNTERSIGN_TEST_PUSH_ORIGIN = origin;
  let next = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  child.on('message', (m) => {
    const reply = m as Reply;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.error !== undefined) waiter.reject(new Error(reply.error));
    else waiter.resolve(reply.value);
  });
  const ask = (request: Ask): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.send({ ...request, id });
    });
  return {
    origin,
    createPushSubscription: () => ask({ op: 'subscribe' }) as Promise<PushSubscriptionJson>,
    waitForMessages: async (count, options = {}) => {
      await ask({ op: 'wait', count, timeoutMs: options.timeoutMs ?? 10_000 });
    },
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      await ask({ op: 'close' }).catch(() => undefined);
      await exited;
    },
  };
}

if (process.argv.includes('--receiver') && process.send) {
  const receiver = await startPushReceiver();
  const send = (m: unknown): void => void process.send!(m);
  process.on('message', (m) => {
    const request = m as Request;
    const answer = async (): Promise<unknown> => {
      if (request.op === 'subscribe') return receiver.createPushSubscription();
      if (request.op === 'wait') {
        return (await receiver.waitForMessages(request.count, { timeoutMs: request.timeoutMs }))
          .length;
      }
      await receiver.close();
      return null;
    };
    answer().then(
      (value) => {
        send({ id: request.id, value });
        if (request.op === 'close') process.disconnect();
      },
      (err: unknown) => send({ id: request.id, error: (err as Error).message }),
    );
  });
  send({ origin: receiver.origin });
}
