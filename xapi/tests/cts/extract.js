// Extracts the statement-structure cases of the ADL LRS Conformance Test Suite into JSON
// fixtures (statement + expected status) so that the xapi crate can check every one offline.
//
// usage: node extract.js <suite>/test/v2_0 > cts_v2_0.json
// It reproduces helper.convertTemplate / helper.createTestObject and the `extend` package's
// deep merge (jQuery semantics), without needing the suite's npm dependencies.
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');

const dir = path.resolve(process.argv[2]);
const templatesDir = path.join(dir, 'templates');
const configsDir = path.join(dir, 'configs');

function isPlainObject(o) {
  return o !== null && typeof o === 'object' && !Array.isArray(o);
}
function extend(target, ...sources) {
  for (const source of sources) {
    if (source == null) continue;
    for (const name of Object.keys(source)) {
      const src = target[name];
      const copy = source[name];
      if (target === copy) continue;
      if (copy && (isPlainObject(copy) || Array.isArray(copy))) {
        let clone;
        if (Array.isArray(copy)) clone = Array.isArray(src) ? src : [];
        else clone = isPlainObject(src) ? src : {};
        target[name] = extend(clone, copy);
      } else if (copy !== undefined) {
        target[name] = copy;
      }
    }
  }
  return target;
}
function mapping() {
  const m = {};
  for (const folder of fs.readdirSync(templatesDir)) {
    m[folder] = {};
    for (const file of fs.readdirSync(path.join(templatesDir, folder))) {
      if (file.indexOf('.json') <= 0) continue;
      const data = JSON.parse(fs.readFileSync(path.join(templatesDir, folder, file), 'utf8'));
      m[folder][file.substring(0, file.indexOf('.json'))] = extend({}, data);
    }
  }
  return m;
}
function convertTemplate(list) {
  const mapper = mapping();
  return list.map((item) => {
    const key = Object.keys(item)[0];
    const value = item[key];
    if (typeof value === 'string' && value.indexOf('{{') === 0 && value.indexOf('}}') === value.length - 2) {
      let nested = mapper;
      for (const part of value.slice(2, -2).split('.')) {
        nested = nested[part];
        if (!nested) throw new Error('Not mapped: ' + value);
      }
      return { [key]: nested };
    }
    return item;
  });
}
function createTestObject(array) {
  let from = {};
  array.reverse();
  array.forEach((to, index) => {
    if (index === 0) { from = to; return; }
    extend(to[Object.keys(to)[0]], from);
    from = to;
  });
  return from;
}
// configs that require('./../../helper.js') only use generateUUID
const origResolve = Module._resolveFilename;
const fakeHelper = path.join(__dirname, '__fake_helper.js');
Module._resolveFilename = function (request, parent, ...rest) {
  if (request.endsWith('helper.js')) return fakeHelper;
  return origResolve.call(this, request, parent, ...rest);
};
require.cache[fakeHelper] = {
  id: fakeHelper, filename: fakeHelper, loaded: true,
  exports: { generateUUID: () => '0f5b6a2e-3c7d-4e8f-9a1b-2c3d4e5f6a7b' },
};
const out = [];
for (const file of fs.readdirSync(configsDir).sort()) {
  if (!file.endsWith('.js')) continue;
  const cfg = require(path.join(configsDir, file)).config();
  for (const suite of cfg) {
    for (const test of suite.config) {
      let data;
      try {
        if (test.templates) {
          const obj = createTestObject(convertTemplate(test.templates));
          data = obj[Object.keys(obj)[0]];
        } else {
          data = test.json;
        }
      } catch (e) {
        out.push({ file, suite: suite.name, name: test.name, error: String(e) });
        continue;
      }
      out.push({ file, suite: suite.name, name: test.name, expect: test.expect[0], statement: data });
    }
  }
}
process.stdout.write("[\n" + out.map((c) => JSON.stringify(c)).join(",\n") + "\n]\n");
