// An HTTP proxy on 127.0.0.1 in front of a real server that can refuse chosen requests with a
// status of the test's choosing (413 from a size limit, 403 from a permission problem), hold
// chosen ones back for a while (a node slower than the client's timeout), and forwards the rest
// unchanged. The sink under test talks real HTTP to a real node.
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Returns a status to refuse the request with, or undefined to forward it. */
export type GateRule = (req: IncomingMessage, body: Buffer) => number | undefined;

/** How long to hold a request before forwarding it (ms; 0 or undefined: at once). */
export type GateDelay = (req: IncomingMessage, body: Buffer) => number | undefined;

export interface HttpGate {
  readonly url: string;
  /** Requests refused so far, by status. */
  readonly refused: Map<number, number>;
  rule: GateRule;
  delay: GateDelay;
  close(): Promise<void>;
}

export async function startHttpGate(target: string, rule: GateRule): Promise<HttpGate> {
  const upstream = new URL(target);
  const refused = new Map<number, number>();
  const gate: { rule: GateRule; delay: GateDelay } = { rule, delay: () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const status = gate.rule(req, body);
      if (status !== undefined) {
        refused.set(status, (refused.get(status) ?? 0) + 1);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { type: 'gate_refusal', reason: `refused by the test gate with ${status}` },
            status,
          }),
        );
        return;
      }
      const held = gate.delay(req, body) ?? 0;
      const forward = (): void => {
        const upstreamReq = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: upstream.host },
          },
          (upstreamRes) => {
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            upstreamRes.pipe(res);
          },
        );
        upstreamReq.on('error', () => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
        upstreamReq.end(body);
      };
      if (held > 0) setTimeout(forward, held);
      else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refused,
    get rule() {
      return gate.rule;
    },
    set rule(next: GateRule) {
      gate.rule = next;
    },
    get delay() {
      return gate.delay;
    },
    set delay(next: GateDelay) {
      gate.delay = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
