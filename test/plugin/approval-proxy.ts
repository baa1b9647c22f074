/**
 * A pass-through HTTP proxy between the plugin and a real approval server, for the refusal tests:
 * it can hold back what the plugin learns about decisions (the event stream and deployment polls)
 * until `resume()`, and rewrite the deployments it reports, as a compromised or slow server would.
 * Everything else is forwarded unchanged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type View = Record<string, unknown> & { id: string };

/** The proxy. */
export type ApprovalProxy = {
  url: string;
  /** Drops every open event stream (the plugin must reconnect or poll). */
  cutStreams(): void;
  /** Holds back events and deployment polls until `resume()`. */
  pause(): void;
  resume(): void;
  /** Rewrites each deployment the plugin is told about (event data and `GET /deployments/:id`). */
  rewrite: ((view: View) => View) | null;
  /**
   * Rewrites the server's answer to a proposal (`POST /api/v1/deployments`), as a compromised server
   * would: given the status and parsed body, returns the status and body to send instead.
   */
  rewriteProposal:
    | ((answer: { status: number; body: unknown }) => {
        status: number;
        body: unknown;
      })
    | null;
  /** Cuts the event stream and answers 503 to new ones (polling must take over), until set false. */
  blockEvents: boolean;
  /** Answers 503 to every outcome report (`POST …/outcome`), as a server that is away, until set false. */
  failOutcomes: boolean;
  /** How many outcome reports reached the proxy. */
  outcomeRequests: number;
  close(): Promise<void>;
};

/** Starts a proxy in front of `upstream` on a free port. */
export async function startApprovalProxy(upstream: string): Promise<ApprovalProxy> {
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const streams = new Set<http.ServerResponse>();
  const proxy: ApprovalProxy = {
    url: '',
    rewrite: null,
    rewriteProposal: null,
    blockEvents: false,
    failOutcomes: false,
    outcomeRequests: 0,
    cutStreams() {
      for (const res of streams) res.destroy();
    },
    pause() {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    resume() {
      open();
    },
    async close() {
      open();
      for (const res of streams) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  const apply = (view: View): View => (proxy.rewrite ? proxy.rewrite(view) : view);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k))
            headers[k] = v;
        }
        const path = req.url ?? '/';
        const isEvents = path.startsWith('/api/v1/instance/events');
        const isDeployment = req.method === 'GET' && /^\/api\/v1\/deployments\/[^/?]+$/.test(path);
        if (isDeployment) await gate;
        if (isEvents && proxy.blockEvents) {
          res.writeHead(503).end();
          return;
        }
        if (req.method === 'POST' && /^\/api\/v1\/deployments\/[^/]+\/outcome$/.test(path)) {
          proxy.outcomeRequests++;
          if (proxy.failOutcomes) {
            res.writeHead(503).end();
            return;
          }
        }
        const controller = new AbortController();
        res.on('close', () => controller.abort());
        let upstreamRes: Response;
        try {
          upstreamRes = await fetch(`${upstream}${path}`, {
            method: req.method ?? 'GET',
            headers,
            ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
            signal: controller.signal,
          });
        } catch {
          res.writeHead(502).end();
          return;
        }
        const outHeaders: Record<string, string> = {};
        upstreamRes.headers.forEach((v, k) => {
          if (
            !['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)
          )
            outHeaders[k] = v;
        });
        if (isEvents && upstreamRes.ok && upstreamRes.body) {
          streams.add(res);
          res.writeHead(upstreamRes.status, outHeaders);
          res.flushHeaders();
          const reader = upstreamRes.body.getReader();
          const decoder = new TextDecoder();
          let buffer = '';
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              buffer += decoder.decode(value, { stream: true });
              let end: number;
              while ((end = buffer.indexOf('\n\n')) >= 0) {
                const event = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                const data = event
                  .split('\n')
                  .filter((l) => l.startsWith('data:'))
                  .map((l) => l.replace(/^data: ?/, ''))
                  .join('\n');
                if (data === '') {
                  res.write(`${event}\n\n`);
                  continue;
                }
                await gate;
                res.write(`data: ${JSON.stringify(apply(JSON.parse(data) as View))}\n\n`);
              }
            }
          } catch {
            // the plugin or the server closed the stream
          } finally {
            streams.delete(res);
            res.end();
          }
          return;
        }
        const body = Buffer.from(await upstreamRes.arrayBuffer());
        if (req.method === 'POST' && path === '/api/v1/deployments' && proxy.rewriteProposal) {
          const answer = proxy.rewriteProposal({
            status: upstreamRes.status,
            body: JSON.parse(body.toString('utf8')) as unknown,
          });
          res
            .writeHead(answer.status, { 'content-type': 'application/json' })
            .end(JSON.stringify(answer.body));
          return;
        }
        if (isDeployment && upstreamRes.ok) {
          const rewritten = JSON.stringify(apply(JSON.parse(body.toString('utf8')) as View));
          res.writeHead(upstreamRes.status, outHeaders).end(rewritten);
          return;
        }
        res.writeHead(upstreamRes.status, outHeaders).end(body);
      })();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
