import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { loadConfig, loadConfigWithSources } from '../../../src/config/load.js';
import type { LoadConfigOptions } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/package-info.js';
import { redactConfig, REDACTED } from '../../../src/config/redact.js';
import { schemaKeys } from '../../../src/config/schema.js';
import { UsageError } from '../../../src/util/errors.js';

const root = packageRoot();
const dir = mkdtempSync(join(tmpdir(), 'fwd-config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** PEM armour around a placeholder body: the configuration checks the armour, TLS the rest. */
const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIBfixture\n-----END CERTIFICATE-----\n';

let fileCounter = 0;
function writeTemp(content: string, name = `file-${++fileCounter}`): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
function writeJson(value: unknown): string {
  return writeTemp(JSON.stringify(value), `config-${++fileCounter}.json`);
}

/** Loads with an isolated env (never the developer's own). */
function load(env: NodeJS.ProcessEnv = {}, options: Omit<LoadConfigOptions, 'env'> = {}) {
  return loadConfig({ env, cwd: dir, ...options });
}

/** Asserts a config error and returns its message. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${String(error)}`);
    assert.equal(error.code, 'FWD_ERR_CONFIG');
    return error.message;
  }
  assert.fail('expected a configuration error');
}

describe('loadConfig: defaults and sources', () => {
  it('validates with schema defaults and config/default.json', () => {
    const { config, files } = loadConfigWithSources({ env: {}, cwd: dir });
    assert.deepEqual(files, [join(root, 'config', 'default.json')]);
    assert.deepEqual(config.source.logGroupPrefixes, ['/aws/cloudhsm/']);
    assert.equal(config.source.startPosition, 'beginning');
    assert.equal(config.checkpoint.dir, './data/checkpoints');
    assert.equal(config.kafka.enabled, false);
    assert.deepEqual(config.kafka.brokers, []);
    assert.equal(config.kafka.topic, 'cloudhsm.audit.ocsf');
    assert.equal(config.opensearch.enabled, false);
    assert.equal(config.opensearch.url, null);
    assert.equal(config.opensearch.indexPrefix, 'cloudhsm-audit-ocsf');
    assert.equal(config.http.port, 9464);
    assert.equal(config.log.level, 'info');
    assert.equal(config.aws.region, null);
    assert.equal(config.kafka.sasl.password, null);
  });

  it('validates with schema defaults alone', () => {
    const config = load({}, { defaultFile: false });
    assert.equal(config.source.pageLimit, 2_500);
    assert.equal(config.pipeline.maxInFlightEvents, 10_000);
    assert.equal(config.pipeline.maxInFlightBytes, 4 * 2 ** 20);
    assert.equal(config.pipeline.maxInFlightBatches, 64);
  });

  it('returns a deeply frozen object', () => {
    const config = load();
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.kafka.sasl));
    assert.ok(Object.isFrozen(config.source.logGroupPrefixes));
  });

  it('applies the documented environment variables', () => {
    const config = load({
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
      LOG_GROUP_PREFIXES: '/aws/cloudhsm/, /custom/hsm/',
      START_POSITION: '2024-05-01T00:00:00Z',
      CHECKPOINT_DIR: '/tmp/cp',
      KAFKA_BROKERS: '127.0.0.1:9092,broker-2.local:9093',
      KAFKA_TOPIC: 'soc.hsm',
      OPENSEARCH_URL: 'http://127.0.0.1:9200',
      OPENSEARCH_INDEX_PREFIX: 'hsm-audit',
      HTTP_PORT: '9555',
      LOG_LEVEL: 'debug',
    });
    assert.equal(config.aws.region, 'eu-west-1');
    assert.equal(config.aws.endpoint, 'http://127.0.0.1:5000');
    assert.deepEqual(config.source.logGroupPrefixes, ['/aws/cloudhsm/', '/custom/hsm/']);
    assert.equal(config.source.startPosition, '2024-05-01T00:00:00Z');
    assert.equal(config.checkpoint.dir, '/tmp/cp');
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092', 'broker-2.local:9093']);
    assert.equal(config.kafka.enabled, true);
    assert.equal(config.kafka.topic, 'soc.hsm');
    assert.equal(config.opensearch.url, 'http://127.0.0.1:9200');
    assert.equal(config.opensearch.enabled, true);
    assert.equal(config.opensearch.indexPrefix, 'hsm-audit');
    assert.equal(config.http.port, 9555);
    assert.equal(config.log.level, 'debug');
  });

  it('treats an empty KAFKA_BROKERS / OPENSEARCH_URL as disabled', () => {
    const config = load({ KAFKA_BROKERS: '', OPENSEARCH_URL: '' });
    assert.equal(config.kafka.enabled, false);
    assert.deepEqual(config.kafka.brokers, []);
    assert.equal(config.opensearch.enabled, false);
  });

  it('ignores empty env strings for numbers, booleans and enumerations', () => {
    const config = load({
      HTTP_PORT: '',
      KAFKA_IDEMPOTENT: ' ',
      LOG_LEVEL: '',
      START_POSITION: '',
    });
    assert.equal(config.http.port, 9464);
    assert.equal(config.kafka.idempotent, true);
    assert.equal(config.log.level, 'info');
    assert.equal(config.source.startPosition, 'beginning');
  });

  it('layers CONFIG_FILE over default.json and env over the file', () => {
    const file = writeJson({ kafka: { topic: 'from-file', clientId: 'file-client' } });
    const config = load({ CONFIG_FILE: file, KAFKA_TOPIC: 'from-env' });
    assert.equal(config.kafka.topic, 'from-env');
    assert.equal(config.kafka.clientId, 'file-client');
  });

  it('resolves a relative CONFIG_FILE against the working directory', () => {
    writeFileSync(join(dir, 'relative.json'), JSON.stringify({ http: { port: 9999 } }));
    assert.equal(load({ CONFIG_FILE: 'relative.json' }).http.port, 9999);
  });

  it('lets an explicit file replace CONFIG_FILE', () => {
    const named = writeJson({ http: { port: 1111 } });
    const explicit = writeJson({ http: { port: 2222 } });
    assert.equal(load({ CONFIG_FILE: named }, { file: explicit }).http.port, 2222);
  });

  it('reads labels from a file object and from k=v,k=v or JSON in env', () => {
    const file = writeJson({ enrichment: { labels: { env: 'prod', team: 'secops' } } });
    assert.deepEqual(load({ CONFIG_FILE: file }).enrichment.labels, {
      env: 'prod',
      team: 'secops',
    });
    assert.deepEqual(load({ LABELS: 'env=dev, owner=sec' }).enrichment.labels, {
      env: 'dev',
      owner: 'sec',
    });
    assert.deepEqual(load({ LABELS: '{"a":"1"}' }).enrichment.labels, { a: '1' });
  });

  // The composition root used to fall back to process.env.AWS_REGION itself (app.ts): the
  // configuration resolves the enrichment clients' region once, from the env it was given.
  it('resolves the enrichment region from aws.region, else us-east-1', () => {
    assert.equal(load({ AWS_REGION: 'eu-west-3' }).enrichment.region, 'eu-west-3');
    assert.equal(load({}).enrichment.region, 'us-east-1');
  });
});

describe('loadConfig: types and values', () => {
  it('names http.port, its env var and the value for HTTP_PORT=abc', () => {
    const message = configError(() => load({ HTTP_PORT: 'abc' }));
    assert.match(message, /http\.port/);
    assert.match(message, /HTTP_PORT/);
    assert.match(message, /"abc"/);
    assert.match(message, /integer from 0 to 65535/);
  });

  it('takes auto or a number for the GetLogEvents rate, auto by default', () => {
    assert.equal(load().source.rateLimits.getLogEvents, 'auto');
    assert.equal(
      load({ RATE_LIMIT_GET_LOG_EVENTS: 'auto' }).source.rateLimits.getLogEvents,
      'auto',
    );
    assert.equal(load({ RATE_LIMIT_GET_LOG_EVENTS: '12.5' }).source.rateLimits.getLogEvents, 12.5);
    assert.equal(load({ RATE_LIMIT_GET_LOG_EVENTS: '' }).source.rateLimits.getLogEvents, 'auto');
    assert.match(
      configError(() => load({ RATE_LIMIT_GET_LOG_EVENTS: 'fast' })),
      /source\.rateLimits\.getLogEvents.*RATE_LIMIT_GET_LOG_EVENTS.*"auto" or a number from 0\.01 to 1000/,
    );
    assert.match(
      configError(() => load({ RATE_LIMIT_GET_LOG_EVENTS: '0' })),
      /source\.rateLimits\.getLogEvents.*"auto" or a number from 0\.01 to 1000/,
    );
  });

  it('rejects out-of-range numbers with the accepted range', () => {
    assert.match(
      configError(() => load({ PAGE_LIMIT: '20000' })),
      /source\.pageLimit.*1 to 10000/,
    );
    assert.match(
      configError(() => load({ HTTP_PORT: '70000' })),
      /http\.port.*70000/,
    );
    assert.match(
      configError(() => load({ HTTP_PORT: '12.5' })),
      /http\.port/,
    );
  });

  it('coerces booleans strictly: "0", "no" and "off" are false', () => {
    for (const word of ['0', 'no', 'off', 'false', 'FALSE']) {
      assert.equal(load({ KAFKA_IDEMPOTENT: word }).kafka.idempotent, false, word);
    }
    for (const word of ['1', 'yes', 'on', 'true', 'True']) {
      assert.equal(load({ KAFKA_CREATE_TOPIC: word }).kafka.createTopic, true, word);
    }
    const message = configError(() => load({ ENRICHMENT_ENABLED: 'maybe' }));
    assert.match(message, /enrichment\.enabled \(env ENRICHMENT_ENABLED\)/);
    assert.match(message, /true\/false, 1\/0, yes\/no/);
  });

  it('lists the accepted values of enumerations', () => {
    const message = configError(() => load({ LOG_LEVEL: 'loud' }));
    assert.match(message, /log\.level/);
    assert.match(message, /fatal, error, warn, info, debug, trace, silent/);
    assert.match(
      configError(() => load({ KAFKA_COMPRESSION: 'zstd' })),
      /none, gzip/,
    );
  });

  it('accepts beginning, end and ISO-8601 start positions only', () => {
    assert.equal(load({ START_POSITION: 'end' }).source.startPosition, 'end');
    assert.equal(
      load({ START_POSITION: '2024-05-01T12:30:00.000+02:00' }).source.startPosition,
      '2024-05-01T12:30:00.000+02:00',
    );
    for (const bad of ['yesterday', '2024-13-45T00:00:00Z', '1714521600']) {
      const message = configError(() => load({ START_POSITION: bad }));
      assert.match(message, /source\.startPosition \(env START_POSITION\)/);
      assert.match(message, /beginning.*end.*ISO-8601/);
    }
  });

  it('rejects malformed brokers, URLs, regions and labels', () => {
    assert.match(
      configError(() => load({ KAFKA_BROKERS: 'nohost' })),
      /kafka\.brokers.*host:port/,
    );
    assert.match(
      configError(() => load({ OPENSEARCH_URL: 'ftp://x' })),
      /opensearch\.url/,
    );
    assert.match(
      configError(() => load({ AWS_REGION: 'Mars' })),
      /aws\.region.*us-east-1/,
    );
    assert.match(
      configError(() => load({ LABELS: 'novalue' })),
      /enrichment\.labels \(env LABELS\)/,
    );
  });

  it('reports several problems together', () => {
    const message = configError(() => load({ HTTP_PORT: 'abc', LOG_LEVEL: 'loud' }));
    assert.match(message, /2 problems/);
    assert.match(message, /http\.port/);
    assert.match(message, /log\.level/);
  });

  it('never prints the value of a sensitive key', () => {
    const file = writeJson({ kafka: { sasl: { password: 987654321 } } });
    const message = configError(() => load({ CONFIG_FILE: file }));
    assert.match(message, /kafka\.sasl\.password/);
    assert.doesNotMatch(message, /987654321/);
  });
});

describe('loadConfig: files', () => {
  it('names an unknown key in a file, with the file and the known keys', () => {
    const file = writeJson({ kafka: { brokerz: ['a:1'] } });
    const message = configError(() => load({ CONFIG_FILE: file }));
    assert.match(message, /unknown key "kafka\.brokerz"/);
    assert.ok(message.includes(file));
    assert.match(message, /brokers, topic/);
  });

  it('names an unknown top-level section', () => {
    const message = configError(() => load({}, { file: writeJson({ kafak: {} }) }));
    assert.match(message, /unknown key "kafak"/);
  });

  it('rejects an object where a single value belongs, and a value where a section belongs', () => {
    assert.match(
      configError(() => load({}, { file: writeJson({ http: { port: { value: 1 } } }) })),
      /http\.port/,
    );
    assert.match(
      configError(() => load({}, { file: writeJson({ source: { rateLimits: 5 } }) })),
      /"source\.rateLimits" must be an object/,
    );
  });

  it('rejects a wrong type in a file', () => {
    const message = configError(() => load({}, { file: writeJson({ kafka: { brokers: 'a:1' } }) }));
    assert.match(message, /kafka\.brokers \(env KAFKA_BROKERS\): must be a JSON array; got "a:1"/);
    assert.match(
      configError(() => load({}, { file: writeJson({ http: { port: '9000' } }) })),
      /http\.port .*must be a JSON number/,
    );
    assert.match(
      configError(() => load({}, { file: writeJson({ log: { pretty: 'yes' } }) })),
      /log\.pretty .*must be a JSON boolean/,
    );
    assert.match(
      configError(() => load({}, { file: writeJson({ kafka: { topic: 42 } }) })),
      /kafka\.topic .*Kafka topic name.*; got 42/,
    );
    // A rate in a file is a JSON number or the word "auto", as other numbers must be numbers.
    const rate = (value: unknown): string =>
      configError(() =>
        load({}, { file: writeJson({ source: { rateLimits: { getLogEvents: value } } }) }),
      );
    assert.match(
      rate('20'),
      /source\.rateLimits\.getLogEvents .*must be a JSON number or "auto"; got "20"/,
    );
    assert.match(
      rate(true),
      /source\.rateLimits\.getLogEvents .*must be a JSON number or "auto"; got true/,
    );
    const file = (value: unknown) =>
      load({}, { file: writeJson({ source: { rateLimits: { getLogEvents: value } } }) }).source
        .rateLimits.getLogEvents;
    assert.equal(file(12.5), 12.5);
    assert.equal(file('auto'), 'auto');
  });

  it('reports a missing or invalid file', () => {
    assert.match(
      configError(() => load({ CONFIG_FILE: join(dir, 'missing.json') })),
      /CONFIG_FILE ".*missing\.json" cannot be read: no such file/,
    );
    assert.match(
      configError(() => load({}, { file: writeTemp('{ not json', 'broken.json') })),
      /broken\.json" is not valid JSON/,
    );
  });
});

describe('loadConfig: secrets and cross-field checks', () => {
  const scram = {
    KAFKA_BROKERS: '127.0.0.1:9092',
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: 'forwarder',
    KAFKA_SSL_ENABLED: 'true',
  };

  it('reads a password file and trims it', () => {
    const file = writeTemp('  pa55word-from-file \n');
    const config = load({ ...scram, KAFKA_SASL_PASSWORD_FILE: file });
    assert.equal(config.kafka.sasl.password, 'pa55word-from-file');
    assert.equal(config.kafka.sasl.passwordFile, file);
  });

  it('names the key and the path of a missing secret file', () => {
    const path = join(dir, 'no-such-secret');
    const message = configError(() => load({ ...scram, KAFKA_SASL_PASSWORD_FILE: path }));
    assert.match(message, /kafka\.sasl\.passwordFile \(env KAFKA_SASL_PASSWORD_FILE\)/);
    assert.ok(message.includes(path));
    const osMessage = configError(() =>
      load({ OPENSEARCH_USERNAME: 'u', OPENSEARCH_PASSWORD_FILE: path }),
    );
    assert.match(osMessage, /opensearch\.passwordFile/);
    assert.ok(osMessage.includes(path));
  });

  it('rejects an empty secret file and a password given twice', () => {
    assert.match(
      configError(() => load({ ...scram, KAFKA_SASL_PASSWORD_FILE: writeTemp('\n') })),
      /is empty/,
    );
    assert.match(
      configError(() =>
        load({ ...scram, KAFKA_SASL_PASSWORD: 'x', KAFKA_SASL_PASSWORD_FILE: writeTemp('y') }),
      ),
      /both set/,
    );
  });

  it('requires a user name and a password for a SASL mechanism', () => {
    const message = configError(() =>
      load({ KAFKA_BROKERS: '127.0.0.1:9092', KAFKA_SASL_MECHANISM: 'plain' }),
    );
    assert.match(message, /kafka\.sasl\.username/);
    assert.match(message, /kafka\.sasl\.passwordFile/);
    assert.match(
      configError(() => load({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })),
      /kafka\.sasl\.mechanism .* "none"/,
    );
  });

  it('requires a region for SigV4 and resolves it from aws.region', () => {
    const sigv4 = {
      OPENSEARCH_URL: 'https://search.example.com',
      OPENSEARCH_SIGV4_ENABLED: 'true',
    };
    assert.match(
      configError(() => load(sigv4)),
      /opensearch\.sigv4\.region/,
    );
    assert.equal(load({ ...sigv4, AWS_REGION: 'eu-west-1' }).opensearch.sigv4.region, 'eu-west-1');
    assert.equal(
      load({ ...sigv4, AWS_REGION: 'eu-west-1', OPENSEARCH_SIGV4_REGION: 'us-east-1' }).opensearch
        .sigv4.region,
      'us-east-1',
    );
    assert.match(
      configError(() =>
        load({
          ...sigv4,
          AWS_REGION: 'eu-west-1',
          OPENSEARCH_USERNAME: 'u',
          OPENSEARCH_PASSWORD: 'p',
        }),
      ),
      /one authentication method/,
    );
  });

  it('names the way forward for a removed setting, in a file or in the environment', () => {
    const fromFile = configError(() =>
      load({}, { file: writeJson({ source: { pollMaxIntervalMs: 30000 } }) }),
    );
    assert.match(fromFile, /"source\.pollMaxIntervalMs" was removed: idle streams are now polled/);
    assert.match(fromFile, /raise source\.pollMinIntervalMs/);
    assert.match(
      configError(() => load({ POLL_MAX_INTERVAL_MS: '30000' })),
      /POLL_MAX_INTERVAL_MS was removed: .*rateLimits\.getLogEvents/,
    );
  });

  it('checks in-flight orderings', () => {
    assert.match(
      configError(() =>
        load({ MAX_IN_FLIGHT_BATCHES: '2', MAX_IN_FLIGHT_BATCHES_PER_STREAM: '4' }),
      ),
      /maxInFlightBatchesPerStream/,
    );
  });

  it('checks TLS file settings', () => {
    assert.match(
      configError(() => load({ KAFKA_SSL_CA_FILE: writeTemp('ca') })),
      /kafka\.ssl\.caFile .* kafka\.ssl\.enabled/,
    );
    assert.match(
      configError(() => load({ KAFKA_SSL_ENABLED: 'yes', KAFKA_SSL_CERT_FILE: writeTemp('c') })),
      /go together/,
    );
    assert.match(
      configError(() => load({ OPENSEARCH_TLS_CA_FILE: join(dir, 'nope.crt') })),
      /opensearch\.tls\.caFile .*nope\.crt/,
    );
  });
});

describe('config/production.example.json', () => {
  const example = join(root, 'config', 'production.example.json');

  it('validates once its mounted files exist (overridden by env)', () => {
    const kafkaPassword = writeTemp('kafka-secret-value\n');
    const osPassword = writeTemp('opensearch-secret-value\n');
    const ca = writeTemp(PEM_CERTIFICATE);
    const config = load({
      CONFIG_FILE: example,
      KAFKA_SASL_PASSWORD_FILE: kafkaPassword,
      KAFKA_SSL_CA_FILE: ca,
      OPENSEARCH_PASSWORD_FILE: osPassword,
      OPENSEARCH_TLS_CA_FILE: ca,
    });
    assert.equal(config.kafka.enabled, true);
    assert.equal(config.kafka.sasl.mechanism, 'scram-sha-512');
    assert.equal(config.kafka.sasl.password, 'kafka-secret-value');
    assert.equal(config.kafka.ssl.enabled, true);
    assert.equal(config.opensearch.password, 'opensearch-secret-value');
    assert.equal(config.enrichment.labels.environment, 'production');

    const printed = JSON.stringify(redactConfig(config));
    assert.ok(!printed.includes('kafka-secret-value'));
    assert.ok(!printed.includes('opensearch-secret-value'));
  });

  it('reports every missing mounted file as is (paths under /var/run/secrets)', () => {
    const message = configError(() => load({ CONFIG_FILE: example }));
    assert.match(message, /kafka\.sasl\.passwordFile .*\/var\/run\/secrets\//);
    assert.match(message, /opensearch\.passwordFile .*\/var\/run\/secrets\//);
  });

  it('is documented key by key in config/README.md', () => {
    const readme = readFileSync(join(root, 'config', 'README.md'), 'utf8');
    for (const key of schemaKeys()) {
      assert.ok(readme.includes(`| \`${key.key}\` | \`${key.env}\` |`), `${key.key} undocumented`);
    }
  });
});

describe('redactConfig', () => {
  it('replaces every secret and URL credentials, leaving the config untouched', () => {
    const config = load({
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'S3cr3t-kafka',
      KAFKA_SSL_ENABLED: 'true',
      OPENSEARCH_URL: 'https://admin:S3cr3t-url@127.0.0.1:9200',
      OPENSEARCH_USERNAME: 'admin',
      OPENSEARCH_PASSWORD: 'S3cr3t-os',
    });
    const redacted = redactConfig(config);
    assert.equal(redacted.kafka.sasl.password, REDACTED);
    assert.equal(redacted.opensearch.password, REDACTED);
    const text = JSON.stringify(redacted);
    for (const secret of ['S3cr3t-kafka', 'S3cr3t-os', 'S3cr3t-url']) {
      assert.ok(!text.includes(secret), secret);
    }
    assert.equal(redacted.kafka.sasl.username, 'u');
    assert.equal(config.kafka.sasl.password, 'S3cr3t-kafka');
  });

  it('keeps unset secrets null', () => {
    assert.equal(redactConfig(load()).kafka.sasl.password, null);
  });
});

describe('loadConfig: every problem in one run', () => {
  it('reports the problems of every stage together: env, file shape, types, cross-field', () => {
    const file = writeJson({
      source: { pollMaxIntervalMs: 1000 },
      opensearch: { indexPrefx: 'x', bulkMaxDocs: '50' },
      pipeline: { maxInFlightBatches: 2, maxInFlightBatchesPerStream: 8 },
    });
    const message = configError(() => load({ CONFIG_FILE: file, HTTP_PORT: 'abc' }));
    assert.match(message, /\(5 problems\)/);
    assert.match(message, /"source\.pollMaxIntervalMs" was removed/);
    assert.match(message, /unknown key "opensearch\.indexPrefx"/);
    assert.match(message, /opensearch\.bulkMaxDocs .*must be a JSON number/);
    assert.match(message, /http\.port \(env HTTP_PORT\)/);
    assert.match(message, /maxInFlightBatchesPerStream .*must not exceed/);
  });

  it('does not judge a refused value by its default in the cross-field checks', () => {
    // MAX_IN_FLIGHT_BATCHES=abc is refused; the per-stream limit must not be compared with the
    // default that stands in for it.
    const message = configError(() =>
      load({ MAX_IN_FLIGHT_BATCHES: 'abc', MAX_IN_FLIGHT_BATCHES_PER_STREAM: '100' }),
    );
    assert.match(message, /pipeline\.maxInFlightBatches \(env MAX_IN_FLIGHT_BATCHES\)/);
    assert.doesNotMatch(message, /must not exceed/);
    const section = configError(() =>
      load({ CONFIG_FILE: writeJson({ kafka: { sasl: 'plain' } }) }),
    );
    assert.equal(section.split('\n').length, 1, section);
  });

  it('does not guess what a file that cannot be read would have set', () => {
    const message = configError(() =>
      load({ CONFIG_FILE: join(dir, 'not-there.json') }, { requireSink: true }),
    );
    assert.match(message, /^invalid configuration: CONFIG_FILE ".*not-there\.json" cannot be read/);
    assert.doesNotMatch(message, /no sink/);
  });

  it('answers what run checks at start-up when asked to: no sink enabled', () => {
    assert.doesNotThrow(() => load());
    const message = configError(() => load({}, { requireSink: true }));
    assert.match(message, /no sink is enabled/);
    assert.match(message, /kafka\.brokers \(env KAFKA_BROKERS\)/);
    assert.match(message, /opensearch\.url \(env OPENSEARCH_URL\)/);
    assert.doesNotThrow(() => load({ KAFKA_BROKERS: '127.0.0.1:9092' }, { requireSink: true }));
  });

  it('refuses the reserved names __proto__, constructor and prototype by name', () => {
    const file = writeTemp(
      '{"__proto__": {"polluted": true}, "kafka": {"constructor": 1}, "enrichment": {"labels": {"__proto__": "x"}}}',
      'reserved.json',
    );
    const message = configError(() => load({ CONFIG_FILE: file }));
    assert.match(message, /"__proto__" is not allowed: .*reserved JavaScript names/);
    assert.match(message, /"kafka\.constructor" is not allowed/);
    assert.match(message, /"enrichment\.labels\.__proto__" is not allowed/);
    assert.doesNotMatch(message, /undefined/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('loadConfig: no credentials in clear text', () => {
  const saslPlain = {
    KAFKA_BROKERS: '127.0.0.1:9092',
    KAFKA_SASL_MECHANISM: 'plain',
    KAFKA_SASL_USERNAME: 'u',
    KAFKA_SASL_PASSWORD: 'p',
  };

  it('refuses SASL PLAIN and SCRAM without TLS, naming TLS and the lab setting', () => {
    const plain = configError(() => load(saslPlain));
    assert.match(plain, /kafka\.sasl\.mechanism .* is "plain" but kafka\.ssl\.enabled .* is false/);
    assert.match(plain, /clear text/);
    assert.match(plain, /KAFKA_SASL_ALLOW_WITHOUT_TLS/);
    const scram = configError(() => load({ ...saslPlain, KAFKA_SASL_MECHANISM: 'scram-sha-512' }));
    assert.match(scram, /"scram-sha-512" but kafka\.ssl\.enabled/);
  });

  it('accepts SASL with TLS, or without it when the lab setting says so', () => {
    assert.equal(load({ ...saslPlain, KAFKA_SSL_ENABLED: 'true' }).kafka.sasl.mechanism, 'plain');
    assert.equal(
      load({ ...saslPlain, KAFKA_SASL_ALLOW_WITHOUT_TLS: 'true' }).kafka.sasl.mechanism,
      'plain',
    );
  });

  it('refuses basic auth over http://, from settings or in the URL', () => {
    const settings = configError(() =>
      load({
        OPENSEARCH_URL: 'http://127.0.0.1:9200',
        OPENSEARCH_USERNAME: 'admin',
        OPENSEARCH_PASSWORD: 'p',
      }),
    );
    assert.match(settings, /opensearch\.url .* is http:\/\/ and basic-auth credentials are set/);
    assert.match(settings, /OPENSEARCH_ALLOW_HTTP_BASIC_AUTH/);
    const inUrl = configError(() => load({ OPENSEARCH_URL: 'http://admin:p@127.0.0.1:9200' }));
    assert.match(inUrl, /clear text/);
    assert.doesNotMatch(inUrl, /admin:p/);
  });

  it('accepts basic auth over https://, SigV4 over http://, and the lab setting', () => {
    const auth = { OPENSEARCH_USERNAME: 'admin', OPENSEARCH_PASSWORD: 'p' };
    assert.doesNotThrow(() => load({ OPENSEARCH_URL: 'https://127.0.0.1:9200', ...auth }));
    assert.doesNotThrow(() =>
      load({
        OPENSEARCH_URL: 'http://127.0.0.1:9200',
        OPENSEARCH_SIGV4_ENABLED: 'true',
        AWS_REGION: 'eu-west-1',
      }),
    );
    assert.doesNotThrow(() =>
      load({
        OPENSEARCH_URL: 'http://127.0.0.1:9200',
        OPENSEARCH_ALLOW_HTTP_BASIC_AUTH: 'true',
        ...auth,
      }),
    );
  });
});

describe('loadConfig: CA, certificate and key files are PEM', () => {
  const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEfixture\n-----END PRIVATE KEY-----\n';

  it('names the setting and the file of a CA file that is not PEM', () => {
    const der = writeTemp('0\x82\x03\x1a0\x82\x02\x02binary', 'ca.der');
    const message = configError(() =>
      load({ OPENSEARCH_URL: 'https://127.0.0.1:9200', OPENSEARCH_TLS_CA_FILE: der }),
    );
    assert.match(message, /opensearch\.tls\.caFile \(env OPENSEARCH_TLS_CA_FILE\)/);
    assert.ok(message.includes(der), message);
    assert.match(message, /is not PEM: no "-----BEGIN CERTIFICATE-----" line/);
    assert.match(message, /openssl x509 -inform der/);
  });

  it('finds swapped certificate and key files', () => {
    const cert = writeTemp(PEM_CERTIFICATE);
    const key = writeTemp(KEY);
    const tls = { KAFKA_BROKERS: '127.0.0.1:9093', KAFKA_SSL_ENABLED: 'true' };
    const message = configError(() =>
      load({ ...tls, KAFKA_SSL_CERT_FILE: key, KAFKA_SSL_KEY_FILE: cert }),
    );
    assert.match(message, /kafka\.ssl\.certFile .*swapped/);
    assert.match(message, /kafka\.ssl\.keyFile .*swapped/);
    const config = load({
      ...tls,
      KAFKA_SSL_CA_FILE: cert,
      KAFKA_SSL_CERT_FILE: cert,
      KAFKA_SSL_KEY_FILE: key,
    });
    assert.equal(config.kafka.ssl.keyFile, key);
  });
});
