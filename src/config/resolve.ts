/** Turns convict's raw values into the {@link Config}: cross-key checks, secrets read from files. */
import { accessSync, constants, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from './config.js';
import { describeFsError, keyLabel } from './problems.js';
import type { RawConfig } from './schema.js';

export function optional(value: string): string | null {
  return value === '' ? null : value;
}

export interface Context {
  readonly cwd: string;
  readonly problems: string[];
}

function readSecret(
  ctx: Context,
  passwordKey: string,
  password: string,
  fileKey: string,
  file: string,
): string | null {
  if (password !== '' && file !== '') {
    ctx.problems.push(`${keyLabel(passwordKey)} and ${keyLabel(fileKey)} are both set; set one`);
    return null;
  }
  if (file === '') return optional(password);
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    ctx.problems.push(
      `${keyLabel(fileKey)}: cannot read secret file "${path}": ${describeFsError(error)}`,
    );
    return null;
  }
  const secret = text.trim();
  if (secret === '') {
    ctx.problems.push(`${keyLabel(fileKey)}: secret file "${path}" is empty`);
    return null;
  }
  return secret;
}

function checkReadable(ctx: Context, key: string, file: string): void {
  if (file === '') return;
  const path = resolve(ctx.cwd, file);
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    ctx.problems.push(`${keyLabel(key)}: cannot read file "${path}": ${describeFsError(error)}`);
  }
}

