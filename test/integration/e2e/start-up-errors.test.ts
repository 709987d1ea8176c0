/**
 * `run` against sinks that cannot start: each failure names the sink, the step and the fix, and
 * the process exits 1 at once; a sink that cannot be reached (yet) is waited for instead, with
 * `/readyz` and the log saying why (it exited 1 at once: a crash loop under Kubernetes). Every endpoint is real: the stack's OpenSearch and Kafka (spoken
 * to in the wrong protocol or through a gate that refuses credentials), a port nothing listens
 * on, and an HTTP server that is neither.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  freePort,
  sleep,
  startForwarder,
  untilRunning,
  waitFor,
} from '../support/forwarder-process.js';
import type { ForwarderProcess } from '../support/forwarder-process.js';
import { startHttpGate } from '../support/http-gate.js';
import type { HttpGate } from '../support/http-gate.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();

/** Answers every request with 200 and a page that is not OpenSearch's (nor Kafka's). */
let notAService: Server;
let notAServicePort = 0;
let refusingGate: HttpGate;

before(async () => {
  notAService = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>It works!</body></html>');
  });
  await new Promise<void>((resolve) => notAService.listen(0, '127.0.0.1', resolve));
  notAServicePort = (notAService.address() as AddressInfo).port;
  refusingGate = await startHttpGate(env.opensearchUrl, () => 401);
});

after(async () => {
  await refusingGate.close();
  await new Promise<void>((resolve) => notAService.close(() => resolve()));
});

async function startWith(sinks: Record<string, string>): Promise<ForwarderProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'start-up-'));
  const suffix = uniqueSuffix();
  return startForwarder({
    LOG_GROUP_PREFIXES: `/aws/cloudhsm/start-up-${suffix}/`,
    CHECKPOINT_DIR: join(dir, 'checkpoints'),
    DEAD_LETTER_FILE: join(dir, 'dead-letter.ndjson'),
    KAFKA_TOPIC: `start-up-${suffix}`,
    DEAD_LETTER_TOPIC: `start-up-${suffix}-dlq`,
    OPENSEARCH_INDEX_PREFIX: `start-up-${suffix}`,
    KAFKA_BROKERS: '',
    OPENSEARCH_URL: '',
    HTTP_PORT: await freePort(),
    ENRICHMENT_ENABLED: 'false',
    ...sinks,
  });
}

async function runWith(sinks: Record<string, string>) {
  const forwarder = await startWith(sinks);
  const started = Date.now();
  const { code } = await forwarder.exited;
  return { code, stderr: forwarder.stderr(), ms: Date.now() - started };
}

