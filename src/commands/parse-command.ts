/**
 * `cloudhsm-audit-forwarder parse [--log-group G] [--log-stream S] [FILE...]` (README "The two commands").
 *
 * Each FILE holds one raw CloudWatch message; without FILE, stdin carries NDJSON CloudWatch
 * events (`logGroupName`, `logStreamName`, `timestamp`, `ingestionTime`, `message`, `eventId`).
 * Prints one OCSF event per line, followed on the spot by the integrity findings the record
 * triggers. Defaults when neither the flag nor the input says otherwise:
 * - log group `/aws/cloudhsm/cluster-unknown` (so `cluster_id` reads `cluster-unknown`);
 * - log stream `hsm-unknown` for text records, and the cluster id for JSON records (the
 *   certificate-storage stream is named for the cluster);
 * - timestamp for FILE input: the record's own event time when it has one, else now.
 * A bad NDJSON line still yields an event (unparseable, with the reason in
 * `unmapped.cloudhsm.parse_error`) and a warning on stderr. Exit 0 unless a FILE cannot be read (1).
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

import { environmentRegion } from '../config/environment.js';
import { ActorInference } from '../transform/actor-inference.js';
import { IntegrityTracker } from '../transform/integrity.js';
import { clusterIdOf, eventTime } from '../transform/ocsf-builders.js';
import type { NormalizeContext } from '../transform/ocsf-builders.js';
import { transformRecord } from '../transform/transform-record.js';
import type { TransformChain } from '../transform/transform-record.js';
import { parseRecord } from '../transform/parse.js';
import type { ParsedRecord } from '../transform/parsed-record.js';
import type { SourceRecord } from '../transform/source-record.js';
import { UsageError } from '../util/errors.js';

const DEFAULT_LOG_GROUP = '/aws/cloudhsm/cluster-unknown';
const DEFAULT_HSM_STREAM = 'hsm-unknown';
const FLUSH_BYTES = 64 * 1024;

interface ParseOptions {
  logGroup?: string;
  logStream?: string;
  files: string[];
}

function parseArgs(args: string[]): ParseOptions {
  const options: ParseOptions = { files: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      options.files.push(...args.slice(i + 1));
      break;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (flag === '--log-group' || flag === '--log-stream') {
      const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value === '') {
        throw new UsageError(`parse: ${flag} needs a value`);
      }
      if (flag === '--log-group') options.logGroup = value;
      else options.logStream = value;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(
        `parse: unknown option "${flag}"; accepted: --log-group G, --log-stream S, FILE...`,
      );
    } else {
      options.files.push(arg);
    }
  }
  return options;
}

/** Buffered stdout writer that honours backpressure. */
class Output {
  private chunks: string[] = [];
  private size = 0;

  async line(text: string): Promise<void> {
    this.chunks.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const data = this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    if (!process.stdout.write(data)) {
      await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
    }
  }
}

function warn(message: string): void {
  process.stderr.write(`cloudhsm-audit-forwarder parse: ${message}\n`);
}

function defaultStream(logGroup: string, parsed: ParsedRecord): string {
  return parsed.kind === 'certstore' ? clusterIdOf(logGroup) : DEFAULT_HSM_STREAM;
}

/** Entry point of the `parse` command; resolves to the exit status. */
export async function runParseCommand(args: string[]): Promise<number> {
  const options = parseArgs(args);
  const context: NormalizeContext = {};
  const region = environmentRegion();
  if (region !== undefined) context.region = region;
  // The chain of `run` with enrichment off (it needs the CloudHSM API): the same events.
  const chain: TransformChain = {
    integrity: new IntegrityTracker(),
    actors: new ActorInference(),
    context,
  };
  const out = new Output();
  let status = 0;

  const emit = async (record: SourceRecord, parsed: ParsedRecord): Promise<void> => {
    const { event, findings } = transformRecord(record, parsed, chain);
    await out.line(JSON.stringify(event));
    for (const finding of findings) await out.line(JSON.stringify(finding.event));
  };

  if (options.files.length > 0) {
    for (const file of options.files) {
      let message: string;
      try {
        message = await readFile(file === '-' ? '/dev/stdin' : file, 'utf8');
      } catch (error) {
        warn(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
        status = 1;
        continue;
      }
      const parsed = parseRecord(message);
      const logGroup = options.logGroup ?? DEFAULT_LOG_GROUP;
      const record: SourceRecord = {
        logGroup,
        logStream: options.logStream ?? defaultStream(logGroup, parsed),
        timestamp: Date.now(),
        message,
      };
      record.timestamp = eventTime(record, parsed);
      await emit(record, parsed);
    }
  } else {
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const { record, error, warning } = fromNdjson(line, options);
      if (warning !== undefined) warn(`stdin line ${lineNo}: ${warning}`);
      if (error !== undefined) {
        warn(`stdin line ${lineNo}: ${error}`);
        await emit(record, {
          kind: 'unparseable',
          error: `stdin line ${lineNo}: ${error}`,
          raw: line,
        });
      } else {
        const parsed = parseRecord(record.message);
        if (record.logStream === '') record.logStream = defaultStream(record.logGroup, parsed);
        await emit(record, parsed);
      }
    }
  }
  await out.flush();
  return status;
}

function fromNdjson(
  line: string,
  options: ParseOptions,
): { record: SourceRecord; error?: string; warning?: string } {
  const logGroup = options.logGroup ?? DEFAULT_LOG_GROUP;
  const fallback: SourceRecord = {
    logGroup,
    logStream: options.logStream ?? DEFAULT_HSM_STREAM,
    timestamp: Date.now(),
    message: line,
  };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return {
      record: fallback,
      error: `invalid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { record: fallback, error: 'not a JSON object' };
  }
  const event = value as Record<string, unknown>;
  if (typeof event.message !== 'string') {
    return { record: fallback, error: 'no string "message" member' };
  }
  const group = typeof event.logGroupName === 'string' ? event.logGroupName : logGroup;
  const record: SourceRecord = {
    logGroup: group,
    logStream:
      typeof event.logStreamName === 'string' ? event.logStreamName : (options.logStream ?? ''),
    timestamp: typeof event.timestamp === 'number' ? event.timestamp : Date.now(),
    message: event.message,
  };
  if (typeof event.ingestionTime === 'number') record.ingestionTime = event.ingestionTime;
  if (typeof event.eventId === 'string') record.eventId = event.eventId;
  if (typeof event.timestamp !== 'number') {
    return { record, warning: 'no numeric "timestamp"; using the current time' };
  }
  return { record };
}
