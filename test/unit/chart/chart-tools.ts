/**
 * Shared helpers of the chart and Dockerfile tests: fetch the tools (test/helm/tools.sh), run
 * helm / kubernetes-validate / hadolint, parse rendered manifests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const CHART_DIR = join(REPO_ROOT, 'helm', 'cloudhsm-audit-forwarder');
export const KUBE_VERSION = '1.33.0';

/** Generous: the first run compiles helm from source (several minutes on 2 cores). */
export const TOOLS_TIMEOUT_MS = 20 * 60 * 1000;

export interface Tools {
  readonly helm: string;
  readonly kubernetesValidate: string;
  readonly hadolint: string;
}

let tools: Tools | undefined;

/**
 * Runs test/helm/tools.sh (idempotent; a warm run downloads nothing) and returns the binaries.
 * Throws, naming the tool, when one cannot be had: the checks never skip silently.
 */
export function ensureTools(): Tools {
  if (tools !== undefined) return tools;
  const result = spawnSync('bash', [join(REPO_ROOT, 'test', 'helm', 'tools.sh')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: TOOLS_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const match = /^TOOLS_DIR=(.+)$/m.exec(result.stdout ?? '');
  if (result.status !== 0 || match === null) {
    const why = result.error === undefined ? `exit ${String(result.status)}` : result.error.message;
    throw new Error(
      `test/helm/tools.sh failed (${why}): the chart/Dockerfile checks need helm, ` +
        `kubernetes-validate and hadolint.\n${result.stderr.split('\n').slice(-30).join('\n')}`,
    );
  }
  const bin = join(match[1] ?? '', 'bin');
  tools = {
    helm: join(bin, 'helm'),
    kubernetesValidate: join(bin, 'kubernetes-validate'),
    hadolint: join(bin, 'hadolint'),
  };
  return tools;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    env: options.env ?? process.env,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `--set` style overrides and values files for one render. */
export interface RenderOptions {
  readonly valuesFiles?: readonly string[];
  readonly set?: readonly string[];
  readonly setString?: readonly string[];
  readonly namespace?: string;
  readonly chartDir?: string;
  /** Render without the default sink below (the chart must then refuse). */
  readonly noSink?: boolean;
}

/**
 * The chart refuses to render without a sink, so every render gets one unless a test asks not
 * to. A values file, passed first: the test's own values files and --set override it (a --set
 * would override every file).
 */
const DEFAULT_SINK_FILE = join(mkdtempSync(join(tmpdir(), 'chart-sink-')), 'a-sink-values.yaml');
writeFileSync(DEFAULT_SINK_FILE, 'kafka:\n  brokers: [kafka.example.internal:9096]\n');

function valueArgs(options: RenderOptions): string[] {
  const args: string[] = options.noSink === true ? [] : ['-f', DEFAULT_SINK_FILE];
  for (const file of options.valuesFiles ?? []) args.push('-f', file);
  for (const item of options.set ?? []) args.push('--set', item);
  for (const item of options.setString ?? []) args.push('--set-string', item);
  return args;
}

export function helmTemplate(options: RenderOptions = {}): RunResult {
  return run(ensureTools().helm, [
    'template',
    'audit',
    options.chartDir ?? CHART_DIR,
    '--namespace',
    options.namespace ?? 'security',
    '--kube-version',
    KUBE_VERSION,
    ...valueArgs(options),
  ]);
}

export function helmLint(options: RenderOptions = {}): RunResult {
  return run(ensureTools().helm, [
    'lint',
    '--strict',
    options.chartDir ?? CHART_DIR,
    ...valueArgs(options),
  ]);
}

/** A Kubernetes manifest as parsed from YAML (loosely typed: tests navigate it). */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0)
        throw new Error(`rendered YAML is invalid: ${doc.errors[0]?.message ?? ''}`);
      return doc.toJS() as unknown;
    })
    .filter((doc): doc is Manifest => typeof doc === 'object' && doc !== null);
}

/** Renders and parses; fails the test with helm's message when the render fails. */
export function render(options: RenderOptions = {}): Manifest[] {
  const result = helmTemplate(options);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

export function findKind(manifests: readonly Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

export function only(manifests: readonly Manifest[], kind: string): Manifest {
  const found = findKind(manifests, kind);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, found ${found.length}`);
  return found[0] as Manifest;
}

/** Property access on loosely typed manifest trees: `at(sts, 'spec', 'template', 'spec')`. */
export function at(value: unknown, ...path: Array<string | number>): unknown {
  let node = value;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
