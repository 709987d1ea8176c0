/**
 * Start-up failures of a sink, told as an operator needs them: which sink, which step, what the
 * endpoint answered, and what to change. A bare `connect ECONNREFUSED 127.0.0.1:9299` or
 * `Cannot read properties of undefined` names none of these; the classification below turns the
 * client errors of kafkajs, the OpenSearch client and Node's TLS stack into one of five causes.
 */
import { ForwarderError } from '../util/errors.js';

export type StartUpSink = 'kafka' | 'opensearch' | 'dead-letter topic';

export interface StartUpStep {
  readonly sink: StartUpSink;
  /** What the forwarder was doing, e.g. `installing the index template`. */
  readonly step: string;
  /** Where, as configured (URL or broker list; never credentials). */
  readonly endpoint: string;
}

/** Thrown by a step when the endpoint answers, but not as OpenSearch or Kafka would. */
export class NotTheServiceError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'NotTheServiceError';
  }
}

type Cause = 'refused' | 'tls' | 'auth' | 'not-service' | 'timeout' | 'unavailable' | 'other';

/**
 * Causes that can clear up by themselves (a broker still starting, a cluster recovering): `run`
 * waits them out. The others need a change of configuration.
 */
const TRANSIENT: ReadonlySet<Cause> = new Set(['refused', 'timeout', 'unavailable']);

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

function chain(error: unknown): Record<string, unknown>[] {
  const errors: Record<string, unknown>[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    errors.push(current as Record<string, unknown>);
    const next = current as { cause?: unknown; originalError?: unknown };
    current = next.cause ?? next.originalError;
  }
  return errors;
}

function text(error: Record<string, unknown>): string {
  return `${String(error.name)} ${String(error.type)} ${String(error.code)} ${String(error.message)}`;
}

function statusOf(error: Record<string, unknown>): number | undefined {
  const meta = error.meta as { statusCode?: unknown } | undefined;
  return typeof meta?.statusCode === 'number' ? meta.statusCode : undefined;
}

export function classifyStartUpError(error: unknown): Cause {
  const errors = chain(error);
  const all = errors.map(text).join(' | ');
  if (errors.some((e) => e instanceof NotTheServiceError)) return 'not-service';
  if (errors.some((e) => TLS_CODES.has(String(e.code))) || /TLS|SSL|certificate/i.test(all)) {
    return 'tls';
  }
  const status = errors.map(statusOf).find((s) => s !== undefined);
  if (status === 401 || status === 403) return 'auth';
  if (/SASL|AUTHENTICATION|AUTHORIZATION_FAILED|Authentication failed/i.test(all)) return 'auth';
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/.test(all)) return 'refused';
  if (status === 429 || (status !== undefined && status >= 500)) return 'unavailable';
  if (/ResponseError/.test(all) && status !== undefined) return 'not-service';
  if (
    /KafkaJSProtocolError|Response without match|KafkaJSConnectionClosedError|Closed connection|Broker not connected|ECONNRESET/i.test(
      all,
    )
  ) {
    return 'not-service';
  }
  if (/timed? ?out|ETIMEDOUT|TimeoutError/i.test(all)) return 'timeout';
  return 'other';
}

const SETTINGS: Record<StartUpSink, { url: string; tls: string; auth: string; what: string }> = {
  kafka: {
    url: 'kafka.brokers (KAFKA_BROKERS)',
    tls: "kafka.ssl.enabled (KAFKA_SSL_ENABLED) must match the listener, and kafka.ssl.caFile (KAFKA_SSL_CA_FILE) must hold the CA that signed the brokers' certificates",
    auth: 'kafka.sasl.mechanism, kafka.sasl.username and kafka.sasl.password (KAFKA_SASL_*) must match a user of the cluster and a SASL listener, and its ACLs must allow describing and writing the topic',
    what: 'a Kafka listener',
  },
  'dead-letter topic': {
    url: 'kafka.brokers (KAFKA_BROKERS)',
    tls: 'kafka.ssl.enabled (KAFKA_SSL_ENABLED) must match the listener',
    auth: 'the Kafka user needs ACLs to describe and write the dead-letter topic (deadLetter.topic)',
    what: 'a Kafka listener',
  },
  opensearch: {
    url: 'opensearch.url (OPENSEARCH_URL)',
    tls: 'use https:// only when the node speaks TLS, and set opensearch.tls.caFile (OPENSEARCH_TLS_CA_FILE) to the CA that signed its certificate (opensearch.tls.rejectUnauthorized=false only in a lab)',
    auth: 'check opensearch.username/password (OPENSEARCH_USERNAME/OPENSEARCH_PASSWORD) or, for SigV4, the pod role; the user needs permission to manage index templates and write <prefix>-* indices',
    what: 'the REST endpoint of an OpenSearch cluster (for Amazon OpenSearch Service the domain endpoint, not the Dashboards URL)',
  },
};

function firstMessage(error: unknown): string {
  const errors = chain(error);
  const messages = errors
    .map((e) => (typeof e.message === 'string' ? e.message : ''))
    .filter((m) => m !== '');
  const message = (messages[messages.length - 1] ?? String(error)).replace(/\s+/g, ' ').trim();
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

/** The error `run` reports when a sink cannot start. */
export function startUpError(at: StartUpStep, error: unknown): ForwarderError {
  if (error instanceof ForwarderError) {
    return new ForwarderError(error.code, `${at.sink}: ${error.message}`, {
      cause: error,
      retryable: error.retryable,
    });
  }
  const settings = SETTINGS[at.sink];
  const cause = classifyStartUpError(error);
  const where = `${at.sink} start-up failed while ${at.step} (${at.endpoint})`;
  const detail = firstMessage(error);
  const told: Record<Cause, string> = {
    refused: `nothing accepts connections there (${detail}). Fix: check ${settings.url} and that the service runs and is reachable from the forwarder (DNS, security group, network policy)`,
    tls: `the TLS handshake failed (${detail}). Fix: ${settings.tls}`,
    auth: `the credentials were refused (${detail}). Fix: ${settings.auth}`,
    'not-service': `the endpoint answers, but not as ${settings.what} would (${detail}). Fix: check ${settings.url}`,
    timeout: `no answer in time (${detail}). Fix: check ${settings.url}, and that nothing between (proxy, firewall) drops the connection`,
    unavailable: `it answers, but is not available (${detail}). Fix: wait for the cluster to recover (its health, its master), or check ${settings.url}`,
    other: `${detail}. Fix: check ${settings.url} and the sink's settings`,
  };
  return new ForwarderError('FWD_ERR_SINK', `${where}: ${told[cause]}`, {
    cause: error,
    retryable: TRANSIENT.has(cause),
  });
}

/** Runs one start-up step, turning its failure into {@link startUpError}. */
export async function startUpStep<T>(at: StartUpStep, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw startUpError(at, error);
  }
}
