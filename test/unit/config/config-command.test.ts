import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { runConfigCommand } from '../../../src/commands/config-command.js';
import { packageRoot } from '../../../src/config/package-info.js';
import { UsageError } from '../../../src/util/errors.js';

const root = packageRoot();
const dir = mkdtempSync(join(tmpdir(), 'fwd-config-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI with a clean environment (only PATH and the given variables). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at /m, `stack trace in: ${text}`);
}

describe('config command (spawned CLI)', () => {
  it('config validate prints "configuration OK" and exits 0', async () => {
    const run = await cli(['config', 'validate'], { OPENSEARCH_URL: 'http://127.0.0.1:9200' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'configuration OK\n');
  });

  it('config validate refuses what run refuses: no sink enabled (exit 2)', async () => {
    const run = await cli(['config', 'validate']);
    assert.equal(run.code, 2, run.stdout);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /no sink is enabled/);
    assert.match(run.stderr, /KAFKA_BROKERS/);
    assert.match(run.stderr, /OPENSEARCH_URL/);
    assertNoStack(run.stderr);
  });

  it('config validate reports every problem of a file in one run', async () => {
    const file = join(dir, 'six-problems.json');
    writeFileSync(
      file,
      JSON.stringify({
        opensearch: { url: 'http://127.0.0.1:9200', indexPrefx: 'x', bulkMaxDocs: '50' },
        kafka: { brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'plain', username: 'u' } },
        http: { port: 70000 },
        pipeline: { maxInFlightBatches: 2, maxInFlightBatchesPerStream: 8 },
      }),
    );
    const run = await cli(['config', 'validate', '--file', file]);
    assert.equal(run.code, 2);
    const expected = [
      /unknown key "opensearch\.indexPrefx"/, // file shape
      /opensearch\.bulkMaxDocs .*must be a JSON number/, // file type
      /http\.port/, // convict range
      /maxInFlightBatchesPerStream .*must not exceed/, // cross-field
      /kafka\.sasl\.passwordFile .*required/, // secrets
      /clear text/, // SASL PLAIN without TLS
    ];
    for (const pattern of expected) assert.match(run.stderr, pattern);
    assert.match(run.stderr, /\(6 problems\)/);
    assertNoStack(run.stderr);
  });

  it('config print never shows a password set via env or via file', async () => {
    const passwordFile = join(dir, 'os-password');
    writeFileSync(passwordFile, 'S3cr3t-file-known\n');
    const run = await cli(['config', 'print'], {
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'forwarder',
      KAFKA_SASL_PASSWORD: 'S3cr3t-known',
      KAFKA_SSL_ENABLED: 'true',
      OPENSEARCH_URL: 'https://127.0.0.1:9200',
      OPENSEARCH_USERNAME: 'admin',
      OPENSEARCH_PASSWORD_FILE: passwordFile,
    });
    assert.equal(run.code, 0, run.stderr);
    const all = run.stdout + run.stderr;
    assert.ok(!all.includes('S3cr3t-known'));
    assert.ok(!all.includes('S3cr3t-file-known'));
    const printed = JSON.parse(run.stdout) as {
      kafka: { sasl: { password: string; username: string } };
      opensearch: { password: string; passwordFile: string };
    };
    assert.equal(printed.kafka.sasl.password, '[redacted]');
    assert.equal(printed.kafka.sasl.username, 'forwarder');
    assert.equal(printed.opensearch.password, '[redacted]');
    assert.equal(printed.opensearch.passwordFile, passwordFile);
  });

  it('exits 2 naming the key for a wrong type, without a stack trace', async () => {
    const run = await cli(['config', 'validate'], { HTTP_PORT: 'abc' });
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /http\.port \(env HTTP_PORT\)/);
    assert.match(run.stderr, /"abc"/);
    assertNoStack(run.stderr);
  });

  it('exits 2 naming the key and path of a missing secret file', async () => {
    const missing = join(dir, 'not-mounted', 'password');
    const run = await cli(['config', 'print'], {
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD_FILE: missing,
    });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /kafka\.sasl\.passwordFile/);
    assert.ok(run.stderr.includes(missing));
    assertNoStack(run.stderr);
  });

  it('exits 2 naming an unknown key of --file', async () => {
    const file = join(dir, 'typo.json');
    writeFileSync(file, JSON.stringify({ opensearch: { indexPrefx: 'x' } }));
    const run = await cli(['config', 'validate', '--file', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown key "opensearch\.indexPrefx"/);
    assertNoStack(run.stderr);
  });
});

describe('runConfigCommand (in process)', () => {
  function capture(): { write(text: string): boolean; text: string } {
    return {
      text: '',
      write(text: string) {
        this.text += text;
        return true;
      },
    };
  }

  it('prints the effective configuration for --file F and --file=F', async () => {
    const file = join(dir, 'port.json');
    writeFileSync(file, JSON.stringify({ http: { port: 9100 } }));
    for (const args of [
      ['print', '--file', file],
      ['print', `--file=${file}`],
    ]) {
      const stdout = capture();
      assert.equal(await runConfigCommand(args, { stdout, env: {} }), 0);
      assert.equal((JSON.parse(stdout.text) as { http: { port: number } }).http.port, 9100);
    }
  });

  it('rejects unknown subcommands, flags and a missing --file value', async () => {
    for (const args of [[], ['show'], ['validate', '--verbose'], ['print', '--file']]) {
      await assert.rejects(
        runConfigCommand(args, { stdout: capture(), env: {} }),
        (error: unknown) => error instanceof UsageError && error.code === 'FWD_ERR_USAGE',
        args.join(' '),
      );
    }
  });

  it('rejects a bad configuration with a config error', async () => {
    await assert.rejects(
      runConfigCommand(['validate'], { stdout: capture(), env: { LOG_LEVEL: 'loud' } }),
      (error: unknown) => error instanceof UsageError && error.code === 'FWD_ERR_CONFIG',
    );
  });
});
