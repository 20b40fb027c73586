// The cross-check against the Rust authority: the call sequences in cases/*.json, played
// through the API object a SCO sees. The same files are played through `RuntimeState` on the
// Rust side, so the two data models must agree on every call.
//
// Case format:
//   name        what the case shows
//   version     "1.2", "2004 3rd Edition", "2004 4th Edition" (ScormVersion's serde names)
//   launch      LaunchData as serde writes it; a missing field is LaunchData::default()'s
//   start       optional {entry, values: [{element, value}], total_time}: entry "ab-initio"
//               is Start::New (values ignored), "resume" Start::Resume, "" Start::Continue
//   navigation  optional Navigation (the adl.nav.request_valid.* answers)
//   options     optional RuntimeOptions; a missing field is RuntimeOptions::default()'s
//   calls       [method, ...arguments] with the version's API method names
//   expect      [returned string, GetLastError() after the call] for each call; GetValue
//               answers "" on error, the others "true"/"false"; GetDiagnostic("") is about
//               the last error
//   payload     optional {terminated, values: [[element, value], ...]}: the commit payload
//               after the calls (asserted only without `start`, as Rust's commit_payload also
//               carries resumed values and the browser's does not)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Scorm from '../assets/api.js';

const here = dirname(fileURLToPath(import.meta.url));
const casesDir = join(here, 'cases');

function loadCases() {
  return readdirSync(casesDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .flatMap((file) =>
      JSON.parse(readFileSync(join(casesDir, file), 'utf8')).map((c) => ({ ...c, file })),
    );
}

/** A page with one SCO session; commits are answered `accepted` and recorded. */
function play(c) {
  const runtime = new Scorm.Runtime({
    version: c.version,
    launch: c.launch,
    start: c.start,
    options: c.options,
    navigation: c.navigation,
  });
  const sent = [];
  const queue = new Scorm.CommitQueue({
    url: '/scorm/r/reg/api/sessions/s/commits',
    env: {
      fetch: async (url, init) => {
        sent.push(JSON.parse(init.body));
        return { status: 200, text: async () => '{"accepted": true}' };
      },
      setTimeout: () => 0,
      clearTimeout: () => {},
    },
  });
  const session = new Scorm.ScoSession({
    runtime,
    queue,
    commitIntervalMs: 0,
    timers: { setTimeout: () => 0, clearTimeout: () => {} },
  });
  const bridge = new Scorm.ApiBridge(runtime.dataModel);
  bridge.attach(session);
  const window = {};
  const api = bridge.install(window);
  const results = c.calls.map(([method, ...args]) => {
    assert.equal(typeof api[method], 'function', `${c.name}: no API method ${method}`);
    const returned = api[method](...args);
    const code = Number(api[runtime.dataModel === 'Scorm12' ? 'LMSGetLastError' : 'GetLastError']());
    return [returned, code];
  });
  return { runtime, results, sent, window };
}

const cases = loadCases();

test('the cases cover both versions with at least 150 calls', () => {
  const calls = (predicate) =>
    cases.filter(predicate).reduce((sum, c) => sum + c.calls.length, 0);
  assert.ok(calls((c) => c.version === '1.2') >= 75);
  assert.ok(calls((c) => c.version.startsWith('2004')) >= 75);
  assert.ok(calls(() => true) >= 150);
  for (const c of cases) {
    assert.equal(c.calls.length, c.expect.length, `${c.file}: ${c.name}: calls and expect differ in length`);
  }
});

for (const c of cases) {
  test(`${c.file}: ${c.name}`, async () => {
    const { runtime, results, sent, window } = play(c);
    const expectedGlobal = c.version === '1.2' ? 'API' : 'API_1484_11';
    assert.ok(window[expectedGlobal], `the SCO finds window.${expectedGlobal}`);
    results.forEach((actual, index) => {
      assert.deepEqual(
        actual,
        c.expect[index],
        `call ${index} ${JSON.stringify(c.calls[index]).slice(0, 160)}`,
      );
    });
    if (c.payload) {
      const payload = runtime.payload();
      assert.equal(payload.terminated, c.payload.terminated);
      assert.deepEqual(
        payload.values.map((v) => [v.element, v.value]),
        c.payload.values,
      );
      // What left for the server is the same payload, numbered from 1.
      await new Promise((resolve) => setImmediate(resolve));
      const last = sent[sent.length - 1];
      assert.ok(last, 'the commit was sent');
      assert.equal(last.sequence, sent.length);
      assert.deepEqual(last.values, payload.values);
      assert.equal(last.terminated, c.payload.terminated);
    }
  });
}
