// Local ESLint rule `layers/layers`: each folder of src/ may import only the folders its row of
// LAYERS allows, so the dependency graph between folders stays the DAG docs/architecture.md
// draws (no upward import, hence no folder-level cycle). The table lives here and only here.
import { dirname, relative, resolve, sep } from 'node:path';

/**
 * Who may import whom. Keys are the layers of src/ (a folder, or a file directly in src/); each
 * value maps an importable layer to 'all' (values and types) or 'types' (`import type` only).
 * A key naming a file (`sink/outbound-event.ts`) grants that one file more than its folder's
 * entry. A layer may always import its own files.
 */
export const LAYERS = {
  util: {},
  config: { util: 'all' },
  transform: { util: 'all' },
  // The checkpoint persists the transform state, typed and read by its owner (saved-state.ts).
  checkpoint: { util: 'all', transform: 'all' },
  source: { util: 'all', checkpoint: 'all', config: 'types' },
  sink: { util: 'all', transform: 'types', config: 'types' },
  // The provider builds the snapshot the pure enricher reads (`emptySnapshot`, transform/).
  enrichment: { util: 'all', transform: 'all', config: 'types' },
  simulator: { util: 'all', transform: 'types', config: 'types' },
  pipeline: {
    util: 'all',
    transform: 'all',
    source: 'types',
    sink: 'types',
    // The serialized form both sinks take, built once per event by the transform step.
    'sink/outbound-event.ts': 'all',
  },
  telemetry: {
    util: 'all',
    config: 'all',
    source: 'types',
    sink: 'types',
    pipeline: 'types',
    // The refusal reasons, pre-registered as metric labels so dashboards see zeros.
    'sink/sink.ts': 'all',
  },
  'app.ts': {
    util: 'all',
    config: 'all',
    transform: 'all',
    checkpoint: 'all',
    source: 'all',
    sink: 'all',
    enrichment: 'all',
    simulator: 'all',
    pipeline: 'all',
    telemetry: 'all',
  },
  commands: { 'app.ts': 'all', config: 'all', transform: 'all', util: 'all' },
  'cli.ts': { commands: 'all', 'app.ts': 'all', config: 'all', transform: 'all', util: 'all' },
};

/** The layer of a path relative to src/ (`source/batch.ts` → `source`, `app.ts` → `app.ts`). */
export function layerOf(relativePath) {
  return relativePath.split(/[\\/]/)[0];
}

function isTypeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specifiers = node.specifiers ?? [];
  return (
    specifiers.length > 0 &&
    specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type')
  );
}

const rule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Enforces the import table of docs/architecture.md between src/ folders.',
    },
    schema: [],
    messages: {
      upward:
        '{{from}} may not import {{target}} ({{what}}); allowed for {{from}}: {{allowed}}. ' +
        'Move the shared part down to a layer both may use, or pass it in from app.ts ' +
        '(table: eslint-rules/layers.js, docs/architecture.md).',
      unknown:
        '{{from}} is not a layer of eslint-rules/layers.js: add its row to LAYERS and to ' +
        'docs/architecture.md.',
    },
  },
  create(context) {
    const filename = context.filename;
    const srcDir = resolve(context.cwd, 'src');
    const fromRel = relative(srcDir, filename);
    if (fromRel.startsWith('..') || fromRel.startsWith(sep) || !/\.ts$/.test(fromRel)) return {};
    const from = layerOf(fromRel);
    const allowed = LAYERS[from];

    function check(node, source, typeOnly) {
      if (typeof source?.value !== 'string' || !source.value.startsWith('.')) return;
      const targetRel = relative(srcDir, resolve(dirname(filename), source.value))
        .replace(/\.js$/, '.ts')
        .split(sep)
        .join('/');
      if (targetRel.startsWith('..')) return;
      const target = layerOf(targetRel);
      if (target === from) return;
      if (allowed === undefined) {
        context.report({ node, messageId: 'unknown', data: { from } });
        return;
      }
      const grant = allowed[targetRel] ?? allowed[target];
      if (grant === 'all' || (grant === 'types' && typeOnly)) return;
      context.report({
        node,
        messageId: 'upward',
        data: {
          from,
          target: targetRel,
          what: grant === 'types' ? 'values; only `import type` is allowed' : 'not in the table',
          allowed:
            Object.entries(allowed)
              .map(([layer, kind]) => (kind === 'types' ? `${layer} (types)` : layer))
              .join(', ') || 'nothing',
        },
      });
    }

    return {
      ImportDeclaration: (node) => check(node, node.source, isTypeOnly(node)),
      ExportNamedDeclaration: (node) => check(node, node.source, isTypeOnly(node)),
      ExportAllDeclaration: (node) => check(node, node.source, node.exportKind === 'type'),
      ImportExpression: (node) => check(node, node.source, false),
    };
  },
};

export const layersPlugin = { rules: { layers: rule } };
