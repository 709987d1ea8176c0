/**
 * Dockerfile checks (issue 8). No Docker engine exists here, so the image is not built: hadolint
 * lints it and a static test holds the properties the chart relies on (numeric non-root USER,
 * node started directly, multi-stage with production-only dependencies, Node 26 runtime, the
 * checkpoint volume).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { REPO_ROOT, TOOLS_TIMEOUT_MS, ensureTools, run } from './chart-tools.js';

const DOCKERFILE = join(REPO_ROOT, 'Dockerfile');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions with line continuations joined and comments dropped; ARGs before FROM resolved. */
function parseDockerfile(text: string): { stages: Stage[]; globalArgs: Map<string, string> } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/s.exec(line);
    const keyword = (match?.[1] ?? '').toUpperCase();
    const args = (match?.[2] ?? '').trim();
    if (keyword === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      const from = image.replace(/\$\{?(\w+)\}?/g, (_, v: string) => globalArgs.get(v) ?? '');
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (keyword === 'ARG') {
        const [name = '', value = ''] = args.split('=');
        globalArgs.set(name, value);
      }
    } else {
      stages.at(-1)?.instructions.push({ keyword, args });
    }
  }
  return { stages, globalArgs };
}

const { stages } = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const final = stages.at(-1) as Stage;

