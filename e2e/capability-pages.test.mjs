// The capability report pages in Chromium: a manager's heatmap and a role's, a cell clicked
// through to the person's progression, a person's gap page against the role, every figure
// compared with the JSON reports, under the pages' Content Security Policy, with a person
// whose name is markup.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { run } from './lib/harness.mjs';
import {
  ANA_KEY,
  AS_OF,
  CapabilityApi,
  HOSTILE_KEY,
  MAX_KEY,
  STATUS_FILL,
  cellStatus,
  credentialsOf,
  gapStatus,
  policyViolations,
  seedTeam,
  syncUntilReady,
  watchPolicy,
} from './lib/capabilities.mjs';

const query = (pairs) => new URLSearchParams(pairs).toString();

/** Every heatmap cell as the page draws it. */
async function drawnCells(page) {
  return page.$$eval('svg.heatmap a.cell', (cells) =>
    cells.map((a) => ({
      classes: a.getAttribute('class').split(/\s+/),
      person: a.getAttribute('data-person'),
      capability: a.getAttribute('data-capability'),
      level: a.getAttribute('data-level'),
      required: a.getAttribute('data-required'),
      confidence: a.getAttribute('data-confidence'),
      fill: a.querySelector('rect').getAttribute('fill'),
      title: a.querySelector('title').textContent,
      text: a.querySelector('text').textContent,
      href: a.getAttribute('href'),
    })),
  );
}

/** The rendered size of the chart: a chart that did not render has none. */
async function box(page, selector) {
  const found = await page.locator(selector).boundingBox();
  assert.ok(found, `${selector} is rendered`);
  assert.ok(found.width > 100 && found.height > 100, `${selector} has a size: ${JSON.stringify(found)}`);
  return found;
}

const levelText = (level) => (level === null ? '–' : String(level));

/** Checks every drawn cell against the JSON heatmap. */
function assertCellsMatch(cells, map) {
  assert.equal(cells.length, map.people.length * map.capabilities.length, 'a cell per person and capability');
  for (const [p, person] of map.people.entries()) {
    for (const [c, capability] of map.capabilities.entries()) {
      const json = map.cells[p][c];
      const drawn = cells.find((x) => x.person === person && x.capability === capability);
      assert.ok(drawn, `a cell for ${person} × ${capability}`);
      const status = cellStatus(json);
      assert.ok(drawn.classes.includes(status), `${person} × ${capability} is ${status}: ${drawn.classes}`);
      assert.equal(drawn.fill, STATUS_FILL[status], `${person} × ${capability} fill`);
      assert.equal(drawn.level, json.level === null ? '' : String(json.level));
      assert.equal(drawn.required, json.required === null ? '' : String(json.required));
      assert.equal(Number(drawn.confidence), json.confidence, `${person} × ${capability} confidence`);
      assert.equal(drawn.text, `${levelText(json.level)} / ${levelText(json.required)}`);
      assert.ok(
        drawn.title.startsWith(`${person} — `) &&
          drawn.title.includes(`(${capability}): achieved ${levelText(json.level)} of required ${levelText(json.required)}`),
        `tooltip of ${person} × ${capability}: ${drawn.title}`,
      );
      const shown = Number(/confidence ([0-9.]+)/.exec(drawn.title)[1]);
      assert.ok(Math.abs(shown - json.confidence) <= 0.005, `tooltip confidence ${shown} vs ${json.confidence}`);
      const last = json.last_evidence_at;
      assert.ok(
        drawn.title.includes(`last evidence ${last === null ? 'none' : last.slice(0, 10)}`),
        `tooltip last evidence: ${drawn.title}`,
      );
    }
  }
}

