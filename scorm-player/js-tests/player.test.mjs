// The launch page controller: its decisions as plain functions, then the flows between the
// SCO, the learner and the player API through PlayerController with a minimal stand-in for
// the page (elements, events) and a scripted server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Scorm from '../assets/api.js';
import Player from '../assets/player.js';

// --- Decisions ------------------------------------------------------------------------------

test('adl.nav.request values become navigate bodies', () => {
  const rows = [
    ['_none_', null],
    ['', null],
    [undefined, null],
    ['continue', { request: 'continue' }],
    ['previous', { request: 'previous' }],
    ['exit', { request: 'exit' }],
    ['exitAll', { request: 'exitAll' }],
    ['abandon', { request: 'abandon' }],
    ['abandonAll', { request: 'abandonAll' }],
    ['suspendAll', { request: 'suspendAll' }],
    ['{target=intro}choice', { request: 'choice', target: 'intro' }],
    ['{target=quiz-2}jump', { request: 'jump', target: 'quiz-2' }],
    ['{target=}choice', null],
    ['{target=a}b}choice', null],
    ['{target=intro}retry', null],
    ['start', null],
  ];
  for (const [value, want] of rows) assert.deepEqual(Player.parseNavRequest(value), want, String(value));
});

test('navigate bodies: known requests only, a target exactly for choice and jump', () => {
  assert.deepEqual(Player.navigateBody('start'), { request: 'start' });
  assert.deepEqual(Player.navigateBody('exitAll', 'ignored'), { request: 'exitAll' });
  assert.deepEqual(Player.navigateBody('choice', 'sco-2'), { request: 'choice', target: 'sco-2' });
  for (const name of Player.NAV_REQUEST_NAMES.filter((n) => n !== 'choice' && n !== 'jump')) {
    assert.deepEqual(Player.navigateBody(name), { request: name });
  }
  const refused = (fn, field) =>
    assert.throws(fn, (e) => e instanceof Scorm.ConfigError && e.field === field);
  refused(() => Player.navigateBody('teleport'), 'request');
  refused(() => Player.navigateBody('choice'), 'target');
  refused(() => Player.navigateBody('jump', ''), 'target');
});

test('after Terminate: 2004 follows adl.nav.request, 1.2 continues when allowed', () => {
  const allowed = { continue: true };
  assert.deepEqual(Player.requestAfterTerminate('Scorm2004', 'continue', {}), { request: 'continue' });
  assert.equal(Player.requestAfterTerminate('Scorm2004', '_none_', allowed), null, 'the learner chooses');
  assert.deepEqual(Player.requestAfterTerminate('Scorm2004', '{target=b}choice', {}), {
    request: 'choice',
    target: 'b',
  });
  assert.deepEqual(Player.requestAfterTerminate('Scorm12', '_none_', allowed), { request: 'continue' });
  assert.equal(Player.requestAfterTerminate('Scorm12', '_none_', { continue: false }), null);
  assert.equal(Player.requestAfterTerminate('Scorm12', '_none_', undefined), null);
});

test('buttons follow the server controls, and are off while busy or finished', () => {
  const controls = { continue: true, previous: false, exit: true, suspend: true };
  assert.deepEqual(Player.controlStates(controls), {
    previous: false,
    continue: true,
    exit: true,
    suspend: true,
  });
  const off = { previous: false, continue: false, exit: false, suspend: false };
  assert.deepEqual(Player.controlStates(controls, { busy: true }), off);
  assert.deepEqual(Player.controlStates(controls, { finished: true }), off);
  assert.deepEqual(Player.controlStates(null), off);
  assert.deepEqual(Player.controlStates({ continue: 'yes' }).continue, false, 'only true enables');
});

