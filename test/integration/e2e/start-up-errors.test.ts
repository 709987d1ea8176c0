/**
 * `run` against sinks that cannot start: each failure names the sink, the step and the fix, and
 * the process exits 1 at once. Every endpoint is real: the stack's OpenSearch and Kafka (spoken
 * to in the wrong protocol or through a gate that refuses credentials), a port nothing listens
 * on, and an HTTP server that is neither.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePort, startForwarder } from '../support/forwarder-process.js';
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

async function runWith(sinks: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'start-up-'));
  const suffix = uniqueSuffix();
  const forwarder = startForwarder({
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
  it('OpenSearch: connection refused', async () => {
    const port = await freePort();
    const result = await runWith({ OPENSEARCH_URL: `http://127.0.0.1:${port}` });
    assertTold(
      result,
      new RegExp(
        `^cloudhsm-audit-forwarder: opensearch start-up failed while reading index template start-up-[^ ]+-template \\(http://127\\.0\\.0\\.1:${port}\\)`,
      ),
      /nothing accepts connections there/,
      /opensearch\.url \(OPENSEARCH_URL\)/,
    );
  });

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

  it('Kafka: connection refused', async () => {
    const port = await freePort();
    const result = await runWith({ KAFKA_BROKERS: `127.0.0.1:${port}` });
    assertTold(
      result,
      new RegExp(
        `^cloudhsm-audit-forwarder: kafka start-up failed while checking topic start-up-[^ ]+ \\(127\\.0\\.0\\.1:${port}\\)`,
      ),
      /nothing accepts connections there/,
      /kafka\.brokers \(KAFKA_BROKERS\)/,
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
