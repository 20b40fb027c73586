// Commits: one at a time in sequence order, retried with the same number and body, duplicates
// and refusals answered, beacons when the page goes away, and the periodic commit only when
// something changed. `fetch`, `navigator`, `Blob` and the timers are test doubles for the
// browser's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Scorm from '../assets/api.js';

const URL = '/scorm/r/reg-1/api/sessions/s-1/commits';

/** Timers that run only when the test advances the clock. */
class FakeClock {
  constructor() {
    this.now = 0;
    this.timers = [];
    this.nextId = 1;
  }
  setTimeout = (fn, ms) => {
    const id = this.nextId++;
    this.timers.push({ id, at: this.now + ms, fn });
    return id;
  };
  clearTimeout = (id) => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };
  async advance(ms) {
    const until = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = due.at;
      due.fn();
      await flush();
    }
    this.now = until;
    await flush();
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

/** A server whose answers the test scripts: each request waits for `answer(...)`. */
class FakeServer {
  constructor() {
    this.requests = [];
  }
  fetch = (url, init) =>
    new Promise((resolve, reject) => {
      this.requests.push({ url, init, body: JSON.parse(init.body), resolve, reject });
    });
  pending() {
    return this.requests.filter((r) => !r.done);
  }
  async answer(status, body) {
    const request = this.pending()[0];
    assert.ok(request, 'a request is waiting');
    request.done = true;
    request.resolve({ status, text: async () => (body === undefined ? '' : JSON.stringify(body)) });
    await flush();
  }
  async fail(message) {
    const request = this.pending()[0];
    request.done = true;
    request.reject(new TypeError(message));
    await flush();
  }
}

function makeQueue(extra = {}) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const events = [];
  const queue = new Scorm.CommitQueue({
    url: URL,
    env: { fetch: server.fetch, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, ...extra },
    backoff: { initialMs: 1000, maxMs: 8000 },
    onAccepted: (sequence, body) => events.push(['accepted', sequence, body]),
    onRejected: (sequence, error) => events.push(['rejected', sequence, error]),
    onRetry: (sequence, attempt, delay) => events.push(['retry', sequence, attempt, delay]),
  });
  return { clock, server, events, queue };
}

const payload = (values, terminated = false) => ({
  data_model: 'Scorm2004',
  terminated,
  values: values.map(([element, value]) => ({ element, value })),
});

test('commits leave one at a time, numbered from 1, in the order they were made', async () => {
  const { server, queue, events } = makeQueue();
  assert.equal(queue.enqueue(payload([['cmi.location', 'a']])), 1);
  assert.equal(queue.enqueue(payload([['cmi.location', 'b']])), 2);
  assert.equal(queue.enqueue(payload([['cmi.location', 'c']], true)), 3);
  await flush();
  assert.equal(server.requests.length, 1, 'the second waits for the first');
  const first = server.requests[0];
  assert.equal(first.url, URL);
  assert.equal(first.init.method, 'POST');
  assert.equal(first.init.credentials, 'same-origin');
  assert.deepEqual(first.body, {
    data_model: 'Scorm2004',
    sequence: 1,
    terminated: false,
    values: [{ element: 'cmi.location', value: 'a' }],
  });
  await server.answer(200, { accepted: true, sequence: 1 });
  assert.equal(server.requests.length, 2);
  await server.answer(200, { accepted: true, sequence: 2 });
  await server.answer(200, { accepted: true, sequence: 3 });
  assert.deepEqual(
    server.requests.map((r) => [r.body.sequence, r.body.values[0].value, r.body.terminated]),
    [
      [1, 'a', false],
      [2, 'b', false],
      [3, 'c', true],
    ],
  );
  assert.deepEqual(
    events.map((e) => e.slice(0, 2)),
    [
      ['accepted', 1],
      ['accepted', 2],
      ['accepted', 3],
    ],
  );
  assert.equal(queue.pending, 0);
  assert.equal(await queue.settled(), true);
});