test('the outline nests by depth, leaves hidden items out and keeps their children', () => {
  const outline = [
    { id: 'root', title: 'Course', depth: 0, current: false, choosable: false, visible: true, leaf: false },
    { id: 'm1', title: 'Module 1', depth: 1, choosable: true, visible: true, leaf: false },
    { id: 's1', title: 'Intro', depth: 2, current: true, choosable: true, visible: true, completion: 'completed', success: 'passed', leaf: true },
    { id: 'hidden', title: 'Hidden cluster', depth: 1, choosable: false, visible: false, leaf: false },
    { id: 's2', title: 'Inside hidden', depth: 2, choosable: false, visible: true, completion: 'incomplete', suspended: true, leaf: true },
    { id: 's3', title: '', depth: 1, choosable: true, visible: true, success: 'failed', completion: 'unknown', leaf: true },
  ];
  const tree = Player.outlineTree(outline);
  const shape = (nodes) =>
    nodes.map((n) => [n.id, n.title, n.current, n.enabled, n.status, shape(n.children)]);
  assert.deepEqual(shape(tree), [
    [
      'root',
      'Course',
      false,
      false,
      [],
      [
        ['m1', 'Module 1', false, true, [], [['s1', 'Intro', true, true, ['completed', 'passed'], []]]],
        ['s2', 'Inside hidden', false, false, ['incomplete', 'suspended'], []],
        ['s3', 's3', false, true, ['failed'], []],
      ],
    ],
  ]);
  assert.deepEqual(Player.outlineTree(null), []);
  assert.deepEqual(Player.outlineTree([{ title: 'no id' }]), []);
});

test('the launch configuration is read field by field', () => {
  const good = {
    registration: 'a8d3c2b0-0000-4000-8000-000000000001',
    version: '2004',
    title: 'Course',
    api: '/scorm/r/a8d3/api/',
    commit_interval_ms: 15000,
    limits: { max_value_chars: 1000, max_records: 10, max_total_chars: 100000 },
    initial_request: 'resumeAll',
  };
  const config = Player.readConfig(JSON.stringify(good));
  assert.equal(config.dataModel, 'Scorm2004');
  assert.equal(config.api, '/scorm/r/a8d3/api', 'no trailing slash');
  assert.equal(config.commitIntervalMs, 15000);
  assert.equal(config.initialRequest, 'resumeAll');
  assert.deepEqual(config.limits, { strict: false, max_value_chars: 1000, max_records: 10, max_total_chars: 100000 });
  assert.equal(Player.readConfig(JSON.stringify({ ...good, version: '1.2' })).dataModel, 'Scorm12');
  const refused = (patch, field) =>
    assert.throws(
      () => Player.readConfig(typeof patch === 'string' ? patch : JSON.stringify({ ...good, ...patch })),
      (e) => e instanceof Scorm.ConfigError && e.field === field,
      field,
    );
  refused('{not json', 'config');
  refused('[1]', 'config');
  refused({ version: '2004 5th Edition' }, 'version');
  refused({ api: 'https://elsewhere.example/api' }, 'api');
  refused({ api: '//elsewhere.example/api' }, 'api');
  refused({ registration: '' }, 'registration');
  refused({ initial_request: 'continue' }, 'initial_request');
  refused({ commit_interval_ms: -1 }, 'commit_interval_ms');
  refused({ limits: { max_records: 1.5 } }, 'limits.max_records');
});

test('a delivery is checked before anything is loaded', () => {
  const good = {
    item: 'sco-1',
    title: 'One',
    url: '/scorm/r/reg/content/sco1.html?x=y',
    session: 's-1',
    commit_url: '/scorm/r/reg/api/sessions/s-1/commits',
    launch: {},
    start: { entry: 'ab-initio', values: [], total_time: 0 },
    navigation: { continue: 'true', previous: 'false', choice: {}, jump: {} },
  };
  assert.equal(Player.readDelivery(good).commitUrl, good.commit_url);
  const refused = (patch, field) =>
    assert.throws(
      () => Player.readDelivery({ ...good, ...patch }),
      (e) => e instanceof Scorm.ConfigError && e.field === field,
      field,
    );
  refused({ url: 'javascript:alert(1)' }, 'delivery.url');
  refused({ url: 'https://cdn.example/sco.html' }, 'delivery.url');
  refused({ commit_url: '' }, 'delivery.commit_url');
  refused({ launch: null }, 'delivery.launch');
  refused({ navigation: 'all' }, 'delivery.navigation');
});

test('messages for the status line', () => {
  assert.equal(Player.responseMessage({ suspended: true }), 'Suspended — you can close this window');
  assert.equal(Player.responseMessage({ ended: true }), 'Course ended');
  assert.equal(Player.responseMessage({ ended: false, suspended: false }), null);
  assert.equal(
    Player.describeFailure(409, { status: 409, error: 'navigation-refused', rule: 'NB.2.1-2', message: 'Nothing before this' }),
    'Nothing before this',
  );
  assert.match(Player.describeFailure(409, null), /not allowed/);
  assert.match(Player.describeFailure(500, null), /500/);
});

