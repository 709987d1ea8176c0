/**
 * Comments and docs cite only files in the repository. Design notes kept outside it (the team's
 * steering notes, research notes) are not shipped with the code, so a reference to one is a
 * dangling pointer for every reader of the repository; what the code relies on lives in docs/.
 * Also: every relative link and every backticked `docs/….md` path in the markdown resolves.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '../../..');
const SCANNED = ['src', 'test', 'tools', 'bench', 'scripts', 'docs', 'helm', 'config', 'README.md'];
const TEXT = /\.(ts|js|mjs|cjs|md|json|ya?ml|sh|tpl|txt)$/;
const SELF = relative(ROOT, import.meta.filename);

function files(path: string): string[] {
  const abs = join(ROOT, path);
  if (!existsSync(abs)) return [];
  if (!statSync(abs).isDirectory()) return [path];
  return readdirSync(abs, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const child = join(path, entry.name);
    return entry.isDirectory() ? files(child) : TEXT.test(entry.name) ? [child] : [];
  });
}

/** Numbered headings of a markdown file ("## 3. Markers" → "3"), the targets of its bare "§N". */
function ownSections(text: string): Set<string> {
  return new Set([...text.matchAll(/^#+\s+(\d+(?:\.\d+)*)\.?\s/gm)].map((m) => m[1] ?? ''));
}

/** References in one file to notes outside the repository, as "file:line: reason: text". */
export function danglingReferences(path: string, text: string): string[] {
  const found: string[] = [];
  const isMarkdown = path.endsWith('.md');
  const sections = isMarkdown ? ownSections(text) : new Set<string>();
  text.split('\n').forEach((line, index) => {
    const at = `${path}:${String(index + 1)}`;
    const report = (reason: string): void => {
      found.push(`${at}: ${reason}: ${line.trim()}`);
    };
    if (/\bdesign(\.md)?\s?§/i.test(line)) report('design note section');
    if (/\bissue #\d+/i.test(line)) report('issue tracker number');
    if (/\b(style anchors|format note|checklist)\s?§/i.test(line)) report('outside note');
    if (/shared\/[\w-]+\.md/.test(line)) report('design note outside the repository');
    for (const match of line.matchAll(/\bdocs\/[\w-]+\.md/g)) {
      if (!existsSync(join(ROOT, match[0]))) report(`${match[0]} does not exist`);
    }
    for (const match of line.matchAll(/([\w./-]+\.md)\s?§/g)) {
      const name = match[1] ?? '';
      const candidates = [
        join(ROOT, name),
        join(ROOT, 'docs', name),
        join(ROOT, dirname(path), name),
      ];
      if (!candidates.some((c) => existsSync(c))) report(`${name} is not in the repository`);
    }
    if (found.some((f) => f.startsWith(`${at}: `))) return; // one reason per line is enough
    for (const match of line.matchAll(/§\s?(\d+(?:\.\d+)*)/g)) {
      if (/\.md\s?$/.test(line.slice(0, match.index))) continue; // judged above, with its file
      if (!isMarkdown || !sections.has(match[1] ?? '')) report('bare § with no section here');
    }
  });
  return found;
}

/** Relative links and backticked docs/ paths of a markdown file that resolve to nothing. */
export function brokenLinks(path: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = (match[1] ?? '').split('#')[0] ?? '';
    if (target === '' || /^[a-z]+:/i.test(target)) continue;
    if (!existsSync(join(ROOT, dirname(path), target))) found.push(`${path}: link to ${target}`);
  }
  for (const match of text.matchAll(/`(docs\/[\w./-]+\.md)/g)) {
    const target = match[1] ?? '';
    if (!existsSync(join(ROOT, target))) found.push(`${path}: \`${target}\``);
  }
  return found;
}

describe('references to files', () => {
  const scanned = SCANNED.flatMap(files).filter((path) => path !== SELF);

  it('scans the source, tests, tools, docs and chart', () => {
    for (const expected of ['src/cli.ts', 'README.md', 'docs/architecture.md']) {
      assert.ok(scanned.includes(expected), `${expected} not scanned`);
    }
  });

  it('finds no reference to design notes outside the repository', () => {
    const found = scanned.flatMap((path) =>
      danglingReferences(path, readFileSync(join(ROOT, path), 'utf8')),
    );
    assert.deepEqual(found, [], `cite a file in the repository instead:\n${found.join('\n')}`);
  });

  it('finds every relative link and docs/ path of the markdown pages', () => {
    const pages = scanned.filter((path) => path.endsWith('.md'));
    const found = pages.flatMap((path) =>
      brokenLinks(path, readFileSync(join(ROOT, path), 'utf8')),
    );
    assert.deepEqual(found, [], `fix or remove these links:\n${found.join('\n')}`);
  });

  it('catches each kind of dangling reference (so the scan can fail)', () => {
    const sample = [
      '// design §3.2 env names',
      '// (issue #6)',
      '// style anchors §5.1',
      '// ocsf-mapping-notes.md §7.6',
      '// key order follows §7.6',
      '- `../shared/design.md`',
      '// (docs/missing-page.md)',
    ].join('\n');
    assert.equal(danglingReferences('src/x.ts', sample).length, 7);
    assert.deepEqual(danglingReferences('docs/x.md', '## 3. Markers\nsee §3'), []);
    assert.deepEqual(danglingReferences('src/x.ts', '// (docs/architecture.md, Layers)'), []);
    assert.equal(brokenLinks('README.md', '[a](docs/nope.md) `docs/gone.md`').length, 2);
    assert.deepEqual(
      brokenLinks('README.md', '[a](docs/architecture.md#layers) [b](https://x)'),
      [],
    );
  });
});