test('capability pages: a manager heatmap clicked through to a progression, in Chromium', async () => {
  await run({}, async ({ client, browser }) => {
    const api = new CapabilityApi(client);
    await seedTeam(api);
    const managerQuery = query({ manager: MAX_KEY, as_of: AS_OF });
    const map = await syncUntilReady(api, `/capabilities/managers/heatmap?${managerQuery}`);
    assert.deepEqual(map.people, [HOSTILE_KEY, ANA_KEY, 'mbox:mailto:bo@acme.example'].sort());
    assert.deepEqual(map.capabilities, ['feedback', 'delegation']);

    await browser.context.setHTTPCredentials(credentialsOf(client));
    const page = await browser.context.newPage();
    const consoleErrors = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await watchPolicy(page);

    // The manager's heatmap.
    const response = await page.goto(client.url(`/capabilities/pages/managers/heatmap?${managerQuery}`));
    assert.equal(response.status(), 200);
    const headers = response.headers();
    assert.match(headers['content-security-policy'], /^default-src 'none'; style-src 'self'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    await box(page, 'svg.heatmap');
    assert.equal(await page.getAttribute('svg.heatmap', 'role'), 'img');
    assert.match(await page.textContent('svg.heatmap > title'), /^Reports of mbox:mailto:max@acme\.example/);
    assertCellsMatch(await drawnCells(page), map);
    // The stylesheet applied (it is the only source of styles the policy allows).
    assert.equal(await page.$eval('table.figures', (t) => getComputedStyle(t).borderCollapse), 'collapse');

    // The data table: a row per person with the same figures.
    const rows = await page.$$eval('table.figures tbody tr', (trs) =>
      trs.map((tr) => ({
        person: tr.querySelector('th').textContent,
        cells: Array.from(tr.querySelectorAll('td a')).map((a) => a.textContent),
      })),
    );
    assert.deepEqual(
      rows,
      map.people.map((person, p) => ({
        person,
        cells: map.cells[p].map((cell) => `${levelText(cell.level)} / ${levelText(cell.required)}`),
      })),
    );

    // The hostile name is text: no script element, the name shown as written.
    assert.equal(await page.locator('script').count(), 0, 'no script element on the page');
    assert.equal(await page.locator('table.figures th', { hasText: HOSTILE_KEY }).count(), 1);
    assert.equal(await page.locator('svg.heatmap text.row-label title', { hasText: HOSTILE_KEY }).count(), 1);
    assert.ok(
      (await page.textContent('table.figures thead')).includes('Delegating & <em>trusting</em>'),
      'a capability name with markup is shown as text',
    );

    // Clicking Ana's feedback cell opens her progression in feedback up to the same date.
    const anaFeedback = map.cells[map.people.indexOf(ANA_KEY)][map.capabilities.indexOf('feedback')];
    await Promise.all([
      page.waitForURL(/\/capabilities\/pages\/people\/progression\?/),
      page.click(`svg.heatmap a.cell[data-person="${ANA_KEY}"][data-capability="feedback"] rect`),
    ]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('person'), ANA_KEY);
    assert.equal(landed.searchParams.get('capability'), 'feedback');
    assert.equal(landed.searchParams.get('to'), AS_OF);

    const progression = await api.get(
      `/capabilities/people/progression?${query({ person: ANA_KEY, capability: 'feedback', to: AS_OF })}`,
    );
    // Ana's feedback: 1 in February, 2 in May, 3 in September, still 3 at the end.
    assert.deepEqual(
      progression.points.map((p) => [p.at, p.level]),
      [
        ['2025-02-01T09:00:00Z', 1],
        ['2025-05-01T09:00:00Z', 2],
        ['2025-09-01T09:00:00Z', 3],
        [AS_OF, 3],
      ],
    );
    await box(page, 'svg.progression');
    assert.equal(await page.getAttribute('svg.progression', 'role'), 'img');
    const points = await page.$$eval('svg.progression circle.point', (circles) =>
      circles.map((c) => ({
        at: c.getAttribute('data-at'),
        level: c.getAttribute('data-level'),
        cx: Number(c.getAttribute('cx')),
        cy: Number(c.getAttribute('cy')),
        title: c.querySelector('title').textContent,
      })),
    );
    assert.equal(points.length, progression.points.length, 'a marker per point of change');
    assert.deepEqual(
      points.map((p) => [p.at, p.level]),
      progression.points.map((p) => [p.at, p.level === null ? '' : String(p.level)]),
    );
    const last = points[points.length - 1];
    assert.equal(last.level, String(anaFeedback.level), "the last point is the heatmap's level");
    assert.equal(Number(last.level), progression.latest.level);
    for (let i = 1; i < points.length; i += 1) {
      assert.ok(points[i].cx > points[i - 1].cx, 'later points lie further right');
      const rises = progression.points[i].level - progression.points[i - 1].level;
      assert.equal(Math.sign(points[i - 1].cy - points[i].cy), Math.sign(rises), 'a higher level lies higher');
    }
    assert.match(points[0].title, /^2025-02-01: level 1 \(evidence 1, self –, manager 1\); confidence /);
    // The step line runs through every marker.
    const path = await page.getAttribute('svg.progression path.series.achieved', 'd');
    for (const p of points) assert.ok(path.includes(`${p.cx.toFixed(1)}`), `the line passes x ${p.cx}`);

    // The explanation: a row per counted statement at the latest date.
    const evidenceRows = await page.locator('table.evidence tbody tr').count();
    assert.equal(evidenceRows, progression.latest.explanation.contributions.length);
    assert.equal(evidenceRows, 3);
    assert.equal(await page.textContent('.latest-level'), '3');

    // The role's heatmap: everyone in the role, Dee included.
    const roleMap = await api.get(`/capabilities/roles/team-lead/heatmap?${query({ as_of: AS_OF })}`);
    await page.goto(client.url(`/capabilities/pages/roles/team-lead/heatmap?${query({ as_of: AS_OF })}`));
    await box(page, 'svg.heatmap');
    assert.equal(roleMap.people.length, 4);
    assertCellsMatch(await drawnCells(page), roleMap);

    assert.deepEqual(consoleErrors, [], 'no console errors');
    assert.deepEqual(await policyViolations(page), [], 'no CSP violations');

    // The watcher does see a violation: an inline style is refused by the policy.
    await page.evaluate(() => {
      const style = document.createElement('style');
      style.textContent = 'body { color: red }';
      document.head.appendChild(style);
    });
    await page.waitForFunction(() => window.__policyViolations.length > 0);
    assert.match((await policyViolations(page))[0], /^style-src-elem inline/);
  });
});

test('capability pages: a person\'s gap against a role, reached from the role heatmap', async () => {
  await run({}, async ({ client, browser }) => {
    const api = new CapabilityApi(client);
    await seedTeam(api);
    await syncUntilReady(api, `/capabilities/managers/heatmap?${query({ manager: MAX_KEY, as_of: AS_OF })}`);
    const role = await api.get('/capabilities/roles/team-lead');
    const gap = await api.get(`/capabilities/roles/team-lead/gap?${query({ agent: ANA_KEY, as_of: AS_OF })}`);
    assert.equal(gap.rows.length, role.requirements.length);

    await browser.context.setHTTPCredentials(credentialsOf(client));
    const page = await browser.context.newPage();
    const consoleErrors = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await watchPolicy(page);

    // From Ana's row of the role heatmap to her gap page at the same date.
    await page.goto(client.url(`/capabilities/pages/roles/team-lead/heatmap?${query({ as_of: AS_OF })}`));
    await Promise.all([
      page.waitForURL(/\/capabilities\/pages\/roles\/team-lead\/gap\?/),
      page.click(`table.figures th a:text-is("${ANA_KEY}")`),
    ]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('person'), ANA_KEY);
    assert.equal(landed.searchParams.get('as_of'), AS_OF);

    const response = await page.goto(page.url());
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /^default-src 'none'; style-src 'self'/);
    assert.equal(await page.textContent('h1'), `${ANA_KEY} against Team lead (team-lead)`);
    await box(page, 'svg.gap');
    assert.equal(await page.getAttribute('svg.gap', 'role'), 'img');

    // A bar per requirement, each with the JSON report's figures.
    const bars = await page.$$eval('svg.gap a.bar', (links) =>
      links.map((a) => ({
        classes: a.getAttribute('class').split(/\s+/),
        capability: a.getAttribute('data-capability'),
        level: a.getAttribute('data-level'),
        required: a.getAttribute('data-required'),
        gap: a.getAttribute('data-gap'),
        confidence: a.getAttribute('data-confidence'),
        fill: a.querySelector('rect.achieved').getAttribute('fill'),
        width: Number(a.querySelector('rect.achieved').getAttribute('width')),
        track: Number(a.querySelector('rect.track').getAttribute('width')),
        title: a.querySelector('title').textContent,
        text: a.querySelector('text').textContent,
      })),
    );
    assert.equal(bars.length, role.requirements.length, 'a bar per requirement');
    for (const row of gap.rows) {
      const bar = bars.find((b) => b.capability === row.capability);
      assert.ok(bar, `a bar for ${row.capability}`);
      const status = gapStatus(row);
      assert.ok(bar.classes.includes(status), `${row.capability} is ${status}: ${bar.classes}`);
      assert.equal(bar.fill, STATUS_FILL[status]);
      assert.equal(bar.level, row.achieved === null ? '' : String(row.achieved));
      assert.equal(bar.required, String(row.required));
      assert.equal(Number(bar.gap), row.gap);
      assert.equal(Number(bar.confidence), row.confidence);
      assert.equal(bar.text, `${levelText(row.achieved)} / ${row.required}`);
      assert.ok(
        bar.title.includes(`(${row.capability}): achieved ${levelText(row.achieved)} of required ${row.required}`),
        `tooltip of ${row.capability}: ${bar.title}`,
      );
      assert.ok(bar.title.includes(`self ${levelText(row.self_level)}, manager ${levelText(row.manager_level)}`));
      const last = row.last_evidence_at;
      assert.ok(bar.title.includes(`last evidence ${last === null ? 'none' : last.slice(0, 10)}`), bar.title);
    }
    // Ana's feedback (3 of 2) runs past its marker; her delegation (1 of 2) stops short.
    const feedback = bars.find((b) => b.capability === 'feedback');
    const delegation = bars.find((b) => b.capability === 'delegation');
    assert.equal(feedback.text, '3 / 2');
    assert.equal(delegation.text, '1 / 2');
    assert.ok(feedback.width > delegation.width && feedback.width <= feedback.track);

    // The table: the same figures, the exact confidence, and the explanation below.
    const tableRows = await page.$$eval('table.figures.gap tbody tr', (trs) =>
      trs.map((tr) => ({
        capability: tr.getAttribute('data-capability'),
        required: tr.querySelector('td.required').textContent,
        achieved: tr.querySelector('td.achieved').textContent,
        self: tr.querySelector('td.self').textContent,
        manager: tr.querySelector('td.manager').textContent,
        evidence: tr.querySelector('td.evidence').textContent,
        confidence: Number(tr.querySelector('td.confidence data').getAttribute('value')),
      })),
    );
    assert.deepEqual(
      tableRows,
      gap.rows.map((row) => ({
        capability: row.capability,
        required: String(row.required),
        achieved: levelText(row.achieved),
        self: levelText(row.self_level),
        manager: levelText(row.manager_level),
        evidence: levelText(row.evidence_level),
        confidence: row.confidence,
      })),
    );
    const explained = await page.$$eval('table.evidence', (tables) =>
      tables.map((t) => Array.from(t.querySelectorAll('tbody tr td:nth-child(2) code')).map((c) => c.textContent)),
    );
    assert.deepEqual(
      explained,
      gap.rows.map((row) => row.assessment.explanation.contributions.map((c) => c.statement)),
    );
    assert.equal(await page.locator('script').count(), 0, 'no script element on the page');

    // The feedback bar opens Ana's progression in feedback up to the report's date.
    await Promise.all([
      page.waitForURL(/\/capabilities\/pages\/people\/progression\?/),
      page.click('svg.gap a.bar[data-capability="feedback"] rect.track'),
    ]);
    const progression = new URL(page.url());
    assert.equal(progression.searchParams.get('person'), ANA_KEY);
    assert.equal(progression.searchParams.get('capability'), 'feedback');
    assert.equal(progression.searchParams.get('to'), AS_OF);
    await box(page, 'svg.progression');
    assert.equal(await page.textContent('.latest-level'), String(gap.rows.find((r) => r.capability === 'feedback').achieved));

    // The hostile-named person's gap page shows the name as text.
    await page.goto(client.url(`/capabilities/pages/roles/team-lead/gap?${query({ person: HOSTILE_KEY, as_of: AS_OF })}`));
    assert.equal(await page.textContent('h1'), `${HOSTILE_KEY} against Team lead (team-lead)`);
    assert.equal(await page.locator('script').count(), 0);

    // No person: the page says which parameter is missing.
    const missing = await page.goto(client.url('/capabilities/pages/roles/team-lead/gap'));
    assert.equal(missing.status(), 400);
    assert.equal((await missing.json()).path, 'person');

    assert.deepEqual(consoleErrors.filter((e) => !/status of 400/.test(e)), [], 'no console errors');
    assert.deepEqual(await policyViolations(page), [], 'no CSP violations');
  });
});

test('capability pages: without credentials the browser is challenged', async () => {
  await run({}, async ({ client, browser }) => {
    const page = await browser.context.newPage();
    const url = client.url('/capabilities/pages/roles/team-lead/heatmap');
    const challenged = page.waitForResponse((r) => r.url() === url);
    // With no credentials to answer the challenge with, Chromium gives up on the navigation.
    const navigation = await page.goto(url).then(
      () => 'loaded',
      (error) => error.message,
    );
    assert.match(navigation, /ERR_INVALID_AUTH_CREDENTIALS/);
    const response = await challenged;
    assert.equal(response.status(), 401);
    assert.equal(response.headers()['www-authenticate'], 'Basic realm="proficio"');
    assert.match(response.headers()['content-security-policy'], /frame-ancestors 'none'/);
  });
});