// --- Flows through the controller -------------------------------------------------------------

class Element {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    this.children = [];
    this.parent = null;
    this.listeners = {};
    this.textContent = '';
    this.className = '';
    this.disabled = false;
  }
  setAttribute(name, value) {
    this.attributes.set(name, String(value));
    if (name === 'src' && this.onNavigate) this.onNavigate(String(value));
  }
  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }
  appendChild(child) {
    child.parent = this;
    this.children.push(child);
    return child;
  }
  replaceWith(other) {
    this.parent.children[this.parent.children.indexOf(this)] = other;
    other.parent = this.parent;
  }
  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }
  removeEventListener(type, fn) {
    this.listeners[type] = (this.listeners[type] || []).filter((f) => f !== fn);
  }
  dispatch(type, target = this) {
    for (const fn of [...(this.listeners[type] || [])]) fn({ type, target });
  }
  descendants() {
    return this.children.flatMap((c) => [c, ...c.descendants()]);
  }
  querySelector(selector) {
    return this.querySelectorAll(selector)[0] || null;
  }
  querySelectorAll(selector) {
    if (selector === 'ul') return this.descendants().filter((e) => e.tagName === 'UL');
    if (selector === 'button[data-item]') {
      return this.descendants().filter((e) => e.tagName === 'BUTTON' && e.getAttribute('data-item') !== null);
    }
    throw new Error(`selector ${selector} not supported`);
  }
  closest(selector) {
    for (let e = this; e; e = e.parent) {
      if (selector === 'button[data-item]' && e.tagName === 'BUTTON' && e.getAttribute('data-item') !== null) {
        return e;
      }
    }
    return null;
  }
  get text() {
    return this.textContent + this.children.map((c) => c.text).join('');
  }
}

function page() {
  const ids = {};
  for (const [id, tag] of [
    ['sco', 'iframe'],
    ['outline', 'nav'],
    ['status', 'p'],
    ['btn-previous', 'button'],
    ['btn-continue', 'button'],
    ['btn-suspend', 'button'],
    ['btn-exit', 'button'],
  ]) {
    ids[id] = new Element(tag);
  }
  const document = new Element('document');
  document.getElementById = (id) => ids[id] || null;
  document.createElement = (tag) => new Element(tag);
  document.visibilityState = 'visible';
  const window = new Element('window');
  return { window, document, ids };
}

// Lets every queued step run: promise chains and immediates, then a short real delay for
// anything scheduled on a timer (a loaded machine runs them late).
const flush = async () => {
  for (let i = 0; i < 50; i += 1) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

/** The player API: navigate answers are scripted, commits are accepted; every call is logged. */
function server(answers) {
  const log = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    log.push({ url, body });
    if (url.endsWith('/navigate')) {
      const next = answers.shift();
      assert.ok(next, `an answer is scripted for ${JSON.stringify(body)}`);
      const [status, answer] = typeof next === 'function' ? next(body) : next;
      return { ok: status >= 200 && status < 300, status, text: async () => JSON.stringify(answer) };
    }
    return { ok: true, status: 200, text: async () => JSON.stringify({ accepted: true, sequence: body.sequence }) };
  };
  return { fetch, log };
}

const CONFIG = {
  registration: 'reg-1',
  version: '2004 4th Edition',
  title: 'Golf',
  api: '/scorm/r/reg-1/api',
  commit_interval_ms: 30000,
  limits: { max_value_chars: 262144, max_records: 1024, max_total_chars: 4194304 },
  initial_request: 'start',
};

const OUTLINE = [
  { id: 'course', title: 'Golf', depth: 0, current: false, choosable: false, visible: true, leaf: false },
  { id: 'sco-1', title: 'Playing', depth: 1, current: true, choosable: true, visible: true, completion: 'unknown', success: 'unknown', suspended: false, leaf: true },
  { id: 'sco-2', title: 'Etiquette', depth: 1, current: false, choosable: true, visible: true, completion: 'unknown', success: 'unknown', suspended: false, leaf: true },
];

