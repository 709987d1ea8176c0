/**
 * One IAM policy: docs/iam-policy.json is the source of truth. The README and the chart README
 * each show it in the ```json block that follows the marker
 * `<!-- iam-policy: docs/iam-policy.json -->`, and that block must equal the file. The policy
 * grants exactly the AWS API calls the forwarder makes: every `new …Command(` of an AWS SDK
 * client in src/ (the simulator, which writes to the emulator only, excepted), nothing more.
 *
 * IAM_POLICY_DOCS (comma-separated paths, relative to the repository) replaces the checked
 * documents, e.g. to see the test fail on older versions of them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '../../..');
const POLICY_FILE = 'docs/iam-policy.json';
const DOCUMENTS = process.env.IAM_POLICY_DOCS?.split(',') ?? [
  'README.md',
  'helm/cloudhsm-audit-forwarder/README.md',
];
const MARKER = `<!-- iam-policy: ${POLICY_FILE}`;
/** Code that talks to the emulator only, never with the forwarder's role. */
const NOT_THE_FORWARDER = ['src/simulator/'];
/** IAM service prefix of each AWS SDK client package the forwarder uses. */
const IAM_PREFIX: Readonly<Record<string, string>> = {
  'client-cloudwatch-logs': 'logs',
  'client-cloudhsm-v2': 'cloudhsm',
  'client-sts': 'sts',
};

interface Statement {
  readonly Action: string | readonly string[];
}

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The JSON of the first ```json block after each marker of a markdown text. */
export function markedPolicies(text: string): unknown[] {
  const policies: unknown[] = [];
  for (let at = text.indexOf(MARKER); at >= 0; at = text.indexOf(MARKER, at + 1)) {
    const block = /^```json\n([\s\S]*?)^```$/m.exec(text.slice(at));
    assert.ok(block, `no \`\`\`json block after the marker at offset ${String(at)}`);
    policies.push(JSON.parse(block[1] ?? ''));
  }
  return policies;
}

/** Every ```json block of a markdown text that grants a CloudWatch Logs action. */
export function logsPolicies(text: string): unknown[] {
  const found: unknown[] = [];
  for (const match of text.matchAll(/^ *```json\n([\s\S]*?)^ *```$/gm)) {
    const source = match[1] ?? '';
    if (!/"logs:/.test(source)) continue;
    found.push(JSON.parse(source));
  }
  return found;
}

function policyActions(policy: { Statement: readonly Statement[] }): string[] {
  return policy.Statement.flatMap((s) => (typeof s.Action === 'string' ? [s.Action] : s.Action));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `logs:GetLogEvents` for each AWS SDK command a source file imports as a value and constructs. */
export function sdkActions(path: string, text: string): string[] {
  const actions: string[] = [];
  const imports = /import\s+(type\s+)?\{([^}]*)\}\s+from\s+'@aws-sdk\/([\w-]+)'/g;
  for (const [, typeOnly, names = '', pkg = ''] of text.matchAll(imports)) {
    if (typeOnly !== undefined) continue;
    for (const spec of names.split(',')) {
      const name = /^\s*([A-Za-z]\w*)Command\s*$/.exec(spec)?.[1];
      if (name === undefined || !new RegExp(`new ${name}Command\\(`).test(text)) continue;
      const prefix = IAM_PREFIX[pkg];
      assert.ok(prefix, `${path}: ${name}Command of @aws-sdk/${pkg}: add its IAM prefix here`);
      actions.push(`${prefix}:${name}`);
    }
  }
  return actions;
}

describe('the IAM policy', () => {
  const policy = JSON.parse(read(POLICY_FILE)) as { Statement: readonly Statement[] };

  for (const document of DOCUMENTS) {
    it(`${document} shows exactly ${POLICY_FILE}`, () => {
      const text = read(document);
      const marked = markedPolicies(text);
      assert.equal(marked.length, 1, `${document}: one block after "${MARKER} -->"`);
      assert.deepEqual(marked[0], policy, `${document}: copy ${POLICY_FILE} into the block`);
      // No other copy, older or partial, of a policy for the forwarder's role.
      for (const other of logsPolicies(text)) assert.deepEqual(other, policy, document);
      const link = relative(join(ROOT, document, '..'), join(ROOT, POLICY_FILE));
      assert.ok(text.includes(`](${link})`), `${document}: link to ${link}`);
    });
  }

  it('grants the AWS calls the forwarder makes, and nothing more', () => {
    const files = sourceFiles('src').filter(
      (path) => !NOT_THE_FORWARDER.some((dir) => path.startsWith(dir)),
    );
    const called = new Set(files.flatMap((path) => sdkActions(path, read(path))));
    assert.ok(called.has('logs:GetLogEvents'), 'the scan finds the SDK calls');
    assert.deepEqual([...new Set(policyActions(policy))].sort(), [...called].sort());
  });

  it('finds commands, markers and stray copies (so it can fail)', () => {
    const source = [
      "import { A, GetLogEventsCommand, type X } from '@aws-sdk/client-cloudwatch-logs';",
      "import type { ListTagsCommand } from '@aws-sdk/client-cloudhsm-v2';",
      "import { DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';",
      'new GetLogEventsCommand({});',
      'new ListTagsCommand({});',
    ].join('\n');
    assert.deepEqual(sdkActions('src/x.ts', source), ['logs:GetLogEvents']);
    const markdown = [
      `${MARKER} -->`,
      '',
      '```json',
      '{ "a": 1 }',
      '```',
      '',
      '  ```json',
      '  { "Action": "logs:GetLogEvents" }',
      '  ```',
    ].join('\n');
    assert.deepEqual(markedPolicies(markdown), [{ a: 1 }]);
    assert.deepEqual(logsPolicies(markdown), [{ Action: 'logs:GetLogEvents' }]);
  });
});