function assertTold(
  result: { code: number | null; stderr: string },
  sink: RegExp,
  cause: RegExp,
  fix: RegExp,
): void {
  assert.equal(result.code, 1, result.stderr);
  const line = result.stderr.trim().split('\n').at(-1) ?? '';
  assert.match(line, sink, line);
  assert.match(line, cause, line);
  assert.match(line, fix, line);
  assert.doesNotMatch(line, /Cannot read properties|undefined \(reading/, line);
}

describe('start-up errors name the sink, the step and the fix', { timeout: 300_000 }, () => {
  it('OpenSearch: https to a node that speaks plain HTTP (TLS)', async () => {
    const result = await runWith({ OPENSEARCH_URL: env.opensearchUrl.replace('http:', 'https:') });
    assertTold(
      result,
      /opensearch start-up failed while reading/,
      /TLS handshake failed/,
      /opensearch\.tls\.caFile/,
    );
  });

  it('OpenSearch: credentials refused (401)', async () => {
    const result = await runWith({ OPENSEARCH_URL: refusingGate.url });
    assertTold(
      result,
      /opensearch start-up failed/,
      /credentials were refused/,
      /OPENSEARCH_USERNAME/,
    );
  });

  it('OpenSearch: an HTTP server that is not OpenSearch', async () => {
    const result = await runWith({ OPENSEARCH_URL: `http://127.0.0.1:${notAServicePort}` });
    assertTold(
      result,
      /opensearch start-up failed while reading index template/,
      /answers, but not as the REST endpoint of an OpenSearch cluster/,
      /not the Dashboards URL/,
    );
  });

  it('Kafka: TLS to a plaintext listener', async () => {
    const result = await runWith({
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      KAFKA_SSL_ENABLED: 'true',
    });
    assertTold(
      result,
      /kafka start-up failed while checking topic/,
      /TLS handshake failed/,
      /KAFKA_SSL_ENABLED/,
    );
  });

  it('Kafka: SASL refused by the broker', async () => {
    const result = await runWith({
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'forwarder',
      KAFKA_SASL_PASSWORD: 'not-the-password',
      KAFKA_SASL_ALLOW_WITHOUT_TLS: 'true', // the local broker has no TLS listener
    });
    assertTold(
      result,
      /kafka start-up failed while checking topic/,
      /credentials were refused/,
      /KAFKA_SASL_/,
    );
    assert.doesNotMatch(result.stderr, /not-the-password/, 'the password is never printed');
  });

  it('Kafka: an endpoint that is not Kafka', async () => {
    const result = await runWith({ KAFKA_BROKERS: `127.0.0.1:${notAServicePort}` });
    assertTold(
      result,
      /kafka start-up failed while checking topic/,
      /answers, but not as a Kafka listener/,
      /KAFKA_BROKERS/,
    );
  });
});

/** Forwards every TCP connection on `port` to `target` (a sink that comes up late). */
async function tcpForward(port: number, target: URL): Promise<TcpServer> {
  const { hostname, port: targetPort } = target;
  const server = createTcpServer((client) => {
    const upstream = connect(Number(targetPort), hostname);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function readyz(forwarder: ForwarderProcess): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${forwarder.httpPort ?? ''}/readyz`);
  return { status: response.status, body: await response.text() };
}

describe('a sink that cannot be reached at start-up is waited for', { timeout: 300_000 }, () => {
  it('OpenSearch: told by /readyz and the log, and used once it answers', async () => {
    const port = Number(await freePort());
    const forwarder = await startWith({ OPENSEARCH_URL: `http://127.0.0.1:${port}` });
    await untilRunning(forwarder);
    await waitFor(
      '/readyz to name the unreachable sink',
      async () => {
        const { status, body } = await readyz(forwarder);
        return status === 503 && body.includes('start-up:opensearch');
      },
      30_000,
    );
    const { body } = await readyz(forwarder);
    assert.match(body, /opensearch start-up failed while reading index template/);
    assert.match(body, /nothing accepts connections there/);
    assert.match(forwarder.output(), /opensearch cannot be reached at start-up; waiting for it/);
    await sleep(3_000);
    assert.equal(forwarder.child.exitCode, null, 'it waits instead of exiting');

    const proxy = await tcpForward(port, new URL(env.opensearchUrl));
    try {
      await waitFor(
        'the forwarder to start once OpenSearch answers',
        () => Promise.resolve(forwarder.output().includes('forwarder running')),
        60_000,
      );
      assert.doesNotMatch((await readyz(forwarder)).body, /start-up:opensearch/);
      forwarder.child.kill('SIGTERM');
      assert.equal((await forwarder.exited).code, 0, forwarder.output());
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('Kafka: told the same way, and a SIGTERM while waiting stops it at once', async () => {
    const port = await freePort();
    const forwarder = await startWith({ KAFKA_BROKERS: `127.0.0.1:${port}` });
    await untilRunning(forwarder);
    await waitFor(
      '/readyz to name the unreachable sink',
      async () => (await readyz(forwarder)).body.includes('start-up:kafka'),
      60_000,
    );
    const { status, body } = await readyz(forwarder);
    assert.equal(status, 503);
    assert.match(
      body,
      new RegExp(
        `kafka start-up failed while checking topic start-up-[^ ]+ \\(127\\.0\\.0\\.1:${port}\\)`,
      ),
    );
    assert.match(body, /kafka\.brokers \(KAFKA_BROKERS\)/);
    const signalled = Date.now();
    forwarder.child.kill('SIGTERM');
    assert.equal((await forwarder.exited).code, 0, forwarder.output());
    assert.ok(Date.now() - signalled < 10_000, `stopped in ${Date.now() - signalled} ms`);
  });
});