function delivery(item, extra = {}) {
  return {
    delivery: {
      item,
      title: item,
      url: `/scorm/r/reg-1/content/${item}.html`,
      session: `session-${item}`,
      commit_url: `/scorm/r/reg-1/api/sessions/session-${item}/commits`,
      launch: { learner_id: 'urn:learner:1', learner_name: 'Ada', credit: 'credit', mode: 'normal' },
      start: { entry: 'ab-initio', values: [], total_time: 0 },
      navigation: { continue: 'true', previous: 'false', choice: {}, jump: {} },
    },
    ended: false,
    suspended: false,
    outline: OUTLINE,
    controls: { continue: true, previous: false, exit: true, suspend: true },
    ...extra,
  };
}

const ended = { delivery: null, ended: true, suspended: false, outline: OUTLINE, controls: {} };

function controller(answers, config = CONFIG) {
  const { window, document, ids } = page();
  const api = server(answers);
  const timers = { setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, 5)), clearTimeout };
  const player = new Player.PlayerController({
    window,
    document,
    config: Player.readConfig(JSON.stringify(config)),
    fetch: api.fetch,
    timers,
  });
  return { player, window, document, ids, log: api.log };
}

test('start: the first request, the SCO in the frame, the API where the SCO looks for it', async () => {
  const { player, window, document, ids, log } = controller([[200, delivery('sco-1')]]);
  await player.start();
  assert.deepEqual(log[0], { url: '/scorm/r/reg-1/api/navigate', body: { request: 'start' } });
  assert.equal(ids.sco.getAttribute('src'), '/scorm/r/reg-1/content/sco-1.html');
  assert.equal(document.title, 'Golf');
  const api = window.API_1484_11;
  assert.equal(api.Initialize(''), 'true');
  assert.equal(api.GetValue('cmi.learner_id'), 'urn:learner:1');
  assert.equal(api.GetValue('adl.nav.request_valid.continue'), 'true');
  assert.equal(window.API, undefined, 'a 2004 page offers no 1.2 API');
  assert.equal(ids['btn-continue'].disabled, false);
  assert.equal(ids['btn-previous'].disabled, true);
  const items = ids.outline.querySelectorAll('button[data-item]');
  assert.deepEqual(
    items.map((b) => [b.getAttribute('data-item'), b.disabled, b.getAttribute('aria-current')]),
    [
      ['course', true, null],
      ['sco-1', false, 'step'],
      ['sco-2', false, null],
    ],
  );
});

test("the SCO's own navigation request follows its terminate commit", async () => {
  const { player, window, ids, log } = controller([[200, delivery('sco-1')], [200, delivery('sco-2')]]);
  await player.start();
  const api = window.API_1484_11;
  api.Initialize('');
  api.SetValue('cmi.completion_status', 'completed');
  api.SetValue('adl.nav.request', 'continue');
  assert.equal(api.Terminate(''), 'true');
  await flush();
  assert.deepEqual(
    log.map((entry) => entry.url),
    [
      '/scorm/r/reg-1/api/navigate',
      '/scorm/r/reg-1/api/sessions/session-sco-1/commits',
      '/scorm/r/reg-1/api/navigate',
    ],
  );
  assert.equal(log[1].body.terminated, true);
  assert.deepEqual(log[2].body, { request: 'continue' });
  assert.equal(ids.sco.getAttribute('src'), '/scorm/r/reg-1/content/sco-2.html');
  assert.equal(window.API_1484_11.Initialize(''), 'true', 'a fresh session for the next SCO');
  assert.equal(window.API_1484_11.GetValue('cmi.completion_status'), 'unknown');
});

test('with _none_ the controller waits for the learner', async () => {
  const { player, window, log, ids } = controller([[200, delivery('sco-1')], [200, delivery('sco-2')]]);
  await player.start();
  window.API_1484_11.Initialize('');
  window.API_1484_11.Terminate('');
  await flush();
  assert.equal(log.filter((e) => e.url.endsWith('/navigate')).length, 1);
  ids['btn-continue'].dispatch('click');
  await flush();
  assert.deepEqual(log.at(-1).body, { request: 'continue' });
  assert.equal(ids.sco.getAttribute('src'), '/scorm/r/reg-1/content/sco-2.html');
});

