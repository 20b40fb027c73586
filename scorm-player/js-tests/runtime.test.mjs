// The run-time data model beyond the shared cases: that the cases reach every row of both
// tables, and what only the browser side has (argument coercion, the API with no delivery,
// LMS-side failures, typed errors for bad launch data, the payload of a resumed session).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Scorm from '../assets/api.js';

const casesDir = join(dirname(fileURLToPath(import.meta.url)), 'cases');
const cases = readdirSync(casesDir)
  .filter((name) => name.endsWith('.json'))
  .flatMap((file) => JSON.parse(readFileSync(join(casesDir, file), 'utf8')));

const template = (element) => element.replace(/\.\d+(?=\.|$)/g, '.n');

function touched(version12) {
  const gets = new Set();
  const sets = new Set();
  for (const c of cases) {
    if ((c.version === '1.2') !== version12) continue;
    for (const [method, element] of c.calls) {
      if (/GetValue$/.test(method)) gets.add(template(element));
      if (/SetValue$/.test(method)) sets.add(template(element));
    }
  }
  return { gets, sets };
}

for (const [name, model, is12] of [
  ['SCORM 1.2', Scorm.SCORM12, true],
  ['SCORM 2004', Scorm.SCORM2004, false],
]) {
  test(`${name}: the shared cases read and write every element and keyword`, () => {
    const { gets, sets } = touched(is12);
    for (const d of model.defs) {
      assert.ok(gets.has(d.path), `GetValue(${d.path}) is in a case`);
      assert.ok(sets.has(d.path), `SetValue(${d.path}) is in a case`);
    }
    for (const node of [...model.groups, ...model.collections.filter((c) => c.children)]) {
      assert.ok(gets.has(`${node.path}._children`), `GetValue(${node.path}._children) is in a case`);
    }
    for (const collection of model.collections) {
      assert.ok(gets.has(`${collection.path}._count`), `GetValue(${collection.path}._count) is in a case`);
    }
    assert.ok(gets.has('cmi._version'));
  });
}

function running(version, init = {}) {
  const runtime = new Scorm.Runtime({ version, ...init });
  assert.equal(runtime.initialize('').ok, true);
  return runtime;
}

test('the SCO may pass numbers and leave arguments out', () => {
  const runtime = new Scorm.Runtime({ version: '1.2' });
  const queue = { enqueue: () => 1, flushWithBeacon: () => 0, settled: async () => true };
  const session = new Scorm.ScoSession({ runtime, queue, commitIntervalMs: 0 });
  const bridge = new Scorm.ApiBridge('Scorm12');
  bridge.attach(session);
  const api = bridge.api;
  assert.equal(api.LMSInitialize(), 'true', 'a missing argument is the empty string');
  assert.equal(api.LMSSetValue('cmi.core.score.raw', 85), 'true');
  assert.equal(api.LMSGetValue('cmi.core.score.raw'), '85');
  assert.equal(api.LMSGetLastError(), '0');
  assert.equal(api.LMSGetErrorString(405), 'Incorrect data type');
  assert.equal(api.LMSGetErrorString('not a code'), '');
  assert.equal(api.LMSGetErrorString('99999'), '');
  assert.equal(api.LMSSetValue('cmi.core.lesson_status'), 'false', 'a missing value is ""');
  assert.equal(api.LMSGetLastError(), '405');
  assert.equal(api.LMSGetValue(), '');
  assert.equal(api.LMSGetLastError(), '201');
});

test('between deliveries every call fails with 101 and nothing is thrown', () => {
  for (const [model, init, get, last] of [
    ['Scorm12', 'LMSInitialize', 'LMSGetValue', 'LMSGetLastError'],
    ['Scorm2004', 'Initialize', 'GetValue', 'GetLastError'],
  ]) {
    const bridge = new Scorm.ApiBridge(model);
    const window = {};
    bridge.install(window);
    const api = window[Scorm.API_GLOBALS[model]];
    assert.equal(api[last](), '0');
    assert.equal(api[init](''), 'false');
    assert.equal(api[last](), '101');
    assert.equal(api[get]('cmi.mode'), '');
    assert.ok(Object.isFrozen(api), 'the SCO cannot replace the API methods');
  }
});

