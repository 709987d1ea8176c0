/**
 * Runs the real forwarder (`cloudhsm-audit-forwarder run`) as a child process against the local
 * stack, for end-to-end tests: the same binary, configuration path and signals as production.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../src/cli.ts', import.meta.url));

// A test that fails half-way leaves its forwarder running, and the child's open pipes would keep
// the test file's process (and with it the whole integration run) alive forever.
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ForwarderProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** What it wrote to stderr alone (the logs go to stdout). */
  stderr(): string;
  /** `HTTP_PORT` from its env, if set: where `/healthz` and `/readyz` answer. */
  readonly httpPort: string | undefined;
  /** Resident set size in bytes, from /proc (0 once exited). */
  rss(): number;
}

export function startForwarder(
  env: Record<string, string>,
  args: readonly string[] = [],
): ForwarderProcess {
  return startCommand('run', env, args);
}

/** Any command of the binary (`backfill`, ...), run like {@link startForwarder} runs `run`. */
export function startCommand(
  command: string,
  env: Record<string, string>,
  args: readonly string[] = [],
): ForwarderProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, command, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    httpPort: env.HTTP_PORT,
    output: () => output,
    stderr: () => stderr,
    rss: () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        return kb === undefined ? 0 : Number(kb) * 1024;
      } catch {
        return 0;
      }
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns true or `timeoutMs` passes; throws with `what` on timeout. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 500,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * A port for the forwarder's `HTTP_PORT` that nothing holds right now, picked by the kernel. A
 * random number instead once landed on a port some client connection of the stack held (the
 * ephemeral range starts at 32768): the forwarder stopped with EADDRINUSE and the test waited a
 * minute for records that could not come. It binds the address the forwarder binds (0.0.0.0).
 */
export async function freePort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '0.0.0.0', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return String(port);
}

/**
 * Waits until the forwarder answers `/healthz` on 127.0.0.1:`HTTP_PORT` (its signal handlers are
 * in place by then), or has exited. A SIGTERM sent earlier, while Node is still loading modules,
 * kills the process before any handler exists: the test racing the start, not a failed stop. A
 * forwarder that exited on its own with an error failed to start: that throws, with its stderr,
 * instead of leaving the test to wait for records that cannot come.
 */
export async function untilRunning(forwarder: ForwarderProcess, timeoutMs = 60_000): Promise<void> {
  const { child, httpPort } = forwarder;
  if (httpPort === undefined) throw new Error('untilRunning needs HTTP_PORT in the forwarder env');
  await waitFor(
    `the forwarder to answer /healthz on 127.0.0.1:${httpPort}`,
    async () => {
      if (child.exitCode !== null && child.exitCode !== 0) {
        throw new Error(
          `the forwarder exited with code ${child.exitCode} before it was running:\n${forwarder.stderr().slice(-2000)}`,
        );
      }
      if (child.exitCode !== null || child.signalCode !== null) return true;
      try {
        return (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok;
      } catch {
        return false;
      }
    },
    timeoutMs,
    100,
  );
}
