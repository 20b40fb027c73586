// The real `proficio serve` on an ephemeral port and a fresh data directory, and a client of
// its management, SCORM and xAPI APIs.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADMIN_KEY = 'e2e-admin';
const ADMIN_SECRET = 'e2e-admin-secret-0123456789';
const START_TIMEOUT_MS = 30_000;

/** Every server started here, so that a crashing test run still kills them. */
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function binary() {
  const bin = process.env.PROFICIO_BIN;
  if (!bin) throw new Error('PROFICIO_BIN must name the proficio binary (scripts/browser/test sets it)');
  return bin;
}

function basic(key, secret) {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
}

/**
 * Starts a server; resolves once it prints its address. `stop()` kills it and removes its
 * data directory; `log()` is what it wrote to stderr.
 */
export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'proficio-e2e-'));
  const child = spawn(binary(), ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: {
      ...process.env,
      PROFICIO_ADMIN_KEY: ADMIN_KEY,
      PROFICIO_ADMIN_SECRET: ADMIN_SECRET,
      RUST_LOG: process.env.RUST_LOG || 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const stderr = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => stderr.push(chunk));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    running.delete(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  let base;
  try {
    base = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`proficio did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /proficio listening on (http:\/\/\S+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`proficio exited before listening (code ${code}, signal ${signal})`));
      });
    });
  } catch (error) {
    await stop();
    throw new Error(`${error.message}\n--- server log ---\n${stderr.join('')}`);
  }
  return { base, dataDir, stop, log: () => stderr.join('') };
}

/** A tenant and a credential on it with the scopes the SCORM management API needs. */
export async function createCredential(base, tenant = 'acme') {
  const admin = { authorization: basic(ADMIN_KEY, ADMIN_SECRET), 'content-type': 'application/json' };
  const created = await fetch(`${base}/admin/tenants`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: tenant }),
  });
  if (created.status !== 201 && created.status !== 409) {
    throw new Error(`POST /admin/tenants: ${created.status} ${await created.text()}`);
  }
  const response = await fetch(`${base}/admin/credentials`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ tenant, scopes: ['all', 'define'] }),
  });
  if (response.status !== 201) {
    throw new Error(`POST /admin/credentials: ${response.status} ${await response.text()}`);
  }
  const { key, secret } = await response.json();
  return new Client(base, key, secret);
}

/** The learner every registration of these tests is for. */
export const LEARNER = {
  objectType: 'Agent',
  name: 'Ada',
  account: { homePage: 'https://hr.example.org', name: 'ada' },
};

/** Answers as {status, body}: body parsed as JSON when it is JSON, else the text. */
async function answer(response) {
  const text = await response.text();
  let body = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch (_) {
    // Not JSON: kept as text for the assertion message.
  }
  return { status: response.status, body, headers: response.headers };
}

export class Client {
  constructor(base, key, secret) {
    this.base = base;
    this.authorization = basic(key, secret);
  }

  url(path) {
    return `${this.base}${path}`;
  }

  async importPackage(zip) {
    return answer(
      await fetch(this.url('/scorm/packages'), {
        method: 'POST',
        headers: { authorization: this.authorization, 'content-type': 'application/zip' },
        body: zip,
      }),
    );
  }

  async createRegistration(packageId, learner = LEARNER) {
    return answer(
      await fetch(this.url('/scorm/registrations'), {
        method: 'POST',
        headers: { authorization: this.authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ package: packageId, learner }),
      }),
    );
  }

  /** `GET /scorm/registrations/{id}`, which must answer 200. */
  async registration(id) {
    const got = await answer(
      await fetch(this.url(`/scorm/registrations/${id}`), {
        headers: { authorization: this.authorization },
      }),
    );
    if (got.status !== 200) throw new Error(`GET registration ${id}: ${got.status} ${JSON.stringify(got.body)}`);
    return got.body;
  }

  /** Every statement of a registration, oldest first, following the StatementResult `more` links. */
  async statements(registration) {
    const statements = [];
    let next = `/xapi/statements?registration=${registration}&ascending=true&limit=500`;
    while (next) {
      const got = await answer(
        await fetch(this.url(next), {
          headers: { authorization: this.authorization, 'X-Experience-API-Version': '2.0.0' },
        }),
      );
      if (got.status !== 200) throw new Error(`GET ${next}: ${got.status} ${JSON.stringify(got.body)}`);
      statements.push(...got.body.statements);
      next = got.body.more || null;
    }
    return statements;
  }

  /** Polls the registration until `predicate(view)` holds; fails with the last view after `timeoutMs`. */
  async waitForRegistration(id, predicate, what, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    let view;
    for (;;) {
      view = await this.registration(id);
      if (predicate(view)) return view;
      if (Date.now() > deadline) {
        throw new Error(`registration never reached: ${what}\nlast view: ${JSON.stringify(view, null, 1)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The last word of a statement's verb IRI (`…/verbs/initialized` → `initialized`). */
export function verbOf(statement) {
  return String(statement.verb && statement.verb.id).split('/').pop();
}

/** The registration's activity record of `item`, or undefined. */
export function activity(view, item) {
  return (view.activities || []).find((a) => a.item === item);
}

/** The registration's sessions of `item`, oldest first. */
export function sessionsOf(view, item) {
  return (view.sessions || [])
    .filter((s) => item === undefined || s.item === item)
    .sort((a, b) => String(a.started).localeCompare(String(b.started)) || a.id.localeCompare(b.id));
}
