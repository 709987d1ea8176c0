/**
 * Metrics and health endpoints on a plain node:http server (README "Operating it"):
 * - `GET /metrics`: Prometheus text from the product registry;
 * - `GET /healthz`: 200 `ok` while the process lives;
 * - `GET /readyz`: 200 when every readiness check passes, else 503; JSON body listing the checks.
 * Only GET and HEAD (405 otherwise); 404 for other paths.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness.js';

export interface HttpServerLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

export interface StartHttpServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests); the bound port is returned. */
  readonly port: number;
  readonly registry: Registry;
  readonly readiness: Readiness;
  readonly logger?: HttpServerLogger;
}

export interface HttpServerHandle {
  readonly port: number;
  /** `http://host:port` (loopback when bound to all interfaces). */
  readonly url: string;
  close(): Promise<void>;
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** Starts listening; resolves once the port is bound. */
export function startHttpServer(options: StartHttpServerOptions): Promise<HttpServerHandle> {
  const { registry, readiness, logger } = options;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, TEXT, 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/metrics': {
        const body = await registry.metrics();
        send(req, res, 200, registry.contentType, body);
        return;
      }
      case '/healthz':
        send(req, res, 200, TEXT, 'ok\n');
        return;
      case '/readyz': {
        const report = readiness.evaluate();
        const failing = report.checks.filter((check) => !check.ok);
        const body = JSON.stringify({
          status: report.ready ? 'ready' : 'not ready',
          failing,
          checks: report.checks,
        });
        send(req, res, report.ready ? 200 : 503, JSON_TYPE, `${body}\n`);
        return;
      }
      default:
        send(req, res, 404, TEXT, 'not found\n');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger?.error({ err: error, path: req.url }, 'http request failed');
      if (!res.headersSent) send(req, res, 500, TEXT, 'internal error\n');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const host =
        options.host === '0.0.0.0' || options.host === '::' || options.host === ''
          ? '127.0.0.1'
          : options.host.includes(':')
            ? `[${options.host}]`
            : options.host;
      resolve({
        port: address.port,
        url: `http://${host}:${address.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error === undefined ? done() : fail(error)));
            server.closeAllConnections();
          }),
      });
    });
  });
}

export { Readiness, SinkHealth } from './readiness.js';
export type { CheckResult, ReadinessReport, SinkHealthOptions } from './readiness.js';
