/**
 * The layer table (eslint-rules/layers.js, docs/architecture.md) is enforced: the rule fires on
 * an upward import and on a value import where only types are allowed, the table itself is a
 * DAG (so no folder-level cycle can pass lint), src/ follows it, and no file-level import cycle
 * exists inside src/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

import { LAYERS, layersPlugin } from '../../../eslint-rules/layers.js';
import { findCycles, importGraph } from './import-graph.js';

const ROOT = join(import.meta.dirname, '../../..');
const SRC = join(ROOT, 'src');

/** Only the layers rule, without type information, so snippets need not be project files. */
function layersOnly(): ESLint {
  return new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['src/**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { layers: layersPlugin },
        rules: { 'layers/layers': 'error' },
      },
    ],
  });
}

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await layersOnly().lintText(code, { filePath: join(ROOT, filePath) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('layers lint rule', () => {
  it('is switched on for src/ by the repository config', async () => {
    const config = (await new ESLint({ cwd: ROOT }).calculateConfigForFile(
      join(SRC, 'checkpoint/file-store.ts'),
    )) as { rules?: Record<string, unknown> };
    assert.deepEqual(config.rules?.['layers/layers'], [2]);
  });

  it('fires on an upward import (the checkpoint store importing the source)', async () => {
    const errors = await layerErrors(
      'src/checkpoint/upward.ts',
      "import { extractSequence } from '../source/batch.js';\nexport const x = extractSequence;\n",
    );
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /^layers\/layers: checkpoint may not import source\/batch\.ts/);
  });

  it('fires on an import that closes a folder cycle (source importing the pipeline)', async () => {
    const errors = await layerErrors(
      'src/source/cycle.ts',
      "import type { Pipeline } from '../pipeline/pipeline.js';\nexport type P = Pipeline;\n",
    );
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /source may not import pipeline\/pipeline\.ts/);
  });

  it('allows only `import type` where the table says types', async () => {
    const value = await layerErrors(
      'src/pipeline/value.ts',
      "import { CloudWatchSource } from '../source/cloudwatch-source.js';\nexport const s = CloudWatchSource;\n",
    );
    assert.equal(value.length, 1, value.join('\n'));
    assert.match(value[0] ?? '', /only `import type` is allowed/);
    for (const code of [
      "import type { CloudWatchSource } from '../source/cloudwatch-source.js';\nexport type S = CloudWatchSource;\n",
      "import { type CloudWatchSource } from '../source/cloudwatch-source.js';\nexport type S = CloudWatchSource;\n",
      "export type { CloudWatchSource } from '../source/cloudwatch-source.js';\n",
    ]) {
      assert.deepEqual(await layerErrors('src/pipeline/types.ts', code), [], code);
    }
  });

  it('checks re-exports, dynamic imports and util/, which may import nothing', async () => {
    const errors = await layerErrors(
      'src/util/bad.ts',
      "export { loadConfig } from '../config/load.js';\nexport const m = () => import('../app.js');\n",
    );
    assert.equal(errors.length, 2, errors.join('\n'));
  });

  it('passes every file of src/', async () => {
    const results = await layersOnly().lintFiles(['src/**/*.ts']);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}: ${m.message}`));
    assert.deepEqual(problems, []);
    assert.ok(results.length > 50, `linted ${results.length} files`);
  });
});

describe('layer table', () => {
  it('has a row for every folder and top-level file of src/, and names only those', () => {
    const layers = readdirSync(SRC).filter((name) => !name.endsWith('.md'));
    assert.deepEqual(Object.keys(LAYERS).sort(), layers.sort());
    for (const [layer, allowed] of Object.entries(LAYERS)) {
      for (const target of Object.keys(allowed)) {
        const folder = target.split('/')[0] ?? '';
        assert.ok(layers.includes(folder), `${layer} names unknown layer ${target}`);
      }
    }
  });

  it('is a DAG, so no folder-level cycle can pass lint', () => {
    const graph = new Map(
      Object.entries(LAYERS).map(([layer, allowed]) => [
        layer,
        [...new Set(Object.keys(allowed).map((t) => t.split('/')[0] ?? ''))],
      ]),
    );
    assert.deepEqual(findCycles(graph), []);
  });

  it('is the one written down in docs/architecture.md', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    for (const [layer, allowed] of Object.entries(LAYERS)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${layer}`));
      assert.ok(row !== undefined, `docs/architecture.md has no row for ${layer}`);
      for (const [target, kind] of Object.entries(allowed)) {
        const cell = kind === 'types' ? `\`${target}\` (types)` : `\`${target}\``;
        assert.ok(row.includes(cell), `row ${layer} lacks ${cell}: ${row}`);
      }
    }
  });
});

describe('import graph of src/', () => {
  it('has no file-level cycle', () => {
    const graph = importGraph(SRC);
    assert.ok(graph.size > 50);
    assert.deepEqual(findCycles(graph), []);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    assert.deepEqual(findCycles(graph), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });
});
