// Debian's Chromium driven by playwright-core, and the launch page as a learner sees it: the
// `#sco` frame, the Continue / Previous / Suspend / Exit buttons, the outline and the status
// line. Everything the browser reports (console, uncaught errors, dialogs, failed requests)
// is kept so that a test can fail on it and print it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.PROFICIO_CHROMIUM || '/usr/bin/chromium';

/** The flags every run needs on a machine without network access. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * A browser on a fresh profile (its own `--user-data-dir`), removed by `close()`. `dialogs`
 * decides each `alert`/`confirm`: `(dialog) => 'accept' | 'dismiss'`; every dialog is recorded.
 */
export async function launchBrowser({ dialogs = () => 'dismiss' } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'proficio-e2e-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Chromium did not start from ${CHROMIUM}: ${error.message}`);
  }
  context.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
  const journal = new Journal(dialogs);
  context.on('page', (page) => journal.watch(page));
  for (const page of context.pages()) journal.watch(page);
  return {
    context,
    journal,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What the browser reported, across every page of the context. */
export class Journal {
  constructor(decide) {
    this.decide = decide;
    this.console = [];
    this.pageErrors = [];
    this.dialogs = [];
    this.failedRequests = [];
    this.badResponses = [];
  }

  watch(page) {
    page.on('console', (message) => {
      const location = message.location();
      this.console.push({ type: message.type(), text: message.text(), url: location && location.url });
    });
    page.on('pageerror', (error) => {
      this.pageErrors.push({ page: page.url(), message: error.message, stack: error.stack });
    });
    page.on('dialog', async (dialog) => {
      const record = { type: dialog.type(), message: dialog.message(), page: page.url() };
      let decision = 'dismiss';
      try {
        decision = this.decide(record);
      } catch (_) {
        decision = 'dismiss';
      }
      record.decision = decision;
      this.dialogs.push(record);
      try {
        if (decision === 'accept') await dialog.accept();
        else await dialog.dismiss();
      } catch (_) {
        // The page went away while the dialog was open.
      }
    });
    page.on('requestfailed', (request) => {
      const failure = request.failure();
      this.failedRequests.push({
        method: request.method(),
        url: request.url(),
        error: failure ? failure.errorText : 'failed',
      });
    });
    page.on('response', (response) => {
      if (response.status() >= 400) {
        this.badResponses.push({
          method: response.request().method(),
          url: response.url(),
          status: response.status(),
        });
      }
    });
  }

  /** Console errors raised by the player's own scripts or the launch page. */
  playerConsoleErrors() {
    return this.console.filter(
      (m) => m.type === 'error' && typeof m.url === 'string' && /\/scorm\/(assets|launch\/[^/]+$)/.test(m.url),
    );
  }

  /**
   * Everything that makes a run wrong whatever the test: an uncaught error in any page or
   * frame, an alert (the sample SCOs alert when they cannot find or use the API), a console
   * error of the player, a server error, and a commit the server did not accept.
   */
  problems() {
    const problems = [];
    for (const e of this.pageErrors) problems.push(`uncaught error in ${e.page}: ${e.message}`);
    for (const d of this.dialogs.filter((x) => x.type === 'alert')) problems.push(`alert: ${d.message}`);
    for (const m of this.playerConsoleErrors()) problems.push(`player console error (${m.url}): ${m.text}`);
    for (const r of this.badResponses) {
      if (r.status >= 500 || /\/commits$/.test(r.url)) problems.push(`${r.method} ${redact(r.url)} answered ${r.status}`);
    }
    return problems;
  }

  /** A readable dump for a failure message. */
  dump() {
    const lines = [];
    for (const m of this.console) lines.push(`console.${m.type}: ${m.text} (${redact(m.url || '')})`);
    for (const e of this.pageErrors) lines.push(`pageerror: ${e.message}\n${e.stack || ''}`);
    for (const d of this.dialogs) lines.push(`dialog ${d.type} (${d.decision}): ${d.message}`);
    for (const r of this.failedRequests) lines.push(`request failed: ${r.method} ${redact(r.url)}: ${r.error}`);
    for (const r of this.badResponses) lines.push(`response ${r.status}: ${r.method} ${redact(r.url)}`);
    return lines.join('\n');
  }
}

/** Launch tokens are credentials: shortened in messages. */
export function redact(url) {
  return String(url).replace(/\/scorm\/launch\/([A-Za-z0-9_-]{8})[A-Za-z0-9_.~-]*/g, '/scorm/launch/$1…');
}

/** The launch page of a registration, opened in a new page of `browser`. */
export async function openPlayer(browser, url) {
  const page = await browser.context.newPage();
  const response = await page.goto(url);
  if (!response || response.status() !== 200) {
    throw new Error(`launch page ${redact(url)} answered ${response && response.status()}`);
  }
  return new Player(page);
}

const BUTTONS = ['continue', 'previous', 'suspend', 'exit'];

export class Player {
  constructor(page) {
    this.page = page;
    /** The frame the SCO plays in. */
    this.sco = page.frameLocator('#sco');
  }

  button(name) {
    if (!BUTTONS.includes(name)) throw new Error(`no player button ${name}`);
    return this.page.locator(`#btn-${name}`);
  }

  /** Which of the player's buttons are enabled now. */
  async enabledButtons() {
    const enabled = {};
    for (const name of BUTTONS) enabled[name] = await this.button(name).isEnabled();
    return enabled;
  }

  /** Presses a button once it is enabled. */
  async press(name) {
    const button = this.button(name);
    await button.waitFor({ state: 'visible' });
    await this.page.waitForFunction((id) => !document.getElementById(id).disabled, `btn-${name}`);
    await button.click();
  }

  async status() {
    return (await this.page.locator('#status').textContent()) || '';
  }

  async waitForStatus(pattern, timeout = DEFAULT_TIMEOUT_MS) {
    await this.page.waitForFunction(
      ([source, flags]) => new RegExp(source, flags).test(document.getElementById('status').textContent || ''),
      [pattern.source, pattern.flags],
      { timeout },
    );
  }

  /** The outline as the learner sees it: id, title, whether it can be chosen, current, badges. */
  async outline() {
    return this.page.$$eval('#outline button[data-item]', (buttons) =>
      buttons.map((b) => ({
        id: b.getAttribute('data-item'),
        title: (b.querySelector('.title') || b).textContent,
        enabled: !b.disabled,
        choosable: b.getAttribute('data-choosable') === 'true',
        current: b.getAttribute('aria-current') === 'step',
        badges: Array.from(b.querySelectorAll('.badge')).map((x) => x.textContent),
      })),
    );
  }

  async outlineItem(id) {
    const found = (await this.outline()).find((entry) => entry.id === id);
    if (!found) throw new Error(`outline has no item ${id}: ${JSON.stringify(await this.outline())}`);
    return found;
  }

  /**
   * Clicks an item in the outline. `force` clicks even a disabled one, as an impatient
   * learner would (the browser then dispatches no click).
   */
  async choose(id, { force = false } = {}) {
    await this.page.locator(`#outline button[data-item="${id}"]`).click({ force });
  }

  /**
   * Waits until `item` is delivered and its SCO has called Initialize/LMSInitialize on the
   * API the page put up (the shim's session for the delivery leaves "not initialized").
   */
  async waitForSco(item, timeout = DEFAULT_TIMEOUT_MS) {
    try {
      await this.page.waitForFunction(
        (id) => {
          const controller = window.ProficioPlayer && window.ProficioPlayer.controller;
          const current = controller && controller.current;
          return Boolean(current && current.delivery.item === id && current.session.initialized);
        },
        item,
        { timeout },
      );
    } catch (error) {
      const state = await this.page
        .evaluate(() => {
          const c = window.ProficioPlayer && window.ProficioPlayer.controller;
          return c && c.current
            ? { item: c.current.delivery.item, initialized: c.current.session.initialized }
            : null;
        })
        .catch(() => 'unavailable');
      throw new Error(
        `SCO ${item} was not delivered and initialized within ${timeout} ms; current delivery: ${JSON.stringify(state)}; status: ${await this.status().catch(() => '?')}`,
      );
    }
  }

  /** The item being delivered, or null. */
  async currentItem() {
    return this.page.evaluate(() => {
      const c = window.ProficioPlayer && window.ProficioPlayer.controller;
      return c && c.current ? c.current.delivery.item : null;
    });
  }

  /** The Playwright frame of the SCO (the `#sco` iframe's document). */
  async scoFrame() {
    const handle = await this.page.waitForSelector('#sco');
    const frame = await handle.contentFrame();
    if (!frame) throw new Error('#sco has no frame');
    return frame;
  }

  /** Closes the page the way a learner closes the tab (beforeunload, pagehide, unload run). */
  async closeTab(timeout = DEFAULT_TIMEOUT_MS) {
    let timer;
    const closed = new Promise((resolve, reject) => {
      this.page.once('close', resolve);
      timer = setTimeout(() => reject(new Error(`the tab did not close within ${timeout} ms`)), timeout);
    });
    try {
      await this.page.close({ runBeforeUnload: true });
      await closed;
    } finally {
      clearTimeout(timer);
    }
  }
}