test('a network error or a 5xx is retried with the same number and body, later commits wait', async () => {
  const { clock, server, queue, events } = makeQueue();
  queue.enqueue(payload([['cmi.location', 'a']]));
  queue.enqueue(payload([['cmi.location', 'b']]));
  await flush();
  await server.fail('Failed to fetch');
  assert.deepEqual(events.at(-1), ['retry', 1, 1, 1000]);
  await clock.advance(999);
  assert.equal(server.requests.length, 1, 'nothing before the back-off ends');
  await clock.advance(1);
  assert.equal(server.requests.length, 2);
  await server.answer(503, { status: 503 });
  assert.deepEqual(events.at(-1), ['retry', 1, 2, 2000]);
  await clock.advance(2000);
  await server.answer(429);
  await clock.advance(4000);
  await server.answer(502);
  await clock.advance(8000);
  await server.fail('offline');
  assert.deepEqual(events.at(-1), ['retry', 1, 5, 8000], 'the back-off stops growing at its ceiling');
  await clock.advance(8000);
  const attempts = server.requests.filter((r) => r.body.sequence === 1);
  assert.equal(attempts.length, 6);
  assert.ok(attempts.every((r) => r.init.body === attempts[0].init.body), 'the same body every time');
  assert.equal(server.requests.filter((r) => r.body.sequence === 2).length, 0);
  await server.answer(200, { accepted: true, sequence: 1 });
  assert.equal(server.requests.at(-1).body.sequence, 2, 'the next one follows once the first is answered');
  await server.answer(200, { accepted: true, sequence: 2 });
  assert.equal(queue.pending, 0);
});

test('a duplicate answer means the server has it: the queue moves on', async () => {
  const { server, queue, events } = makeQueue();
  queue.enqueue(payload([['cmi.location', 'a']]));
  queue.enqueue(payload([['cmi.location', 'b']]));
  await flush();
  await server.answer(200, { accepted: false, duplicate: true });
  await server.answer(200, { accepted: true, sequence: 2 });
  assert.deepEqual(
    events.map((e) => e.slice(0, 2)),
    [
      ['accepted', 1],
      ['accepted', 2],
    ],
  );
  assert.equal(queue.pending, 0);
});

test('a refused commit is reported once and not retried; the rest still go', async () => {
  const { clock, server, queue, events } = makeQueue();
  queue.enqueue(payload([['cmi.score.scaled', '7']]));
  queue.enqueue(payload([['cmi.location', 'b']]));
  await flush();
  const refusal = {
    status: 400,
    error: 'invalid-commit',
    path: 'values[0]',
    rule: 'RTE 4.2.20 407',
    message: 'cmi.score.scaled: "7" is out of range',
  };
  await server.answer(400, refusal);
  assert.deepEqual(events[0], ['rejected', 1, refusal]);
  await clock.advance(60000);
  assert.equal(server.requests.filter((r) => r.body.sequence === 1).length, 1);
  await server.answer(200, { accepted: true });
  assert.deepEqual(events[1].slice(0, 2), ['accepted', 2]);
  // 200 with accepted: false and no duplicate is a refusal too.
  queue.enqueue(payload([['cmi.location', 'c']]));
  await flush();
  await server.answer(200, { accepted: false, message: 'session closed' });
  assert.deepEqual(events[2].slice(0, 2), ['rejected', 3]);
});

test('settled() waits for the queue to drain, or gives up after its timeout', async () => {
  const { clock, server, queue } = makeQueue();
  assert.equal(await queue.settled(100), true, 'nothing queued');
  queue.enqueue(payload([['cmi.location', 'a']]));
  await flush();
  let drained = null;
  queue.settled().then((value) => {
    drained = value;
  });
  let timedOut = null;
  queue.settled(500).then((value) => {
    timedOut = value;
  });
  await clock.advance(500);
  assert.equal(timedOut, false);
  assert.equal(drained, null);
  await server.answer(200, { accepted: true });
  assert.equal(drained, true);
});

