/**
 * `cloudhsm-audit-forwarder parse [--log-group G] [--log-stream S] [FILE...]` (README "The two commands").
 *
 * Each FILE, or stdin without FILE, holds raw audit records (one or several), NDJSON CloudWatch
 * events (`logGroupName`, `logStreamName`, `timestamp`, `ingestionTime`, `message`, `eventId`),
 * or the JSON `aws logs get-log-events` / `filter-log-events` print (see parse-input.ts).
 * Prints one OCSF event per line, followed on the spot by the integrity findings the record
 * triggers. Defaults when neither the flag nor the input says otherwise:
 * - log group `/aws/cloudhsm/cluster-unknown` (so `cluster_id` reads `cluster-unknown`);
 * - log stream `hsm-unknown` for text records, and the cluster id for JSON records (the
 *   certificate-storage stream is named for the cluster);
 * - timestamp for FILE input: the record's own event time when it has one, else now.
 * A bad NDJSON line still yields an event (unparseable, with the reason in
 * `unmapped.cloudhsm.parse_error`) and a warning on stderr. Exit 1 when a FILE cannot be read or
 * when nothing at all could be parsed; 0 otherwise.
 */
import { readFile } from 'node:fs/promises';

import { environmentRegion } from '../config/environment.js';
import { ActorInference } from '../transform/actor-inference.js';
import { IntegrityTracker } from '../transform/integrity.js';
import { clusterIdOf, eventTime } from '../transform/ocsf-builders.js';
import type { NormalizeContext } from '../transform/ocsf-builders.js';
import { transformRecord } from '../transform/transform-record.js';
import type { TransformChain } from '../transform/transform-record.js';
import { parseRecord } from '../transform/parse.js';
import type { ParsedRecord } from '../transform/parsed-record.js';
import { UsageError } from '../util/errors.js';
import { readInput } from './parse-input.js';
import type { InputItem } from './parse-input.js';

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
  let records = 0;
  let parsedRecords = 0;
  const logGroup = options.logGroup ?? DEFAULT_LOG_GROUP;

  const emit = async (item: InputItem): Promise<void> => {
    const record = { ...item.record };
    if (item.warning !== undefined) warn(item.warning);
    let parsed: ParsedRecord;
    if (item.error !== undefined) {
      warn(item.error);
      parsed = { kind: 'unparseable', error: item.error, raw: record.message };
    } else {
      parsed = parseRecord(record.message);
    }
    if (record.logStream === '') record.logStream = defaultStream(record.logGroup, parsed);
    if (item.raw === true) record.timestamp = eventTime(record, parsed);
    records += 1;
    if (parsed.kind !== 'unparseable') parsedRecords += 1;
    const { event, findings } = transformRecord(record, parsed, chain);
    await out.line(JSON.stringify(event));
    for (const finding of findings) await out.line(JSON.stringify(finding.event));
  };

  const inputs = options.files.length > 0 ? options.files : ['-'];
  for (const file of inputs) {
    const where = file === '-' ? 'stdin' : file;
    let text: string;
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    } catch (error) {
      warn(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
      status = 1;
      continue;
    }
    const input = readInput(
      text,
      { logGroup, ...(options.logStream === undefined ? {} : { logStream: options.logStream }) },
      where,
    );
    for (const item of input.items) await emit(item);
  }
  await out.flush();
  if (parsedRecords === 0 && status === 0) {
    warn(
      `nothing could be parsed (${records} input records): expected raw CloudHSM audit records ` +
        '(each starting with its "Time: " line), NDJSON CloudWatch events, or the JSON that ' +
        "'aws logs get-log-events' / 'aws logs filter-log-events' print",
    );
    return 1;
  }
  return status;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
