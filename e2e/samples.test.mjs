// Every package in the shared samples directory, played in Chromium as a learner plays it:
// import, launch, the SCO finds the API, the learner works, suspends, closes the tab, comes
// back to where they were, finishes; then what the server stored and the xAPI statements.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  answerGolfQuiz,
  golfDialogs,
  golfExit,
  golfNext,
  golfPage,
  golfToLastPage,
  resumePrompts,
  waitForGolfPage,
} from './lib/golf.mjs';
import { assertStatements, importPackage, leafItems, register, run } from './lib/harness.mjs';
import { activity, sessionsOf } from './lib/server.mjs';
import { readZipEntries, readZipFile } from './lib/zip.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLES = resolve(process.env.PROFICIO_SCORM_SAMPLES || join(ROOT, '..', 'shared', 'scorm-samples'));

/** `<schemaversion>` of a manifest's metadata (CAM): what the import must report as `version`. */
function schemaVersion(manifest) {
  const match = /<(?:\w+:)?schemaversion>\s*([^<]*?)\s*<\/(?:\w+:)?schemaversion>/i.exec(manifest);
  return match ? match[1] : null;
}

/** Waits until the current SCO has terminated (Terminate/LMSFinish returned) or left. */
async function waitForTerminated(player) {
  await player.page.waitForFunction(() => {
    const c = window.ProficioPlayer.controller;
    return !c.current || c.current.session.terminated;
  });
}

/** Ends the course with the player's Exit unless the SCO's own exit already ended it. */
async function exitCourse(player) {
  await player.page.waitForFunction(() => {
    const c = window.ProficioPlayer.controller;
    return !c.busy && (c.finished || !document.getElementById('btn-exit').disabled);
  });
  if (!/Course ended/.test(await player.status())) await player.press('exit');
  await player.waitForStatus(/Course ended/);
}

/** Suspends with the player's button and waits for the server's answer. */
async function suspend(player) {
  await player.press('suspend');
  await player.waitForStatus(/Suspended/);
}

/** The value the SCO itself reads for `element` through the API it found. */
async function scoGetValue(player, element) {
  const frame = await player.scoFrame();
  return frame.evaluate((name) => (API.GetValue ? API.GetValue(name) : API.LMSGetValue(name)), element);
}

/**
 * The single-SCO golf course with its own page navigation and a knowledge check at the end
 * (RuntimeBasicCalls, SCORM 1.2 and 2004): bookmark, suspend, resume, score.
 */
async function playSingleScoGolf({ client, launch, browser }, summary, registration, scorm2004) {
  const item = 'item_1';
  const entryElement = scorm2004 ? 'cmi.entry' : 'cmi.core.entry';

  let player = await launch(registration.url);
  await player.waitForSco(item);
  await waitForGolfPage(player, 0);
  assert.equal(await scoGetValue(player, entryElement), 'ab-initio', `${entryElement} of the first session`);
  await golfNext(player, 3);

  // Suspend: the player unloads the SCO, whose unload handler sets exit=suspend and terminates.
  await suspend(player);
  let view = await client.registration(registration.id);
  assert.equal(view.suspended, true, 'the registration is suspended');
  const first = activity(view, item).summary;
  assert.equal(first.location, '3', 'the bookmark (cmi.location / lesson_location) is stored');
  assert.equal(first.exit, 'suspend', 'the SCO exited with suspend');
  assert.equal(first.completion, 'incomplete', 'the SCO set itself incomplete');
  assert.equal(sessionsOf(view, item)[0].entry, 'ab-initio');
  await player.closeTab();

  // Back again: resumeAll delivers the SCO with entry=resume and its bookmark.
  player = await launch(registration.url);
  await player.waitForSco(item);
  await waitForGolfPage(player, 3);
  assert.equal(resumePrompts(browser.journal), 1, 'the SCO found its bookmark and offered to resume');
  assert.equal(await scoGetValue(player, entryElement), 'resume', `${entryElement} after the suspend`);
  const shown = await golfPage(player);
  assert.ok(shown.shown.endsWith('Playing/OtherScoring.html'), `page 3 is shown: ${shown.shown}`);
  view = await client.registration(registration.id);
  const sessions = sessionsOf(view, item);
  assert.equal(sessions.length, 2, 'two sessions');
  assert.equal(sessions[1].entry, 'resume', 'the second session resumes');

  // Finish: to the last page (completed), answer the knowledge check (one wrong), exit.
  await golfToLastPage(player);
  const quiz = player.sco.frameLocator('#contentFrame');
  const score = await answerGolfQuiz(quiz, { wrong: 1 });
  await golfExit(player);
  await waitForTerminated(player);
  await exitCourse(player);

  view = await client.registration(registration.id);
  assert.equal(view.ended, true, 'the registration ended');
  const result = activity(view, item).summary;
  assert.equal(result.completion, 'completed');
  assert.equal(result.success, 'passed', `a score of ${score} passes (the SCO's 70% rule)`);
  assert.equal(result.score.raw, score);
  assert.equal(result.score.min, 0);
  assert.equal(result.score.max, 100);
  if (scorm2004) assert.equal(result.score.scaled, score / 100);
  else assert.equal(result.lesson_status, 'passed');
  assert.equal(result.location, String(shown.pages - 1), 'the bookmark is the last page');
  assert.equal(result.suspended, false, 'the SCO exited normally at the end');
  assert.ok(result.total_time > 0, `total time accumulated: ${result.total_time}`);

  const statements = await client.statements(registration.id);
  return assertStatements(statements, registration.id, [
    'initialized',
    'suspended',
    'resumed',
    'scored',
    'completed',
    'passed',
    'terminated',
  ]);
}