test('flushWithBeacon hands every unanswered commit to sendBeacon as text/plain', async () => {
  const beacons = [];
  class FakeBlob {
    constructor(parts, options) {
      this.text = parts.join('');
      this.type = options.type;
    }
  }
  const navigator = {
    sendBeacon: (url, blob) => {
      beacons.push({ url, blob });
      return true;
    },
  };
  const { server, queue } = makeQueue({ navigator, Blob: FakeBlob });
  queue.enqueue(payload([['cmi.location', 'a']]));
  queue.enqueue(payload([['cmi.location', 'b']], true));
  await flush();
  assert.equal(queue.flushWithBeacon(), 2);
  assert.deepEqual(
    beacons.map((b) => [b.url, b.blob.type, JSON.parse(b.blob.text).sequence]),
    [
      [URL, 'text/plain', 1],
      [URL, 'text/plain', 2],
    ],
  );
  assert.deepEqual(JSON.parse(beacons[1].blob.text), {
    data_model: 'Scorm2004',
    sequence: 2,
    terminated: true,
    values: [{ element: 'cmi.location', value: 'b' }],
  });
  assert.equal(beacons[0].blob.text, server.requests[0].init.body, 'the same body as the fetch');
  assert.equal(queue.flushWithBeacon(), 0, 'pagehide after visibilitychange does not send them twice');
  assert.equal(queue.pending, 2, 'they stay queued until the server answers');
  await server.answer(200, { accepted: true });
  await server.answer(200, { accepted: false, duplicate: true });
  assert.equal(queue.pending, 0);
});

test('a refused beacon falls back to fetch with keepalive', async () => {
  const { server, queue } = makeQueue({
    navigator: { sendBeacon: () => false },
    Blob: class {
      constructor() {}
    },
  });
  queue.enqueue(payload([['cmi.suspend_data', 'x'.repeat(70000)]]));
  await flush();
  assert.equal(queue.flushWithBeacon(), 1);
  const keepalive = server.requests.find((r) => r.init.keepalive === true);
  assert.ok(keepalive, 'a keepalive fetch carries it');
  assert.equal(keepalive.body.sequence, 1);
  assert.equal(keepalive.init.credentials, 'same-origin');
});

// --- The session: when the shim commits ----------------------------------------------------

function makeSession({ interval = 30000, version = '2004 4th Edition' } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const beacons = [];
  const queue = new Scorm.CommitQueue({
    url: URL,
    env: {
      fetch: server.fetch,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      navigator: {
        sendBeacon: (url, blob) => {
          beacons.push(JSON.parse(blob.text));
          return true;
        },
      },
      Blob: class {
        constructor(parts) {
          this.text = parts.join('');
        }
      },
    },
  });
  const terminated = [];
  const runtime = new Scorm.Runtime({ version });
  const session = new Scorm.ScoSession({
    runtime,
    queue,
    commitIntervalMs: interval,
    timers: { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout },
    onTerminate: (s) => terminated.push(s),
  });
  const bridge = new Scorm.ApiBridge(runtime.dataModel);
  bridge.attach(session);
  return { clock, server, beacons, session, api: bridge.api, terminated, queue };
}

test('the periodic commit runs only when something changed', async () => {
  const { clock, server, api } = makeSession();
  assert.equal(api.Initialize(''), 'true');
  await clock.advance(120000);
  assert.equal(server.requests.length, 0, 'nothing set, nothing sent');
  assert.equal(api.SetValue('cmi.location', 'p1'), 'true');
  assert.equal(api.SetValue('cmi.location', 'p2'), 'true');
  await clock.advance(29999);
  assert.equal(server.requests.length, 0);
  await clock.advance(1);
  assert.equal(server.requests.length, 1);
  assert.deepEqual(server.requests[0].body.values, [{ element: 'cmi.location', value: 'p2' }]);
  await server.answer(200, { accepted: true });
  await clock.advance(120000);
  assert.equal(server.requests.length, 1, 'not dirty any more');
  api.SetValue('cmi.suspend_data', 'x');
  await clock.advance(30000);
  assert.equal(server.requests.length, 2);
  assert.equal(server.requests[1].body.sequence, 2);
  assert.deepEqual(
    server.requests[1].body.values.map((v) => v.element),
    ['cmi.location', 'cmi.suspend_data'],
    'every element set so far, in first-set order',
  );
  await server.answer(200, { accepted: true });
  assert.equal(api.SetValue('cmi.score.scaled', '9'), 'false');
  await clock.advance(60000);
  assert.equal(server.requests.length, 2, 'a refused value changes nothing');
});

