// A SCORM 1.2 course of two SCOs, built here: the player delivers them in manifest order,
// LMSFinish hands over to the next SCO, Previous and Continue move between them, and the
// outline shows what is completed.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { importPackage, register, run } from './lib/harness.mjs';
import { activity, sessionsOf } from './lib/server.mjs';
import { writeZip } from './lib/zip.mjs';

const MANIFEST = `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.e2e.twosco" version="1"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Two lessons</title>
      <item identifier="lesson_one" identifierref="r1"><title>Lesson one</title></item>
      <item identifier="lesson_two" identifierref="r2"><title>Lesson two</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="one/index.html">
      <file href="one/index.html"/><dependency identifierref="common"/>
    </resource>
    <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" href="two/index.html">
      <file href="two/index.html"/><dependency identifierref="common"/>
    </resource>
    <resource identifier="common" type="webcontent" adlcp:scormtype="asset">
      <file href="common/sco.js"/>
    </resource>
  </resources>
</manifest>`;

/**
 * What both SCOs run: find `API` up the frame chain (the RTE's API discovery), LMSInitialize on
 * load, show what they read, and on "Finish" set lesson_status=completed and LMSFinish.
 */
const SCO_JS = `
function findApi(win) {
  for (var depth = 0; win && depth < 8; depth += 1) {
    if (win.API) return win.API;
    if (win.parent === win) break;
    win = win.parent;
  }
  return null;
}
var api = findApi(window);
function show(id, text) { document.getElementById(id).textContent = text; }
window.addEventListener('load', function () {
  if (!api) { show('init', 'no API'); return; }
  show('init', api.LMSInitialize(''));
  show('entry', api.LMSGetValue('cmi.core.entry'));
  show('status', api.LMSGetValue('cmi.core.lesson_status'));
  document.getElementById('finish').addEventListener('click', function () {
    var set = api.LMSSetValue('cmi.core.lesson_status', 'completed');
    show('finished', set + ' ' + api.LMSFinish(''));
  });
});
`;

function scoPage(title) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<script src="../common/sco.js"></script></head>
<body><h1>${title}</h1>
<p>LMSInitialize: <span id="init"></span></p>
<p>entry: <span id="entry"></span></p>
<p>lesson_status: <span id="status"></span></p>
<button type="button" id="finish">Finish</button> <span id="finished"></span>
</body></html>`;
}

function course() {
  return writeZip({
    'imsmanifest.xml': MANIFEST,
    'one/index.html': scoPage('Lesson one'),
    'two/index.html': scoPage('Lesson two'),
    'common/sco.js': SCO_JS,
  });
}

/** What the SCO in the frame shows once it has initialized. */
async function shown(player) {
  const sco = player.sco;
  await sco.locator('#init').filter({ hasText: /\S/ }).waitFor();
  return {
    title: await sco.locator('h1').textContent(),
    init: await sco.locator('#init').textContent(),
    entry: await sco.locator('#entry').textContent(),
    status: await sco.locator('#status').textContent(),
  };
}

test('SCORM 1.2, two SCOs built in the test: LMSFinish flows to the second, Previous/Continue keep manifest order, the outline marks the first completed', async () => {
  await run({}, async ({ client, launch }) => {
    const summary = await importPackage(client, course(), '1.2');
    assert.equal(summary.title, 'Two lessons');
    const registration = await register(client, summary.id);

    const player = await launch(registration.url);
    await player.waitForSco('lesson_one');
    assert.deepEqual(await shown(player), {
      title: 'Lesson one',
      init: 'true',
      entry: 'ab-initio',
      status: 'not attempted',
    });
    let outline = await player.outline();
    assert.deepEqual(
      outline.map((o) => [o.id, o.title, o.current]),
      [
        ['org', 'Two lessons', false],
        ['lesson_one', 'Lesson one', true],
        ['lesson_two', 'Lesson two', false],
      ],
      'the organization and its two lessons, the first current',
    );
    assert.deepEqual((await player.outlineItem('lesson_one')).badges, [], 'nothing completed yet');

    // The SCO finishes itself: SCORM 1.2 has no navigation requests, so the player continues
    // (the frame moves on at once, so what the button showed is not read back).
    await player.sco.locator('#finish').click();
    await player.waitForSco('lesson_two');
    const second = await shown(player);
    assert.equal(second.title, 'Lesson two');
    assert.equal(second.entry, 'ab-initio');
    outline = await player.outline();
    assert.ok((await player.outlineItem('lesson_one')).badges.includes('completed'), JSON.stringify(outline));
    assert.equal((await player.outlineItem('lesson_two')).current, true);

    // Previous: back to the first, whose attempt ended normally (RTE 1.2 cmi.core.entry "").
    await player.press('previous');
    await player.waitForSco('lesson_one');
    const again = await shown(player);
    assert.equal(again.title, 'Lesson one');
    assert.equal(again.entry, '', 'entry after a normal exit');
    assert.equal(again.status, 'completed', 'lesson_status kept from the first session');

    // Continue: forward to the second again.
    await player.press('continue');
    await player.waitForSco('lesson_two');
    assert.equal((await shown(player)).title, 'Lesson two');
    await player.sco.locator('#finish').click();
    await player.page.waitForFunction(() => {
      const c = window.ProficioPlayer.controller;
      return !c.current || c.current.session.terminated;
    });

    // After the last SCO the course ends: by the player's continue past the end, or by Exit.
    await player.page.waitForFunction(() => {
      const c = window.ProficioPlayer.controller;
      return !c.busy && (c.finished || !document.getElementById('btn-exit').disabled);
    });
    if (!/Course ended/.test(await player.status())) await player.press('exit');
    await player.waitForStatus(/Course ended/);

    const view = await client.registration(registration.id);
    assert.equal(view.ended, true);
    assert.equal(activity(view, 'lesson_one').summary.lesson_status, 'completed');
    assert.equal(activity(view, 'lesson_two').summary.lesson_status, 'completed');
    assert.deepEqual(
      sessionsOf(view).map((s) => s.item),
      ['lesson_one', 'lesson_two', 'lesson_one', 'lesson_two'],
      'sessions in the order the learner went',
    );
  });
});
