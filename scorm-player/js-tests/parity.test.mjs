// The shim's tables against the Rust ones they mirror: model.rs (elements, collections, groups,
// vocabularies, versions), error.rs (fault codes, error strings) and interaction.rs (types).
// A change to one side without the other fails here. The Rust source is read as text, with
// white space normalised, so formatting changes do not matter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Scorm from '../assets/api.js';

const runtimeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'runtime');
const source = (name) =>
  readFileSync(join(runtimeDir, name), 'utf8')
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, ' ')
    .replace(/,\s*([)}\]])/g, ' $1');

const modelRs = source('model.rs');
const errorRs = source('error.rs');
const interactionRs = source('interaction.rs');

/** `const NAME: &[&str] = &[ "a", "b" ];` → {NAME: ["a", "b"]} */
function stringLists(text) {
  const lists = {};
  for (const match of text.matchAll(/const (\w+): &\[&str\] = &\[([^\]]*)\]/g)) {
    lists[match[1]] = [...match[2].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  }
  return lists;
}

const vocabularies = { ...stringLists(modelRs), ...stringLists(interactionRs) };

function rustValue(text) {
  const t = text.trim();
  if (t === 'None') return null;
  const some = /^Some\((.*)\)$/.exec(t);
  if (some) return rustValue(some[1]);
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  throw new Error(`unparsed Rust value ${t}`);
}

/** `Kind::Name`, `Kind::Name(arg)`, `Kind::Name { field: value, … }` as the shim writes kinds. */
function rustKind(text) {
  const t = text.trim();
  let match = /^Kind::(\w+)$/.exec(t);
  if (match) return { type: match[1] };
  match = /^Kind::(\w+)\((.*)\)$/.exec(t);
  if (match) {
    const arg = match[2].trim();
    if (/^\d+$/.test(arg)) return { type: match[1], limit: Number(arg) };
    const name = arg.split('::').pop();
    assert.ok(vocabularies[name], `vocabulary ${name} found in the Rust source`);
    return { type: match[1], words: vocabularies[name] };
  }
  match = /^Kind::(\w+) \{(.*)\}$/.exec(t);
  if (match) {
    const kind = { type: match[1] };
    for (const field of match[2].split(',')) {
      const [name, value] = field.split(':');
      kind[name.trim()] = rustValue(value);
    }
    return kind;
  }
  throw new Error(`unparsed kind ${t}`);
}

function rustModel(name) {
  const start = modelRs.indexOf(`static ${name}: Model = Model {`);
  assert.ok(start >= 0, `${name} found in model.rs`);
  const end = modelRs.indexOf('};', start);
  const text = modelRs.slice(start, end);
  const access = { RO: 'ReadOnly', RW: 'ReadWrite', WO: 'WriteOnly' };
  const defs = [
    ...text.matchAll(
      /def\( ?"([^"]+)", (RO|RW|WO), (Kind::\w+(?: \{[^}]*\}|\([^)]*\))?), (Unset|Value\("([^"]*)"\)) ?\)/g,
    ),
  ].map((m) => ({
    path: m[1],
    access: access[m[2]],
    kind: rustKind(m[3]),
    initial: m[4] === 'Unset' ? null : m[5],
  }));
  const collections = [
    ...text.matchAll(
      /Collection \{ path: "([^"]+)", children: (None|Some\( ?"([^"]*)" ?\)), created_by: (None|Some\("([^"]+)"\)), writable: (true|false) \}/g,
    ),
  ].map((m) => ({
    path: m[1],
    children: m[2] === 'None' ? null : m[3],
    createdBy: m[4] === 'None' ? null : m[5],
    writable: m[6] === 'true',
  }));
  const groups = [...text.matchAll(/Group \{ path: "([^"]+)", children: "([^"]*)" \}/g)].map((m) => ({
    path: m[1],
    children: m[2],
  }));
  const occurrences = (pattern) => (text.match(pattern) || []).length;
  assert.equal(defs.length, occurrences(/\bdef\(/g), `every def( row of ${name} parsed`);
  assert.equal(collections.length, occurrences(/Collection \{/g), `every collection of ${name} parsed`);
  assert.equal(groups.length, occurrences(/Group \{/g), `every group of ${name} parsed`);
  const version = /version: "([^"]+)"/.exec(text)[1];
  const unimplementedText = /unimplemented: &\[([^\]]*)\]/.exec(text)[1];
  const unimplemented = [...unimplementedText.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  return { version, defs, collections, groups, unimplemented };
}

