// The capability service's API for browser tests: a small team put through the model
// endpoints, manager assessments posted to the LRS, a catch-up, and what the report pages
// must show for it, computed from the JSON reports.

import assert from 'node:assert/strict';

export const TYPE_COMPETENCY = 'https://w3id.org/xapi/tla/activity-types/competency';
export const EXT_ASSESSMENT_TYPE = 'https://example.org/xapi/capability/ext/assessment-type';
export const FEEDBACK_IRI = 'https://acme.example/capabilities/FDBK';
export const DELEGATION_IRI = 'https://acme.example/capabilities/DLGT';

/** The date every report of the test is asked for. */
export const AS_OF = '2026-01-01T00:00:00Z';

export function mbox(name) {
  return { objectType: 'Agent', mbox: `mailto:${name}@acme.example` };
}

/** A person whose account name is markup: every page must show it as text. */
export const HOSTILE_NAME = '<script>alert(1)</script>';
export const HOSTILE = {
  objectType: 'Agent',
  name: HOSTILE_NAME,
  account: { homePage: 'https://hr.example.org', name: HOSTILE_NAME },
};
export const HOSTILE_KEY = `account:https://hr.example.org|${HOSTILE_NAME}`;

export const ANA_KEY = 'mbox:mailto:ana@acme.example';
export const MAX_KEY = 'mbox:mailto:max@acme.example';

/** What a heatmap cell's colour says, as the pages decide it from the JSON figures. */
export function cellStatus(cell) {
  if (cell.required === null || cell.gap === null) return 'not-required';
  if (cell.gap <= 0) return 'met';
  if (cell.last_evidence_at === null) return 'no-evidence';
  return 'below';
}

/** What a gap report row's colour says (a requirement is never 'not-required'). */
export function gapStatus(row) {
  if (row.met) return 'met';
  if (row.last_evidence_at === null) return 'no-evidence';
  return 'below';
}

/** The fill of each status (capability-service/src/pages/svg.rs). */
export const STATUS_FILL = {
  met: '#8fd19e',
  below: '#f28b82',
  'no-evidence': '#fde293',
  'not-required': '#e8eaed',
};