/**
 * The SCORM 1.2 course of 18 one-page SCOs that make only LMSInitialize/LMSFinish
 * (RuntimeMinimumCalls): the player provides all navigation.
 */
async function playMinimumCalls({ client, launch }, summary, registration) {
  const leaves = leafItems(summary);
  assert.equal(leaves.length, 18, `18 SCOs: ${leaves.join(', ')}`);
  const delivered = [];

  let player = await launch(registration.url);
  await player.waitForSco(leaves[0]);
  delivered.push(leaves[0]);
  for (const next of leaves.slice(1, 3)) {
    await player.press('continue');
    await player.waitForSco(next);
    delivered.push(next);
  }
  await suspend(player);
  let view = await client.registration(registration.id);
  assert.equal(view.suspended, true);
  for (const item of leaves.slice(0, 2)) {
    // SCORM 1.2 RTE, cmi.core.lesson_status: a status the SCO never set is "completed" after
    // LMSFinish (credit, no mastery score).
    assert.equal(activity(view, item).summary.lesson_status, 'completed', `${item} completed`);
  }
  await player.closeTab();

  player = await launch(registration.url);
  await player.waitForSco(leaves[2]);
  view = await client.registration(registration.id);
  const resumed = sessionsOf(view, leaves[2]);
  assert.equal(resumed.length, 2, `${leaves[2]} delivered again`);
  assert.equal(resumed[1].entry, 'resume', 'the suspended SCO resumes');

  // Finish: Continue through every remaining SCO, answering the first knowledge check.
  let answered = false;
  for (const next of leaves.slice(3)) {
    await player.press('continue');
    await player.waitForSco(next);
    delivered.push(next);
    if (!answered && next === 'playing_quiz_item') {
      await answerGolfQuiz(player.sco);
      answered = true;
    }
  }
  assert.ok(answered, 'the Playing quiz was reached');
  assert.deepEqual(delivered, leaves, 'the SCOs were delivered in manifest order');
  // Continue past the last SCO ends the course (SN: flow past the end), else Exit does.
  const { continue: canContinue } = await player.enabledButtons();
  if (canContinue) await player.press('continue');
  else await player.press('exit');
  await player.waitForStatus(/Course ended/);

  view = await client.registration(registration.id);
  assert.equal(view.ended, true);
  for (const item of leaves) {
    const record = activity(view, item);
    assert.ok(record && record.summary, `${item} has a result`);
    assert.equal(record.summary.lesson_status, 'completed', `${item} completed`);
  }
  const statements = await client.statements(registration.id);
  return assertStatements(statements, registration.id, ['initialized', 'resumed', 'completed', 'terminated']);
}

/**
 * The forced-sequential SCORM 2004 course (SequencingForcedSequential): five SCOs in order,
 * each SCO suspending itself on unload, global objectives opening the next one.
 */
async function playForcedSequential({ client, launch, browser }, summary, registration) {
  const leaves = leafItems(summary);
  assert.deepEqual(leaves, ['playing_item', 'etuqiette_item', 'handicapping_item', 'havingfun_item', 'assessment_item']);

  let player = await launch(registration.url);
  await player.waitForSco(leaves[0]);
  await waitForGolfPage(player, 0);
  await golfNext(player, 2);
  await suspend(player);
  let view = await client.registration(registration.id);
  assert.equal(view.suspended, true);
  assert.equal(activity(view, leaves[0]).summary.location, '2');
  await player.closeTab();

  player = await launch(registration.url);
  await player.waitForSco(leaves[0]);
  await waitForGolfPage(player, 2);
  assert.equal(resumePrompts(browser.journal), 1);
  assert.equal(await scoGetValue(player, 'cmi.entry'), 'resume');

  // Finish every SCO in order; the last one is the knowledge check.
  await golfToLastPage(player);
  for (const next of leaves.slice(1)) {
    await player.press('continue');
    await player.waitForSco(next);
    await waitForGolfPage(player, 0);
    await golfToLastPage(player);
  }
  const score = await answerGolfQuiz(player.sco.frameLocator('#contentFrame'), { wrong: 1 });
  // This sample has no Exit button of its own (commented out in its launch page): the
  // player's Exit ends the course.
  await exitCourse(player);

  view = await client.registration(registration.id);
  assert.equal(view.ended, true);
  for (const item of leaves) {
    const result = activity(view, item).summary;
    assert.equal(result.completion, 'completed', `${item} completed`);
    assert.equal(result.success, 'passed', `${item} passed`);
  }
  assert.equal(activity(view, 'assessment_item').summary.score.scaled, score / 100);
  const statements = await client.statements(registration.id);
  return assertStatements(statements, registration.id, ['initialized', 'suspended', 'resumed', 'completed', 'passed']);
}