for (const [name, js] of [
  ['SCORM12', Scorm.SCORM12],
  ['SCORM2004', Scorm.SCORM2004],
]) {
  test(`${name}: the element table matches model.rs row for row`, () => {
    const rust = rustModel(name);
    assert.ok(rust.defs.length >= 30, `parsed ${rust.defs.length} defs from model.rs`);
    assert.equal(js.version, rust.version);
    assert.deepEqual(
      js.defs.map((d) => ({ path: d.path, access: d.access, kind: { ...d.kind }, initial: d.initial })),
      rust.defs,
    );
  });

  test(`${name}: collections, groups and unimplemented families match model.rs`, () => {
    const rust = rustModel(name);
    assert.ok(rust.collections.length >= 4 && rust.groups.length >= 3);
    assert.deepEqual(js.collections, rust.collections);
    assert.deepEqual(js.groups, rust.groups);
    assert.deepEqual(js.unimplemented, rust.unimplemented);
  });
}

test('fault codes match error.rs for both versions', () => {
  const rows = [...errorRs.matchAll(/\(Fault::(\w+), (\d+), (\d+)\)/g)].map((m) => [
    m[1],
    [Number(m[2]), Number(m[3])],
  ]);
  assert.ok(rows.length >= 30, `parsed ${rows.length} fault rows`);
  assert.deepEqual(Scorm.FAULT_CODES, Object.fromEntries(rows));
});

test('error strings match error.rs for both versions', () => {
  for (const [name, js] of [
    ['SCORM12_ERRORS', Scorm.SCORM12_ERRORS],
    ['SCORM2004_ERRORS', Scorm.SCORM2004_ERRORS],
  ]) {
    const start = errorRs.indexOf(`pub const ${name}`);
    const text = errorRs.slice(start, errorRs.indexOf('];', start));
    const rows = [...text.matchAll(/\((\d+), "([^"]*)"\)/g)].map((m) => [Number(m[1]), m[2]]);
    assert.ok(rows.length >= 10);
    assert.deepEqual(js, rows, name);
  }
});

test('the SCORM 2004 interaction types match interaction.rs', () => {
  const typeDef = Scorm.SCORM2004.defs.find((d) => d.path === 'cmi.interactions.n.type');
  assert.deepEqual(typeDef.kind.words, vocabularies.TYPES);
  const oneTypes = /"true-false" \| "likert" \| "numeric" \| "other" => Some\(1\)/.test(interactionRs);
  assert.ok(oneTypes, 'interaction.rs still caps true-false, likert, numeric and other at one pattern');
});

test('the default options match RuntimeOptions::default()', () => {
  const modRs = source('mod.rs');
  const body = /fn default\(\) -> Self \{ Self \{ (strict: false, max_value_chars: [^}]*) \} \}/.exec(modRs);
  assert.ok(body, 'RuntimeOptions::default found in mod.rs');
  const evaluate = (expr) => expr.split('*').reduce((product, factor) => product * Number(factor.trim()), 1);
  const fields = Object.fromEntries(
    body[1].split(',').map((field) => {
      const [key, value] = field.split(':').map((s) => s.trim());
      return [key, value === 'false' ? false : value === 'true' ? true : evaluate(value)];
    }),
  );
  assert.deepEqual({ ...Scorm.DEFAULT_OPTIONS }, fields);
});