/** The key and secret of a harness client (it keeps only the Authorization header). */
export function credentialsOf(client) {
  const decoded = Buffer.from(client.authorization.replace(/^Basic /, ''), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class CapabilityApi {
  constructor(client) {
    this.client = client;
  }

  async request(method, path, body, extraHeaders = {}) {
    const headers = { authorization: this.client.authorization, ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(this.client.url(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch (_) {
      // Not JSON (CSV, HTML): kept as text.
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  async put(path, body) {
    const got = await this.request('PUT', path, body);
    assert.ok(got.status === 200 || got.status === 201, `PUT ${path}: ${got.status} ${JSON.stringify(got.body)}`);
    return got.body;
  }

  /** A GET that must answer 200; the body. */
  async get(path) {
    const got = await this.request('GET', path);
    assert.equal(got.status, 200, `GET ${path}: ${JSON.stringify(got.body)}`);
    return got.body;
  }

  async statements(statements) {
    const got = await this.request('POST', '/xapi/statements', statements, { 'X-Experience-API-Version': '2.0.0' });
    assert.equal(got.status, 200, `POST /xapi/statements: ${JSON.stringify(got.body)}`);
    return got.body;
  }

  async sync() {
    const got = await this.request('POST', '/capabilities/sync');
    assert.equal(got.status, 200, `POST /capabilities/sync: ${JSON.stringify(got.body)}`);
    return got.body;
  }
}

/** A manager's assessment of `learner` in a capability at `level`, observed at `timestamp`. */
export function managerAssessment(learner, capabilityIri, level, timestamp) {
  return {
    actor: learner,
    verb: { id: 'https://w3id.org/xapi/tla/verbs/achieved', display: { 'en-US': 'achieved' } },
    object: { objectType: 'Activity', id: capabilityIri, definition: { type: TYPE_COMPETENCY } },
    result: { score: { raw: level, min: 1, max: 3 } },
    context: {
      instructor: mbox('max'),
      extensions: { [EXT_ASSESSMENT_TYPE]: 'manager' },
    },
    timestamp,
  };
}

/**
 * A team lead role needing feedback and delegation at 2; Ana, Bo and the hostile-named person
 * report to Max, Dee to Kim. Ana's feedback rises 1 → 2 → 3 over 2025; Bo meets feedback and
 * has no evidence of delegation; the hostile-named person is below in feedback. Returns the
 * statements posted.
 */
export async function seedTeam(api) {
  await api.put('/capabilities/frameworks/leadership', {
    id: 'leadership',
    name: 'Leadership',
    version: '1',
    scale: [
      { level: 1, label: 'Aware' },
      { level: 2, label: 'Practising' },
      { level: 3, label: 'Leading' },
    ],
    capabilities: [
      { id: 'feedback', code: 'FDBK', name: 'Giving feedback', iri: FEEDBACK_IRI },
      { id: 'delegation', code: 'DLGT', name: 'Delegating & <em>trusting</em>', iri: DELEGATION_IRI },
    ],
  });
  await api.put('/capabilities/roles/team-lead', {
    id: 'team-lead',
    name: 'Team lead',
    requirements: [
      { capability: 'feedback', level: 2, criticality: 'essential' },
      { capability: 'delegation', level: 2 },
    ],
  });
  const from = '2025-01-01T00:00:00Z';
  await api.put('/capabilities/assignments', [
    { person: mbox('ana'), role: 'team-lead', from, manager: mbox('max') },
    { person: mbox('bo'), role: 'team-lead', from, manager: mbox('max') },
    { person: HOSTILE, role: 'team-lead', from, manager: mbox('max') },
    { person: mbox('dee'), role: 'team-lead', from, manager: mbox('kim') },
  ]);
  await api.put('/capabilities/rules', [
    {
      id: 'manager-assessment',
      version: 1,
      match: {
        verbs: ['https://w3id.org/xapi/tla/verbs/achieved'],
        activity_types: [TYPE_COMPETENCY],
        raters: ['manager'],
      },
      emit: { capability: { from: 'object' }, level: 'score-raw', weight: 1.0 },
    },
  ]);
  const statements = [
    managerAssessment(mbox('ana'), FEEDBACK_IRI, 1, '2025-02-01T09:00:00Z'),
    managerAssessment(mbox('ana'), FEEDBACK_IRI, 2, '2025-05-01T09:00:00Z'),
    managerAssessment(mbox('ana'), FEEDBACK_IRI, 3, '2025-09-01T09:00:00Z'),
    managerAssessment(mbox('ana'), DELEGATION_IRI, 1, '2025-06-01T09:00:00Z'),
    managerAssessment(mbox('bo'), FEEDBACK_IRI, 2, '2025-03-01T09:00:00Z'),
    managerAssessment(HOSTILE, FEEDBACK_IRI, 1, '2025-04-01T09:00:00Z'),
    managerAssessment(mbox('dee'), DELEGATION_IRI, 3, '2025-04-01T09:00:00Z'),
  ];
  await api.statements(statements);
  return statements;
}

/** Syncs until the manager's heatmap shows Ana at level 3 in feedback; that heatmap. */
export async function syncUntilReady(api, path, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await api.sync();
    const map = await api.get(path);
    const ana = map.people.indexOf(ANA_KEY);
    const feedback = map.capabilities.indexOf('feedback');
    if (ana >= 0 && feedback >= 0 && map.cells[ana][feedback].level === 3) return map;
    if (Date.now() > deadline) throw new Error(`the statements never reached the heatmap: ${JSON.stringify(map)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Records, in the page itself, every `securitypolicyviolation` event (CSP Level 3 §5.3), so
 * that a test can read them back with `policyViolations(page)`.
 */
export async function watchPolicy(page) {
  await page.addInitScript(() => {
    window.__policyViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__policyViolations.push(`${event.effectiveDirective} ${event.blockedURI}`);
    });
  });
}

export async function policyViolations(page) {
  return page.evaluate(() => window.__policyViolations || ['the policy watcher is not installed']);
}
