// parse + normalize + JSON.stringify throughput (README "Performance": ≥150,000 records/s, target 250,000).
// Prints the runtime, bytes/event, each stage alone, the events' serialization time beside that of
// plain copies of them, and a final line exactly `parse: N records/s`.
import { readFileSync } from 'node:fs';

import { normalize, toOcsfEvent } from '../src/transform/normalize.js';
import { parseRecord } from '../src/transform/parse.js';
import type { ParsedRecord } from '../src/transform/parsed-record.js';
import type { SourceRecord } from '../src/transform/source-record.js';
import { OPCODE_MAPPINGS } from '../src/transform/mapping-table.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const WARMUP_MS = 1000;
const SEPARATORS = [' : ', ': ', '\t: '];
const USER_TYPES = ['CN_CRYPTO_USER (1)', 'CN_CRYPTO_OFFICER (2)', 'CN_APPLIANCE_USER (5)'];

function textRecord(opcode: string, i: number): string {
  const sep = SEPARATORS[i % SEPARATORS.length] as string;
  const failed = i % 10 === 3;
  const usecs = 1516815865013218 + i * 1117;
  const lines: string[] = [`Time: 01/24/18 17:44:25.013218, usecs:${usecs}`];
  const newer = i % 7 === 0;
  if (newer) lines.push(`Version No${sep}0x1`);
  lines.push(`Sequence No${sep}0x${i.toString(16)}`, `Reboot counter${sep}0x107`);
  lines.push(
    `Command Type(hex)${sep}CN_MGMT_CMD (0x0)`,
    `Opcode${sep}${opcode} (0x${(i % 255).toString(16)})`,
  );
  if (newer) lines.push(`User id${sep}${i % 9}`);
  lines.push(`Session Handle${sep}0x${(0x7014000 + (i % 64)).toString(16)}`);
  lines.push(
    `Response${sep}${failed ? '163:HSM Error: RET_USER_LOGIN_FAILURE' : '0:HSM Return: SUCCESS'}`,
  );
  if (
    opcode.includes('USER') ||
    opcode.includes('LOG') ||
    opcode.includes('PSWD') ||
    opcode.includes('CO')
  ) {
    lines.push(`Log type${sep}MGMT_USER_DETAILS_LOG (2)`);
    lines.push(`User Name${sep}user${i % 50}`, `User Type${sep}${USER_TYPES[i % 3] as string}`);
    if (newer)
      lines.push(
        `Target User Name${sep}target${i % 5}`,
        `Target User Type${sep}CN_CRYPTO_USER (1)`,
      );
  } else {
    lines.push(`Log type${sep}MGMT_KEY_DETAILS_LOG (1)`);
    lines.push(
      `Priv/Secret Key Handle${sep}${262152 + i}`,
      `Public Key Handle${sep}${i % 2 === 0 ? 0 : 131078 + i}`,
    );
    if (newer) lines.push(`Key Handle${sep}${262152 + i}`, `Mechanism${sep}4225`);
  }
  return lines.join('\n');
}

function buildMix(): SourceRecord[] {
  const records: SourceRecord[] = [];
  const opcodes = [...Object.keys(OPCODE_MAPPINGS), 'CN_SOMETHING_NEW', 'END_MARKER_OPCODE'];
  let i = 0;
  for (let round = 0; round < 20; round++) {
    for (const opcode of opcodes) {
      records.push(rec(`hsm-bench${round % 4}abcdef`, textRecord(opcode, i++)));
    }
    records.push(
      rec(
        'cluster-benchabcdefg',
        `{\n    "object_handle": ${463180677312929947n + BigInt(round)},\n    "op_code": "CreateObject",\n    "response": "OK",\n    "attributes": null,\n    "timestamp": ${1725482483671 + round}\n}`,
      ),
      rec(
        'cluster-benchabcdefg',
        `{"object_handle":null,"op_code":"SetAttributeValues","response":"InvalidAttributeValue","attributes":["Label"],"timestamp":${1725482483671 + round}}`,
      ),
    );
    if (round % 5 === 0) {
      records.push(
        rec('hsm-bench0abcdef', `garbage line ${round}\nanother`),
        rec('hsm-bench0abcdef', '{"broken":'),
      );
    }
  }
  return records;
}

function rec(logStream: string, message: string): SourceRecord {
  return {
    logGroup: '/aws/cloudhsm/cluster-benchabcdefg',
    logStream,
    timestamp: 1737000000000,
    ingestionTime: 1737000000500,
    message,
    eventId: '37000000000000000000000000000000000000000000000000000000',
  };
}

