// Compiles the raw OCSF 1.1.0 schema files into draft-07 JSON Schemas, one per (class, profile
// set), mirroring the OCSF server's rules (test/ocsf/README.md). The output is committed so
// the tests run without the raw files.
//
// Usage: npx tsx scripts/compile-ocsf-schemas.ts [raw-schema-dir] (default ../shared/ocsf-schema)
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Adding a class or profile set is one line here.
const TARGETS: readonly { readonly name: string; readonly profiles: readonly string[] }[] = [
  { name: 'authentication', profiles: ['cloud', 'host'] },
  { name: 'authentication', profiles: ['cloud'] },
  { name: 'account_change', profiles: ['cloud', 'host'] },
  { name: 'account_change', profiles: ['cloud'] },
  { name: 'entity_management', profiles: ['cloud', 'host'] },
  { name: 'entity_management', profiles: ['cloud'] },
  { name: 'detection_finding', profiles: ['cloud', 'host'] },
  { name: 'detection_finding', profiles: ['cloud'] },
];

const OCSF_VERSION = '1.1.0';
const COMMENT = `Generated from OCSF ${OCSF_VERSION} by scripts/compile-ocsf-schemas.ts. Do not edit by hand; regenerate instead.`;

type Json = Record<string, unknown>;
interface EnumEntry {
  caption?: string;
}
interface Attr {
  type?: string;
  caption?: string;
  is_array?: boolean;
  enum?: Record<string, EnumEntry>;
  sibling?: string;
  requirement?: string;
  profile?: string | null;
}
interface RawFile {
  name?: string;
  caption?: string;
  extends?: string;
  category?: string;
  uid?: number;
  meta?: string;
  observable?: number;
  attributes?: Record<string, unknown>;
  constraints?: Record<string, string[]>;
}
interface Resolved {
  name: string;
  caption: string;
  category?: string;
  uid?: number;
  attributes: Record<string, Attr>;
  constraints: Record<string, string[]>;
}
interface ScalarType {
  caption?: string;
  type?: string;
  max_len?: number;
  regex?: string;
  range?: [number, number];
  observable?: number;
}
interface EnumInfo {
  sibling: string;
  captions: Record<string, string>;
}

const isRecord = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// Child values win; nested maps (attribute definitions, enums) merge like the server's deep_merge.
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isRecord(base) || !isRecord(over)) return over === undefined ? base : over;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isRecord(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  );
}

const readJson = (path: string): RawFile => JSON.parse(readFileSync(path, 'utf8')) as RawFile;

function readTree(dir: string): Map<string, RawFile> {
  const out = new Map<string, RawFile>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    const file = readJson(join(entry.parentPath, entry.name));
    out.set(file.name ?? basename(entry.name, '.json'), file);
  }
  return out;
}

const rawDir = resolve(
  process.argv[2] ?? fileURLToPath(new URL('../../shared/ocsf-schema', import.meta.url)),
);
const outDir = fileURLToPath(new URL('../test/ocsf/schemas/', import.meta.url));

const dictionary = JSON.parse(readFileSync(join(rawDir, 'dictionary.json'), 'utf8')) as {
  attributes: Record<string, Attr>;
  types: { attributes: Record<string, ScalarType> };
};
const types = dictionary.types.attributes;
const categories = readJson(join(rawDir, 'categories.json')).attributes as Record<
  string,
  { caption: string; uid: number }
>;
const objects = readTree(join(rawDir, 'objects'));
const events = readTree(join(rawDir, 'events'));
const knownProfiles = readdirSync(join(rawDir, 'profiles'))
  .map((f) => basename(f, '.json'))
  .sort();

// A file's own attributes: `$include`d files first (profile attributes tagged with the profile
// name), then the file's own definitions on top, so `"profile": null` can untag an attribute.
function ownAttributes(file: RawFile): Record<string, Attr> {
  const { $include, ...own } = file.attributes ?? {};
  const includes = typeof $include === 'string' ? [$include] : (($include ?? []) as string[]);
  let attrs: Json = {};
  for (const inc of includes) {
    const included = readJson(join(rawDir, inc));
    for (const [k, v] of Object.entries(included.attributes ?? {})) {
      const tagged = included.meta === 'profile' ? { ...(v as Json), profile: included.name } : v;
      attrs = deepMerge(attrs, { [k]: tagged }) as Json;
    }
  }
  return deepMerge(attrs, own) as Record<string, Attr>;
}

