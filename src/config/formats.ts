/**
 * Our own convict formats: strict coercion of environment strings, messages
 * that say what is accepted, and no dependency on moment/validator. Every format keeps a string it
 * cannot convert unchanged, so the validation error shows the value the user actually wrote
 * (convict's built-in `int` turns "abc" into NaN and then cannot print it).
 *
 * Range-bound formats read `min`/`max`/`values` from the schema entry itself.
 */
import convict from 'convict';

interface FormatSchema {
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly pattern?: RegExp;
  readonly patternDoc?: string;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Integers as written in env vars: optional sign, digits, nothing else. */
const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** host:port, host being a name, IPv4 address or bracketed IPv6 address. */
const BROKER = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$/;
/** Commercial, GovCloud, China, ISO partitions: us-east-1, us-gov-west-1, cn-north-1, ... */
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** Kafka topic names: legal characters and length (Kafka `Topic.validate`). */
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
/** OpenSearch index names: lower case, no separators that the daily suffix would break. */
const INDEX_PREFIX = /^[a-z0-9][a-z0-9._+-]{0,200}$/;
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.\-/]{0,62}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function fail(message: string): never {
  throw new Error(message);
}

function rangeText(schema: FormatSchema): string {
  const { min, max } = schema;
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`;
  if (min !== undefined) return `>= ${min}`;
  if (max !== undefined) return `<= ${max}`;
  return '';
}

function checkRange(value: number, schema: FormatSchema, what: string): void {
  if (
    (schema.min !== undefined && value < schema.min) ||
    (schema.max !== undefined && value > schema.max)
  ) {
    fail(`must be ${what} ${rangeText(schema)}`.trimEnd());
  }
}

/** `beginning`, `end`, or an ISO-8601 date/time. */
export function isStartPosition(value: unknown): value is string {
  if (value === 'beginning' || value === 'end') return true;
  return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value));
}

/** Parses `k=v,k=v` (or a JSON object) into a label map; leaves other input for validation. */
export function parseLabels(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return text;
    }
  }
  const labels: Record<string, string> = {};
  for (const part of trimmed.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return text;
    labels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return labels;
}

function splitList(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

let registered = false;

/** Registers the formats with convict (idempotent; convict keeps formats globally). */
export function registerFormats(): void {
  if (registered) return;
  registered = true;

  convict.addFormat({
    name: 'fwd-integer',
    coerce: (value: unknown) =>
      typeof value === 'string' && INTEGER_TEXT.test(value.trim()) ? Number(value.trim()) : value,
    validate: (value: unknown, item: convict.SchemaObj) => {
      const schema = item as FormatSchema;
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        fail(`must be an integer ${rangeText(schema)}`.trimEnd());
      }
      checkRange(value, schema, 'an integer');
    },
  });

  convict.addFormat({
    name: 'fwd-number',
    coerce: (value: unknown) =>
      typeof value === 'string' && NUMBER_TEXT.test(value.trim()) ? Number(value.trim()) : value,
    validate: (value: unknown, item: convict.SchemaObj) => {
      const schema = item as FormatSchema;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        fail(`must be a number ${rangeText(schema)}`.trimEnd());
      }
      checkRange(value, schema, 'a number');
    },
  });

  // A call rate, or `auto` for the default that depends on the region (cloudwatch-quotas.ts).
  convict.addFormat({
    name: 'fwd-rate',
    coerce: (value: unknown) =>
      typeof value === 'string' && NUMBER_TEXT.test(value.trim()) ? Number(value.trim()) : value,
    validate: (value: unknown, item: convict.SchemaObj) => {
      if (value === 'auto') return;
      const schema = item as FormatSchema;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        fail(`must be "auto" or a number ${rangeText(schema)}`.trimEnd());
      }
      checkRange(value, schema, '"auto" or a number');
    },
  });

  convict.addFormat({
    name: 'fwd-boolean',
    coerce: (value: unknown) => {
      if (typeof value !== 'string') return value;
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return value;
    },
    validate: (value: unknown) => {
      if (typeof value !== 'boolean') fail('must be a boolean: true/false, 1/0, yes/no or on/off');
    },
  });

  convict.addFormat({
    name: 'fwd-enum',
    validate: (value: unknown, item: convict.SchemaObj) => {
      const schema = item as FormatSchema;
      const values = schema.values ?? [];
      if (typeof value !== 'string' || !values.includes(value)) {
        fail(`must be one of: ${values.join(', ')}`);
      }
    },
  });

  convict.addFormat({
    name: 'fwd-string',
    validate: (value: unknown, item: convict.SchemaObj) => {
      const schema = item as FormatSchema;
      if (typeof value !== 'string') fail('must be a string');
      if (schema.min !== undefined && value.length < schema.min) {
        fail(`must be a string of at least ${schema.min} character(s)`);
      }
      if (schema.pattern !== undefined && value !== '' && !schema.pattern.test(value)) {
        fail(`must be ${schema.patternDoc ?? `a string matching ${String(schema.pattern)}`}`);
      }
    },
  });

  convict.addFormat({
    name: 'fwd-secret',
    validate: (value: unknown) => {
      if (typeof value !== 'string') fail('must be a string');
    },
  });

  convict.addFormat({
    name: 'fwd-string-list',
    coerce: splitList,
    validate: (value: unknown, item: convict.SchemaObj) => {
      const schema = item as FormatSchema;
      if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
        fail('must be a list of non-empty strings (a JSON array, or comma-separated in env)');
      }
      if (schema.min !== undefined && value.length < schema.min) {
        fail(`must list at least ${schema.min} item(s)`);
      }
    },
  });

  convict.addFormat({
    name: 'fwd-broker-list',
    coerce: splitList,
    validate: (value: unknown) => {
      if (!Array.isArray(value)) {
        fail('must be a list of host:port brokers (JSON array, or comma-separated in env)');
      }
      const bad: unknown = (value as unknown[]).find(
        (item) => typeof item !== 'string' || !BROKER.test(item),
      );
      if (bad !== undefined) {
        fail(`must be a list of host:port brokers; ${JSON.stringify(bad)} is not host:port`);
      }
    },
  });

  convict.addFormat({
    name: 'fwd-optional-url',
    validate: (value: unknown) => {
      if (typeof value !== 'string') fail('must be a string: an http(s) URL, or empty');
      if (value === '') return;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        fail('must be an http:// or https:// URL, or empty');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        fail('must be an http:// or https:// URL, or empty');
      }
    },
  });

  convict.addFormat({
    name: 'fwd-aws-region',
    validate: (value: unknown) => {
      if (typeof value !== 'string' || (value !== '' && !AWS_REGION.test(value))) {
        fail('must be an AWS region such as us-east-1 or eu-central-2, or empty');
      }
    },
  });

  convict.addFormat({
    name: 'fwd-aws-account',
    coerce: (value: unknown) => value,
    validate: (value: unknown) => {
      if (typeof value !== 'string' || (value !== '' && !/^\d{12}$/.test(value))) {
        fail('must be a 12-digit AWS account id written as a string, or empty');
      }
    },
  });

  convict.addFormat({
    name: 'fwd-kafka-topic',
    validate: (value: unknown) => {
      if (
        typeof value !== 'string' ||
        !KAFKA_TOPIC.test(value) ||
        value === '.' ||
        value === '..'
      ) {
        fail('must be a Kafka topic name: 1-249 characters from [A-Za-z0-9._-]');
      }
    },
  });

  convict.addFormat({
    name: 'fwd-index-prefix',
    validate: (value: unknown) => {
      if (typeof value !== 'string' || !INDEX_PREFIX.test(value)) {
        fail(
          'must be an OpenSearch index name prefix: lower case, starting with a letter or digit, from [a-z0-9._+-]',
        );
      }
    },
  });

  convict.addFormat({
    name: 'fwd-start-position',
    coerce: (value: unknown) => (typeof value === 'string' ? value.trim() : value),
    validate: (value: unknown) => {
      if (!isStartPosition(value)) {
        fail('must be "beginning", "end" or an ISO-8601 time such as 2024-05-01T00:00:00Z');
      }
    },
  });

  convict.addFormat({
    name: 'fwd-labels',
    coerce: (value: unknown) => (typeof value === 'string' ? parseLabels(value) : value),
    validate: (value: unknown) => {
      const accepted =
        'must be an object of string labels ({"env":"prod"}), or "k=v,k=v" in env; keys match [A-Za-z_][A-Za-z0-9_./-]*';
      if (!isPlainObject(value)) fail(accepted);
      for (const [key, label] of Object.entries(value)) {
        if (!LABEL_KEY.test(key) || typeof label !== 'string') fail(accepted);
      }
    },
  });
}
