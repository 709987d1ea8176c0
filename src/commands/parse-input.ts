/**
 * What `parse` accepts, on stdin or in a FILE, told apart by content:
 * - the JSON that `aws logs get-log-events` and `aws logs filter-log-events` print (`events`,
 *   each with `timestamp` and `message`, and `logStreamName` for filter-log-events);
 * - NDJSON CloudWatch events, one `{"timestamp":…,"message":…}` object per line;
 * - raw audit records as CloudHSM writes them, one or several: each HSM record starts with its
 *   `Time: ` line; anything else is one raw message (a certificate-storage JSON record).
 */
import type { SourceRecord } from '../transform/source-record.js';

export interface InputOptions {
  readonly logGroup: string;
  readonly logStream?: string;
}

export interface InputItem {
  readonly record: SourceRecord;
  /** The record as given, when it could not be read as an event (`error` says why). */
  readonly error?: string;
  readonly warning?: string;
  /** Raw text: its timestamp is the record's own event time. */
  readonly raw?: boolean;
}

export type InputFormat = 'aws-logs-json' | 'ndjson' | 'raw' | 'empty';

/** Splits raw text into records at each line that starts a CloudHSM audit record. */
export function splitRawRecords(text: string): string[] {
  const starts = [...text.matchAll(/^Time: /gm)].map((match) => match.index);
  if (starts.length === 0) return text.trim() === '' ? [] : [text.trim()];
  const records: string[] = [];
  const head = text.slice(0, starts[0]).trim();
  if (head !== '') records.push(head);
  starts.forEach((start, i) => {
    const record = text.slice(start, starts[i + 1] ?? text.length).trim();
    if (record !== '') records.push(record);
  });
  return records;
}

function fromEvent(value: unknown, options: InputOptions, where: string, line?: string): InputItem {
  const fallback: SourceRecord = {
    logGroup: options.logGroup,
    logStream: options.logStream ?? '',
    timestamp: Date.now(),
    message: line ?? JSON.stringify(value),
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { record: fallback, error: `${where}: not a JSON object` };
  }
  const event = value as Record<string, unknown>;
  if (typeof event.message !== 'string') {
    return { record: fallback, error: `${where}: no string "message" member` };
  }
  const record: SourceRecord = {
    logGroup: typeof event.logGroupName === 'string' ? event.logGroupName : options.logGroup,
    logStream:
      typeof event.logStreamName === 'string' ? event.logStreamName : (options.logStream ?? ''),
    timestamp: typeof event.timestamp === 'number' ? event.timestamp : Date.now(),
    message: event.message,
  };
  if (typeof event.ingestionTime === 'number') record.ingestionTime = event.ingestionTime;
  if (typeof event.eventId === 'string') record.eventId = event.eventId;
  return typeof event.timestamp === 'number'
    ? { record }
    : { record, warning: `${where}: no numeric "timestamp"; using the current time` };
}

function rawItem(message: string, options: InputOptions): InputItem {
  return {
    record: {
      logGroup: options.logGroup,
      logStream: options.logStream ?? '',
      timestamp: Date.now(),
      message,
    },
    raw: true,
  };
}

/** Reads one input (`where` names it in messages: `stdin`, a file name). */
export function readInput(
  text: string,
  options: InputOptions,
  where: string,
): { format: InputFormat; items: InputItem[] } {
  const trimmed = text.trim();
  if (trimmed === '') return { format: 'empty', items: [] };
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let whole: unknown;
    let isJson = true;
    try {
      whole = JSON.parse(trimmed);
    } catch {
      isJson = false;
    }
    if (isJson) {
      const events = (whole as { events?: unknown } | null)?.events;
      if (Array.isArray(events)) {
        return {
          format: 'aws-logs-json',
          items: events.map((event, i) => fromEvent(event, options, `${where} event ${i + 1}`)),
        };
      }
      if (typeof (whole as { message?: unknown } | null)?.message === 'string') {
        return { format: 'ndjson', items: [fromEvent(whole, options, `${where} line 1`)] };
      }
      // One JSON document that is no CloudWatch event: a certificate-storage record.
      return { format: 'raw', items: [rawItem(trimmed, options)] };
    }
    const items: InputItem[] = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const at = `${where} line ${i + 1}`;
      try {
        items.push(fromEvent(JSON.parse(line), options, at, line));
      } catch (error) {
        items.push({
          record: {
            logGroup: options.logGroup,
            logStream: options.logStream ?? '',
            timestamp: Date.now(),
            message: line,
          },
          error: `${at}: invalid JSON: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    });
    return { format: 'ndjson', items };
  }
  return { format: 'raw', items: splitRawRecords(text).map((m) => rawItem(m, options)) };
}