/**
 * Any other SCORM package: the first SCO initializes, suspend, resume with entry=resume, exit.
 */
async function playAnyPackage({ client, launch }, summary, registration) {
  const [first] = leafItems(summary);
  assert.ok(first, 'the package has a launchable item');
  let player = await launch(registration.url);
  await player.waitForSco(first);
  await suspend(player);
  await player.closeTab();
  player = await launch(registration.url);
  await player.waitForSco(first);
  const view = await client.registration(registration.id);
  assert.equal(sessionsOf(view, first).at(-1).entry, 'resume');
  await exitCourse(player);
  const statements = await client.statements(registration.id);
  return assertStatements(statements, registration.id, ['initialized', 'resumed']);
}

/** What each known sample is, and how a learner goes through it. */
const PLANS = {
  'golf_RuntimeBasicCalls_SCORM12.zip': {
    version: '1.2',
    does: 'one SCO: bookmark, suspend and resume at the bookmark, quiz scored and passed',
    play: (ctx, summary, registration) => playSingleScoGolf(ctx, summary, registration, false),
  },
  'golf_RuntimeBasicCalls_SCORM20043rdEdition.zip': {
    version: '2004 3rd Edition',
    does: 'one SCO: cmi.location bookmark, suspend and resume, quiz scored and passed, exitAll from the SCO',
    play: (ctx, summary, registration) => playSingleScoGolf(ctx, summary, registration, true),
  },
  'golf_RuntimeMinimumCalls_SCORM12.zip': {
    version: '1.2',
    does: '18 SCOs delivered in order by Continue, the suspended SCO resumed, all completed',
    play: playMinimumCalls,
  },
  'golf_SequencingForcedSequential_SCORM20043rdEdition.zip': {
    version: '2004 3rd Edition',
    does: 'five SCOs in forced order: suspend, resume at the bookmark, every SCO passed, quiz scored',
    play: playForcedSequential,
  },
};

// The shared samples live beside the repository, not in it: without them these tests are
// skipped, loudly (the other browser tests build their own packages and always run).
const HAVE_SAMPLES = existsSync(SAMPLES);
if (!HAVE_SAMPLES) {
  console.warn(`NOTE: the shared SCORM samples were NOT played: no directory ${SAMPLES} (set PROFICIO_SCORM_SAMPLES)`);
}
const zips = HAVE_SAMPLES
  ? readdirSync(SAMPLES)
      .filter((name) => name.toLowerCase().endsWith('.zip'))
      .sort()
  : [];

describe(`shared samples in ${SAMPLES}`, { skip: HAVE_SAMPLES ? false : `NOT RUN: no samples directory ${SAMPLES}` }, () => {
  test('the samples directory holds packages', (t) => {
    assert.ok(zips.length > 0, `no .zip in ${SAMPLES}`);
    t.diagnostic(`packages: ${zips.join(', ')}`);
  });

  for (const name of zips) {
    const zip = readFileSync(join(SAMPLES, name));
    const entries = readZipEntries(zip);

    if (!entries.has('imsmanifest.xml')) {
      // Not SCORM: a SCORM package has imsmanifest.xml at its root (CAM, Content Packaging).
      // A cmi5 course has cmi5.xml there instead; the SCORM import must refuse it and say why.
      const cmi5 = entries.has('cmi5.xml');
      const kind = cmi5 ? 'a cmi5 course, not SCORM' : 'not a SCORM package';
      test(`${name}: ${kind}: import refuses it (400 naming imsmanifest.xml) and stores nothing`, async () => {
        await run({}, async ({ client }) => {
          const refused = await client.importPackage(zip);
          assert.equal(refused.status, 400, `import answered ${refused.status}: ${JSON.stringify(refused.body)}`);
          assert.match(JSON.stringify(refused.body), /imsmanifest\.xml/, 'the refusal names the missing manifest');
          if (cmi5) assert.match(JSON.stringify(refused.body), /cmi5/, 'the refusal says it is a cmi5 course');
          const listed = await fetch(client.url('/scorm/packages'), {
            headers: { authorization: client.authorization },
          });
          assert.deepEqual((await listed.json()).packages, [], 'nothing was stored');
        });
      });
      continue;
    }

    const declared = schemaVersion(readZipFile(zip, 'imsmanifest.xml').toString('utf8'));
    const plan = PLANS[name] || {
      version: declared,
      does: 'first SCO initializes, suspend, resume with entry=resume, exit',
      play: playAnyPackage,
    };
    test(`${name} (SCORM ${plan.version}): ${plan.does}; statements under the registration`, async (t) => {
      assert.equal(declared, plan.version, 'the manifest declares the version the plan expects');
      await run({ dialogs: golfDialogs }, async (ctx) => {
        const summary = await importPackage(ctx.client, zip, plan.version);
        const registration = await register(ctx.client, summary.id);
        const verbs = await plan.play(ctx, summary, registration);
        t.diagnostic(`statements: ${verbs.join(' ')}`);
      });
    });
  }
});
