// Shared fixture helpers for the transform tests.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NormalizeContext } from '../../../src/transform/normalize.js';
import type { SourceRecord } from '../../../src/transform/source-record.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES_DIR = join(here, '..', '..', 'fixtures');
export const SAMPLES_DIR = join(FIXTURES_DIR, 'samples');
export const GOLDEN_DIR = join(FIXTURES_DIR, 'golden');

export const LOG_GROUP = '/aws/cloudhsm/cluster-likphkxygsn';
export const HSM_STREAM = 'hsm-abcde123456';
export const CLUSTER_STREAM = 'cluster-likphkxygsn';
export const CW_TIMESTAMP = 1737000000000;
export const CW_INGESTION = 1737000000500;
export const CONTEXT: NormalizeContext = { region: 'us-east-1', accountId: '111122223333' };

/** Sample file names, sorted. */
export function sampleNames(): string[] {
  return readdirSync(SAMPLES_DIR)
    .filter((name) => name.endsWith('.txt'))
    .sort();
}

/** Raw sample bytes as UTF-8 text, unchanged. */
export function readSample(name: string): string {
  return readFileSync(join(SAMPLES_DIR, name), 'utf8');
}

/** The fixed SourceRecord a sample is normalized from. */
export function sampleRecord(name: string): SourceRecord {
  const message = readSample(name);
  const certstore = message.trimStart().startsWith('{');
  return {
    logGroup: LOG_GROUP,
    logStream: certstore ? CLUSTER_STREAM : HSM_STREAM,
    timestamp: CW_TIMESTAMP,
    ingestionTime: CW_INGESTION,
    message,
    eventId: `evt-${name.replace(/\.txt$/, '')}`,
  };
}

/** A source record for a synthetic message on the fixed HSM stream. */
export function hsmRecord(message: string, overrides: Partial<SourceRecord> = {}): SourceRecord {
  return {
    logGroup: LOG_GROUP,
    logStream: HSM_STREAM,
    timestamp: CW_TIMESTAMP,
    ingestionTime: CW_INGESTION,
    message,
    ...overrides,
  };
}

/** A successful CN_LOGIN of `user` with the given sequence number and reboot counter. */
export function loginRecord(
  seq: number,
  options: { reboot?: number; user?: string; overrides?: Partial<SourceRecord> } = {},
): SourceRecord {
  return hsmRecord(
    [
      `Time: 01/24/18 17:44:25.013218, usecs:${1516815865013218 + seq * 1000}`,
      `Sequence No : 0x${seq.toString(16)}`,
      `Reboot counter : 0x${(options.reboot ?? 0x107).toString(16)}`,
      'Command Type(hex) : CN_MGMT_CMD (0x0)',
      'Opcode : CN_LOGIN (0xd)',
      'Session Handle : 0xc008002',
      'Response : 0:HSM Return: SUCCESS',
      'Log type : MGMT_USER_DETAILS_LOG (2)',
      `User Name : ${options.user ?? 'alice'}`,
      'User Type : CN_CRYPTO_USER (1)',
    ].join('\n'),
    options.overrides,
  );
}

/** Builds a text record from `[key, value]` lines with the given separator. */
export function textRecord(lines: ReadonlyArray<readonly [string, string]>, sep = ' : '): string {
  return lines.map(([k, v]) => (k === 'Time' ? `Time: ${v}` : `${k}${sep}${v}`)).join('\n');
}