test('Exit while the SCO runs: unload, final commit, then exitAll', async () => {
  const { player, window, ids, log } = controller([[200, delivery('sco-1')], [200, ended]]);
  await player.start();
  const api = window.API_1484_11;
  api.Initialize('');
  api.SetValue('cmi.location', 'hole-4');
  const navigations = [];
  ids.sco.onNavigate = (src) => {
    navigations.push(src);
    // The SCO's unload handler does not terminate; the blank page then loads.
    setImmediate(() => ids.sco.dispatch('load'));
  };
  ids['btn-exit'].dispatch('click');
  await flush();
  assert.deepEqual(navigations, ['about:blank']);
  const after = log.slice(1);
  assert.equal(after[0].url, '/scorm/r/reg-1/api/sessions/session-sco-1/commits');
  assert.deepEqual(after[0].body, {
    data_model: 'Scorm2004',
    sequence: 1,
    terminated: false,
    values: [{ element: 'cmi.location', value: 'hole-4' }],
  });
  assert.deepEqual(after[1].body, { request: 'exitAll' });
  assert.equal(ids.status.textContent, 'Course ended');
  for (const name of ['previous', 'continue', 'suspend', 'exit']) {
    assert.equal(ids[`btn-${name}`].disabled, true, name);
  }
  assert.equal(window.API_1484_11.Initialize(''), 'false', 'no SCO is delivered any more');
});

test('Suspend: a SCO that terminates while unloading is not followed; suspendAll is sent', async () => {
  const suspended = { ...ended, ended: false, suspended: true };
  const { player, window, ids, log } = controller([[200, delivery('sco-1')], [200, suspended]]);
  await player.start();
  const api = window.API_1484_11;
  api.Initialize('');
  api.SetValue('adl.nav.request', 'continue');
  ids.sco.onNavigate = () => {
    api.SetValue('cmi.exit', 'suspend');
    api.Terminate('');
    setImmediate(() => ids.sco.dispatch('load'));
  };
  ids['btn-suspend'].dispatch('click');
  await flush();
  const requests = log.filter((e) => e.url.endsWith('/navigate')).map((e) => e.body);
  assert.deepEqual(requests, [{ request: 'start' }, { request: 'suspendAll' }]);
  const commits = log.filter((e) => e.url.endsWith('/commits'));
  assert.equal(commits.length, 1, 'the terminate commit, no second final commit');
  assert.equal(commits[0].body.terminated, true);
  assert.equal(ids.status.textContent, 'Suspended — you can close this window');
});

test('a refused request shows the message and keeps the current SCO', async () => {
  const refusal = { status: 409, error: 'navigation-refused', rule: 'NB.2.1-2', message: 'There is nothing before this activity.' };
  const { player, window, ids } = controller([[200, delivery('sco-1')], [409, refusal]]);
  await player.start();
  window.API_1484_11.Initialize('');
  window.API_1484_11.SetValue('adl.nav.request', 'previous');
  window.API_1484_11.Terminate('');
  await flush();
  assert.equal(ids.status.textContent, 'There is nothing before this activity.');
  assert.equal(ids.status.className, 'status error');
  assert.equal(ids.sco.getAttribute('src'), '/scorm/r/reg-1/content/sco-1.html');
  assert.equal(ids['btn-continue'].disabled, false, 'the learner can go on');
});

test('an outline choice sends choice with the item as target', async () => {
  const { player, ids, log } = controller([[200, delivery('sco-1')], [200, delivery('sco-2')]]);
  await player.start();
  ids.sco.onNavigate = (src) => {
    if (src === 'about:blank') setImmediate(() => ids.sco.dispatch('load'));
  };
  const target = ids.outline.querySelectorAll('button[data-item]')[2];
  const label = target.children[0];
  ids.outline.dispatch('click', label);
  await flush();
  assert.deepEqual(log.at(-1).body, { request: 'choice', target: 'sco-2' });
});

test('SCORM 1.2: LMSFinish moves on with continue when the sequencer allows it', async () => {
  const config = { ...CONFIG, version: '1.2' };
  const last = delivery('sco-2', { controls: { continue: false, previous: true, exit: true, suspend: true } });
  const { player, window, log, ids } = controller([[200, delivery('sco-1')], [200, last]], config);
  await player.start();
  assert.equal(window.API_1484_11, undefined);
  window.API.LMSInitialize('');
  window.API.LMSFinish('');
  await flush();
  assert.deepEqual(log.at(-1).body, { request: 'continue' });
  assert.equal(log.at(-2).body.data_model, 'Scorm12');
  window.API.LMSInitialize('');
  window.API.LMSFinish('');
  await flush();
  assert.equal(log.filter((e) => e.url.endsWith('/navigate')).length, 2, 'the last SCO waits for the learner');
  assert.equal(ids['btn-continue'].disabled, true);
  assert.equal(ids['btn-previous'].disabled, false);
});

