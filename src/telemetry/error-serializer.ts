/**
 * How an error appears in a log line. pino's default serializer copies every enumerable property,
 * and client errors carry their request: an OpenSearch `ResponseError` or `ConnectionError` holds
 * the whole `_bulk` body in `meta` (about 3 MB of audit records per line during an outage), a
 * KafkaJS error its messages. A log line keeps what an operator acts on — type, message, code,
 * status, cause — and never a request, a response body or an event.
 */

import { scrubQuotedValues } from '../util/scrub-values.js';

/** Longest message kept; a server's reason can quote a document, so it is also scrubbed. */
export const MAX_ERROR_MESSAGE = 300;

export interface SerializedError {
  readonly type: string;
  readonly message: string;
  readonly code?: string;
  readonly status?: number;
  readonly cause?: SerializedError;
  readonly stack?: string;
}

export function scrubMessage(message: string): string {
  const text = scrubQuotedValues(message);
  return text.length > MAX_ERROR_MESSAGE
    ? `${text.slice(0, MAX_ERROR_MESSAGE)}… (${text.length} chars)`
    : text;
}

function statusOf(error: Record<string, unknown>): number | undefined {
  const meta = error.meta as { statusCode?: unknown } | undefined;
  const candidates = [error.statusCode, error.status, meta?.statusCode];
  return candidates.find((value): value is number => typeof value === 'number');
}

/** Stack frames only: the first stack line repeats the (unscrubbed) message. */
function framesOf(stack: unknown): string | undefined {
  if (typeof stack !== 'string') return undefined;
  const frames = stack
    .split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .slice(0, 8);
  return frames.length === 0 ? undefined : frames.join('\n');
}

export function serializeError(value: unknown, depth = 0): SerializedError {
  if (!(value instanceof Error)) {
    return { type: typeof value, message: scrubMessage(String(value)) };
  }
  const fields = value as unknown as Record<string, unknown>;
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const status = statusOf(fields);
  const stack = framesOf(value.stack);
  const cause =
    depth < 2 && value.cause !== undefined ? serializeError(value.cause, depth + 1) : undefined;
  return {
    type: value.name,
    message: scrubMessage(value.message),
    ...(code === undefined ? {} : { code }),
    ...(status === undefined ? {} : { status }),
    ...(cause === undefined ? {} : { cause }),
    ...(stack === undefined ? {} : { stack }),
  };
}