function finalArgs(keyword: string): string[] {
  return final.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

describe('Dockerfile: hadolint', { timeout: TOOLS_TIMEOUT_MS }, () => {
  before(() => ensureTools(), { timeout: TOOLS_TIMEOUT_MS });

  it('passes hadolint with no finding at any level (ignored rules must be inline, with a reason)', () => {
    const result = run(ensureTools().hadolint, ['--no-color', '--format', 'json', DOCKERFILE]);
    const findings = JSON.parse(result.stdout || '[]') as Array<{
      code: string;
      level: string;
      line: number;
      message: string;
    }>;
    assert.deepEqual(
      findings.map((f) => `${f.level} ${f.code} line ${f.line}: ${f.message}`),
      [],
    );
    assert.equal(result.status, 0, result.stderr);
    // Every inline ignore carries an explanation on the same or the previous comment line.
    const lines = readFileSync(DOCKERFILE, 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (/hadolint ignore=/.test(line)) {
        const reason = line.replace(/#\s*hadolint ignore=\S+/, '').trim();
        const previous = (lines[index - 1] ?? '').trim();
        assert.ok(reason.length > 0 || previous.startsWith('#'), `line ${index + 1}: reason`);
      }
    });
  });
});

describe('Dockerfile: static properties', () => {
  it('is multi-stage: build with dev dependencies, a separate production-only dependency stage', () => {
    assert.ok(stages.length >= 3, `${stages.length} stages`);
    const runs = (stage: Stage): string =>
      stage.instructions
        .filter((i) => i.keyword === 'RUN')
        .map((i) => i.args)
        .join('\n');
    const build = stages.find((s) => /npm run build/.test(runs(s)));
    assert.ok(build, 'a stage runs npm run build');
    assert.match(
      runs(build),
      /npm ci(?![^\n]*--omit=dev)/,
      'the build stage installs dev dependencies',
    );
    const prod = stages.find((s) => /npm ci[^\n]*--omit=dev/.test(runs(s)));
    assert.ok(prod?.name, 'a named stage runs npm ci --omit=dev');
    const copies = finalArgs('COPY');
    const modules = copies.find((c) => /node_modules/.test(c));
    assert.match(
      modules ?? '',
      new RegExp(`--from=${prod.name}\\b`),
      'node_modules come from the production stage',
    );
    assert.ok(
      !copies.some((c) => /^(?!--from)/.test(c)),
      'the runtime stage copies only from other stages',
    );
  });

  it('builds on the exact .nvmrc Node and runs on the same line (distroless nodejs26, nonroot)', () => {
    const pinned = readFileSync(join(REPO_ROOT, '.nvmrc'), 'utf8').trim();
    const line = pinned.split('.')[0] ?? '';
    assert.match(
      final.from,
      new RegExp(`^gcr\\.io/distroless/nodejs${line}-debian\\d+:nonroot(@sha256:[a-f0-9]{64})?$`),
      `final stage runs distroless nodejs${line} as nonroot`,
    );
    for (const stage of stages.filter((s) => s !== final)) {
      assert.match(
        stage.from,
        new RegExp(`^node:${pinned.replaceAll('.', '\\.')}-[\\w-]+(@sha256:[a-f0-9]{64})?$`),
        `${stage.name ?? stage.from} builds on Node ${pinned}, the version in .nvmrc`,
      );
    }
    for (const stage of stages) {
      assert.match(stage.from, /:[\w.-]+(@sha256:[a-f0-9]{64})?$/, `${stage.from} is pinned`);
      assert.doesNotMatch(stage.from, /:latest\b/);
    }
  });

  it('runs as a numeric non-root USER in the final stage', () => {
    const users = finalArgs('USER');
    assert.ok(users.length > 0, 'final stage sets USER');
    const user = users.at(-1) ?? '';
    assert.match(user, /^\d+(:\d+)?$/, `USER ${user} is numeric (runAsNonRoot can verify it)`);
    assert.notEqual(Number(user.split(':')[0]), 0, 'not root');
  });

  it('starts node directly in exec form: no npm, no shell as PID 1', () => {
    const entry = [...finalArgs('ENTRYPOINT'), ...finalArgs('CMD')];
    assert.ok(entry.length > 0);
    for (const args of entry) {
      assert.match(args, /^\[.*\]$/, `exec form: ${args}`);
      const argv = JSON.parse(args) as string[];
      assert.ok(
        !argv.some((a) => /(^|\/)(npm|npx|yarn|pnpm|sh|bash)$/.test(a)),
        `no npm/shell: ${args}`,
      );
    }
    const entrypoint = JSON.parse(finalArgs('ENTRYPOINT').at(-1) ?? '[]') as string[];
    assert.match(entrypoint[0] ?? '', /(^|\/)node$/, 'the entrypoint is node');
    assert.ok(
      entrypoint.some((a) => a.endsWith('dist/src/cli.js')),
      'runs the compiled CLI',
    );
    assert.deepEqual(JSON.parse(finalArgs('CMD').at(-1) ?? '[]'), ['run']);
  });

  it('sets NODE_ENV=production, OCI labels, and the checkpoint paths on a declared volume', () => {
    const env = finalArgs('ENV').join(' ');
    assert.match(env, /NODE_ENV=production/);
    const checkpointDir = /CHECKPOINT_DIR=(\S+)/.exec(env)?.[1] ?? '';
    const deadLetter = /DEAD_LETTER_FILE=(\S+)/.exec(env)?.[1] ?? '';
    const volumes = finalArgs('VOLUME').flatMap((v) => JSON.parse(v) as string[]);
    assert.ok(volumes.includes('/tmp'), '/tmp is a volume');
    for (const path of [checkpointDir, deadLetter]) {
      assert.ok(
        volumes.some((v) => path.startsWith(`${v}/`)),
        `${path} is on a volume`,
      );
    }
    const labels = finalArgs('LABEL').join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'licenses', 'base.name']) {
      assert.match(
        labels,
        new RegExp(`org\\.opencontainers\\.image\\.${key.replace('.', '\\.')}=`),
      );
    }
  });

  it('has no HEALTHCHECK, and says why', () => {
    const text = readFileSync(DOCKERFILE, 'utf8');
    const healthchecks = finalArgs('HEALTHCHECK');
    assert.ok(
      healthchecks.every((h) => h === 'NONE'),
      'HEALTHCHECK is absent or NONE',
    );
    assert.match(text, /#[^\n]*No HEALTHCHECK[^\n]*\n(#[^\n]*\n)*/);
    assert.match(text, /probes/);
  });

  it('has a .dockerignore that keeps node_modules, .git and tests out but lets the COPY sources in', () => {
    const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    // Allow-list style: everything ignored, then re-included paths.
    assert.equal(ignore[0], '*');
    const allowed = ignore
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    for (const forbidden of ['node_modules', '.git', 'test', 'dist', 'helm', '.env']) {
      assert.ok(!allowed.includes(forbidden), `${forbidden} is not sent to the build`);
    }
    assert.ok(ignore.includes('**/node_modules'));
    const sources = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    assert.ok(sources.length > 0);
    for (const source of sources) {
      assert.ok(allowed.includes(source.replace(/\/$/, '')), `${source} is in the build context`);
      assert.ok(existsSync(join(REPO_ROOT, source)), `${source} exists in the repository`);
    }
  });
});