const CONTEXT = { region: 'us-east-1', accountId: '111122223333' };

function loop(
  records: SourceRecord[],
  ms: number,
): { count: number; elapsed: number; bytes: number } {
  const start = performance.now();
  let count = 0;
  let bytes = 0;
  for (;;) {
    for (const record of records) bytes += JSON.stringify(toOcsfEvent(record, CONTEXT)).length;
    count += records.length;
    const elapsed = performance.now() - start;
    if (elapsed >= ms) return { count, elapsed, bytes };
  }
}

/** Microseconds per record of one stage alone, its input prepared beforehand. */
function stage(records: SourceRecord[], ms: number, run: (i: number) => number): number {
  let sink = 0;
  for (let i = 0; i < records.length; i++) sink += run(i); // warm-up
  const start = performance.now();
  let count = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < records.length; i++) sink += run(i);
    count += records.length;
    elapsed = performance.now() - start;
  }
  if (sink === -1) console.log(''); // keeps the work observable
  return (elapsed * 1000) / count;
}

function printStages(records: SourceRecord[]): void {
  const ms = Math.max(500, DURATION_MS / 4);
  const parsed = records.map((r) => parseRecord(r.message));
  const events = records.map((r, i) => normalize(r, parsed[i] as ParsedRecord, CONTEXT));
  // Plain copies: the same content rebuilt by JSON.parse, i.e. fresh objects and sequential
  // strings, which V8 serializes on its fast path. The events' own time above theirs is what
  // their representation costs: frozen or shared parts, a `delete`, or strings that are views
  // into the record (V8 "sliced" substrings) or unflattened concatenations.
  const plain = events.map((e) => JSON.parse(JSON.stringify(e)) as unknown);
  const rows: Array<[string, number]> = [
    [
      'parse',
      stage(records, ms, (i) => parseRecord((records[i] as SourceRecord).message).kind.length),
    ],
    [
      'normalize',
      stage(
        records,
        ms,
        (i) => normalize(records[i] as SourceRecord, parsed[i] as ParsedRecord, CONTEXT).time,
      ),
    ],
    ['JSON.stringify', stage(records, ms, (i) => JSON.stringify(events[i]).length)],
    ['  plain copies', stage(records, ms, (i) => JSON.stringify(plain[i]).length)],
  ];
  for (const [name, us] of rows) {
    const ceiling = Math.round(1e6 / us);
    console.log(`  ${name.padEnd(15)} ${us.toFixed(2)} µs/record (alone: ${ceiling} records/s)`);
  }
  const ownUs = rows[2]?.[1] ?? 0;
  const copiesUs = rows[3]?.[1] ?? 1;
  console.log(
    `  serialization of the events / of plain copies: ${(ownUs / copiesUs).toFixed(2)}x (1.00 = as fast as plain copies)`,
  );
}

/** The runtime, beside the version `.nvmrc` pins (if the file exists), flagged if they differ. */
function runtimeLine(): string {
  let pin: string;
  try {
    pin = readFileSync(new URL('../.nvmrc', import.meta.url), 'utf8')
      .trim()
      .replace(/^v/, '');
  } catch (_error) {
    return `runtime: node ${process.version} (no .nvmrc in this checkout)`;
  }
  const pinned = process.version.slice(1) === pin || process.version.startsWith(`v${pin}.`);
  const note = pinned ? '' : '; NOT the pinned runtime, figures are not comparable';
  return `runtime: node ${process.version} (.nvmrc pins ${pin}${note})`;
}

/** Runs the benchmark and prints `parse: N records/s`. */
export async function runParseBench(): Promise<void> {
  // As the SDK delivers records: every string parsed from a JSON response. Strings built here by
  // template literals are cons strings, which production input never holds and which alone take
  // an event off V8's fast serialization path.
  const records = JSON.parse(JSON.stringify(buildMix())) as SourceRecord[];
  console.log(runtimeLine());
  console.log(`mix: ${records.length} records (text, cert-storage JSON, unparseable)`);
  loop(records, WARMUP_MS);
  const { count, elapsed, bytes } = loop(records, DURATION_MS);
  console.log(
    `processed ${count} records, ${(bytes / 1e6).toFixed(1)} MB of JSON in ${(elapsed / 1000).toFixed(2)} s (${Math.round(bytes / count)} bytes/event)`,
  );
  console.log('stages, each measured alone:');
  printStages(records);
  await Promise.resolve();
  console.log(`parse: ${Math.round((count * 1000) / elapsed)} records/s`);
}
