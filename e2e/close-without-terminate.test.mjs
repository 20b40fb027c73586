// Closing the tab loses nothing: a SCORM 2004 SCO sets cmi.location and cmi.suspend_data and
// the learner closes the tab before any Commit or Terminate. The player's pagehide flush
// (sendBeacon) must carry the data; the next launch resumes with it.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertStatements, importPackage, register, run } from './lib/harness.mjs';
import { activity, sessionsOf } from './lib/server.mjs';
import { writeZip } from './lib/zip.mjs';

const MANIFEST = `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.e2e.closetab" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 3rd Edition</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Bookmarks</title>
      <item identifier="chapter" identifierref="r1"><title>Chapter</title></item>
      <imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="index.html">
      <file href="index.html"/>
    </resource>
  </resources>
</manifest>`;

/** The learner's progress as the SCO keeps it: JSON with quotes, markup and non-ASCII text. */
const SUSPEND_DATA = JSON.stringify({
  page: 7,
  answers: Array.from({ length: 150 }, (_, i) => ({ q: `q${i}`, a: i % 4, note: 'café "ok" <b>✓</b>' })),
});
const LOCATION = 'chapter-2/page-7';

/**
 * Finds API_1484_11 up the frame chain (the RTE's API discovery), Initializes on load and shows
 * cmi.entry, cmi.location and cmi.suspend_data; "Save" sets the last two and nothing else:
 * no Commit, no Terminate, no unload handler.
 */
const SCO = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chapter</title>
<script>
function findApi(win) {
  for (var depth = 0; win && depth < 8; depth += 1) {
    if (win.API_1484_11) return win.API_1484_11;
    if (win.parent === win) break;
    win = win.parent;
  }
  return null;
}
var api = findApi(window);
function show(id, text) { document.getElementById(id).textContent = text; }
window.addEventListener('load', function () {
  show('init', api ? api.Initialize('') : 'no API');
  show('entry', api.GetValue('cmi.entry'));
  show('location', api.GetValue('cmi.location'));
  show('suspend', api.GetValue('cmi.suspend_data'));
  document.getElementById('save').addEventListener('click', function () {
    var location = api.SetValue('cmi.location', ${JSON.stringify(LOCATION)});
    var data = api.SetValue('cmi.suspend_data', ${JSON.stringify(SUSPEND_DATA)});
    show('saved', location + ' ' + data);
  });
});
</script></head>
<body><h1>Chapter</h1>
<p>Initialize: <span id="init"></span></p>
<p>entry: <span id="entry"></span></p>
<p>location: <span id="location"></span></p>
<pre id="suspend"></pre>
<button type="button" id="save">Save</button> <span id="saved"></span>
</body></html>`;

async function shown(player) {
  const sco = player.sco;
  await sco.locator('#init').filter({ hasText: /\S/ }).waitFor();
  return {
    init: await sco.locator('#init').textContent(),
    entry: await sco.locator('#entry').textContent(),
    location: await sco.locator('#location').textContent(),
    suspend: await sco.locator('#suspend').textContent(),
  };
}

test('SCORM 2004: location and suspend_data set without Commit or Terminate survive closing the tab (pagehide beacon); the relaunch resumes with them', async () => {
  await run({}, async ({ client, launch }) => {
    const summary = await importPackage(client, writeZip({ 'imsmanifest.xml': MANIFEST, 'index.html': SCO }), '2004 3rd Edition');
    const registration = await register(client, summary.id);

    let player = await launch(registration.url);
    await player.waitForSco('chapter');
    assert.deepEqual(await shown(player), { init: 'true', entry: 'ab-initio', location: '', suspend: '' });
    await player.sco.locator('#save').click();
    await player.sco.locator('#saved', { hasText: 'true true' }).waitFor();

    // Nothing has reached the server yet: what arrives after the close came by the flush.
    let view = await client.registration(registration.id);
    const [session] = sessionsOf(view, 'chapter');
    assert.equal(session.commits, 0, 'no commit before the tab closes');
    await player.closeTab();

    view = await client.waitForRegistration(
      registration.id,
      (v) => {
        const s = sessionsOf(v, 'chapter')[0];
        return s.commits > 0 && s.summary && s.summary.location === LOCATION;
      },
      'the closed tab’s data stored (pagehide → sendBeacon commit)',
      5_000,
    );
    const stored = sessionsOf(view, 'chapter')[0].summary;
    assert.equal(stored.suspend_data, SUSPEND_DATA, 'suspend_data stored whole');
    assert.equal(stored.terminated, false, 'the SCO never terminated');

    // Relaunch: the open session is closed as suspended, the attempt resumes.
    player = await launch(registration.url);
    await player.waitForSco('chapter');
    assert.deepEqual(await shown(player), {
      init: 'true',
      entry: 'resume',
      location: LOCATION,
      suspend: SUSPEND_DATA,
    });
    view = await client.registration(registration.id);
    const sessions = sessionsOf(view, 'chapter');
    assert.equal(sessions.length, 2);
    assert.equal(sessions[1].entry, 'resume');
    assert.equal(activity(view, 'chapter').attempts, 1, 'one attempt, resumed');
    // initialized came with the first session's first commit (the beacon), suspended when the
    // relaunch closed that session; resumed comes with the second session's first commit.
    let statements = await client.statements(registration.id);
    assertStatements(statements, registration.id, ['initialized', 'suspended']);
    await player.sco.locator('#save').click();
    await player.closeTab();
    await client.waitForRegistration(
      registration.id,
      (v) => sessionsOf(v, 'chapter')[1].commits > 0,
      'the second session’s data stored',
      5_000,
    );
    statements = await client.statements(registration.id);
    assertStatements(statements, registration.id, ['initialized', 'suspended', 'resumed']);
  });
});
