// The binary's conventions: --help on every command and subcommand (exit 0, every option),
// --version, and a clear refusal on a Node.js older than package.json's engines.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { REPO_ROOT } from './chart/chart-tools.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');

function cli(args: string[], node = process.execPath) {
  const result = spawnSync(node, [CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

/** Every option each command's argument parser accepts (src/commands/*). */
const OPTIONS: Record<string, readonly string[]> = {
  run: ['--reset-checkpoints', '--reset-all-checkpoints', '--yes', '--help'],
  backfill: ['--from', '--to', '--log-group', '--dry-run', '--rate', '--state-dir', '--help'],
  parse: ['--log-group', '--log-stream', 'FILE', '--help'],
  'config validate': ['--file', '--help'],
  'config print': ['--file', '--help'],
  config: ['validate', 'print', '--file', '--help'],
  simulate: [
    '--clusters',
    '--hsms',
    '--records',
    '--log-group-prefix',
    '--seed',
    '--gap',
    '--live',
    '--help',
  ],
  'dead-letter': [
    'list',
    'replay',
    '--from-file',
    '--from-topic',
    '--since',
    '--reason',
    '--sink',
    '--dry-run',
  ],
  'dead-letter list': ['--from-file', '--from-topic', '--since', '--reason', '--help'],
  'dead-letter replay': [
    '--from-file',
    '--from-topic',
    '--since',
    '--reason',
    '--sink',
    '--dry-run',
    '--help',
  ],
};

describe('cli', () => {
  for (const [command, options] of Object.entries(OPTIONS)) {
    for (const flag of ['--help', '-h']) {
      it(`${command} ${flag} prints the usage with every option, exit 0`, () => {
        const { status, out, err } = cli([...command.split(' '), flag]);
        assert.equal(status, 0, err);
        assert.match(out, /^Usage: cloudhsm-audit-forwarder /);
        for (const option of options) assert.ok(out.includes(option), `${command}: ${option}`);
      });
    }
  }

  it('--help after other options still helps (nothing runs)', () => {
    const { status, out } = cli(['backfill', '--from', '2026-01-01', '--help']);
    assert.equal(status, 0);
    assert.match(out, /--state-dir/);
  });

  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const { status, out } = cli([flag]);
      assert.equal(status, 0);
      assert.equal(out, `cloudhsm-audit-forwarder ${version}\n`);
    }
  });

  it('an unknown option names itself and exits 2', () => {
    const { status, err } = cli(['run', '--frobnicate']);
    assert.equal(status, 2);
    assert.match(err, /--frobnicate/);
  });

  /** A node on PATH older than the engines range (the machine's own Node 20 on CI). */
  function olderNode(): string | undefined {
    let found: string[];
    try {
      found = execFileSync('bash', ['-c', 'which -a node'], { encoding: 'utf8' })
        .trim()
        .split('\n');
    } catch {
      return undefined;
    }
    return found.find((path) => {
      try {
        const major = Number(
          execFileSync(path, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }),
        );
        return major < 24;
      } catch {
        return false;
      }
    });
  }

  it('refuses an older Node.js in one clear line, exit 2', (t) => {
    const node = olderNode();
    if (node === undefined) {
      t.skip('no node older than 24 on PATH');
      return;
    }
    const { status, out, err } = cli(['run'], node);
    assert.equal(status, 2, err);
    assert.equal(out, '');
    assert.match(
      err,
      /^cloudhsm-audit-forwarder: Node\.js \d+\.[\d.]+ is not supported: this release needs Node \^24\.11\.0 or \^26/,
    );
    assert.match(err, /tools\/forwarder\.sh/);
  });
});
