// One run of a browser test: a fresh server and a fresh browser, both gone at the end whatever
// happened, and a failure when the browser reported a problem (see Journal.problems).

import assert from 'node:assert/strict';

import { launchBrowser, openPlayer, redact } from './browser.mjs';
import { createCredential, startServer } from './server.mjs';

const LOG_TAIL_LINES = 60;

function tail(text, lines) {
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Runs `body({server, client, browser, launch})`; `launch(url)` opens a launch page in a new
 * tab. `dialogs` decides the SCOs' confirm/alert dialogs (see launchBrowser).
 */
export async function run({ dialogs } = {}, body) {
  const server = await startServer();
  let browser = null;
  try {
    const client = await createCredential(server.base);
    browser = await launchBrowser({ dialogs });
    const launch = (path) => openPlayer(browser, client.url(path));
    await body({ server, client, browser, launch });
    assert.deepEqual(browser.journal.problems(), [], 'the browser reported problems');
  } catch (error) {
    // A new error: some (Playwright's) print a stack fixed at construction, not the message.
    const browserLog = browser ? browser.journal.dump() : '(no browser)';
    throw new Error(
      `${error && error.message}` +
        `\n--- browser ---\n${browserLog}` +
        `\n--- server log, last ${LOG_TAIL_LINES} lines ---\n${redact(tail(server.log(), LOG_TAIL_LINES))}`,
      { cause: error },
    );
  } finally {
    if (browser) await browser.close();
    await server.stop();
  }
}

/** Imports `zip`, expecting 201 and `version`; returns the package summary. */
export async function importPackage(client, zip, version) {
  const imported = await client.importPackage(zip);
  assert.equal(imported.status, 201, `import answered ${imported.status}: ${JSON.stringify(imported.body)}`);
  assert.equal(imported.body.version, version, 'the package version');
  return imported.body;
}

/** A registration of the test learner; returns {id, url} (url: the launch page path). */
export async function register(client, packageId) {
  const created = await client.createRegistration(packageId);
  assert.equal(created.status, 201, `registration answered ${created.status}: ${JSON.stringify(created.body)}`);
  const url = created.body.launch && created.body.launch.url;
  assert.match(String(url), /^\/scorm\/launch\/[^/]+$/, 'launch.url is a launch path');
  return { id: created.body.id, url };
}

/** The launchable items of an imported package's default organization, in manifest order. */
export function leafItems(summary) {
  const organization =
    summary.organizations.find((o) => o.identifier === summary.default_organization) || summary.organizations[0];
  const leaves = [];
  const walk = (items) => {
    for (const item of items || []) {
      if (item.launchable) leaves.push(item.identifier);
      walk(item.items);
    }
  };
  walk(organization.items);
  return leaves;
}

/** Asserts that the statements are all about `registration` and include each of `verbs`. */
export function assertStatements(statements, registration, verbs) {
  const seen = statements.map((s) => String(s.verb.id).split('/').pop());
  for (const statement of statements) {
    assert.equal(
      statement.context && statement.context.registration,
      registration,
      `statement ${statement.id} (${statement.verb.id}) carries the registration`,
    );
  }
  for (const verb of verbs) {
    assert.ok(seen.includes(verb), `a "${verb}" statement is stored; verbs seen: ${seen.join(', ')}`);
  }
  return seen;
}