test('pagehide sends what is pending by beacon', async () => {
  const beacons = [];
  const previous = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: {
      sendBeacon: (url, blob) => {
        beacons.push(url);
        return true;
      },
    },
  });
  try {
    const { player, window } = controller([[200, delivery('sco-1')]]);
    await player.start();
    window.API_1484_11.Initialize('');
    window.API_1484_11.SetValue('cmi.suspend_data', 'abc');
    window.dispatch('pagehide');
    assert.deepEqual(beacons, ['/scorm/r/reg-1/api/sessions/session-sco-1/commits']);
  } finally {
    if (previous) Object.defineProperty(globalThis, 'navigator', previous);
    else delete globalThis.navigator;
  }
});

test('bad data from the server is reported, not thrown', async () => {
  const broken = delivery('sco-1');
  broken.delivery.url = 'https://elsewhere.example/sco.html';
  const { player, ids } = controller([[200, broken]]);
  assert.equal(await player.start(), false);
  assert.match(ids.status.textContent, /delivery\.url/);
  assert.equal(ids.sco.getAttribute('src'), null);
});

test('api.js and player.js load as classic scripts and start the page', async () => {
  const { readFileSync } = await import('node:fs');
  const vm = await import('node:vm');
  const assets = new URL('../assets/', import.meta.url);
  const { document, ids } = page();
  const config = new Element('script');
  config.textContent = JSON.stringify(CONFIG);
  const byId = document.getElementById;
  document.getElementById = (id) => (id === 'proficio-config' ? config : byId(id));
  document.readyState = 'complete';
  const api = server([[200, delivery('sco-1')]]);
  const context = vm.createContext({
    document,
    fetch: api.fetch,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    addEventListener: () => {},
  });
  for (const name of ['api.js', 'player.js']) {
    vm.runInContext(readFileSync(new URL(name, assets), 'utf8'), context, { filename: name });
  }
  await flush();
  assert.equal(typeof context.ProficioScorm.Runtime, 'function');
  assert.ok(context.ProficioPlayer.controller, 'the page started itself');
  assert.deepEqual(api.log[0].body, { request: 'start' });
  assert.equal(ids.sco.getAttribute('src'), '/scorm/r/reg-1/content/sco-1.html');
  assert.equal(context.API_1484_11.Initialize(''), 'true', 'the SCO finds the API on the page window');
});

test('the page template: two placeholders, nothing the Content-Security-Policy forbids', async () => {
  const { readFileSync } = await import('node:fs');
  const html = readFileSync(new URL('../assets/player.html', import.meta.url), 'utf8');
  const count = (text) => html.split(text).length - 1;
  assert.equal(count('{{TITLE}}'), 1);
  assert.equal(count('{{CONFIG}}'), 1);
  assert.equal(count('{{'), 2, 'no other placeholder');
  assert.match(html, /<script type="application\/json" id="proficio-config">\{\{CONFIG\}\}<\/script>/);
  for (const script of html.match(/<script[^>]*>/g)) {
    assert.ok(/ src="\/scorm\/assets\/[a-z]+\.js"/.test(script) || /type="application\/json"/.test(script), script);
  }
  assert.ok(html.indexOf('/scorm/assets/api.js') < html.indexOf('/scorm/assets/player.js'), 'api.js first');
  assert.match(html, /<link rel="stylesheet" href="\/scorm\/assets\/player\.css">/);
  assert.doesNotMatch(html, /\sstyle=/i, 'no inline style');
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handler');
  assert.doesNotMatch(html, /<style/i);
  assert.doesNotMatch(html, /javascript:/i);
  for (const id of ['sco', 'outline', 'status', 'btn-previous', 'btn-continue', 'btn-suspend', 'btn-exit']) {
    assert.match(html, new RegExp(`id="${id}"`), id);
  }
  assert.match(html, /<iframe id="sco" name="sco"/);
  for (const button of html.match(/<button[^>]*>/g)) assert.match(button, /type="button"/);
});

