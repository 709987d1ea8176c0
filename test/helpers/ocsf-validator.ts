// Offline OCSF 1.1.0 validation for tests: the compiled JSON Schemas (test/ocsf/schemas, built by
// scripts/compile-ocsf-schemas.ts) plus the semantic checks (docs/ocsf-mapping.md, Validation) that JSON
// Schema cannot express, in the spirit of the OCSF server's /api/v2/validate.
import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';

import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';

interface EnumInfo {
  sibling: string;
  captions: Record<string, string>;
}
interface ClassEntry {
  name: string;
  caption: string;
  class_uid: number;
  category_uid: number;
  category_caption: string;
  profiles: string[];
  file: string;
  activities: Record<string, string>;
  enums: Record<string, EnumInfo>;
}
interface SchemaIndex {
  ocsf_version: string;
  known_profiles: string[];
  classes: ClassEntry[];
  object_enums: Record<string, Record<string, EnumInfo>>;
}
interface SchemaNode {
  type?: string;
  $ref?: string;
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  definitions?: Record<string, SchemaNode>;
}
interface Compiled {
  entry: ClassEntry;
  root: SchemaNode;
  validate: ValidateFunction;
}

const OTHER = 99;
// Milliseconds since the epoch between 1973 and 5138: catches seconds and microseconds.
const MIN_MS = 1e11;
const MAX_MS = 1e14;

const schemaUrl = (file: string) => new URL(`../ocsf/schemas/${file}`, import.meta.url);
const readJson = (file: string): unknown => JSON.parse(readFileSync(schemaUrl(file), 'utf8'));

let index: SchemaIndex | undefined;
export function ocsfSchemaIndex(): SchemaIndex {
  index ??= readJson('index.json') as SchemaIndex;
  return index;
}

// verbose: the anyOf/oneOf branches are needed to word constraint errors readably.
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const compiled = new Map<string, Compiled>();
const keyOf = (classUid: number, profiles: readonly string[]) =>
  `${classUid}|${[...profiles].sort().join(',')}`;

function schemaFor(classUid: number, profiles: readonly string[]): Compiled | undefined {
  const key = keyOf(classUid, profiles);
  let hit = compiled.get(key);
  if (hit) return hit;
  const entry = ocsfSchemaIndex().classes.find((c) => keyOf(c.class_uid, c.profiles) === key);
  if (!entry) return undefined;
  const root = readJson(entry.file) as SchemaNode;
  hit = { entry, root, validate: ajv.compile(root) };
  compiled.set(key, hit);
  return hit;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const quote = (v: unknown) => JSON.stringify(v);
const at = (path: string) => (path === '' ? '/' : path);

function formatAjvErrors(errors: readonly ErrorObject[]): string[] {
  const grouped = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const out: string[] = [];
  for (const e of errors) {
    // Branch failures of a constraint are summarised by the constraint's own error.
    if (grouped.some((g) => g !== e && e.schemaPath.startsWith(`${g.schemaPath}/`))) continue;
    const where = at(e.instancePath);
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      const branches = Array.isArray(e.schema) ? (e.schema as { required?: string[] }[]) : [];
      const names = branches.flatMap((b) => b.required ?? []).map((n) => `'${n}'`);
      const how = e.keyword === 'anyOf' ? 'at least one' : 'exactly one';
      out.push(`${where}: must have ${how} of ${names.join(', ')}`);
    } else if (e.keyword === 'additionalProperties') {
      out.push(
        `${where}: must NOT have additional property '${String(params.additionalProperty)}'`,
      );
    } else if (e.keyword === 'enum') {
      const allowed = (params.allowedValues as unknown[]).map(quote).join(', ');
      out.push(`${where}: must be one of ${allowed} (got ${quote(e.data)})`);
    } else if (e.keyword === 'const') {
      out.push(`${where}: must be ${quote(params.allowedValue)} (got ${quote(e.data)})`);
    } else {
      out.push(`${where}: ${e.message ?? e.keyword}`);
    }
  }
  return [...new Set(out)];
}

function refName(node: SchemaNode | undefined): string | undefined {
  return node?.$ref?.replace('#/definitions/', '');
}

// Walks event and schema together so each nested object knows its OCSF object type.
function checkSiblings(
  value: Record<string, unknown>,
  node: SchemaNode,
  enums: Record<string, EnumInfo>,
  root: SchemaNode,
  path: string,
  problems: string[],
): void {
  for (const [key, info] of Object.entries(enums)) {
    const id = value[key];
    const name = value[info.sibling];
    if (typeof id !== 'number' || id === OTHER || name === undefined) continue;
    const caption = info.captions[String(id)];
    if (caption !== undefined && name !== caption) {
      problems.push(
        `${path}/${info.sibling}: must be ${quote(caption)} for ${key} ${id} (got ${quote(name)})`,
      );
    }
  }
  const objectEnums = ocsfSchemaIndex().object_enums;
  for (const [key, child] of Object.entries(value)) {
    const prop = node.properties?.[key];
    const isArray = prop?.type === 'array';
    const type = refName(isArray ? prop?.items : prop);
    const def = type === undefined ? undefined : root.definitions?.[type];
    if (type === undefined || !def) continue;
    const items = isArray && Array.isArray(child) ? child : [child];
    items.forEach((item, i) => {
      if (!isRecord(item)) return;
      const where = isArray ? `${path}/${key}/${i}` : `${path}/${key}`;
      checkSiblings(item, def, objectEnums[type] ?? {}, root, where, problems);
    });
  }
}

