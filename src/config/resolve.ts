/** Turns convict's raw values into the {@link Config}: cross-key checks, secrets read from files. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from './config.js';
import { pemProblem } from './pem.js';
import type { PemKind } from './pem.js';
import { describeFsError, keyLabel } from './problems.js';
import type { RawConfig } from './schema.js';

export function optional(value: string): string | null {
  return value === '' ? null : value;
}

export interface Context {
  readonly cwd: string;
  readonly problems: string[];
  /**
   * Keys (or sections) whose value an earlier stage refused and replaced by its default: a check
   * that involves one of them would judge the default, not what the user wrote, so it waits.
   */
  readonly unsettled?: readonly string[];
  /** Report "no sink is enabled" (`run`, a backfill, `config validate`): the start-up check. */
  readonly requireSink?: boolean;
}

function isUnsettled(ctx: Context, key: string): boolean {
  return (ctx.unsettled ?? []).some((u) => key === u || key.startsWith(`${u}.`));
}

/** Records a problem about `keys`, unless one of them was already refused. */
function report(ctx: Context, keys: readonly string[], problem: string): void {
  if (!keys.some((key) => isUnsettled(ctx, key))) ctx.problems.push(problem);
}

function readSecret(
  ctx: Context,
  passwordKey: string,
  password: string,
  fileKey: string,
  file: string,
): string | null {
  if (password !== '' && file !== '') {
    report(
      ctx,
      [passwordKey, fileKey],
      `${keyLabel(passwordKey)} and ${keyLabel(fileKey)} are both set; set one`,
    );
    return null;
  }
  if (file === '') return optional(password);
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    report(
      ctx,
      [fileKey],
      `${keyLabel(fileKey)}: cannot read secret file "${path}": ${describeFsError(error)}`,
    );
    return null;
  }
  const secret = text.trim();
  if (secret === '') {
    report(ctx, [fileKey], `${keyLabel(fileKey)}: secret file "${path}" is empty`);
    return null;
  }
  return secret;
}

/** A CA, certificate or key file must be readable and PEM of its kind (see pem.ts). */
function checkPemFile(ctx: Context, key: string, file: string, kind: PemKind): void {
  if (file === '') return;
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    report(ctx, [key], `${keyLabel(key)}: cannot read file "${path}": ${describeFsError(error)}`);
    return;
  }
  const problem = pemProblem(text, kind);
  if (problem !== null) report(ctx, [key], `${keyLabel(key)}: "${path}" ${problem}`);
}

/** True when `url` is plain http (credentials on it would travel in clear text). */
function isPlainHttp(url: string): boolean {
  return /^http:\/\//i.test(url);
}

function hasUrlCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return false;
  }
}