function resolveChain(files: Map<string, RawFile>, name: string): Resolved {
  const file = files.get(name);
  if (!file) throw new Error(`OCSF definition not found: ${name}`);
  const own: Resolved = {
    name,
    caption: file.caption ?? name,
    ...(file.category === undefined ? {} : { category: file.category }),
    ...(file.uid === undefined ? {} : { uid: file.uid }),
    attributes: ownAttributes(file),
    constraints: file.constraints ?? {},
  };
  if (!file.extends) return own;
  const parent = resolveChain(files, file.extends);
  return {
    ...own,
    ...(own.category === undefined && parent.category !== undefined
      ? { category: parent.category }
      : {}),
    attributes: deepMerge(parent.attributes, own.attributes) as Record<string, Attr>,
    // The server replaces, not merges, constraints (an empty map clears the parent's).
    constraints: file.constraints ?? parent.constraints,
  };
}

// Observable type ids are not an enum in the files: they come from scalar types and objects.
function observableTypeEnum(): Record<string, EnumEntry> {
  const out: Record<string, EnumEntry> = {};
  for (const t of Object.values(types)) {
    if (t.observable !== undefined) out[String(t.observable)] = { caption: t.caption ?? '' };
  }
  for (const o of objects.values()) {
    if (o.observable !== undefined) out[String(o.observable)] = { caption: o.caption ?? '' };
  }
  return out;
}

function finalAttributes(
  owner: string,
  attrs: Record<string, Attr>,
  profiles: readonly string[],
): [string, Attr][] {
  const out: [string, Attr][] = [];
  for (const [key, local] of Object.entries(attrs)) {
    const dict = dictionary.attributes[key];
    if (!dict) throw new Error(`${owner}.${key}: not in dictionary.json`);
    const attr = deepMerge(dict, local) as Attr;
    if (attr.profile && !profiles.includes(attr.profile)) continue;
    if (owner === 'observable' && key === 'type_id') {
      attr.enum = { ...attr.enum, ...observableTypeEnum() };
    }
    out.push([key, attr]);
  }
  return out.sort(([a], [b]) => a.localeCompare(b));
}

const enumKeys = (e: Record<string, EnumEntry>, integer: boolean): (number | string)[] =>
  integer
    ? Object.keys(e)
        .map(Number)
        .sort((a, b) => a - b)
    : Object.keys(e).sort();

function scalarSchema(typeName: string, attr: Attr): Json {
  const schema: Json = {};
  let name: string | undefined = typeName;
  let base = typeName;
  while (name !== undefined) {
    const t: ScalarType | undefined = types[name];
    if (!t) throw new Error(`unknown scalar type ${name}`);
    // The most specific type in the chain wins for each facet.
    if (t.max_len !== undefined) schema.maxLength ??= t.max_len;
    if (t.regex !== undefined) schema.pattern ??= t.regex;
    if (t.range !== undefined) {
      schema.minimum ??= t.range[0];
      schema.maximum ??= t.range[1];
    }
    base = name;
    name = t.type;
  }
  const jsonType = {
    string_t: 'string',
    integer_t: 'integer',
    long_t: 'integer',
    float_t: 'number',
    boolean_t: 'boolean',
  }[base];
  if (jsonType !== undefined) schema.type = jsonType;
  if (attr.enum) schema.enum = enumKeys(attr.enum, jsonType === 'integer');
  return schema;
}

