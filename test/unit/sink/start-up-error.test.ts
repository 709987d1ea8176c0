import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import kafkajs from 'kafkajs';

import { classifyStartUpError, startUpError } from '../../../src/sink/start-up-error.js';
import { ForwarderError } from '../../../src/util/errors.js';

const { KafkaJSSASLAuthenticationError } = kafkajs;

const code = (name: string, message: string) => Object.assign(new Error(message), { code: name });

describe('start-up errors', () => {
  it('tells certificate problems as TLS', () => {
    for (const c of [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'CERT_HAS_EXPIRED',
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ]) {
      assert.equal(classifyStartUpError(code(c, 'x')), 'tls', c);
    }
  });

  it('tells a SASL refusal as authentication', () => {
    const error = new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)(
      'SASL SCRAM SHA512 authentication failed',
    );
    assert.equal(classifyStartUpError(error), 'auth');
    assert.match(
      startUpError({ sink: 'kafka', step: 'connecting', endpoint: 'b:9096' }, error).message,
      /KAFKA_SASL_/,
    );
  });

  it('keeps a forwarder error (the missing topic) and prefixes the sink', () => {
    const error = startUpError(
      { sink: 'kafka', step: 'checking topic t', endpoint: 'b:9092' },
      new ForwarderError('FWD_ERR_SINK', 'Kafka topic "t" does not exist: create it'),
    );
    assert.equal(error.message, 'kafka: Kafka topic "t" does not exist: create it');
  });

  it('never tells a bare JavaScript error without the sink, step and endpoint', () => {
    const error = startUpError(
      { sink: 'opensearch', step: 'reading index template p-template', endpoint: 'http://h:9200' },
      new TypeError("Cannot read properties of undefined (reading '0')"),
    );
    assert.match(
      error.message,
      /^opensearch start-up failed while reading index template p-template \(http:\/\/h:9200\): .*Fix: /,
    );
  });
});
