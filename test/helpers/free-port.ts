/** A free TCP port, for a child process that must be told its port up front (port 0 cannot be). */
import { createServer } from 'node:net';

/** Ports this process has handed out: the system may offer a just-released port again. */
const handedOut = new Set<number>();

function bindAndRelease(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * A port on 127.0.0.1 that was free a moment ago (bound to port 0, read, released), and never one
 * this process was given before, so two calls in a row name two different ports.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await bindAndRelease();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