function resolvesToAttribute(root: SchemaNode, name: string): boolean {
  let node: SchemaNode | undefined = root;
  for (const segment of name.replace(/\[\d*\]/g, '').split('.')) {
    let prop: SchemaNode | undefined = node?.properties?.[segment];
    if (!prop) return false;
    if (prop.type === 'array' && prop.items) prop = prop.items;
    const type = refName(prop);
    node = type === undefined ? prop : root.definitions?.[type];
  }
  return node !== undefined;
}

function semanticChecks(event: Record<string, unknown>, c: Compiled, problems: string[]): void {
  const { entry } = c;
  const activityId = event.activity_id;
  if (typeof activityId === 'number') {
    const expected = entry.class_uid * 100 + activityId;
    if (event.type_uid !== expected) {
      problems.push(
        `/type_uid: must be ${expected} (class_uid ${entry.class_uid} * 100 + activity_id ${activityId}), got ${quote(event.type_uid)}`,
      );
    }
    const activity =
      activityId === OTHER ? event.activity_name : entry.activities[String(activityId)];
    const typeName = `${entry.caption}: ${typeof activity === 'string' ? activity : 'Other'}`;
    if (event.type_name !== undefined && event.type_name !== typeName) {
      problems.push(`/type_name: must be ${quote(typeName)} (got ${quote(event.type_name)})`);
    }
  }
  const names: [string, string][] = [
    ['class_name', entry.caption],
    ['category_name', entry.category_caption],
  ];
  for (const [key, caption] of names) {
    if (event[key] !== undefined && event[key] !== caption) {
      problems.push(`/${key}: must be ${quote(caption)} (got ${quote(event[key])})`);
    }
  }
  checkSiblings(event, c.root, entry.enums, c.root, '', problems);

  const observables = Array.isArray(event.observables) ? event.observables : [];
  observables.forEach((o, i) => {
    const name = isRecord(o) ? o.name : undefined;
    if (typeof name === 'string' && !resolvesToAttribute(c.root, name)) {
      problems.push(
        `/observables/${i}/name: ${quote(name)} is not an attribute path of ${entry.name} with profiles [${entry.profiles.join(', ')}]`,
      );
    }
  });

  const time = event.time;
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < MIN_MS || time >= MAX_MS) {
    problems.push(`/time: must be an integer number of milliseconds since the epoch`);
  }
  if ('raw_data' in event && typeof event.raw_data !== 'string') {
    problems.push('/raw_data: must be a string when present');
  }
  const metadata = isRecord(event.metadata) ? event.metadata : {};
  if (typeof metadata.uid !== 'string' || metadata.uid === '') {
    problems.push('/metadata/uid: must be a non-empty string');
  }
}

/** Validates one OCSF 1.1.0 event; returns readable problems, or [] when the event is valid. */
export function validateOcsfEvent(event: unknown): string[] {
  if (!isRecord(event)) return ['/: must be an object'];
  const { known_profiles: knownProfiles, ocsf_version: version } = ocsfSchemaIndex();
  const problems: string[] = [];
  const metadata = isRecord(event.metadata) ? event.metadata : {};
  if (metadata.version !== version) {
    problems.push(`/metadata/version: must be ${quote(version)} (got ${quote(metadata.version)})`);
  }
  const declared = metadata.profiles;
  const profiles = Array.isArray(declared)
    ? declared.filter((p): p is string => typeof p === 'string')
    : [];
  for (const p of profiles.filter((p) => !knownProfiles.includes(p))) {
    problems.push(`/metadata/profiles: unknown profile ${quote(p)}`);
  }
  const classUid = event.class_uid;
  const c = typeof classUid === 'number' ? schemaFor(classUid, profiles) : undefined;
  if (!c) {
    const supported = ocsfSchemaIndex()
      .classes.map((e) => `${e.class_uid} [${e.profiles.join(', ')}]`)
      .join('; ');
    problems.push(
      `/class_uid: no compiled schema for class_uid ${quote(classUid)} with profiles [${profiles.join(', ')}] (compiled: ${supported})`,
    );
    return problems;
  }
  if (!c.validate(event)) problems.push(...formatAjvErrors(c.validate.errors ?? []));
  semanticChecks(event, c, problems);
  return problems;
}

/** Throws an AssertionError listing every problem when the event is not valid OCSF 1.1.0. */
export function assertValidOcsf(event: unknown): void {
  const problems = validateOcsfEvent(event);
  if (problems.length > 0) {
    throw new AssertionError({
      message: `invalid OCSF event (${problems.length} problem(s)):\n  ${problems.join('\n  ')}`,
      actual: problems,
      expected: [],
      operator: 'validateOcsfEvent',
    });
  }
}
