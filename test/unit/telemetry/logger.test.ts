import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';

import { childLogger, createLogger, REDACTED } from '../../../src/telemetry/logger.js';
import type { CreateLoggerOptions } from '../../../src/telemetry/logger.js';

/** A logger writing into memory; `lines()` parses what was written. */
function memoryLogger(options: Partial<CreateLoggerOptions> = {}) {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const logger = createLogger({ level: 'info', destination, version: '9.9.9', ...options });
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes JSON lines with ISO time, level labels, service and version', () => {
    const { logger, lines } = memoryLogger();
    logger.info({ batch: 3 }, 'delivered');
    const [line] = lines();
    assert.ok(line !== undefined);
    assert.equal(line.level, 'info');
    assert.equal(line.msg, 'delivered');
    assert.equal(line.service, 'cloudhsm-audit-forwarder');
    assert.equal(line.version, '9.9.9');
    assert.equal(line.batch, 3);
    assert.match(String(line.time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('honours the level', () => {
    const { logger, lines } = memoryLogger({ level: 'warn' });
    logger.info('hidden');
    logger.debug('hidden');
    logger.warn('shown');
    assert.deepEqual(
      lines().map((line) => line.msg),
      ['shown'],
    );
  });

  it('redacts passwords, SASL settings, authorization headers, AWS credentials and tokens', () => {
    const { logger, text, lines } = memoryLogger();
    const known = 'S3cr3t-known';
    logger.info(
      {
        password: `${known}-1`,
        kafka: { sasl: { mechanism: 'plain', username: 'u', password: `${known}-2` } },
        opensearch: { password: `${known}-3`, url: 'https://search' },
        headers: { authorization: `Basic ${known}-4`, 'x-amz-security-token': `${known}-5` },
        credentials: { accessKeyId: 'AKIA', secretAccessKey: `${known}-6` },
        aws: { creds: { sessionToken: `${known}-7` } },
        checkpoint: { logStream: 'hsm-1', nextForwardToken: `f/${known}-8` },
        config: { kafka: { sasl: { password: `${known}-9` } } },
      },
      'secrets everywhere',
    );
    assert.ok(!text().includes(known), text());
    const [line] = lines();
    assert.equal(line?.password, REDACTED);
    assert.deepEqual((line?.checkpoint as Record<string, unknown>).nextForwardToken, REDACTED);
    assert.equal((line?.checkpoint as Record<string, unknown>).logStream, 'hsm-1');
    assert.equal((line?.opensearch as Record<string, unknown>).url, 'https://search');
  });

  it('serializes errors given as { err }', () => {
    const { logger, lines } = memoryLogger();
    const error = Object.assign(new Error('broker down'), { code: 'ECONNREFUSED' });
    logger.error({ err: error }, 'send failed');
    const err = lines()[0]?.err as Record<string, unknown>;
    assert.equal(err.message, 'broker down');
    assert.equal(err.type, 'Error');
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(typeof err.stack, 'string');
  });

  it('falls back to JSON with a warning when pretty output is not possible', () => {
    const { lines } = memoryLogger({ pretty: true, isTty: false });
    const [warning] = lines();
    assert.equal(warning?.level, 'warn');
    assert.match(String(warning?.msg), /pretty/);
  });
});

describe('childLogger', () => {
  it('adds the component and context, never overriding reserved fields', () => {
    const { logger, lines } = memoryLogger();
    const child = childLogger(logger, 'source.poller', {
      logGroup: '/aws/cloudhsm/cluster-1',
      logStream: 'hsm-abc',
      level: 'fake',
      service: 'fake',
    });
    child.info({ password: 'S3cr3t-known' }, 'page read');
    const [line] = lines();
    assert.equal(line?.component, 'source.poller');
    assert.equal(line?.logGroup, '/aws/cloudhsm/cluster-1');
    assert.equal(line?.logStream, 'hsm-abc');
    assert.equal(line?.level, 'info');
    assert.equal(line?.service, 'cloudhsm-audit-forwarder');
    assert.equal(line?.password, REDACTED);
  });
});

describe('log lines an operator can keep', () => {
  it('never writes the request an error carries (an OpenSearch error holds the _bulk body)', () => {
    const { logger, text, lines } = memoryLogger();
    const body = `{"create":{}}\n{"user":{"name":"crypto-officer-alice"},"key_handle":"0x000c0ffe"}\n`;
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9250'), {
      name: 'ConnectionError',
      meta: { body: null, meta: { request: { params: { body } } }, statusCode: 503 },
      code: 'ECONNREFUSED',
    });
    logger.warn({ err: error, events: 1000 }, 'bulk failed; retrying');
    assert.doesNotMatch(text(), /crypto-officer-alice|0x000c0ffe|request/);
    const err = lines()[0]?.err as Record<string, unknown>;
    assert.equal(err.type, 'ConnectionError');
    assert.equal(err.message, 'connect ECONNREFUSED 127.0.0.1:9250');
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.status, 503);
  });

  it('cuts field values a server quotes in its reason, and bounds the message', () => {
    const { logger, lines } = memoryLogger();
    const quoted = new Error(
      "mapper_parsing_exception: failed to parse field [user.name]. Preview of field's value: 'alice'" +
        'x'.repeat(2000),
    );
    logger.error({ err: quoted }, 'refused');
    const message = (lines()[0]?.err as { message: string }).message;
    assert.doesNotMatch(message, /alice/);
    assert.ok(message.length < 400, `message of ${message.length} chars`);
  });

  it('writes a repeated warning once per window, then with the count it left out', () => {
    let now = 0;
    const { logger, lines } = memoryLogger({ repeatWindowMs: 60_000, now: () => now });
    const sink = childLogger(logger, 'sink.opensearch');
    const error = new Error('connect ECONNREFUSED 127.0.0.1:9250');
    for (let attempt = 0; attempt < 50; attempt += 1) {
      now += 1000; // 50 retries in 50 s
      sink.warn({ err: error, attempt, events: 500 }, 'bulk failed; retrying');
    }
    sink.warn({ index: 'a' }, 'another kind of line');
    now += 20_000;
    sink.warn({ err: error, attempt: 51, events: 500 }, 'bulk failed; retrying');
    const written = lines();
    assert.deepEqual(
      written.map((line) => [line.msg, line.suppressed]),
      [
        ['bulk failed; retrying', undefined],
        ['another kind of line', undefined],
        ['bulk failed; retrying', 49],
      ],
    );
  });

  it('keeps lines about different streams or indices apart, and never limits info lines', () => {
    const { logger, lines } = memoryLogger({ now: () => 0 });
    logger.warn({ logStream: 'hsm-a' }, 'GetLogEvents failed; backing off');
    logger.warn({ logStream: 'hsm-b' }, 'GetLogEvents failed; backing off');
    logger.warn({ logStream: 'hsm-a' }, 'GetLogEvents failed; backing off');
    logger.info({ batch: 1 }, 'delivered');
    logger.info({ batch: 2 }, 'delivered');
    assert.equal(lines().length, 4);
  });
});