export function resolveConfig(raw: RawConfig, ctx: Context): Config {
  const { problems } = ctx;
  const { source, pipeline, kafka, opensearch } = raw;

  if (pipeline.maxInFlightBatchesPerStream > pipeline.maxInFlightBatches) {
    problems.push(
      `${keyLabel('pipeline.maxInFlightBatchesPerStream')} (${pipeline.maxInFlightBatchesPerStream}) must not exceed ${keyLabel('pipeline.maxInFlightBatches')} (${pipeline.maxInFlightBatches})`,
    );
  }
  if (source.logGroupPrefixes.length === 0 && source.logGroups.length === 0) {
    problems.push(
      `${keyLabel('source.logGroupPrefixes')} and ${keyLabel('source.logGroups')} are both empty: nothing to read`,
    );
  }

  // Kafka TLS and SASL.
  const ssl = kafka.ssl;
  if (!ssl.enabled) {
    for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
      if (ssl[name] !== '') {
        problems.push(
          `${keyLabel(`kafka.ssl.${name}`)} is set but ${keyLabel('kafka.ssl.enabled')} is false; enable TLS or remove it`,
        );
      }
    }
  }
  if ((ssl.certFile === '') !== (ssl.keyFile === '')) {
    problems.push(
      `${keyLabel('kafka.ssl.certFile')} and ${keyLabel('kafka.ssl.keyFile')} go together: set both for mutual TLS, or neither`,
    );
  }
  checkReadable(ctx, 'kafka.ssl.caFile', ssl.caFile);
  checkReadable(ctx, 'kafka.ssl.certFile', ssl.certFile);
  checkReadable(ctx, 'kafka.ssl.keyFile', ssl.keyFile);

  const sasl = kafka.sasl;
  const saslPassword = readSecret(
    ctx,
    'kafka.sasl.password',
    sasl.password,
    'kafka.sasl.passwordFile',
    sasl.passwordFile,
  );
  if (sasl.mechanism === 'none') {
    if (sasl.username !== '' || sasl.password !== '' || sasl.passwordFile !== '') {
      problems.push(
        `${keyLabel('kafka.sasl.mechanism')} is "none" but SASL credentials are set; choose one of: plain, scram-sha-256, scram-sha-512`,
      );
    }
  } else {
    if (sasl.username === '') {
      problems.push(
        `${keyLabel('kafka.sasl.username')}: required when kafka.sasl.mechanism is "${sasl.mechanism}"`,
      );
    }
    if (sasl.password === '' && sasl.passwordFile === '') {
      problems.push(
        `${keyLabel('kafka.sasl.passwordFile')} (or ${keyLabel('kafka.sasl.password')}): required when kafka.sasl.mechanism is "${sasl.mechanism}"`,
      );
    }
  }

  // OpenSearch authentication and TLS.
  const osPassword = readSecret(
    ctx,
    'opensearch.password',
    opensearch.password,
    'opensearch.passwordFile',
    opensearch.passwordFile,
  );
  const hasPassword = opensearch.password !== '' || opensearch.passwordFile !== '';
  if (opensearch.username !== '' && !hasPassword) {
    problems.push(
      `${keyLabel('opensearch.passwordFile')} (or ${keyLabel('opensearch.password')}): required with opensearch.username`,
    );
  }
  if (opensearch.username === '' && hasPassword) {
    problems.push(`${keyLabel('opensearch.username')}: required with an OpenSearch password`);
  }
  if (opensearch.sigv4.enabled && (opensearch.username !== '' || hasPassword)) {
    problems.push(
      `${keyLabel('opensearch.sigv4.enabled')} is true and basic-auth credentials are set; use one authentication method`,
    );
  }
  const sigv4Region = optional(opensearch.sigv4.region) ?? optional(raw.aws.region);
  if (opensearch.sigv4.enabled && sigv4Region === null) {
    problems.push(
      `${keyLabel('opensearch.sigv4.region')}: SigV4 signing needs a region; set it or ${keyLabel('aws.region')}`,
    );
  }
  checkReadable(ctx, 'opensearch.tls.caFile', opensearch.tls.caFile);

  return {
    aws: {
      region: optional(raw.aws.region),
      endpoint: optional(raw.aws.endpoint),
      accountId: optional(raw.aws.accountId),
    },
    source: {
      ...source,
      rateLimits: { ...source.rateLimits },
    },
    pipeline: { ...pipeline },
    checkpoint: { dir: raw.checkpoint.dir },
    kafka: {
      enabled: kafka.brokers.length > 0,
      brokers: kafka.brokers,
      topic: kafka.topic,
      clientId: kafka.clientId,
      createTopic: kafka.createTopic,
      topicPartitions: kafka.topicPartitions,
      topicReplicationFactor: kafka.topicReplicationFactor,
      compression: kafka.compression,
      idempotent: kafka.idempotent,
      requestTimeoutMs: kafka.requestTimeoutMs,
      ssl: {
        enabled: ssl.enabled,
        caFile: optional(ssl.caFile),
        certFile: optional(ssl.certFile),
        keyFile: optional(ssl.keyFile),
        rejectUnauthorized: ssl.rejectUnauthorized,
      },
      sasl: {
        mechanism: sasl.mechanism,
        username: optional(sasl.username),
        password: saslPassword,
        passwordFile: optional(sasl.passwordFile),
      },
    },
    opensearch: {
      enabled: opensearch.url !== '',
      url: optional(opensearch.url),
      indexPrefix: opensearch.indexPrefix,
      username: optional(opensearch.username),
      password: osPassword,
      passwordFile: optional(opensearch.passwordFile),
      tls: {
        caFile: optional(opensearch.tls.caFile),
        rejectUnauthorized: opensearch.tls.rejectUnauthorized,
      },
      sigv4: {
        enabled: opensearch.sigv4.enabled,
        service: opensearch.sigv4.service,
        region: sigv4Region,
      },
      bulkMaxDocs: opensearch.bulkMaxDocs,
      compression: opensearch.compression,
      requestTimeoutMs: opensearch.requestTimeoutMs,
      lateIndex: opensearch.lateIndex,
    },
    deadLetter: { ...raw.deadLetter },
    enrichment: {
      ...raw.enrichment,
      endpoint: optional(raw.enrichment.endpoint) ?? optional(raw.aws.endpoint),
      region: optional(raw.aws.region) ?? 'us-east-1',
      labels: { ...raw.enrichment.labels },
    },
    http: { ...raw.http },
    log: { ...raw.log },
  };
}
