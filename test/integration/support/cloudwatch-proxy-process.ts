// Starts cloudwatch-proxy-main.ts as a child process and reads back what it recorded.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { CALLS_PATH, type ProxyCall } from './cloudwatch-proxy.js';

const MAIN = fileURLToPath(new URL('./cloudwatch-proxy-main.ts', import.meta.url));
// `--import tsx` resolves from the working directory: the checkout holding this file.
const CHECKOUT = fileURLToPath(new URL('../../..', import.meta.url));

export interface CloudWatchProxyProcess {
  /** Point the SDK here (AWS_ENDPOINT_URL). */
  readonly url: string;
  readonly pid: number;
  /** Every call recorded so far, in arrival order (GET /__proxy/calls). */
  calls(): Promise<ProxyCall[]>;
  /** Stops the child (SIGTERM to its pid) and waits for it to exit. */
  close(): Promise<void>;
}

/** Starts the counting proxy in front of `target` in a process of its own. */
export async function startCloudWatchProxyProcess(target: string): Promise<CloudWatchProxyProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, target], {
    cwd: CHECKOUT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { pid } = child;
  if (pid === undefined) throw new Error(`could not start ${MAIN} (node at ${process.execPath})`);
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `${MAIN} exited (code ${code}, signal ${signal}) before printing its URL: see its stderr above`,
        ),
      ),
    );
  });
  lines.close();
  // Nothing more is expected on stdout; keep the pipe drained so the child never blocks on it.
  child.stdout.resume();

  return {
    url,
    pid,
    async calls() {
      const response = await fetch(`${url}${CALLS_PATH}`);
      if (!response.ok) {
        throw new Error(`GET ${url}${CALLS_PATH} answered ${response.status} (proxy pid ${pid})`);
      }
      return (await response.json()) as ProxyCall[];
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}
