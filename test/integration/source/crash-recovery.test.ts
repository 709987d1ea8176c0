import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { client, uniquePrefix, waitFor, Writer } from './support/aws.js';

const worker = fileURLToPath(new URL('./support/source-worker.ts', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function spawnWorker(args: string[]): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal})`)));
  });
  ready.catch(() => {});
  return { child, ready };
}

interface Line {
  kind: 'D' | 'C' | 'R';
  key: string;
  index: number;
}

/** Parses the worker output; a line torn by SIGKILL (no newline) is ignored. */
function parse(text: string): Line[] {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [kind, group, stream, index] = l.split(' ');
      return { kind: kind as Line['kind'], key: `${group} ${stream}`, index: Number(index) };
    });
}

describe('crash recovery against the emulator', () => {
  it('(b) SIGKILL at random points 10 times: nothing lost, only unacknowledged batches re-read', async () => {
    const cwl = client();
    const prefix = uniquePrefix();
    const writer = new Writer(cwl);
    const streams: [string, string][] = [];
    for (const suffix of ['b1', 'b2']) {
      await writer.createGroup(`${prefix}${suffix}`);
      for (const s of ['hsm-00b1', 'hsm-00b2', `cluster-${suffix}`]) {
        await writer.createStream(`${prefix}${suffix}`, s);
        streams.push([`${prefix}${suffix}`, s]);
      }
    }
    for (const [g, s] of streams) await writer.append(g, s, 25);
    const work = await mkdtemp(join(tmpdir(), 'cwl-crash-'));
    dirs.push(work);
    const output = join(work, 'delivered.log');
    const args = [prefix, join(work, 'checkpoints'), output];

    // Records keep arriving during the whole test.
    let writing = true;
    const producer = (async () => {
      let round = 0;
      while (writing) {
        const [g, s] = streams[round % streams.length] as [string, string];
        await writer.append(g, s, 1 + (round % 4));
        round += 1;
        await new Promise((r) => setTimeout(r, 40));
      }
    })();

    const restarts: number[] = []; // offsets in the output where a new worker started
    const outputText = async () => readFile(output, 'utf8').catch(() => '');
    for (let kill = 0; kill < 10; kill += 1) {
      restarts.push((await outputText()).length);
      const { child, ready } = spawnWorker(args);
      await ready;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 900));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    writing = false;
    await producer;

    // Final run: let it catch up with everything written, then stop it cleanly.
    restarts.push((await outputText()).length);
    const { child, ready } = spawnWorker(args);
    await ready;
    const delivered = async () => {
      const set = new Set<string>();
      for (const l of parse(await outputText())) if (l.kind === 'D') set.add(`${l.key}#${l.index}`);
      return set.size;
    };
    let count = 0;
    await waitFor(
      () => {
        void delivered().then((n) => (count = n));
        return count >= writer.total();
      },
      60_000,
      'the final worker to deliver every record',
    );
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    cwl.destroy();

    const text = await outputText();
    // 1. union of delivered records == written records
    const deliveredKeys = new Set<string>();
    for (const l of parse(text)) if (l.kind === 'D') deliveredKeys.add(`${l.key}#${l.index}`);
    const writtenKeys = new Set<string>();
    for (const [key, list] of writer.written)
      list.forEach((_, i) => writtenKeys.add(`${key}#${i}`));
    assert.deepEqual([...deliveredKeys].sort(), [...writtenKeys].sort());

    // 2. within one worker run, each stream is delivered in order without repeats; across
    //    restarts, nothing at or below a committed index is delivered again.
    const committed = new Map<string, number>();
    for (let run = 0; run < restarts.length; run += 1) {
      const start = restarts[run] as number;
      const end = restarts[run + 1] ?? text.length;
      const lines = parse(text.slice(start, end));
      const committedAtStart = new Map(committed);
      const lastInRun = new Map<string, number>();
      for (const l of lines) {
        if (l.kind === 'C') {
          committed.set(l.key, Math.max(committed.get(l.key) ?? -1, l.index));
          continue;
        }
        const floor = committedAtStart.get(l.key) ?? -1;
        assert.ok(l.index > floor, `run ${run}: ${l.key}#${l.index} re-read after commit ${floor}`);
        const previous = lastInRun.get(l.key);
        if (previous !== undefined) assert.equal(l.index, previous + 1, `order in run ${run}`);
        lastInRun.set(l.key, l.index);
      }
    }
    console.log(
      `(b) ${writer.total()} records, ${parse(text).filter((l) => l.kind === 'D').length} deliveries over ${restarts.length} runs`,
    );
  });
});