test('the scripts use nothing the Content-Security-Policy forbids', async () => {
  const { readFileSync } = await import('node:fs');
  for (const name of ['api.js', 'player.js']) {
    const code = readFileSync(new URL(`../assets/${name}`, import.meta.url), 'utf8');
    assert.doesNotMatch(code, /\beval\(|new Function\(|innerHTML|outerHTML|insertAdjacentHTML|document\.write|\.style\.|setAttribute\('style'/, name);
    assert.doesNotMatch(code, /setTimeout\(\s*['"`]/, `${name}: no string timers`);
  }
});

test("the outline also reads the sequencer's own entry shape", () => {
  const entry = (id, extra) => ({
    id,
    title: id,
    depth: 1,
    leaf: true,
    completion: 'not-attempted',
    success: 'unknown',
    attempts: 0,
    attempted: false,
    suspended: false,
    active: false,
    current: false,
    disabled: false,
    hidden_from_choice: false,
    choice: true,
    ...extra,
  });
  const tree = Player.outlineTree([
    entry('root', { depth: 0, leaf: false, choice: false }),
    entry('open'),
    entry('locked', { disabled: true }),
    entry('not-now', { choice: false }),
    entry('hidden', { hidden_from_choice: true }),
  ]);
  assert.deepEqual(
    tree[0].children.map((n) => [n.id, n.enabled, n.status]),
    [
      ['open', true, []],
      ['locked', false, []],
      ['not-now', false, []],
    ],
  );
});

test('a commit answer updates the buttons and the SCO\'s navigation answers', async () => {
  const { window, document, ids } = page();
  const log = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    log.push({ url, body });
    const answer = url.endsWith('/navigate')
      ? delivery('sco-1', { controls: { continue: false, previous: false, exit: true, suspend: true } })
      : {
          accepted: true,
          sequence: body.sequence,
          navigation: { continue: 'true', previous: 'false', choice: { 'sco-2': 'true' }, jump: {} },
          controls: { continue: true, previous: false, exit: true, suspend: true },
        };
    return { ok: true, status: 200, text: async () => JSON.stringify(answer) };
  };
  const player = new Player.PlayerController({
    window,
    document,
    config: Player.readConfig(JSON.stringify(CONFIG)),
    fetch,
    timers: { setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, 5)), clearTimeout },
  });
  await player.start();
  assert.equal(ids['btn-continue'].disabled, true);
  const api = window.API_1484_11;
  api.Initialize('');
  assert.equal(api.GetValue('adl.nav.request_valid.choice.{target=sco-2}'), 'unknown');
  api.SetValue('cmi.completion_status', 'completed');
  api.Commit('');
  await flush();
  assert.equal(ids['btn-continue'].disabled, false, 'the sequencer now allows continue');
  assert.equal(api.GetValue('adl.nav.request_valid.choice.{target=sco-2}'), 'true');
  assert.equal(api.GetValue('adl.nav.request_valid.continue'), 'true');
});

test('SCORM 1.2: the terminate commit\'s answer decides whether to continue', async () => {
  const { window, document, ids } = page();
  const log = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    log.push({ url, body });
    const answer = url.endsWith('/navigate')
      ? delivery(`sco-${log.length}`, { controls: { continue: false, previous: false, exit: true, suspend: true } })
      : {
          accepted: true,
          sequence: body.sequence,
          navigation: { continue: 'true', previous: 'false', choice: {}, jump: {} },
          controls: { continue: true, previous: false, exit: true, suspend: true },
        };
    return { ok: true, status: 200, text: async () => JSON.stringify(answer) };
  };
  const player = new Player.PlayerController({
    window,
    document,
    config: Player.readConfig(JSON.stringify({ ...CONFIG, version: '1.2' })),
    fetch,
    timers: { setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, 5)), clearTimeout },
  });
  await player.start();
  assert.equal(ids['btn-continue'].disabled, true, 'not before the SCO reports');
  window.API.LMSInitialize('');
  window.API.LMSSetValue('cmi.core.lesson_status', 'completed');
  window.API.LMSFinish('');
  await flush();
  assert.deepEqual(
    log.map((e) => (e.url.endsWith('/navigate') ? e.body.request : `commit ${e.body.sequence}`)),
    ['start', 'commit 1', 'continue'],
  );
});
