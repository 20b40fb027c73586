// SCORM 2004 sequencing as the learner meets it, on Rustici's forced-sequential golf course:
// a later SCO is disabled until the one before it is satisfied (preConditionRule "disabled"
// on a global objective: IMS SS sequencing rules in the SN book), and Continue moves in
// manifest order (flow).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { golfDialogs, golfToLastPage, waitForGolfPage } from './lib/golf.mjs';
import { importPackage, register, run } from './lib/harness.mjs';
import { activity } from './lib/server.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLES = resolve(process.env.PROFICIO_SCORM_SAMPLES || join(ROOT, '..', 'shared', 'scorm-samples'));
const PACKAGE = 'golf_SequencingForcedSequential_SCORM20043rdEdition.zip';
const ITEMS = ['playing_item', 'etuqiette_item', 'handicapping_item', 'havingfun_item', 'assessment_item'];

/** Asserts which outline items the learner can choose, and which one is current. */
async function assertOutline(player, { choosable, current }) {
  const outline = await player.outline();
  const byId = Object.fromEntries(outline.map((o) => [o.id, o]));
  for (const id of ITEMS) {
    assert.ok(byId[id], `outline shows ${id}: ${JSON.stringify(outline)}`);
    assert.equal(byId[id].enabled, choosable.includes(id), `${id} ${choosable.includes(id) ? 'can' : 'cannot'} be chosen`);
  }
  assert.equal(outline.filter((o) => o.current).map((o) => o.id).join(), current, 'current item');
}

/** A choice request sent the way the page sends it; returns the HTTP status. */
async function postChoice(player, target) {
  return player.page.evaluate(async (item) => {
    const api = window.ProficioPlayer.controller.config.api;
    const response = await fetch(`${api}/navigate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ request: 'choice', target: item }),
    });
    return response.status;
  }, target);
}

const HAVE_SAMPLE = existsSync(join(SAMPLES, PACKAGE));
if (!HAVE_SAMPLE) {
  console.warn(`NOTE: the forced-sequential sample was NOT played: no ${join(SAMPLES, PACKAGE)} (set PROFICIO_SCORM_SAMPLES)`);
}

test(`${PACKAGE}: later SCOs cannot be chosen before the earlier one is satisfied; Continue delivers them in order; Previous goes back`, { skip: HAVE_SAMPLE ? false : `NOT RUN: no ${PACKAGE} in ${SAMPLES}` }, async (t) => {
  const zip = readFileSync(join(SAMPLES, PACKAGE));
  await run({ dialogs: golfDialogs }, async ({ client, launch, browser }) => {
    const summary = await importPackage(client, zip, '2004 3rd Edition');
    const registration = await register(client, summary.id);
    const player = await launch(registration.url);
    await player.waitForSco('playing_item');
    await waitForGolfPage(player, 0);

    // Nothing done yet: only the first SCO can be chosen, and the sequencer refuses a choice
    // of a disabled one if it is asked anyway (the outline is not the only guard).
    await assertOutline(player, { choosable: ['playing_item'], current: 'playing_item' });
    t.diagnostic(`buttons before the first SCO is done: ${JSON.stringify(await player.enabledButtons())}`);
    await player.choose('handicapping_item', { force: true });
    await player.page.waitForTimeout(300);
    assert.equal(await player.page.evaluate(() => window.ProficioPlayer.controller.busy), false, 'no request started');
    assert.equal(await player.currentItem(), 'playing_item', 'clicking a disabled item does nothing');
    const refused = await postChoice(player, 'handicapping_item');
    assert.ok(refused >= 400 && refused < 500, `a choice of a disabled SCO is refused: ${refused}`);
    assert.equal(await player.currentItem(), 'playing_item');

    // Finishing the first SCO (its last page sets completed + passed and commits) lets
    // Continue deliver the second, after which both can be chosen and the third still not.
    await golfToLastPage(player);
    await client.waitForRegistration(
      registration.id,
      (v) => activity(v, 'playing_item')?.summary?.success === 'passed',
      'playing_item passed',
    );
    await player.press('continue');
    await player.waitForSco('etuqiette_item');
    await waitForGolfPage(player, 0);
    const playing = await player.outlineItem('playing_item');
    assert.ok(playing.badges.includes('completed') && playing.badges.includes('passed'), JSON.stringify(playing));
    await assertOutline(player, { choosable: ['playing_item', 'etuqiette_item'], current: 'etuqiette_item' });

    // Back to review the first (allowed), then forward again in order.
    await player.press('previous');
    await player.waitForSco('playing_item');
    await player.press('continue');
    await player.waitForSco('etuqiette_item');
    await waitForGolfPage(player, 0);
    await golfToLastPage(player);
    await player.press('continue');
    await player.waitForSco('handicapping_item');
    await assertOutline(player, {
      choosable: ['playing_item', 'etuqiette_item', 'handicapping_item'],
      current: 'handicapping_item',
    });
    assert.equal(browser.journal.dialogs.filter((d) => d.type === 'alert').length, 0);
  });
});
