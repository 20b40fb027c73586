/*
 * Proficio SCORM launch page controller: reads the launch configuration, asks the server's
 * sequencer what to deliver, plays each SCO in the `#sco` frame with a fresh run-time session,
 * and turns the learner's buttons and the SCO's own navigation requests into requests to the
 * player API.
 *
 * The decisions (which request to send, which controls to enable, what the outline shows) are
 * plain functions exported for node tests; the controller around them only touches the DOM.
 * Loads as a classic <script src> after api.js (exported as `globalThis.ProficioPlayer`).
 */
(function (root) {
  'use strict';

  const Scorm =
    typeof module !== 'undefined' && module.exports ? require('./api.js') : root.ProficioScorm;
  const { ConfigError } = Scorm;

  // -------------------------------------------------------------------------------------------
  // The player API's vocabulary.

  /** Requests `POST {api}/navigate` takes: the SCORM 2004 SN navigation requests. */
  const NAV_REQUEST_NAMES = [
    'start',
    'resumeAll',
    'continue',
    'previous',
    'choice',
    'jump',
    'exit',
    'exitAll',
    'suspendAll',
    'abandon',
    'abandonAll',
    'retry',
    'retryAll',
  ];
  const TARGETED_REQUESTS = ['choice', 'jump'];

  /** `adl.nav.request` values without a target (SCORM 2004 RTE navigation data model). */
  const SCO_REQUESTS = [
    'continue',
    'previous',
    'exit',
    'exitAll',
    'abandon',
    'abandonAll',
    'suspendAll',
  ];

  /** The page's buttons and the request each sends. */
  const BUTTON_REQUESTS = {
    previous: 'previous',
    continue: 'continue',
    exit: 'exitAll',
    suspend: 'suspendAll',
  };

  const MESSAGES = {
    suspended: 'Suspended — you can close this window',
    ended: 'Course ended',
    unreachable: 'Could not reach the server. Check your connection and try again.',
    saving: 'Connection problem: your progress is kept and will be saved when the server answers.',
  };

  /** How long a SCO gets to run its unload handlers, and commits to land, before moving on. */
  const UNLOAD_TIMEOUT_MS = 5000;
  const SETTLE_TIMEOUT_MS = 15000;

  // -------------------------------------------------------------------------------------------
  // Pure decisions.

  const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

  /** A path on this origin (`/scorm/…`), never a scheme or a protocol-relative URL. */
  function isSameOriginPath(url) {
    return (
      typeof url === 'string' &&
      url.startsWith('/') &&
      !url.startsWith('//') &&
      !url.includes('\\')
    );
  }

  function requireString(field, value, { path = false } = {}) {
    if (typeof value !== 'string' || value === '') {
      throw new ConfigError(field, 'must be a non-empty string');
    }
    if (path && !isSameOriginPath(value)) {
      throw new ConfigError(field, 'must be a path on this origin, starting with one "/"');
    }
    return value;
  }

  /** The `#proficio-config` JSON, checked field by field. */
  function readConfig(text) {
    let raw;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError('config', `must be JSON (${error.message})`);
    }
    if (!isObject(raw)) throw new ConfigError('config', 'must be a JSON object');
    const version = Scorm.parseVersion(raw.version);
    let interval = 30000;
    if (raw.commit_interval_ms !== undefined && raw.commit_interval_ms !== null) {
      if (!Number.isInteger(raw.commit_interval_ms) || raw.commit_interval_ms < 0) {
        throw new ConfigError(
          'commit_interval_ms',
          'must be a whole number of milliseconds, 0 or more',
        );
      }
      interval = raw.commit_interval_ms;
    }
    const initial = raw.initial_request === undefined ? 'start' : raw.initial_request;
    if (initial !== 'start' && initial !== 'resumeAll') {
      throw new ConfigError('initial_request', 'must be "start" or "resumeAll"');
    }
    if (raw.title !== undefined && typeof raw.title !== 'string') {
      throw new ConfigError('title', 'must be a string');
    }
    return {
      registration: requireString('registration', raw.registration),
      version: raw.version,
      dataModel: version === 'Scorm12' ? 'Scorm12' : 'Scorm2004',
      title: raw.title || '',
      api: requireString('api', raw.api, { path: true }).replace(/\/+$/, ''),
      commitIntervalMs: interval,
      limits: Scorm.normalizeOptions(raw.limits),
      initialRequest: initial,
    };
  }

  /** A `delivery` from the navigate answer, checked before anything is loaded. */
  function readDelivery(delivery) {
    if (!isObject(delivery)) throw new ConfigError('delivery', 'must be an object');
    for (const name of ['launch', 'start']) {
      if (!isObject(delivery[name])) throw new ConfigError(`delivery.${name}`, 'must be an object');
    }
    const navigation = delivery.navigation;
    if (navigation !== undefined && navigation !== null && !isObject(navigation)) {
      throw new ConfigError('delivery.navigation', 'must be an object');
    }
    return {
      item: requireString('delivery.item', delivery.item),
      title: typeof delivery.title === 'string' ? delivery.title : '',
      url: requireString('delivery.url', delivery.url, { path: true }),
      session: requireString('delivery.session', delivery.session),
      commitUrl: requireString('delivery.commit_url', delivery.commit_url, { path: true }),
      launch: delivery.launch,
      start: delivery.start,
      navigation: delivery.navigation || null,
    };
  }

  /** The body of `POST {api}/navigate`. */
  function navigateBody(request, target) {
    if (!NAV_REQUEST_NAMES.includes(request)) {
      throw new ConfigError('request', `must be one of ${NAV_REQUEST_NAMES.join(', ')}`);
    }
    if (TARGETED_REQUESTS.includes(request)) {
      if (typeof target !== 'string' || target === '') {
        throw new ConfigError('target', `a ${request} request names its target activity`);
      }
      return { request, target };
    }
    return { request };
  }

  /**
   * `adl.nav.request` as a navigate body: `continue` → {request: "continue"},
   * `{target=ID}choice` → {request: "choice", target: "ID"}; null for `_none_`.
   */
  function parseNavRequest(value) {
    if (typeof value !== 'string' || value === '' || value === '_none_') return null;
    if (SCO_REQUESTS.includes(value)) return { request: value };
    const match = /^\{target=([^}]*)\}(choice|jump)$/.exec(value);
    if (match && match[1] !== '') return { request: match[2], target: match[1] };
    return null;
  }

  /**
   * What to send after a SCO terminates on its own. SCORM 2004: the SCO's `adl.nav.request`,
   * or nothing (the learner chooses). SCORM 1.2 has no navigation requests: continue when the
   * sequencer allows it.
   */
  function requestAfterTerminate(dataModel, navRequest, controls) {
    if (dataModel === 'Scorm2004') return parseNavRequest(navRequest);
    return controls && controls.continue === true ? { request: 'continue' } : null;
  }

  /** Which buttons are enabled: what the server's `controls` allow, never while busy or done. */
  function controlStates(controls, { busy = false, finished = false } = {}) {
    const states = {};
    for (const name of Object.keys(BUTTON_REQUESTS)) {
      states[name] = !busy && !finished && isObject(controls) && controls[name] === true;
    }
    return states;
  }

  /**
   * Whether the learner may choose an item now. The sequencer says so as `choice` (or
   * `choosable`); a `disabled` pre-condition or a reached attempt limit says no.
   */
  function isChoosable(item) {
    return (item.choice === true || item.choosable === true) && item.disabled !== true;
  }

  /** Hidden items (CAM `isvisible="false"`, or SN `hiddenFromChoice`) are not shown. */
  function isVisible(item) {
    return item.visible !== false && item.hidden_from_choice !== true;
  }

  /**
   * The outline as a tree of the visible items. `depth` places each item under the nearest
   * shallower one before it; a hidden item is left out and its visible children move up to
   * its parent, so nothing the learner may choose disappears with it.
   */
  function outlineTree(outline) {
    const roots = [];
    const stack = []; // {depth, children, visible}
    for (const item of Array.isArray(outline) ? outline : []) {
      if (!isObject(item) || typeof item.id !== 'string') continue;
      const depth = Number.isInteger(item.depth) && item.depth >= 0 ? item.depth : 0;
      while (stack.length > 0 && stack[stack.length - 1].depth >= depth) stack.pop();
      let siblings = roots;
      for (let i = stack.length - 1; i >= 0; i -= 1) {
        if (stack[i].visible) {
          siblings = stack[i].node.children;
          break;
        }
      }
      const visible = isVisible(item);
      const node = {
        id: item.id,
        title: typeof item.title === 'string' && item.title !== '' ? item.title : item.id,
        current: item.current === true,
        enabled: isChoosable(item),
        leaf: item.leaf !== false,
        status: itemStatus(item),
        children: [],
      };
      if (visible) siblings.push(node);
      stack.push({ depth, node, visible });
    }
    return roots;
  }

  /** The words shown beside an item: completion, success and suspension. */
  function itemStatus(item) {
    const words = [];
    if (item.completion === 'completed' || item.completion === 'incomplete') {
      words.push(item.completion);
    }
    if (item.success === 'passed' || item.success === 'failed') words.push(item.success);
    if (item.suspended === true) words.push('suspended');
    return words;
  }

  /** The status line after a navigate answer, or null to leave it empty. */
  function responseMessage(answer) {
    if (answer && answer.suspended === true) return MESSAGES.suspended;
    if (answer && answer.ended === true) return MESSAGES.ended;
    if (answer && typeof answer.message === 'string' && answer.message !== '') return answer.message;
    return null;
  }

  /** A refused or failed request as the learner reads it. */
  function describeFailure(status, body) {
    if (isObject(body) && typeof body.message === 'string' && body.message !== '') {
      return body.message;
    }
    if (status === 409) return 'That navigation request is not allowed now.';
    return `The server could not complete the request (status ${status}).`;
  }

  // -------------------------------------------------------------------------------------------
  // The controller.

  class PlayerController {
    /**
     * `window` and `document` of the launch page; `config` from readConfig. `fetch` and
     * `timers` default to the window's.
     */
    constructor({ window: win, document: doc, config, fetch, timers }) {
      this.window = win;
      this.document = doc;
      this.config = config;
      this.fetch = fetch || ((...args) => win.fetch(...args));
      this.timers = timers || {
        setTimeout: (fn, ms) => win.setTimeout(fn, ms),
        clearTimeout: (id) => win.clearTimeout(id),
      };
      this.frame = doc.getElementById('sco');
      this.outlineElement = doc.getElementById('outline');
      this.statusElement = doc.getElementById('status');
      this.buttons = {};
      for (const name of Object.keys(BUTTON_REQUESTS)) {
        this.buttons[name] = doc.getElementById(`btn-${name}`);
      }
      this.bridge = new Scorm.ApiBridge(config.dataModel);
      this.current = null; // {delivery, session}
      this.sessions = []; // sessions whose commits may still be under way
      this.controls = {};
      this.outline = [];
      this.busy = false;
      this.finished = false;
      this.leaving = false;
      this.retrying = false;
    }

    start() {
      this.bridge.install(this.window);
      if (this.config.title) this.document.title = this.config.title;
      for (const [name, request] of Object.entries(BUTTON_REQUESTS)) {
        const button = this.buttons[name];
        if (button) button.addEventListener('click', () => this.learnerRequest(request));
      }
      if (this.outlineElement) {
        this.outlineElement.addEventListener('click', (event) => {
          const target = event.target;
          const button = target && target.closest ? target.closest('button[data-item]') : null;
          if (button && !button.disabled) {
            this.learnerRequest('choice', button.getAttribute('data-item'));
          }
        });
      }
      // The last data must leave before the page does: `unload` is unreliable and synchronous
      // requests are refused during dismissal, so flush by beacon on pagehide and whenever
      // the page is hidden (it may never be shown again).
      this.window.addEventListener('pagehide', () => this.flushAll());
      this.document.addEventListener('visibilitychange', () => {
        if (this.document.visibilityState === 'hidden') this.flushAll();
      });
      this.window.addEventListener('online', () => {
        for (const session of this.sessions) session.queue.retryNow();
      });
      this.renderControls();
      return this.run(() => this.sendNavigation(this.config.initialRequest));
    }

    /** One request at a time: the buttons stay disabled until it is answered. */
    async run(action) {
      if (this.busy) return false;
      this.busy = true;
      this.renderControls();
      try {
        return await action();
      } finally {
        this.busy = false;
        this.leaving = false;
        this.renderControls();
      }
    }

    /**
     * A button or an outline choice. A SCO still running is unloaded first so that its unload
     * handlers can call Terminate; if it does not, its last data goes as a final commit with
     * `terminated: false`. Then the request.
     */
    learnerRequest(request, target) {
      return this.run(async () => {
        const session = this.current ? this.current.session : null;
        if (session && !session.terminated) {
          this.leaving = true;
          await this.unloadFrame();
          if (!session.terminated) session.finalCommit();
        }
        if (session) await session.settled(SETTLE_TIMEOUT_MS);
        return this.sendNavigation(request, target);
      });
    }

    /**
     * After Terminate/LMSFinish: follow the SCO's navigation request, or wait for the learner.
     * The decision waits for the terminate commit's answer, whose `controls` already count
     * what the SCO reported.
     */
    async scoTerminated(session) {
      if (!this.current || this.current.session !== session || this.leaving || this.busy) {
        this.renderControls();
        return;
      }
      await this.run(async () => {
        await session.settled(SETTLE_TIMEOUT_MS);
        if (!this.current || this.current.session !== session) return false;
        const next = requestAfterTerminate(
          this.config.dataModel,
          session.runtime.navRequest(),
          this.controls,
        );
        return next ? this.sendNavigation(next.request, next.target) : false;
      });
    }

    async sendNavigation(request, target) {
      let body;
      try {
        body = navigateBody(request, target);
      } catch (error) {
        this.showStatus(error.message, 'error');
        return false;
      }
      let response;
      let answer = null;
      try {
        response = await this.fetch(`${this.config.api}/navigate`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await response.text();
        answer = text === '' ? null : JSON.parse(text);
      } catch (_) {
        if (!response) {
          this.showStatus(MESSAGES.unreachable, 'error');
          return false;
        }
      }
      if (!response.ok) {
        // A refused request (409) leaves the current SCO where it is.
        this.showStatus(describeFailure(response.status, answer), 'error');
        return false;
      }
      try {
        this.apply(answer);
      } catch (error) {
        this.showStatus(`The course cannot be shown: ${error.message}`, 'error');
        return false;
      }
      return true;
    }

    apply(answer) {
      if (!isObject(answer)) throw new ConfigError('navigate', 'the answer must be a JSON object');
      this.controls = isObject(answer.controls) ? answer.controls : {};
      this.outline = Array.isArray(answer.outline) ? answer.outline : [];
      this.finished = answer.ended === true || answer.suspended === true;
      this.renderOutline();
      if (answer.delivery) {
        this.deliver(readDelivery(answer.delivery));
        this.showStatus(responseMessage(answer) || '', 'info');
      } else {
        this.endDelivery();
        this.showStatus(responseMessage(answer) || '', 'info');
      }
    }

    deliver(delivery) {
      const runtime = new Scorm.Runtime({
        version: this.config.version,
        launch: delivery.launch,
        start: delivery.start,
        options: this.config.limits,
        navigation: delivery.navigation,
      });
      let session = null;
      const queue = new Scorm.CommitQueue({
        url: delivery.commitUrl,
        env: {
          fetch: this.fetch,
          setTimeout: this.timers.setTimeout,
          clearTimeout: this.timers.clearTimeout,
        },
        onAccepted: (_, answer) => {
          if (this.retrying) {
            this.retrying = false;
            this.showStatus('', 'info');
          }
          if (session && this.current && this.current.session === session) {
            this.commitAnswered(session, answer);
          }
          this.prune();
        },
        onRejected: (_, error) => {
          const message =
            isObject(error) && typeof error.message === 'string' ? error.message : 'refused';
          runtime.recordFailure('Commit', `the server refused a commit: ${message}`);
          this.showStatus(`Progress could not be saved: ${message}`, 'error');
          this.prune();
        },
        onRetry: (_, attempt) => {
          if (attempt >= 2) {
            this.retrying = true;
            this.showStatus(MESSAGES.saving, 'error');
          }
        },
      });
      session = new Scorm.ScoSession({
        runtime,
        queue,
        commitIntervalMs: this.config.commitIntervalMs,
        timers: this.timers,
        onTerminate: (s) => this.scoTerminated(s),
      });
      if (this.current) this.current.session.dispose();
      this.current = { delivery, session };
      this.sessions.push(session);
      this.bridge.attach(session);
      if (this.frame) this.frame.setAttribute('src', delivery.url);
    }

    /**
     * A commit answer carries what the sequencer allows now: the buttons follow it, and so do
     * the SCO's `adl.nav.request_valid.*` answers.
     */
    commitAnswered(session, answer) {
      if (!isObject(answer)) return;
      if (isObject(answer.controls)) {
        this.controls = answer.controls;
        this.renderControls();
      }
      // A commit can complete or satisfy an activity, which changes what the outline shows
      // and what may be chosen.
      if (Array.isArray(answer.outline)) {
        this.outline = answer.outline;
        this.renderOutline();
      }
      if (isObject(answer.navigation)) {
        try {
          session.runtime.setNavigation(answer.navigation);
        } catch (_) {
          // An unreadable answer leaves the previous one in place.
        }
      }
    }

    endDelivery() {
      if (this.current) {
        this.current.session.dispose();
        this.bridge.detach(this.current.session);
        this.current = null;
      }
      if (this.frame && this.frame.getAttribute('src') !== 'about:blank') {
        this.frame.setAttribute('src', 'about:blank');
      }
    }

    /** Navigates the frame away and waits for about:blank to load (the SCO's unload ran). */
    unloadFrame() {
      const frame = this.frame;
      if (!frame) return Promise.resolve();
      return new Promise((resolve) => {
        let timer = null;
        const finish = () => {
          frame.removeEventListener('load', finish);
          if (timer !== null) this.timers.clearTimeout(timer);
          timer = null;
          resolve();
        };
        frame.addEventListener('load', finish);
        timer = this.timers.setTimeout(finish, UNLOAD_TIMEOUT_MS);
        frame.setAttribute('src', 'about:blank');
      });
    }

    flushAll() {
      for (const session of this.sessions) session.flush();
    }

    prune() {
      const current = this.current ? this.current.session : null;
      this.sessions = this.sessions.filter((s) => s === current || s.queue.pending > 0);
    }

    // -- Rendering -----------------------------------------------------------------------------

    renderControls() {
      const states = controlStates(this.controls, { busy: this.busy, finished: this.finished });
      for (const [name, enabled] of Object.entries(states)) {
        if (this.buttons[name]) this.buttons[name].disabled = !enabled;
      }
      if (this.outlineElement) {
        for (const button of this.outlineElement.querySelectorAll('button[data-item]')) {
          const choosable = button.getAttribute('data-choosable') === 'true';
          button.disabled = this.busy || this.finished || !choosable;
        }
      }
    }

    renderOutline() {
      if (!this.outlineElement) return;
      const tree = outlineTree(this.outline);
      const list = this.buildList(tree);
      const existing = this.outlineElement.querySelector('ul');
      if (existing) existing.replaceWith(list);
      else this.outlineElement.appendChild(list);
    }

    buildList(nodes) {
      const doc = this.document;
      const list = doc.createElement('ul');
      for (const node of nodes) {
        const entry = doc.createElement('li');
        const button = doc.createElement('button');
        button.type = 'button';
        button.className = node.leaf ? 'item' : 'item cluster';
        button.setAttribute('data-item', node.id);
        button.setAttribute('data-choosable', node.enabled ? 'true' : 'false');
        button.disabled = this.busy || this.finished || !node.enabled;
        if (node.current) button.setAttribute('aria-current', 'step');
        const title = doc.createElement('span');
        title.className = 'title';
        title.textContent = node.title;
        button.appendChild(title);
        for (const word of node.status) {
          const badge = doc.createElement('span');
          badge.className = `badge badge-${word}`;
          badge.textContent = word;
          button.appendChild(badge);
        }
        entry.appendChild(button);
        if (node.children.length > 0) entry.appendChild(this.buildList(node.children));
        list.appendChild(entry);
      }
      return list;
    }

    showStatus(message, kind) {
      if (!this.statusElement) return;
      this.statusElement.textContent = message;
      this.statusElement.className = kind === 'error' && message ? 'status error' : 'status';
    }
  }

  /** Starts the page once: reads the configuration and asks for the first activity. */
  function boot(win, doc) {
    const element = doc.getElementById('proficio-config');
    if (!element) return null;
    let config;
    try {
      config = readConfig(element.textContent);
    } catch (error) {
      const status = doc.getElementById('status');
      if (status) {
        status.textContent = `The course cannot start: ${error.message}`;
        status.className = 'status error';
      }
      return null;
    }
    const controller = new PlayerController({ window: win, document: doc, config });
    controller.start();
    return controller;
  }

  const ProficioPlayer = {
    NAV_REQUEST_NAMES,
    BUTTON_REQUESTS,
    MESSAGES,
    isSameOriginPath,
    readConfig,
    readDelivery,
    navigateBody,
    parseNavRequest,
    requestAfterTerminate,
    controlStates,
    outlineTree,
    isChoosable,
    isVisible,
    itemStatus,
    responseMessage,
    describeFailure,
    PlayerController,
    boot,
  };

  if (typeof module !== 'undefined' && module.exports) {
    module.exports = ProficioPlayer;
  } else {
    root.ProficioPlayer = ProficioPlayer;
    const doc = root.document;
    if (doc) {
      const begin = () => {
        root.ProficioPlayer.controller = boot(root, doc);
      };
      if (doc.readyState === 'loading') {
        doc.addEventListener('DOMContentLoaded', begin, { once: true });
      } else {
        begin();
      }
    }
  }
})(typeof globalThis !== 'undefined' ? globalThis : this);