function compileTarget(className: string, profiles: readonly string[]) {
  const definitions: Json = {};
  const objectEnums: Record<string, Record<string, EnumInfo>> = {};

  function enumsOf(attrs: [string, Attr][]): Record<string, EnumInfo> {
    const out: Record<string, EnumInfo> = {};
    for (const [key, a] of attrs) {
      if (!a.enum || !a.sibling || a.is_array) continue;
      const captions = Object.fromEntries(
        Object.entries(a.enum).map(([id, e]) => [id, e.caption ?? '']),
      );
      out[key] = { sibling: a.sibling, captions };
    }
    return out;
  }

  function attributeSchema(attr: Attr): Json {
    const type = attr.type ?? 'string_t';
    let schema: Json;
    if (type in types) schema = scalarSchema(type, attr);
    else schema = objectRef(type);
    schema = attr.is_array ? { type: 'array', items: schema } : schema;
    return attr.caption ? { title: attr.caption, ...schema } : schema;
  }

  function objectRef(name: string): Json {
    if (!(name in definitions)) {
      const obj = resolveChain(objects, name);
      const attrs = finalAttributes(name, obj.attributes, profiles);
      // The generic `object` (e.g. `unmapped`) has no attributes and accepts anything.
      if (attrs.length === 0) return { type: 'object' };
      definitions[name] = {}; // placeholder so self/mutual references terminate
      definitions[name] = shape(obj, attrs);
      const enums = enumsOf(attrs);
      if (Object.keys(enums).length > 0) objectEnums[name] = enums;
    }
    return { $ref: `#/definitions/${name}` };
  }

  function shape(def: Resolved, attrs: [string, Attr][], overrides: Json = {}): Json {
    const present = new Set(attrs.map(([k]) => k));
    const properties = Object.fromEntries(
      attrs.map(([k, a]) => [k, overrides[k] ?? attributeSchema(a)]),
    );
    const required = attrs.filter(([, a]) => a.requirement === 'required').map(([k]) => k);
    const schema: Json = { title: def.caption, type: 'object', properties };
    if (required.length > 0) schema.required = required;
    schema.additionalProperties = false;
    // Dotted constraint paths (nested attributes) do not occur in the compiled classes.
    const branches = (keys: string[] | undefined) =>
      (keys ?? []).filter((k) => present.has(k)).map((k) => ({ required: [k] }));
    const atLeastOne = branches(def.constraints.at_least_one);
    const justOne = branches(def.constraints.just_one);
    if (atLeastOne.length > 0) schema.anyOf = atLeastOne;
    if (justOne.length > 0) schema.oneOf = justOne;
    return schema;
  }

  const cls = resolveChain(events, className);
  const category = categories[cls.category ?? ''];
  const categoryUid = category?.uid ?? 0;
  const classUid = categoryUid * 1000 + (cls.uid ?? 0);
  const attrs = finalAttributes(className, cls.attributes, profiles);
  const activityEnum = cls.attributes.activity_id?.enum ?? {};
  const mergedActivities = { ...dictionary.attributes.activity_id?.enum, ...activityEnum };
  const activityIds = enumKeys(mergedActivities, true) as number[];
  const overrides: Json = {
    class_uid: { title: 'Class ID', type: 'integer', const: classUid },
    category_uid: { title: 'Category ID', type: 'integer', const: categoryUid },
    type_uid: {
      title: 'Type ID',
      type: 'integer',
      enum: activityIds.map((a) => classUid * 100 + a),
    },
  };
  const schema: Json = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://schema.ocsf.io/${OCSF_VERSION}/classes/${className}?profiles=${profiles.join(',')}`,
    $comment: COMMENT,
    ...shape(cls, attrs, overrides),
  };
  const classEnums = enumsOf(attrs);
  delete classEnums.class_uid;
  delete classEnums.category_uid;
  if (Object.keys(definitions).length > 0) schema.definitions = definitions;
  const file = `${className.replaceAll('_', '-')}.${profiles.join('-')}.schema.json`;
  const entry = {
    name: className,
    caption: cls.caption,
    class_uid: classUid,
    category: cls.category ?? 'other',
    category_uid: categoryUid,
    category_caption: category?.caption ?? 'Uncategorized',
    profiles,
    file,
    activities: Object.fromEntries(
      activityIds.map((id) => [String(id), mergedActivities[String(id)]?.caption ?? '']),
    ),
    enums: classEnums,
  };
  return { schema, entry, objectEnums };
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const write = (file: string, data: unknown) =>
  writeFileSync(join(outDir, file), `${JSON.stringify(sortKeys(data), null, 2)}\n`);

const entries: unknown[] = [];
const allObjectEnums: Record<string, Record<string, EnumInfo>> = {};
for (const target of TARGETS) {
  const profiles = [...target.profiles].sort();
  const { schema, entry, objectEnums } = compileTarget(target.name, profiles);
  write(entry.file, schema);
  entries.push(entry);
  Object.assign(allObjectEnums, objectEnums);
  process.stdout.write(`wrote ${entry.file}\n`);
}
write('index.json', {
  $comment: COMMENT,
  ocsf_version: OCSF_VERSION,
  known_profiles: knownProfiles,
  classes: entries,
  object_enums: allObjectEnums,
});
process.stdout.write(`wrote index.json (${entries.length} schemas)\n`);