test('a commit the LMS could not store is reported on the next GetLastError', () => {
  const runtime = running('2004 4th Edition');
  runtime.recordFailure('Commit', 'the server refused a commit: values[0]');
  assert.equal(runtime.lastError, 391);
  assert.equal(runtime.diagnostic(391), 'the server refused a commit: values[0]');
  assert.equal(runtime.getValue('cmi.mode').ok, true);
  assert.equal(runtime.lastError, 0, 'a successful call clears it');
  for (const [call, code] of [
    ['Initialize', 102],
    ['Terminate', 111],
    ['GetValue', 301],
    ['SetValue', 351],
    ['General', 101],
  ]) {
    runtime.recordFailure(call, 'down');
    assert.equal(runtime.lastError, code, call);
  }
  const old = running('1.2');
  old.recordFailure('Commit', 'down');
  assert.equal(old.lastError, 101);
});

test('the payload holds what the SCO set, not what the session resumed', () => {
  const runtime = running('2004 4th Edition', {
    start: {
      entry: 'resume',
      total_time: 100,
      values: [
        { element: 'cmi.location', value: 'p1' },
        { element: 'cmi.suspend_data', value: 'abc' },
      ],
    },
  });
  assert.deepEqual(runtime.payload().values, []);
  assert.equal(runtime.setValue('cmi.suspend_data', 'abcd').ok, true);
  assert.deepEqual(runtime.payload(), {
    data_model: 'Scorm2004',
    terminated: false,
    values: [{ element: 'cmi.suspend_data', value: 'abcd' }],
  });
  assert.equal(runtime.getValue('cmi.location').value, 'p1');
});

test('adl.nav.request is read back for the controller', () => {
  const runtime = running('2004');
  assert.equal(runtime.navRequest(), '_none_');
  runtime.setValue('adl.nav.request', '{target=intro}choice');
  assert.equal(runtime.navRequest(), '{target=intro}choice');
  assert.equal(running('1.2').navRequest(), '_none_');
});

test('bad launch data is a typed error naming the field and the rule', () => {
  const rows = [
    [{ version: '2005' }, 'version'],
    [{ version: '1.2', launch: { credit: 'maybe' } }, 'launch.credit'],
    [{ version: '1.2', launch: { mastery_score: '80' } }, 'launch.mastery_score'],
    [{ version: '1.2', launch: { objective_ids: [1] } }, 'launch.objective_ids[0]'],
    [{ version: '2004', launch: { shared_data: [{ store: 'x' }] } }, 'launch.shared_data[0].id'],
    [
      { version: '2004', launch: { learner_preference: { audio_level: 1, language: 'en', delivery_speed: 1 } } },
      'launch.learner_preference.audio_captioning',
    ],
    [{ version: '2004', start: { entry: 'restart' } }, 'start.entry'],
    [{ version: '2004', start: { entry: 'resume', values: [{ element: 'cmi.location' }] } }, 'start.values[0]'],
    [{ version: '2004', start: { entry: 'resume', total_time: -1 } }, 'start.total_time'],
    [{ version: '2004', navigation: { continue: 'yes' } }, 'navigation.continue'],
    [{ version: '2004', navigation: { choice: { a: 'maybe' } } }, 'navigation.choice.a'],
    [{ version: '2004', options: { max_records: 0 } }, 'limits.max_records'],
  ];
  for (const [init, field] of rows) {
    assert.throws(
      () => new Scorm.Runtime(init),
      (error) => error instanceof Scorm.ConfigError && error.field === field && error.rule.length > 0,
      field,
    );
  }
});

test('navigation answers are data: an activity called __proto__ is just an id', () => {
  const runtime = running('2004', { navigation: JSON.parse('{"choice": {"__proto__": "true"}}') });
  assert.equal(runtime.getValue('adl.nav.request_valid.choice.{target=__proto__}').value, 'true');
  assert.equal(runtime.getValue('adl.nav.request_valid.choice.{target=toString}').value, 'unknown');
});

test('an unexpected fault inside a call is a 101, never an exception the SCO sees', () => {
  const runtime = running('2004');
  runtime.resolve = () => {
    throw new TypeError('boom');
  };
  const result = runtime.getValue('cmi.location');
  assert.equal(result.ok, false);
  assert.equal(runtime.lastError, 101);
  assert.match(runtime.diagnostic(101), /boom/);
});
