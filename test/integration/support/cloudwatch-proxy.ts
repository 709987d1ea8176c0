// An HTTP proxy on 127.0.0.1 in front of the CloudWatch Logs emulator (moto) that counts the calls
// the forwarder makes — the emulator neither counts nor throttles — and can rewrite GetLogEvents
// answers of chosen streams. Every request is forwarded to moto, except `GET /__proxy/calls`,
// which answers the calls recorded so far as JSON (for a proxy in a process of its own,
// cloudwatch-proxy-main.ts); the AWS SDK speaks the JSON protocol to moto: `POST /` with
// `x-amz-target: Logs_20140328.<Operation>` and a JSON body.
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

import { callsPerStream, type TimeRange } from './call-rate.js';

/** The reserved path answering the recorded calls; never forwarded, never recorded. */
export const CALLS_PATH = '/__proxy/calls';

export interface ProxyCall {
  /** `GetLogEvents`, `DescribeLogStreams`, ... */
  readonly operation: string;
  /** Undefined until the request body has arrived (and for bodies without one). */
  readonly logGroup: string | undefined;
  readonly logStream: string | undefined;
  /**
   * Epoch ms (fractional) at which the server saw the request (its 'request' event, headers
   * parsed), from the monotonic clock: a body arriving later does not move it.
   */
  readonly at: number;
}

/** Chooses the streams whose end-of-stream pages are rewritten (see `rewriteEmptyPages`). */
export type StreamPredicate = (logGroup: string, logStream: string) => boolean;

export interface CloudWatchProxy {
  /** Point the SDK here (AWS_ENDPOINT_URL). */
  readonly url: string;
  /** Calls of one operation so far, in arrival order, optionally filtered. */
  calls(operation: string, filter?: (call: ProxyCall) => boolean): ProxyCall[];
  /** Calls of `operation` per stream (key `<group> <stream>`) that arrived inside `range`. */
  callsPerStream(operation: string, range?: TimeRange): Map<string, number>;
  /**
   * SHIM, not emulation: moto 5.2.1 answers the end of a stream with an empty page whose
   * `nextForwardToken` equals the token sent. AWS instead hands out a NEW token on every such
   * page for streams whose events expired (github.com/boto/boto3/issues/4591); moto never does. For the streams
   * chosen here the proxy replaces that token with a fresh unique one each time and, when the
   * client sends a fake token back, forwards the real one to moto. Undefined: no rewriting.
   */
  rewriteEmptyPages: StreamPredicate | undefined;
  /** Empty pages whose token was replaced so far. */
  readonly rewritten: number;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'Logs_20140328.';

interface RequestBody {
  logGroupName?: unknown;
  logStreamName?: unknown;
  nextToken?: unknown;
}

function parseJson(buffer: Buffer): unknown {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    // Not JSON (or empty): forwarded unchanged, counted without group or stream.
    return undefined;
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

type RecordedCall = { -readonly [K in keyof ProxyCall]: ProxyCall[K] };

export async function startCloudWatchProxy(target: string): Promise<CloudWatchProxy> {
  const upstream = new URL(target);
  const recorded: RecordedCall[] = [];
  const state: { predicate: StreamPredicate | undefined; rewritten: number } = {
    predicate: undefined,
    rewritten: 0,
  };
  // fake token handed to the client → the real moto token it stands for.
  const realToken = new Map<string, string>();
  let fakeCounter = 0;

  function forward(
    headers: IncomingHttpHeaders,
    method: string,
    path: string,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method,
          path,
          // Plain bodies from moto, so a page can be read and rewritten.
          headers: {
            ...headers,
            host: upstream.host,
            'content-length': String(body.length),
            'accept-encoding': 'identity',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }

  // This callback IS the server's 'request' event: the earliest point a request is seen, so the
  // call is recorded (and timed) here, in arrival order, and completed once its body is in.
  const server: Server = createServer((req, res) => {
    const at = performance.timeOrigin + performance.now();
    if (req.method === 'GET' && req.url === CALLS_PATH) {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(recorded));
      return;
    }
    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : 'unknown';
    const call: RecordedCall = { operation, logGroup: undefined, logStream: undefined, at };
    recorded.push(call);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const parsed = parseJson(body) as RequestBody | undefined;
      const logGroup = text(parsed?.logGroupName);
      const logStream = text(parsed?.logStreamName);
      call.logGroup = logGroup;
      call.logStream = logStream;

      const shimmed =
        operation === 'GetLogEvents' &&
        parsed !== undefined &&
        logGroup !== undefined &&
        logStream !== undefined &&
        state.predicate?.(logGroup, logStream) === true;
      let sentToMoto: string | undefined;
      if (shimmed) {
        const sent = text(parsed.nextToken);
        sentToMoto = sent === undefined ? undefined : (realToken.get(sent) ?? sent);
        if (sent !== undefined && sentToMoto !== sent) {
          body = Buffer.from(JSON.stringify({ ...parsed, nextToken: sentToMoto }));
        }
      }
      forward(req.headers, req.method ?? 'POST', req.url ?? '/', body).then(
        (answer) => {
          let payload = answer.body;
          if (shimmed && sentToMoto !== undefined && answer.status === 200) {
            const page = parseJson(payload) as
              { events?: unknown[]; nextForwardToken?: unknown } | undefined;
            if (
              page !== undefined &&
              (page.events?.length ?? 0) === 0 &&
              page.nextForwardToken === sentToMoto
            ) {
              fakeCounter += 1;
              // Looks like a moto token (f/<digits>) but can never collide with one.
              const fake = `f/9${String(fakeCounter).padStart(20, '0')}${Date.now()}`;
              realToken.set(fake, sentToMoto);
              state.rewritten += 1;
              payload = Buffer.from(JSON.stringify({ ...page, nextForwardToken: fake }));
            }
          }
          const headers = { ...answer.headers, 'content-length': String(payload.length) };
          delete headers['transfer-encoding'];
          res.writeHead(answer.status, headers);
          res.end(payload);
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls: (operation, filter) =>
      recorded.filter((c) => c.operation === operation && (filter?.(c) ?? true)),
    callsPerStream: (operation, range) => callsPerStream(recorded, operation, range),
    get rewriteEmptyPages() {
      return state.predicate;
    },
    set rewriteEmptyPages(next: StreamPredicate | undefined) {
      state.predicate = next;
    },
    get rewritten() {
      return state.rewritten;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
