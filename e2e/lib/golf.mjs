// Playing Rustici's "Golf Explained" sample SCOs as a learner does: their own Previous/Next/
// Exit buttons (`shared/launchpage.html`), the resume prompt, and the knowledge check
// (`shared/assessmenttemplate.html`, where the right answers carry class `correctAnswer`).

import assert from 'node:assert/strict';

const RESUME_PROMPT = /resume from where you previously left off/i;

/**
 * The dialogs a learner answers in the golf SCOs: "resume where you left off?" yes. Anything
 * else is dismissed (and an alert fails the run: see Journal.problems).
 */
export function golfDialogs(dialog) {
  return dialog.type === 'confirm' && RESUME_PROMPT.test(dialog.message) ? 'accept' : 'dismiss';
}

/** How many resume prompts the learner has answered so far. */
export function resumePrompts(journal) {
  return journal.dialogs.filter((d) => d.type === 'confirm' && RESUME_PROMPT.test(d.message)).length;
}

/**
 * The multi-page SCO's state as it shows it: the page it is on, how many pages it has, and
 * the address of the page in its content frame.
 */
export async function golfPage(player) {
  const frame = await player.scoFrame();
  return frame.evaluate(() => {
    const content = document.getElementById('contentFrame');
    return {
      page: currentPage,
      pages: pageArray.length,
      expected: pageArray[currentPage],
      shown: content && content.contentDocument ? content.contentDocument.location.href : null,
      loaded: Boolean(content && content.contentDocument && content.contentDocument.readyState === 'complete'),
    };
  });
}

/** Waits until the multi-page SCO shows page `page` (its content frame loaded). */
export async function waitForGolfPage(player, page) {
  const frame = await player.scoFrame();
  await frame.waitForFunction((wanted) => {
    if (typeof currentPage === 'undefined' || currentPage !== wanted) return false;
    const content = document.getElementById('contentFrame');
    const doc = content && content.contentDocument;
    return Boolean(doc && doc.readyState === 'complete' && doc.location.href.endsWith(pageArray[wanted]));
  }, page);
}

/** Presses the SCO's own "Next ->" `times` times, each time waiting for the page. */
export async function golfNext(player, times) {
  const frame = await player.scoFrame();
  for (let i = 0; i < times; i += 1) {
    const { page } = await golfPage(player);
    await frame.locator('#butNext').click();
    await waitForGolfPage(player, page + 1);
  }
}

/** Presses "Next ->" until the last page of the SCO. */
export async function golfToLastPage(player) {
  const { page, pages } = await golfPage(player);
  await golfNext(player, pages - 1 - page);
}

/** Presses the SCO's own Exit button. */
export async function golfExit(player) {
  const frame = await player.scoFrame();
  await frame.locator('#butExit').click();
}

/**
 * Answers the knowledge check in `quiz` (a Playwright frame locator) as a learner: `wrong`
 * questions answered wrongly first, the rest right; submits; checks the score the page shows
 * and returns it (the template's `Math.round(correct * 100 / total)`).
 */
export async function answerGolfQuiz(quiz, { wrong = 0 } = {}) {
  const questions = quiz.locator('div.question');
  await questions.first().waitFor();
  const total = await questions.count();
  assert.ok(total > 0, 'the knowledge check shows questions');
  for (let i = 0; i < total; i += 1) {
    const question = questions.nth(i);
    const answerRight = i >= wrong;
    const text = question.locator('input[type=text]');
    if ((await text.count()) > 0) {
      // A numeric question shows its answer in parentheses after the field.
      const shown = await question.locator('.correctAnswer').textContent();
      const match = /\((-?\d+)\)/.exec(shown || '');
      assert.ok(match, `numeric question ${i} shows its answer: ${shown}`);
      const value = Number(match[1]);
      await text.fill(String(answerRight ? value : value + 1));
    } else {
      const radio = answerRight
        ? question.locator('.correctAnswer input[type=radio]')
        : question.locator('.answer input[type=radio]').first();
      await radio.check();
    }
  }
  await quiz.locator('input[value="Submit Answers"]').click();
  const score = Math.round(((total - wrong) * 100) / total);
  await quiz.locator('#test h3', { hasText: `Score: ${score}` }).waitFor();
  return score;
}