test('Commit answers "true" at once and sends in the background, only when dirty', async () => {
  const { clock, server, api } = makeSession();
  api.Initialize('');
  assert.equal(api.Commit(''), 'true');
  await flush();
  assert.equal(server.requests.length, 0, 'nothing to send');
  api.SetValue('cmi.location', 'p1');
  assert.equal(api.Commit(''), 'true', 'before the server has answered');
  await flush();
  assert.equal(server.requests.length, 1);
  await clock.advance(30000);
  assert.equal(server.requests.length, 1, 'the commit disarmed the periodic timer');
  assert.equal(api.Commit('x'), 'false');
  assert.equal(api.GetLastError(), '201');
  await flush();
  assert.equal(server.requests.length, 1);
});

test('Terminate sends terminated: true, stops the timer and tells the controller', async () => {
  const { clock, server, api, terminated, session } = makeSession();
  api.Initialize('');
  api.SetValue('cmi.exit', 'suspend');
  assert.equal(api.Terminate(''), 'true');
  await flush();
  assert.deepEqual(terminated, [session]);
  assert.equal(server.requests.length, 1);
  assert.equal(server.requests[0].body.terminated, true);
  assert.deepEqual(server.requests[0].body.values, [{ element: 'cmi.exit', value: 'suspend' }]);
  await clock.advance(60000);
  assert.equal(server.requests.length, 1);
  assert.equal(api.Commit(''), 'false');
  assert.equal(api.GetLastError(), '143');
  assert.equal(api.Terminate(''), 'false');
  assert.equal(api.GetLastError(), '113');
  assert.equal(terminated.length, 1);
});

test('SCORM 1.2 LMSFinish commits the status the LMS decided', async () => {
  const { server, api } = makeSession({ version: '1.2' });
  api.LMSInitialize('');
  api.LMSSetValue('cmi.core.lesson_location', 'end');
  api.LMSFinish('');
  await flush();
  assert.deepEqual(server.requests[0].body, {
    data_model: 'Scorm12',
    sequence: 1,
    terminated: true,
    values: [
      { element: 'cmi.core.lesson_location', value: 'end' },
      { element: 'cmi.core.lesson_status', value: 'completed' },
    ],
  });
});

test('pagehide sends the unsent changes and everything queued by beacon', async () => {
  const { server, beacons, api, session } = makeSession();
  api.Initialize('');
  api.SetValue('cmi.location', 'p1');
  api.Commit('');
  api.SetValue('cmi.suspend_data', 'state');
  await flush();
  session.flush();
  assert.deepEqual(
    beacons.map((b) => [b.sequence, b.terminated, b.values.length]),
    [
      [1, false, 1],
      [2, false, 2],
    ],
  );
  session.flush();
  assert.equal(beacons.length, 2, 'nothing new to send');
  assert.equal(server.requests.length, 1, 'the second waits behind the first as usual');
});

test('the final commit of a SCO that never terminated says terminated: false', async () => {
  const { server, api, session } = makeSession();
  api.Initialize('');
  api.SetValue('cmi.location', 'p4');
  session.finalCommit();
  await flush();
  assert.equal(server.requests[0].body.terminated, false);
  assert.deepEqual(server.requests[0].body.values, [{ element: 'cmi.location', value: 'p4' }]);
});

test('a failing observer does not stall the queue', async () => {
  const clock = new FakeClock();
  const server = new FakeServer();
  const queue = new Scorm.CommitQueue({
    url: URL,
    env: { fetch: server.fetch, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout },
    onAccepted: () => {
      throw new Error('observer bug');
    },
  });
  queue.enqueue(payload([['cmi.location', 'a']]));
  queue.enqueue(payload([['cmi.location', 'b']]));
  await flush();
  const unhandled = [];
  const record = (error) => unhandled.push(error);
  process.on('unhandledRejection', record);
  try {
    await server.answer(200, { accepted: true });
    assert.equal(server.requests.length, 2, 'the second commit still leaves');
    await flush();
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', record);
  }
});