export function resolveConfig(raw: RawConfig, ctx: Context): Config {
  const { source, pipeline, kafka, opensearch } = raw;

  if (pipeline.maxInFlightBatchesPerStream > pipeline.maxInFlightBatches) {
    report(
      ctx,
      ['pipeline.maxInFlightBatchesPerStream', 'pipeline.maxInFlightBatches'],
      `${keyLabel('pipeline.maxInFlightBatchesPerStream')} (${pipeline.maxInFlightBatchesPerStream}) must not exceed ${keyLabel('pipeline.maxInFlightBatches')} (${pipeline.maxInFlightBatches})`,
    );
  }
  if (source.logGroupPrefixes.length === 0 && source.logGroups.length === 0) {
    report(
      ctx,
      ['source.logGroupPrefixes', 'source.logGroups'],
      `${keyLabel('source.logGroupPrefixes')} and ${keyLabel('source.logGroups')} are both empty: nothing to read`,
    );
  }
  if (ctx.requireSink === true && kafka.brokers.length === 0 && opensearch.url === '') {
    report(
      ctx,
      ['kafka.brokers', 'opensearch.url'],
      `no sink is enabled: set ${keyLabel('kafka.brokers')} and/or ${keyLabel('opensearch.url')}`,
    );
  }

  // Kafka TLS and SASL.
  const ssl = kafka.ssl;
  if (!ssl.enabled) {
    for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
      if (ssl[name] !== '') {
        report(
          ctx,
          [`kafka.ssl.${name}`, 'kafka.ssl.enabled'],
          `${keyLabel(`kafka.ssl.${name}`)} is set but ${keyLabel('kafka.ssl.enabled')} is false; enable TLS or remove it`,
        );
      }
    }
  }
  if ((ssl.certFile === '') !== (ssl.keyFile === '')) {
    report(
      ctx,
      ['kafka.ssl.certFile', 'kafka.ssl.keyFile'],
      `${keyLabel('kafka.ssl.certFile')} and ${keyLabel('kafka.ssl.keyFile')} go together: set both for mutual TLS, or neither`,
    );
  }
  checkPemFile(ctx, 'kafka.ssl.caFile', ssl.caFile, 'certificate');
  checkPemFile(ctx, 'kafka.ssl.certFile', ssl.certFile, 'certificate');
  checkPemFile(ctx, 'kafka.ssl.keyFile', ssl.keyFile, 'private-key');

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
      report(
        ctx,
        ['kafka.sasl.mechanism', 'kafka.sasl.username', 'kafka.sasl.passwordFile'],
        `${keyLabel('kafka.sasl.mechanism')} is "none" but SASL credentials are set; choose one of: plain, scram-sha-256, scram-sha-512`,
      );
    }
  } else {
    if (sasl.username === '') {
      report(
        ctx,
        ['kafka.sasl.mechanism', 'kafka.sasl.username'],
        `${keyLabel('kafka.sasl.username')}: required when kafka.sasl.mechanism is "${sasl.mechanism}"`,
      );
    }
    if (sasl.password === '' && sasl.passwordFile === '') {
      report(
        ctx,
        ['kafka.sasl.mechanism', 'kafka.sasl.password', 'kafka.sasl.passwordFile'],
        `${keyLabel('kafka.sasl.passwordFile')} (or ${keyLabel('kafka.sasl.password')}): required when kafka.sasl.mechanism is "${sasl.mechanism}"`,
      );
    }
    if (!ssl.enabled && !sasl.allowWithoutTls) {
      const exposed =
        sasl.mechanism === 'plain'
          ? 'PLAIN would send the password in clear text'
          : 'the SCRAM exchange (open to offline password guessing) and every audit record would cross the network unencrypted';
      report(
        ctx,
        ['kafka.sasl.mechanism', 'kafka.ssl.enabled', 'kafka.sasl.allowWithoutTls'],
        `${keyLabel('kafka.sasl.mechanism')} is "${sasl.mechanism}" but ${keyLabel('kafka.ssl.enabled')} is false: ${exposed}. Enable TLS (Amazon MSK serves SASL/SCRAM over TLS on port 9096); only for a lab broker, set ${keyLabel('kafka.sasl.allowWithoutTls')} to true`,
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
    report(
      ctx,
      ['opensearch.username', 'opensearch.password', 'opensearch.passwordFile'],
      `${keyLabel('opensearch.passwordFile')} (or ${keyLabel('opensearch.password')}): required with opensearch.username`,
    );
  }
  if (opensearch.username === '' && hasPassword) {
    report(
      ctx,
      ['opensearch.username', 'opensearch.password', 'opensearch.passwordFile'],
      `${keyLabel('opensearch.username')}: required with an OpenSearch password`,
    );
  }
  if (opensearch.sigv4.enabled && (opensearch.username !== '' || hasPassword)) {
    report(
      ctx,
      ['opensearch.sigv4.enabled', 'opensearch.username', 'opensearch.password'],
      `${keyLabel('opensearch.sigv4.enabled')} is true and basic-auth credentials are set; use one authentication method`,
    );
  }
  const basicAuth = opensearch.username !== '' || hasPassword || hasUrlCredentials(opensearch.url);
  if (basicAuth && isPlainHttp(opensearch.url) && !opensearch.allowHttpBasicAuth) {
    report(
      ctx,
      ['opensearch.url', 'opensearch.username', 'opensearch.allowHttpBasicAuth'],
      `${keyLabel('opensearch.url')} is http:// and basic-auth credentials are set: the password would be sent in clear text with every request. Use an https:// URL; only for a lab cluster, set ${keyLabel('opensearch.allowHttpBasicAuth')} to true`,
    );
  }
  const sigv4Region = optional(opensearch.sigv4.region) ?? optional(raw.aws.region);
  if (opensearch.sigv4.enabled && sigv4Region === null) {
    report(
      ctx,
      ['opensearch.sigv4.region', 'aws.region'],
      `${keyLabel('opensearch.sigv4.region')}: SigV4 signing needs a region; set it or ${keyLabel('aws.region')}`,
    );
  }
  checkPemFile(ctx, 'opensearch.tls.caFile', opensearch.tls.caFile, 'certificate');

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
