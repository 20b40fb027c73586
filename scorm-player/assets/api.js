/*
 * Proficio SCORM run-time shim: the `API` (SCORM 1.2) and `API_1484_11` (SCORM 2004) objects a
 * SCO finds on the launch page, the run-time data model behind them, and the queue that sends
 * commits to the server.
 *
 * The data model mirrors `scorm-player/src/runtime/` (model.rs, types.rs, interaction.rs,
 * state.rs, error.rs) table for table: the server replays every commit through that code and
 * refuses what it rejects, so the SCO must get here exactly the answers it would get there.
 * Keep the two in step: a change to one table is a change to both.
 *
 * Plain JavaScript, no build step: a classic <script src> in the browser (exported as
 * `globalThis.ProficioScorm`) and a CommonJS module in node tests.
 */
(function (root) {
  'use strict';

  // -------------------------------------------------------------------------------------------
  // Errors: one vocabulary of faults and the code each version reports for it (error.rs).
  // SCORM 1.2 RTE "API error codes"; SCORM 2004 RTE §3.1.7.

  /** Fault → [SCORM 1.2 code, SCORM 2004 code]. */
  const FAULT_CODES = {
    AlreadyInitialized: [101, 103],
    InitializeAfterTerminate: [101, 104],
    ArgumentNotEmpty: [201, 201],
    TerminateBeforeInitialize: [301, 112],
    TerminateAfterTerminate: [301, 113],
    GetBeforeInitialize: [301, 122],
    GetAfterTerminate: [301, 123],
    SetBeforeInitialize: [301, 132],
    SetAfterTerminate: [301, 133],
    CommitBeforeInitialize: [301, 142],
    CommitAfterTerminate: [301, 143],
    GetEmptyElement: [201, 301],
    SetEmptyElement: [201, 351],
    Undefined: [201, 401],
    NotImplemented: [401, 402],
    NoChildren: [202, 301],
    NoCount: [203, 301],
    KeywordSet: [402, 404],
    ReadOnly: [403, 404],
    WriteOnly: [404, 405],
    ValueNotInitialized: [0, 403],
    TypeMismatch: [405, 406],
    OutOfRange: [405, 407],
    DependencyNotEstablished: [201, 408],
    GetIndexOutOfRange: [201, 301],
    SetIndexOutOfRange: [201, 351],
    SetFailure: [101, 351],
    InitializeFailure: [101, 102],
    TerminateFailure: [101, 111],
    CommitFailure: [101, 391],
    GetFailure: [101, 301],
    GeneralFailure: [101, 101],
  };

  /** SCORM 1.2 RTE (API error codes): `LMSGetErrorString` texts. */
  const SCORM12_ERRORS = [
    [0, 'No error'],
    [101, 'General exception'],
    [201, 'Invalid argument error'],
    [202, 'Element cannot have children'],
    [203, 'Element not an array - cannot have count'],
    [301, 'Not initialized'],
    [401, 'Not implemented error'],
    [402, 'Invalid set value, element is a keyword'],
    [403, 'Element is read only'],
    [404, 'Element is write only'],
    [405, 'Incorrect data type'],
  ];

  /** SCORM 2004 RTE §3.1.7: `GetErrorString` texts. */
  const SCORM2004_ERRORS = [
    [0, 'No Error'],
    [101, 'General Exception'],
    [102, 'General Initialization Failure'],
    [103, 'Already Initialized'],
    [104, 'Content Instance Terminated'],
    [111, 'General Termination Failure'],
    [112, 'Termination Before Initialization'],
    [113, 'Termination After Termination'],
    [122, 'Retrieve Data Before Initialization'],
    [123, 'Retrieve Data After Termination'],
    [132, 'Store Data Before Initialization'],
    [133, 'Store Data After Termination'],
    [142, 'Commit Before Initialization'],
    [143, 'Commit After Termination'],
    [201, 'General Argument Error'],
    [301, 'General Get Failure'],
    [351, 'General Set Failure'],
    [391, 'General Commit Failure'],
    [401, 'Undefined Data Model Element'],
    [402, 'Unimplemented Data Model Element'],
    [403, 'Data Model Element Value Not Initialized'],
    [404, 'Data Model Element Is Read Only'],
    [405, 'Data Model Element Is Write Only'],
    [406, 'Data Model Element Type Mismatch'],
    [407, 'Data Model Element Value Out Of Range'],
    [408, 'Data Model Dependency Not Established'],
  ];

  function faultCode(fault, dataModel) {
    const codes = FAULT_CODES[fault] || [101, 101];
    return dataModel === 'Scorm12' ? codes[0] : codes[1];
  }

  /** `GetErrorString`: the spec's text for a code, "" for a code the version does not define. */
  function errorString(dataModel, code) {
    const table = dataModel === 'Scorm12' ? SCORM12_ERRORS : SCORM2004_ERRORS;
    const row = table.find(([c]) => c === code);
    return row ? row[1] : '';
  }

  /** A failed API call: the code for `GetLastError` and the detail for `GetDiagnostic`. */
  class RuntimeError extends Error {
    constructor(code, fault, diagnostic) {
      super(`scorm error ${code}: ${diagnostic}`);
      this.name = 'RuntimeError';
      this.code = code;
      this.fault = fault;
      this.diagnostic = diagnostic;
    }
  }

  /** Launch configuration or server data that cannot be used: names the field and the rule. */
  class ConfigError extends Error {
    constructor(field, rule) {
      super(`${field}: ${rule}`);
      this.name = 'ConfigError';
      this.field = field;
      this.rule = rule;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Versions (version.rs). The launch configuration names the version either as the data
  // model ("1.2", "2004") or as `ScormVersion` serializes it; a bare "2004" is the 4th Edition.

  const VERSION_NAMES = [
    ['1.2', 'Scorm12'],
    ['CAM 1.3', 'Scorm2004Ed2'],
    ['2004 2nd Edition', 'Scorm2004Ed2'],
    ['2004 3rd Edition', 'Scorm2004Ed3'],
    ['2004 4th Edition', 'Scorm2004Ed4'],
    ['2004', 'Scorm2004Ed4'],
  ];
  /** Declaration order of `ScormVersion`, which the Rust code compares with `<`. */
  const VERSION_RANK = { Scorm12: 0, Scorm2004Ed2: 1, Scorm2004Ed3: 2, Scorm2004Ed4: 3 };

  function parseVersion(value) {
    const row = VERSION_NAMES.find(([name]) => name === value);
    if (!row) {
      throw new ConfigError(
        'version',
        `must be one of ${VERSION_NAMES.map(([n]) => JSON.stringify(n)).join(', ')}`,
      );
    }
    return row[1];
  }

  // -------------------------------------------------------------------------------------------
  // The two data models as tables (model.rs). SCORM 1.2 RTE §3.4; SCORM 2004 RTE §4.2.

  const RO = 'ReadOnly';
  const WO = 'WriteOnly';
  const RW = 'ReadWrite';
  /** No value until set: SCORM 1.2 answers "", SCORM 2004 error 403. */
  const UNSET = null;

  const Kind = {
    cmiString: (limit) => ({ type: 'CmiString', limit }),
    suspendData12: { type: 'SuspendData12' },
    cmiIdentifier: { type: 'CmiIdentifier' },
    cmiDecimal: (min, max, blank) => ({ type: 'CmiDecimal', min, max, blank }),
    cmiDecimalAny: { type: 'CmiDecimalAny' },
    cmiSInteger: (min, max) => ({ type: 'CmiSInteger', min, max }),
    cmiTimespan: { type: 'CmiTimespan' },
    cmiTime: { type: 'CmiTime' },
    cmiFeedback: { type: 'CmiFeedback' },
    result12: { type: 'Result12' },
    vocabulary: (words) => ({ type: 'Vocabulary', words }),
    charString: (limit) => ({ type: 'CharString', limit }),
    localized: (limit) => ({ type: 'Localized', limit }),
    longIdentifier: { type: 'LongIdentifier' },
    real: (min, max) => ({ type: 'Real', min, max }),
    timeInterval: { type: 'TimeInterval' },
    time: { type: 'Time' },
    language: { type: 'Language' },
    result2004: { type: 'Result2004' },
    pattern: { type: 'Pattern' },
    learnerResponse: { type: 'LearnerResponse' },
    navRequest: { type: 'NavRequest' },
    captioning: { type: 'Captioning' },
  };

  const def = (path, access, kind, initial) => ({ path, access, kind, initial });

  const LESSON_STATUS_SET = ['passed', 'completed', 'failed', 'incomplete', 'browsed'];
  const OBJECTIVE_STATUS_12 = [
    'passed',
    'completed',
    'failed',
    'incomplete',
    'browsed',
    'not attempted',
  ];
  const EXIT_12 = ['time-out', 'suspend', 'logout', ''];
  const INTERACTION_TYPES_12 = [
    'true-false',
    'choice',
    'fill-in',
    'matching',
    'performance',
    'sequencing',
    'likert',
    'numeric',
  ];
  const RESULT_12 = ['correct', 'wrong', 'unanticipated', 'neutral'];
  const COMPLETION_STATUS = ['completed', 'incomplete', 'not attempted', 'unknown'];
  const SUCCESS_STATUS = ['passed', 'failed', 'unknown'];
  const EXIT_2004 = ['time-out', 'suspend', 'logout', 'normal', ''];
  const RESULT_2004 = ['correct', 'incorrect', 'unanticipated', 'neutral'];
  const NAV_REQUESTS = [
    'continue',
    'previous',
    'exit',
    'exitAll',
    'abandon',
    'abandonAll',
    'suspendAll',
    '_none_',
  ];
  const CREDIT = ['credit', 'no-credit'];
  const ENTRY = ['ab-initio', 'resume', ''];
  const MODE = ['normal', 'browse', 'review'];
  /** SCORM 2004 RTE §4.2.9: `cmi.interactions.n.type`. */
  const INTERACTION_TYPES = [
    'true-false',
    'choice',
    'fill-in',
    'long-fill-in',
    'matching',
    'performance',
    'sequencing',
    'likert',
    'numeric',
    'other',
  ];

  const score100 = Kind.cmiDecimal(0, 100, true);

  /** SCORM 1.2 RTE §3.4. */
  const SCORM12 = {
    version: '3.4',
    defs: [
      def('cmi.core.student_id', RO, Kind.cmiIdentifier, UNSET),
      def('cmi.core.student_name', RO, Kind.cmiString(255), UNSET),
      def('cmi.core.lesson_location', RW, Kind.cmiString(255), UNSET),
      def('cmi.core.credit', RO, Kind.vocabulary(CREDIT), 'credit'),
      def('cmi.core.lesson_status', RW, Kind.vocabulary(LESSON_STATUS_SET), 'not attempted'),
      def('cmi.core.entry', RO, Kind.vocabulary(ENTRY), 'ab-initio'),
      def('cmi.core.score.raw', RW, score100, UNSET),
      def('cmi.core.score.min', RW, score100, UNSET),
      def('cmi.core.score.max', RW, score100, UNSET),
      def('cmi.core.total_time', RO, Kind.cmiTimespan, '0000:00:00.00'),
      def('cmi.core.lesson_mode', RO, Kind.vocabulary(MODE), 'normal'),
      def('cmi.core.exit', WO, Kind.vocabulary(EXIT_12), UNSET),
      def('cmi.core.session_time', WO, Kind.cmiTimespan, UNSET),
      def('cmi.suspend_data', RW, Kind.suspendData12, UNSET),
      def('cmi.launch_data', RO, Kind.cmiString(4096), UNSET),
      def('cmi.comments', RW, Kind.cmiString(4096), UNSET),
      def('cmi.comments_from_lms', RO, Kind.cmiString(4096), UNSET),
      def('cmi.objectives.n.id', RW, Kind.cmiIdentifier, UNSET),
      def('cmi.objectives.n.score.raw', RW, score100, UNSET),
      def('cmi.objectives.n.score.min', RW, score100, UNSET),
      def('cmi.objectives.n.score.max', RW, score100, UNSET),
      def(
        'cmi.objectives.n.status',
        RW,
        Kind.vocabulary(OBJECTIVE_STATUS_12),
        'not attempted',
      ),
      def('cmi.student_data.mastery_score', RO, score100, UNSET),
      def('cmi.student_data.max_time_allowed', RO, Kind.cmiTimespan, UNSET),
      def(
        'cmi.student_data.time_limit_action',
        RO,
        Kind.cmiString(255),
        'continue,no message',
      ),
      def('cmi.student_preference.audio', RW, Kind.cmiSInteger(-1, 100), '0'),
      def('cmi.student_preference.language', RW, Kind.cmiString(255), UNSET),
      def('cmi.student_preference.speed', RW, Kind.cmiSInteger(-100, 100), '0'),
      def('cmi.student_preference.text', RW, Kind.cmiSInteger(-1, 1), '0'),
      def('cmi.interactions.n.id', WO, Kind.cmiIdentifier, UNSET),
      def('cmi.interactions.n.objectives.n.id', WO, Kind.cmiIdentifier, UNSET),
      def('cmi.interactions.n.time', WO, Kind.cmiTime, UNSET),
      def('cmi.interactions.n.type', WO, Kind.vocabulary(INTERACTION_TYPES_12), UNSET),
      def('cmi.interactions.n.correct_responses.n.pattern', WO, Kind.cmiFeedback, UNSET),
      def('cmi.interactions.n.weighting', WO, Kind.cmiDecimalAny, UNSET),
      def('cmi.interactions.n.student_response', WO, Kind.cmiFeedback, UNSET),
      def('cmi.interactions.n.result', WO, Kind.result12, UNSET),
      def('cmi.interactions.n.latency', WO, Kind.cmiTimespan, UNSET),
    ],
    collections: [
      { path: 'cmi.objectives', children: 'id,score,status', createdBy: null, writable: true },
      {
        path: 'cmi.interactions',
        children:
          'id,objectives,time,type,correct_responses,weighting,student_response,result,latency',
        createdBy: null,
        writable: true,
      },
      {
        path: 'cmi.interactions.n.objectives',
        children: 'id',
        createdBy: null,
        writable: true,
      },
      {
        path: 'cmi.interactions.n.correct_responses',
        children: 'pattern',
        createdBy: null,
        writable: true,
      },
    ],
    groups: [
      {
        path: 'cmi',
        children:
          'core,suspend_data,launch_data,comments,objectives,student_data,student_preference,interactions',
      },
      {
        path: 'cmi.core',
        children:
          'student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time',
      },
      { path: 'cmi.core.score', children: 'raw,min,max' },
      { path: 'cmi.objectives.n.score', children: 'raw,min,max' },
      {
        path: 'cmi.student_data',
        children: 'mastery_score,max_time_allowed,time_limit_action',
      },
      { path: 'cmi.student_preference', children: 'audio,language,speed,text' },
    ],
    // The AICC CMI groups SCORM 1.2 left out: 401 "not implemented".
    unimplemented: [
      'cmi.evaluation',
      'cmi.paths',
      'cmi.student_demographics',
      'cmi.core.output_file',
    ],
  };

  const anyReal = Kind.real(null, null);
  const unitReal = Kind.real(0, 1);
  const scaledReal = Kind.real(-1, 1);
  const nonNegativeReal = Kind.real(0, null);

  /** SCORM 2004 3rd/4th Edition RTE §4.2. */
  const SCORM2004 = {
    version: '1.0',
    defs: [
      def('cmi.comments_from_learner.n.comment', RW, Kind.localized(4000), UNSET),
      def('cmi.comments_from_learner.n.location', RW, Kind.charString(250), UNSET),
      def('cmi.comments_from_learner.n.timestamp', RW, Kind.time, UNSET),
      def('cmi.comments_from_lms.n.comment', RO, Kind.localized(4000), UNSET),
      def('cmi.comments_from_lms.n.location', RO, Kind.charString(250), UNSET),
      def('cmi.comments_from_lms.n.timestamp', RO, Kind.time, UNSET),
      def('cmi.completion_status', RW, Kind.vocabulary(COMPLETION_STATUS), 'unknown'),
      def('cmi.completion_threshold', RO, unitReal, UNSET),
      def('cmi.credit', RO, Kind.vocabulary(CREDIT), 'credit'),
      def('cmi.entry', RO, Kind.vocabulary(ENTRY), 'ab-initio'),
      def('cmi.exit', WO, Kind.vocabulary(EXIT_2004), UNSET),
      def('cmi.interactions.n.id', RW, Kind.longIdentifier, UNSET),
      def('cmi.interactions.n.type', RW, Kind.vocabulary(INTERACTION_TYPES), UNSET),
      def('cmi.interactions.n.objectives.n.id', RW, Kind.longIdentifier, UNSET),
      def('cmi.interactions.n.timestamp', RW, Kind.time, UNSET),
      def('cmi.interactions.n.correct_responses.n.pattern', RW, Kind.pattern, UNSET),
      def('cmi.interactions.n.weighting', RW, anyReal, UNSET),
      def('cmi.interactions.n.learner_response', RW, Kind.learnerResponse, UNSET),
      def('cmi.interactions.n.result', RW, Kind.result2004, UNSET),
      def('cmi.interactions.n.latency', RW, Kind.timeInterval, UNSET),
      def('cmi.interactions.n.description', RW, Kind.localized(250), UNSET),
      def('cmi.launch_data', RO, Kind.charString(4000), UNSET),
      def('cmi.learner_id', RO, Kind.longIdentifier, UNSET),
      def('cmi.learner_name', RO, Kind.localized(250), UNSET),
      def('cmi.learner_preference.audio_level', RW, nonNegativeReal, '1'),
      def('cmi.learner_preference.language', RW, Kind.language, ''),
      def('cmi.learner_preference.delivery_speed', RW, nonNegativeReal, '1'),
      def('cmi.learner_preference.audio_captioning', RW, Kind.captioning, '0'),
      def('cmi.location', RW, Kind.charString(1000), UNSET),
      def('cmi.max_time_allowed', RO, Kind.timeInterval, UNSET),
      def('cmi.mode', RO, Kind.vocabulary(MODE), 'normal'),
      def('cmi.objectives.n.id', RW, Kind.longIdentifier, UNSET),
      def('cmi.objectives.n.score.scaled', RW, scaledReal, UNSET),
      def('cmi.objectives.n.score.raw', RW, anyReal, UNSET),
      def('cmi.objectives.n.score.min', RW, anyReal, UNSET),
      def('cmi.objectives.n.score.max', RW, anyReal, UNSET),
      def('cmi.objectives.n.success_status', RW, Kind.vocabulary(SUCCESS_STATUS), 'unknown'),
      def(
        'cmi.objectives.n.completion_status',
        RW,
        Kind.vocabulary(COMPLETION_STATUS),
        'unknown',
      ),
      def('cmi.objectives.n.progress_measure', RW, unitReal, UNSET),
      def('cmi.objectives.n.description', RW, Kind.localized(250), UNSET),
      def('cmi.progress_measure', RW, unitReal, UNSET),
      def('cmi.scaled_passing_score', RO, scaledReal, UNSET),
      def('cmi.score.scaled', RW, scaledReal, UNSET),
      def('cmi.score.raw', RW, anyReal, UNSET),
      def('cmi.score.min', RW, anyReal, UNSET),
      def('cmi.score.max', RW, anyReal, UNSET),
      def('cmi.session_time', WO, Kind.timeInterval, UNSET),
      def('cmi.success_status', RW, Kind.vocabulary(SUCCESS_STATUS), 'unknown'),
      def('cmi.suspend_data', RW, Kind.charString(64000), UNSET),
      def('cmi.time_limit_action', RO, Kind.charString(250), 'continue,no message'),
      def('cmi.total_time', RO, Kind.timeInterval, 'PT0H0M0S'),
      def('adl.nav.request', RW, Kind.navRequest, '_none_'),
      def('adl.data.n.id', RO, Kind.longIdentifier, UNSET),
      def('adl.data.n.store', RW, Kind.charString(64000), UNSET),
    ],
    collections: [
      {
        path: 'cmi.comments_from_learner',
        children: 'comment,location,timestamp',
        createdBy: null,
        writable: true,
      },
      {
        path: 'cmi.comments_from_lms',
        children: 'comment,location,timestamp',
        createdBy: null,
        writable: false,
      },
      {
        path: 'cmi.interactions',
        children:
          'id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description',
        createdBy: 'id',
        writable: true,
      },
      {
        path: 'cmi.interactions.n.objectives',
        children: null,
        createdBy: 'id',
        writable: true,
      },
      {
        path: 'cmi.interactions.n.correct_responses',
        children: null,
        createdBy: 'pattern',
        writable: true,
      },
      {
        path: 'cmi.objectives',
        children: 'id,score,success_status,completion_status,progress_measure,description',
        createdBy: 'id',
        writable: true,
      },
      { path: 'adl.data', children: 'id,store', createdBy: null, writable: false },
    ],
    groups: [
      {
        path: 'cmi.learner_preference',
        children: 'audio_level,language,delivery_speed,audio_captioning',
      },
      { path: 'cmi.score', children: 'scaled,raw,min,max' },
      { path: 'cmi.objectives.n.score', children: 'scaled,raw,min,max' },
    ],
    unimplemented: [],
  };

  /** SCORM 2004 3rd Edition and earlier have no `adl.data` (added in the 4th Edition). */
  const isFourthEditionOnly = (path) => path.startsWith('adl.data');
  /** The SPM of `cmi.suspend_data` before the 4th Edition raised it to 64000. */
  const SUSPEND_DATA_SPM_3RD = 4000;

  // -------------------------------------------------------------------------------------------
  // Value types (types.rs). SCORM 1.2 RTE §3.4 data types; SCORM 2004 RTE §4.1.1.

  const MISMATCH = 'mismatch';
  const RANGE = 'range';
  const OK = null;

  const isAsciiDigit = (c) => c >= '0' && c <= '9';
  const isAsciiAlpha = (c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  const isAsciiAlnum = (c) => isAsciiDigit(c) || isAsciiAlpha(c);
  const allChars = (text, test) => {
    for (const c of text) if (!test(c)) return false;
    return true;
  };
  const WHITE_SPACE = /\p{White_Space}/u;
  const CONTROL = /\p{Cc}/u;
  const asciiLower = (text) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

  /** Characters as Rust counts them: Unicode scalar values, not UTF-16 units. */
  function chars(value) {
    let count = 0;
    for (const _ of value) count += 1;
    return count;
  }

  /** A decimal number without exponent: `-12`, `3.5`, `.5`, `5.` (CMIDecimal, real(10,7)). */
  function parseReal(value) {
    const digits = value.startsWith('-') ? value.slice(1) : value;
    const dot = digits.indexOf('.');
    const whole = dot === -1 ? digits : digits.slice(0, dot);
    const fraction = dot === -1 ? null : digits.slice(dot + 1);
    const wholeOk = allChars(whole, isAsciiDigit);
    const fractionOk = fraction === null || allChars(fraction, isAsciiDigit);
    const someDigit = whole !== '' || (fraction !== null && fraction !== '');
    if (!(wholeOk && fractionOk && someDigit)) return null;
    const number = Number(value);
    return Number.isFinite(number) ? number : null;
  }

  function realIn(value, min, max) {
    const number = parseReal(value);
    if (number === null) return MISMATCH;
    if ((min !== null && number < min) || (max !== null && number > max)) return RANGE;
    return OK;
  }

  /** CMISInteger: a signed whole number in `min..=max`. */
  function integerIn(value, min, max) {
    const digits = value.startsWith('-') ? value.slice(1) : value;
    if (digits === '' || digits.length > 18 || !allChars(digits, isAsciiDigit)) return MISMATCH;
    const number = Number(value);
    return number < min || number > max ? RANGE : OK;
  }

  /** SCORM 1.2 CMIIdentifier: no white space or unprintable characters, at most 255. */
  function cmiIdentifier(value) {
    const printable = allChars(value, (c) => !WHITE_SPACE.test(c) && !CONTROL.test(c));
    return value === '' || !printable || chars(value) > 255 ? MISMATCH : OK;
  }

  /**
   * SCORM 2004 long/short_identifier_type: a URI (RFC 3986); a URN must follow RFC 2141.
   * `strict` also refuses white space.
   */
  function identifier(value, strict) {
    if (value === '' || CONTROL.test(value)) return MISMATCH;
    if (strict && WHITE_SPACE.test(value)) return MISMATCH;
    if (asciiLower(value.slice(0, 4)) === 'urn:') return urn(value.slice(4));
    return OK;
  }

  const URN_NSS_EXTRA = "()+,-.:=@;$_!*'%/?#";

  function urn(rest) {
    const colon = rest.indexOf(':');
    if (colon === -1) return MISMATCH;
    const nid = rest.slice(0, colon);
    const nss = rest.slice(colon + 1);
    const nidOk =
      nid !== '' &&
      nid.length <= 32 &&
      isAsciiAlnum(nid[0]) &&
      allChars(nid, (c) => isAsciiAlnum(c) || c === '-') &&
      asciiLower(nid) !== 'urn';
    const nssOk = nss !== '' && allChars(nss, (c) => isAsciiAlnum(c) || URN_NSS_EXTRA.includes(c));
    return nidOk && nssOk ? OK : MISMATCH;
  }

  /** language_type (RFC 3066 as RTE §4.1.1 uses it): `en`, `en-US`, `i-klingon`, `x-private`. */
  function language(value, allowEmpty) {
    if (value === '') return allowEmpty ? OK : MISMATCH;
    const parts = value.split('-');
    const primary = parts[0];
    const primaryOk =
      (primary.length >= 2 && primary.length <= 3 && allChars(primary, isAsciiAlpha)) ||
      asciiLower(primary) === 'i' ||
      asciiLower(primary) === 'x';
    const restOk = parts
      .slice(1)
      .every((p) => p.length >= 1 && p.length <= 8 && allChars(p, isAsciiAlnum));
    return primaryOk && restOk ? OK : MISMATCH;
  }

  /** Splits a localized_string_type into its optional `{lang=…}` and its text. */
  function localized(value) {
    if (!value.startsWith('{lang=')) return { fault: OK, lang: null, text: value };
    const rest = value.slice('{lang='.length);
    const close = rest.indexOf('}');
    if (close === -1) return { fault: MISMATCH };
    const lang = rest.slice(0, close);
    const fault = language(lang, false);
    if (fault) return { fault };
    return { fault: OK, lang, text: rest.slice(close + 1) };
  }

  function digitsValue(text) {
    if (text === '' || !allChars(text, isAsciiDigit)) return null;
    return Number(text);
  }

  function fractionCentis(fraction) {
    return Number(fraction.slice(0, 2).padEnd(2, '0'));
  }

  /** `SS`, `SS.S`, `SS.SS` in centiseconds. */
  function secondsCentis(text, maxDecimals) {
    const dot = text.indexOf('.');
    const whole = dot === -1 ? text : text.slice(0, dot);
    const fraction = dot === -1 ? null : text.slice(dot + 1);
    if (whole.length !== 2) return null;
    const seconds = digitsValue(whole);
    if (seconds === null) return null;
    let centis = 0;
    if (fraction !== null) {
      if (fraction === '' || fraction.length > maxDecimals || !allChars(fraction, isAsciiDigit)) {
        return null;
      }
      centis = fractionCentis(fraction);
    }
    return seconds * 100 + centis;
  }

  /** CMITimespan `HHHH:MM:SS.SS` (2–4 hour digits): centiseconds, or null. */
  function parseCmiTimespan(value) {
    const parts = value.split(':');
    if (parts.length !== 3) return null;
    const [hoursText, minutesText, secondsText] = parts;
    if (hoursText.length < 2 || hoursText.length > 4 || minutesText.length !== 2) return null;
    const hours = digitsValue(hoursText);
    const minutes = digitsValue(minutesText);
    const seconds = secondsCentis(secondsText, 2);
    if (hours === null || minutes === null || seconds === null) return null;
    return minutes < 60 && seconds < 6000 ? hours * 360000 + minutes * 6000 + seconds : null;
  }

  /** CMITime `HH:MM:SS.SS`, a time of day. */
  function cmiTime(value) {
    const parts = value.split(':');
    if (parts.length !== 3) return MISMATCH;
    const [h, m, s] = parts;
    if (h.length !== 2 || m.length !== 2) return MISMATCH;
    const hours = digitsValue(h);
    const minutes = digitsValue(m);
    const seconds = secondsCentis(s, 2);
    if (hours === null || minutes === null || seconds === null) return MISMATCH;
    return hours < 24 && minutes < 60 && seconds < 6000 ? OK : RANGE;
  }

  /** Centiseconds as a CMITimespan (`0012:04:05.30`), saturating at 9999 hours. */
  function formatCmiTimespan(total) {
    const max = 9999 * 360000 + 59 * 6000 + 5999;
    const clamped = Math.min(Math.max(0, Math.floor(total)), max);
    const hours = Math.floor(clamped / 360000);
    const minutes = Math.floor((clamped % 360000) / 6000);
    const rest = clamped % 6000;
    const pad = (n, w) => String(n).padStart(w, '0');
    const seconds = `${pad(Math.floor(rest / 100), 2)}.${pad(rest % 100, 2)}`;
    return `${pad(hours, 4)}:${pad(minutes, 2)}:${seconds}`;
  }

  const DATE_UNITS = [
    ['Y', 365 * 8640000],
    ['M', 30 * 8640000],
    ['D', 8640000],
  ];
  const TIME_UNITS = [
    ['H', 360000],
    ['M', 6000],
    ['S', 100],
  ];

  /**
   * timeinterval(second,10,2): ISO 8601 `P[yY][mM][dD][T[hH][mM][s[.s]S]]`, no weeks, at least
   * one component. Returns centiseconds (years as 365 days, months as 30), or null.
   */
  function parseTimeInterval(value) {
    if (!value.startsWith('P')) return null;
    const rest = value.slice(1);
    const t = rest.indexOf('T');
    let date = rest;
    let time = '';
    if (t !== -1) {
      date = rest.slice(0, t);
      time = rest.slice(t + 1);
      if (time === '') return null;
    }
    let total = 0;
    let any = false;
    for (const [part, units, fractionUnit] of [
      [date, DATE_UNITS, null],
      [time, TIME_UNITS, 'S'],
    ]) {
      let remaining = part;
      let nextUnit = 0;
      while (remaining !== '') {
        let end = 0;
        while (end < remaining.length && (isAsciiDigit(remaining[end]) || remaining[end] === '.')) {
          end += 1;
        }
        if (end === remaining.length) return null;
        const number = remaining.slice(0, end);
        const unit = String.fromCodePoint(remaining.codePointAt(end));
        const position = units.findIndex(([u]) => u === unit);
        if (position === -1 || position < nextUnit || number === '') return null;
        nextUnit = position + 1;
        const scale = units[position][1];
        const dot = number.indexOf('.');
        let amount;
        if (dot !== -1) {
          const whole = number.slice(0, dot);
          const fraction = number.slice(dot + 1);
          if (
            unit !== fractionUnit ||
            whole === '' ||
            fraction === '' ||
            !allChars(fraction, isAsciiDigit)
          ) {
            return null;
          }
          amount = Number(whole) * scale + fractionCentis(fraction);
        } else {
          amount = Number(number) * scale;
        }
        total += amount;
        any = true;
        remaining = remaining.slice(end + unit.length);
      }
    }
    return any ? total : null;
  }

  /** Centiseconds as a timeinterval: `PT1H2M3.45S`, `PT0H0M0S`. */
  function formatTimeInterval(total) {
    const clamped = Math.max(0, Math.floor(total));
    const hours = Math.floor(clamped / 360000);
    const minutes = Math.floor((clamped % 360000) / 6000);
    const rest = clamped % 6000;
    const seconds = Math.floor(rest / 100);
    const centis = rest % 100;
    return centis === 0
      ? `PT${hours}H${minutes}M${seconds}S`
      : `PT${hours}H${minutes}M${seconds}.${String(centis).padStart(2, '0')}S`;
  }

  function daysInMonth(year, month) {
    if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
    return [4, 6, 9, 11].includes(month) ? 30 : 31;
  }

  /**
   * time(second,10,0): `YYYY[-MM[-DD[Thh[:mm[:ss[.s][TZD]]]]]]`, years 1970–2038. Fractional
   * seconds may have any number of digits unless `strict` (then one or two).
   */
  function time(value, strict) {
    const num = (from, length) => {
      const slice = value.slice(from, from + length);
      if (slice.length !== length || !allChars(slice, isAsciiDigit)) return null;
      return Number(slice);
    };
    const year = num(0, 4);
    if (year === null) return MISMATCH;
    let at = 4;
    let rangeOk = year >= 1970 && year <= 2038;
    let month = 1;
    let fields = 0;
    const steps = [
      ['-', 12],
      ['-', 31],
      ['T', 23],
      [':', 59],
      [':', 59],
    ];
    for (const [separator, max] of steps) {
      if (at === value.length) return rangeOk ? OK : RANGE;
      if (value[at] !== separator) break;
      const field = num(at + 1, 2);
      if (field === null) return MISMATCH;
      fields += 1;
      if (fields === 1) {
        month = field;
        rangeOk = rangeOk && field >= 1 && field <= 12;
      } else if (fields === 2) {
        rangeOk = rangeOk && field >= 1 && field <= daysInMonth(year, month);
      } else {
        rangeOk = rangeOk && field <= max;
      }
      at += 3;
    }
    let rest = value.slice(at);
    if (fields === 5 && rest.startsWith('.')) {
      const fraction = rest.slice(1);
      let end = 0;
      while (end < fraction.length && isAsciiDigit(fraction[end])) end += 1;
      if (end === 0 || (strict && end > 2)) return MISMATCH;
      rest = fraction.slice(end);
    }
    if (rest !== '') {
      // A time zone designator only follows a time of day.
      if (fields < 3) return MISMATCH;
      const zone = timeZone(rest);
      if (zone === MISMATCH) return MISMATCH;
      rangeOk = rangeOk && zone;
    }
    return rangeOk ? OK : RANGE;
  }

  /** `Z`, `±hh`, `±hh:mm`: true when in range, false when out of it, MISMATCH otherwise. */
  function timeZone(tzd) {
    if (tzd === 'Z') return true;
    if (!(tzd.startsWith('+') || tzd.startsWith('-'))) return MISMATCH;
    const signLess = tzd.slice(1);
    const colon = signLess.indexOf(':');
    const hoursText = colon === -1 ? signLess : signLess.slice(0, colon);
    const minutesText = colon === -1 ? null : signLess.slice(colon + 1);
    if (hoursText.length !== 2 || (minutesText !== null && minutesText.length !== 2)) {
      return MISMATCH;
    }
    const hours = digitsValue(hoursText);
    if (hours === null) return MISMATCH;
    let minutes = 0;
    if (minutesText !== null) {
      minutes = digitsValue(minutesText);
      if (minutes === null) return MISMATCH;
    }
    return hours <= 23 && minutes <= 59;
  }

  /**
   * A number as Rust's `Display` for f64 writes it: the shortest round-trip digits, never an
   * exponent (`80`, `0.75`, `0.0000001`). LMS-supplied reals reach the SCO in this form.
   */
  function formatReal(number) {
    if (Number.isNaN(number)) return 'NaN';
    if (number === Infinity) return 'inf';
    if (number === -Infinity) return '-inf';
    if (Object.is(number, -0)) return '-0';
    let text = String(number);
    if (!/e/.test(text)) return text;
    const negative = text.startsWith('-');
    if (negative) text = text.slice(1);
    const [mantissa, exponentText] = text.split('e');
    const exponent = Number(exponentText);
    const [whole, fraction = ''] = mantissa.split('.');
    const digits = whole + fraction;
    const point = whole.length + exponent;
    let plain;
    if (point <= 0) plain = `0.${'0'.repeat(-point)}${digits}`;
    else if (point >= digits.length) plain = digits + '0'.repeat(point - digits.length);
    else plain = `${digits.slice(0, point)}.${digits.slice(point)}`;
    return (negative ? '-' : '') + plain;
  }

  // -------------------------------------------------------------------------------------------
  // SCORM 2004 interaction responses (interaction.rs): RTE §4.2.9.1 and §4.2.9.2. Lists are
  // delimited by `[,]`, pairs by `[.]`, ranges by `[:]`; outside strict mode the bare `,` `.`
  // `:` of 2nd Edition content count when the value has no bracketed delimiter at all.

  /** How many correct response patterns a type allows; null for a list. */
  function maxPatterns(kind) {
    return ['true-false', 'likert', 'numeric', 'other'].includes(kind) ? 1 : null;
  }

  function checkPattern(kind, value, strict) {
    switch (kind) {
      case 'true-false':
        return oneOf(value, ['true', 'false']);
      case 'choice':
        return ids(value, strict, true, true);
      case 'sequencing':
        return ids(value, strict, false, false);
      case 'likert':
        return identifier(value, strict);
      case 'matching':
        return pairs(value, strict);
      case 'fill-in': {
        const rest = prefixes(value, ['case_matters', 'order_matters']);
        return rest.fault || localizedList(rest.rest, strict, 250);
      }
      case 'long-fill-in': {
        const rest = prefixes(value, ['case_matters']);
        return rest.fault || localized(rest.rest).fault;
      }
      case 'performance': {
        const rest = prefixes(value, ['order_matters']);
        return rest.fault || performance(rest.rest, strict, true);
      }
      case 'numeric':
        return numericRange(value, strict);
      case 'other':
        return OK;
      default:
        return MISMATCH;
    }
  }

  function checkResponse(kind, value, strict) {
    switch (kind) {
      case 'true-false':
        return oneOf(value, ['true', 'false']);
      case 'choice':
        return ids(value, strict, true, true);
      case 'sequencing':
        return ids(value, strict, false, false);
      case 'likert':
        return identifier(value, strict);
      case 'matching':
        return pairs(value, strict);
      case 'fill-in':
        return localizedList(value, strict, 250);
      case 'long-fill-in':
        return localized(value).fault;
      case 'performance':
        return performance(value, strict, false);
      case 'numeric':
        return parseReal(value) === null ? MISMATCH : OK;
      case 'other':
        return OK;
      default:
        return MISMATCH;
    }
  }

  function oneOf(value, allowed) {
    return allowed.includes(value) ? OK : MISMATCH;
  }

  function split(value, bracketed, bare, strict) {
    return value.includes(bracketed) || strict ? value.split(bracketed) : value.split(bare);
  }

  function ids(value, strict, unique, allowEmpty) {
    if (value === '') return allowEmpty ? OK : MISMATCH;
    const items = split(value, '[,]', ',', strict);
    for (let index = 0; index < items.length; index += 1) {
      const fault = identifier(items[index], strict);
      if (fault) return fault;
      if (unique && items.slice(0, index).includes(items[index])) return MISMATCH;
    }
    return OK;
  }

  function pairs(value, strict) {
    for (const pair of split(value, '[,]', ',', strict)) {
      const parts = split(pair, '[.]', '.', strict);
      if (parts.length !== 2) return MISMATCH;
      const fault = identifier(parts[0], strict) || identifier(parts[1], strict);
      if (fault) return fault;
    }
    return OK;
  }

  /** Leading `{case_matters=…}` / `{order_matters=…}`, each at most once. */
  function prefixes(value, allowed) {
    let rest = value;
    const seen = [];
    for (;;) {
      const found = allowed.find((name) => rest.startsWith(`{${name}=`));
      if (found === undefined) return { fault: OK, rest };
      if (seen.includes(found)) return { fault: MISMATCH };
      seen.push(found);
      const after = rest.slice(found.length + 2);
      const close = after.indexOf('}');
      if (close === -1) return { fault: MISMATCH };
      const fault = oneOf(after.slice(0, close), ['true', 'false']);
      if (fault) return { fault };
      rest = after.slice(close + 1);
    }
  }

  function localizedList(value, strict, spm) {
    for (const item of split(value, '[,]', ',', strict)) {
      const parsed = localized(item);
      if (parsed.fault) return parsed.fault;
      if (strict && chars(parsed.text) > spm) return MISMATCH;
    }
    return OK;
  }

  /** `step_name[.]step_answer[,]…`; in a pattern an answer may be a `min[:]max` range. */
  function performance(value, strict, pattern) {
    for (const step of split(value, '[,]', ',', strict)) {
      let name;
      let answer;
      const bracket = step.indexOf('[.]');
      if (bracket !== -1) {
        name = step.slice(0, bracket);
        answer = step.slice(bracket + 3);
      } else if (!strict) {
        const dot = step.indexOf('.');
        if (dot === -1) return MISMATCH;
        name = step.slice(0, dot);
        answer = step.slice(dot + 1);
      } else {
        return MISMATCH;
      }
      if (name !== '') {
        const fault = identifier(name, strict);
        if (fault) return fault;
      }
      if (name === '' && answer === '') return MISMATCH;
      if (pattern && answer.includes('[:]')) {
        const fault = numericRange(answer, strict);
        if (fault) return fault;
      }
    }
    return OK;
  }

  /** `min[:]max`, either side optional, min ≤ max when both are given. */
  function numericRange(value, strict) {
    const parts = split(value, '[:]', ':', strict);
    const bound = (text) => (text === '' ? { value: null } : { value: parseReal(text) });
    if (parts.length === 1 && parts[0] !== '') {
      return parseReal(parts[0]) === null ? MISMATCH : OK;
    }
    if (parts.length === 2) {
      const min = bound(parts[0]);
      const max = bound(parts[1]);
      if ((parts[0] !== '' && min.value === null) || (parts[1] !== '' && max.value === null)) {
        return MISMATCH;
      }
      if (min.value !== null && max.value !== null && min.value > max.value) return MISMATCH;
      return OK;
    }
    return MISMATCH;
  }

  // -------------------------------------------------------------------------------------------
  // The state machine (state.rs): Initialize, GetValue, SetValue, Commit, Terminate and the
  // error bookkeeping behind GetLastError. SCORM 2004 RTE §3.1.6: not initialized → running →
  // terminated; SCORM 1.2 has the same three states.

  const NOT_INITIALIZED = 'not-initialized';
  const RUNNING = 'running';
  const TERMINATED = 'terminated';

  /** Elements that describe the session that set them and are never carried into the next. */
  const SESSION_ONLY = [
    'cmi.core.exit',
    'cmi.core.session_time',
    'cmi.exit',
    'cmi.session_time',
    'adl.nav.request',
  ];

  /** `RuntimeOptions::default()`: the non-strict limits. */
  const DEFAULT_OPTIONS = Object.freeze({
    strict: false,
    max_value_chars: 256 * 1024,
    max_records: 1024,
    max_total_chars: 4 * 1024 * 1024,
  });

  const NAV_VALIDITY = ['true', 'false', 'unknown'];

  function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  function expectType(field, value, type, { nullable = false } = {}) {
    if (value === undefined || (nullable && value === null)) return;
    const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    if (actual !== type) {
      const wanted = nullable ? `${type} or null` : type;
      throw new ConfigError(field, `must be ${wanted}, not ${actual}`);
    }
  }

  function positiveInteger(field, value, fallback) {
    if (value === undefined || value === null) return fallback;
    if (!Number.isInteger(value) || value <= 0) {
      throw new ConfigError(field, 'must be a positive integer');
    }
    return value;
  }

  function normalizeOptions(options) {
    if (options === undefined || options === null) return { ...DEFAULT_OPTIONS };
    if (!isObject(options)) throw new ConfigError('limits', 'must be an object');
    expectType('limits.strict', options.strict, 'boolean');
    return {
      strict: options.strict === true,
      max_value_chars: positiveInteger(
        'limits.max_value_chars',
        options.max_value_chars,
        DEFAULT_OPTIONS.max_value_chars,
      ),
      max_records: positiveInteger(
        'limits.max_records',
        options.max_records,
        DEFAULT_OPTIONS.max_records,
      ),
      max_total_chars: positiveInteger(
        'limits.max_total_chars',
        options.max_total_chars,
        DEFAULT_OPTIONS.max_total_chars,
      ),
    };
  }

  /** `LaunchData` as serde writes it; a missing field takes `LaunchData::default()`. */
  function normalizeLaunch(launch) {
    const l = launch === undefined || launch === null ? {} : launch;
    if (!isObject(l)) throw new ConfigError('launch', 'must be an object');
    const text = (name) => {
      expectType(`launch.${name}`, l[name], 'string', { nullable: true });
      return typeof l[name] === 'string' ? l[name] : null;
    };
    const number = (name) => {
      expectType(`launch.${name}`, l[name], 'number', { nullable: true });
      return typeof l[name] === 'number' ? l[name] : null;
    };
    const oneOfField = (name, allowed, fallback) => {
      if (l[name] === undefined || l[name] === null) return fallback;
      if (!allowed.includes(l[name])) {
        throw new ConfigError(`launch.${name}`, `must be one of ${allowed.join(', ')}`);
      }
      return l[name];
    };
    const list = (name) => {
      expectType(`launch.${name}`, l[name], 'array', { nullable: true });
      return Array.isArray(l[name]) ? l[name] : [];
    };
    const objectiveIds = list('objective_ids').map((id, index) => {
      expectType(`launch.objective_ids[${index}]`, id, 'string');
      return id;
    });
    const sharedData = list('shared_data').map((bucket, index) => {
      const field = `launch.shared_data[${index}]`;
      if (!isObject(bucket)) throw new ConfigError(field, 'must be an object');
      expectType(`${field}.id`, bucket.id, 'string');
      if (typeof bucket.id !== 'string') throw new ConfigError(`${field}.id`, 'is required');
      expectType(`${field}.store`, bucket.store, 'string', { nullable: true });
      return {
        id: bucket.id,
        store: typeof bucket.store === 'string' ? bucket.store : null,
        readable: bucket.readable === true,
        writable: bucket.writable === true,
      };
    });
    const comments = list('comments_from_lms').map((comment, index) => {
      const field = `launch.comments_from_lms[${index}]`;
      if (!isObject(comment)) throw new ConfigError(field, 'must be an object');
      expectType(`${field}.comment`, comment.comment, 'string');
      expectType(`${field}.location`, comment.location, 'string', { nullable: true });
      expectType(`${field}.timestamp`, comment.timestamp, 'string', { nullable: true });
      return {
        comment: typeof comment.comment === 'string' ? comment.comment : '',
        location: typeof comment.location === 'string' ? comment.location : null,
        timestamp: typeof comment.timestamp === 'string' ? comment.timestamp : null,
      };
    });
    let preference = null;
    if (l.learner_preference !== undefined && l.learner_preference !== null) {
      const p = l.learner_preference;
      if (!isObject(p)) throw new ConfigError('launch.learner_preference', 'must be an object');
      for (const [name, type] of [
        ['audio_level', 'number'],
        ['language', 'string'],
        ['delivery_speed', 'number'],
        ['audio_captioning', 'number'],
      ]) {
        if (typeof p[name] !== type) {
          throw new ConfigError(`launch.learner_preference.${name}`, `must be a ${type}`);
        }
      }
      if (!Number.isInteger(p.audio_captioning)) {
        throw new ConfigError('launch.learner_preference.audio_captioning', 'must be an integer');
      }
      preference = {
        audio_level: p.audio_level,
        language: p.language,
        delivery_speed: p.delivery_speed,
        audio_captioning: p.audio_captioning,
      };
    }
    return {
      learner_id: text('learner_id') || '',
      learner_name: text('learner_name') || '',
      credit: oneOfField('credit', CREDIT, 'credit'),
      mode: oneOfField('mode', MODE, 'normal'),
      launch_data: text('launch_data'),
      mastery_score: number('mastery_score'),
      max_time_allowed: text('max_time_allowed'),
      time_limit_action: oneOfField(
        'time_limit_action',
        ['exit,message', 'exit,no message', 'continue,message', 'continue,no message'],
        null,
      ),
      completion_threshold: number('completion_threshold'),
      scaled_passing_score: number('scaled_passing_score'),
      objective_ids: objectiveIds,
      shared_data: sharedData,
      comments_from_lms: comments,
      learner_preference: preference,
    };
  }

  /**
   * The delivery's `start`: `entry` decides a new attempt ("ab-initio"), a resumed one
   * ("resume") or a continued one ("").
   */
  function normalizeStart(start) {
    if (start === undefined || start === null) {
      return { entry: 'ab-initio', values: [], total_time: 0 };
    }
    if (!isObject(start)) throw new ConfigError('start', 'must be an object');
    const entry = start.entry === undefined ? 'ab-initio' : start.entry;
    if (!ENTRY.includes(entry)) {
      throw new ConfigError('start.entry', 'must be "ab-initio", "resume" or ""');
    }
    expectType('start.values', start.values, 'array', { nullable: true });
    const values = (start.values || []).map((item, index) => {
      const field = `start.values[${index}]`;
      if (!isObject(item) || typeof item.element !== 'string' || typeof item.value !== 'string') {
        throw new ConfigError(field, 'must be {"element": string, "value": string}');
      }
      return { element: item.element, value: item.value };
    });
    const totalTime =
      start.total_time === undefined || start.total_time === null ? 0 : start.total_time;
    if (!Number.isInteger(totalTime) || totalTime < 0) {
      throw new ConfigError('start.total_time', 'must be a whole number of centiseconds');
    }
    return { entry, values, total_time: totalTime };
  }

  /** `adl.nav.request_valid.*` answers; anything not listed is "unknown". */
  function normalizeNavigation(navigation) {
    // Null-prototype maps: activity ids are data, never object keys like `__proto__`.
    const result = {
      continue: 'unknown',
      previous: 'unknown',
      choice: Object.create(null),
      jump: Object.create(null),
    };
    if (navigation === undefined || navigation === null) return result;
    if (!isObject(navigation)) throw new ConfigError('navigation', 'must be an object');
    for (const name of ['continue', 'previous']) {
      if (navigation[name] === undefined || navigation[name] === null) continue;
      if (!NAV_VALIDITY.includes(navigation[name])) {
        throw new ConfigError(`navigation.${name}`, 'must be "true", "false" or "unknown"');
      }
      result[name] = navigation[name];
    }
    for (const name of ['choice', 'jump']) {
      const map = navigation[name];
      if (map === undefined || map === null) continue;
      if (!isObject(map)) throw new ConfigError(`navigation.${name}`, 'must be an object');
      for (const [target, validity] of Object.entries(map)) {
        if (!NAV_VALIDITY.includes(validity)) {
          throw new ConfigError(
            `navigation.${name}.${target}`,
            'must be "true", "false" or "unknown"',
          );
        }
        result[name][target] = validity;
      }
    }
    return result;
  }

  /** A record index: digits without a leading zero, small enough to be real. */
  function parseIndex(segment) {
    const canonical =
      segment === '0' || (!segment.startsWith('0') && segment !== '' && segment.length <= 9);
    return canonical && allChars(segment, isAsciiDigit) ? Number(segment) : null;
  }

  function preview(value) {
    const MAX = 80;
    const all = Array.from(value);
    return all.length <= MAX ? value : `${all.slice(0, MAX).join('')}…`;
  }

  /**
   * One SCO session's run-time data and API state, for either version. `init`: `version`,
   * `launch` (LaunchData), `start` ({entry, values, total_time}), `options` (RuntimeOptions)
   * and `navigation` (the `adl.nav.request_valid.*` answers).
   */
  class Runtime {
    constructor(init = {}) {
      this.version = parseVersion(init.version);
      this.dataModel = this.version === 'Scorm12' ? 'Scorm12' : 'Scorm2004';
      this.model = this.dataModel === 'Scorm12' ? SCORM12 : SCORM2004;
      this.options = normalizeOptions(init.options);
      this.launch = normalizeLaunch(init.launch);
      this.navigation = normalizeNavigation(init.navigation);
      const start = normalizeStart(init.start);
      this.phase = NOT_INITIALIZED;
      this.values = new Map();
      this.counts = new Map();
      // What the SCO set in this session, in first-set order: the commit payload. Values
      // resumed from `start` are not in it (the server has them) until the SCO sets them.
      this.order = [];
      this.inOrder = new Set();
      this.storedChars = 0;
      this.entry = start.entry;
      this.priorTotal = start.entry === 'ab-initio' ? 0 : start.total_time;
      /** Bumped by every change to the payload, so a caller can tell whether to commit. */
      this.changes = 0;
      this.lastError = 0;
      this.lastDiagnostic = '';
      this.loadLaunchData();
      if (start.entry !== 'ab-initio') {
        for (const { element, value } of start.values) {
          if (!SESSION_ONLY.includes(element)) this.loadPrior(element, value);
        }
      }
    }

    // -- The API -------------------------------------------------------------------------------

    initialize(parameter) {
      return this.record(() => this.doInitialize(parameter));
    }

    /** Terminate / LMSFinish: ends the session; the result carries the final payload. */
    terminate(parameter) {
      return this.record(() => this.doTerminate(parameter));
    }

    commit(parameter) {
      return this.record(() => this.doCommit(parameter));
    }

    getValue(element) {
      return this.record(() => this.doGet(element));
    }

    setValue(element, value) {
      return this.record(() => this.doSet(element, value));
    }

    errorString(code) {
      return errorString(this.dataModel, code);
    }

    /** The detail of the last error when asked about it, else the code's text. */
    diagnostic(code) {
      if (code === this.lastError && this.lastDiagnostic !== '') return this.lastDiagnostic;
      return this.errorString(code);
    }

    /**
     * The LMS could not complete `call` ("Initialize", "Terminate", "GetValue", "SetValue",
     * "Commit" or "General"): GetLastError reports the version's general failure for it.
     */
    recordFailure(call, diagnostic) {
      const fault =
        {
          Initialize: 'InitializeFailure',
          Terminate: 'TerminateFailure',
          GetValue: 'GetFailure',
          SetValue: 'SetFailure',
          Commit: 'CommitFailure',
        }[call] || 'GeneralFailure';
      this.lastError = faultCode(fault, this.dataModel);
      this.lastDiagnostic = String(diagnostic);
    }

    /** What the sequencer now allows, for `adl.nav.request_valid.*`. */
    setNavigation(navigation) {
      this.navigation = normalizeNavigation(navigation);
    }

    /** What a commit now would send (`CommitPayload` without its sequence). */
    payload() {
      return {
        data_model: this.dataModel,
        terminated: this.phase === TERMINATED,
        values: this.order
          .filter((key) => this.values.has(key))
          .map((key) => ({ element: key, value: this.values.get(key) })),
      };
    }

    /** SCORM 2004 `adl.nav.request` as the SCO left it. */
    navRequest() {
      if (this.dataModel !== 'Scorm2004') return '_none_';
      return this.values.get('adl.nav.request') || '_none_';
    }

    // -- Calls ---------------------------------------------------------------------------------

    record(call) {
      try {
        const value = call();
        this.lastError = 0;
        this.lastDiagnostic = '';
        return { ok: true, value };
      } catch (caught) {
        const error =
          caught instanceof RuntimeError
            ? caught
            : this.fail('GeneralFailure', `internal error: ${caught && caught.message}`);
        this.lastError = error.code;
        this.lastDiagnostic = error.diagnostic;
        return { ok: false, error };
      }
    }

    fail(fault, diagnostic) {
      return new RuntimeError(faultCode(fault, this.dataModel), fault, diagnostic);
    }

    doInitialize(parameter) {
      if (this.phase === RUNNING) {
        throw this.fail('AlreadyInitialized', 'the session is already initialized');
      }
      if (this.phase === TERMINATED) {
        throw this.fail('InitializeAfterTerminate', 'the session has been terminated');
      }
      if (parameter !== '') {
        throw this.fail('ArgumentNotEmpty', 'the argument must be the empty string');
      }
      this.phase = RUNNING;
      return '';
    }

    doTerminate(parameter) {
      if (this.phase === NOT_INITIALIZED) {
        throw this.fail('TerminateBeforeInitialize', 'the session is not initialized');
      }
      if (this.phase === TERMINATED) {
        throw this.fail('TerminateAfterTerminate', 'the session is already terminated');
      }
      if (parameter !== '') {
        throw this.fail('ArgumentNotEmpty', 'the argument must be the empty string');
      }
      if (this.dataModel === 'Scorm12') this.finishScorm12();
      this.phase = TERMINATED;
      return this.payload();
    }

    /**
     * SCORM 1.2 LMSFinish: with credit, a mastery score and a raw score, the LMS decides passed
     * or failed; a status the SCO never set becomes completed (browsed in browse mode).
     */
    finishScorm12() {
      const credit =
        !this.values.has('cmi.core.credit') || this.values.get('cmi.core.credit') === 'credit';
      const raw = this.values.has('cmi.core.score.raw')
        ? parseReal(this.values.get('cmi.core.score.raw'))
        : null;
      const statusSet = this.values.has('cmi.core.lesson_status');
      const mastery = this.launch.mastery_score;
      let derived = null;
      if (credit && mastery !== null && raw !== null) {
        derived = raw >= mastery ? 'passed' : 'failed';
      } else if (!statusSet) {
        derived = this.values.get('cmi.core.lesson_mode') === 'browse' ? 'browsed' : 'completed';
      }
      if (derived !== null) {
        this.values.set('cmi.core.lesson_status', derived);
        this.noteSet('cmi.core.lesson_status');
      }
    }

    doCommit(parameter) {
      if (this.phase === NOT_INITIALIZED) {
        throw this.fail('CommitBeforeInitialize', 'the session is not initialized');
      }
      if (this.phase === TERMINATED) {
        throw this.fail('CommitAfterTerminate', 'the session is terminated');
      }
      if (parameter !== '') {
        throw this.fail('ArgumentNotEmpty', 'the argument must be the empty string');
      }
      return this.payload();
    }

    doGet(element) {
      if (this.phase === NOT_INITIALIZED) {
        throw this.fail('GetBeforeInitialize', 'the session is not initialized');
      }
      if (this.phase === TERMINATED) {
        throw this.fail('GetAfterTerminate', 'the session is terminated');
      }
      if (element === '') throw this.fail('GetEmptyElement', 'the element name is empty');
      const target = this.resolve(element);
      switch (target.kind) {
        case 'version':
          return this.model.version;
        case 'navValid':
          return this.navAnswer(target.key);
        case 'children':
          this.checkExisting(element, target.levels);
          return target.value;
        case 'count':
          this.checkExisting(element, target.levels);
          return String(this.count(target.key));
        default: {
          const { def: d, key, levels } = target;
          const shared = this.sharedDataAccess(key, levels);
          if (d.access === WO || (shared && !shared.readable)) {
            throw this.fail('WriteOnly', `${element} is write-only`);
          }
          this.checkExisting(element, levels);
          const computed = this.computed(d);
          if (computed !== null) return computed;
          if (this.values.has(key)) return this.values.get(key);
          if (d.initial !== UNSET) return d.initial;
          if (this.dataModel === 'Scorm12') return '';
          throw this.fail('ValueNotInitialized', `${element} has no value yet`);
        }
      }
    }

    doSet(element, value) {
      if (this.phase === NOT_INITIALIZED) {
        throw this.fail('SetBeforeInitialize', 'the session is not initialized');
      }
      if (this.phase === TERMINATED) {
        throw this.fail('SetAfterTerminate', 'the session is terminated');
      }
      if (element === '') throw this.fail('SetEmptyElement', 'the element name is empty');
      let target;
      try {
        target = this.resolve(element);
      } catch (error) {
        const fault = error instanceof RuntimeError ? error.fault : null;
        if (fault === 'NoChildren' || fault === 'NoCount') {
          throw this.fail('KeywordSet', `${element} is a keyword and cannot be set`);
        }
        throw error;
      }
      if (target.kind === 'navValid') throw this.fail('ReadOnly', `${element} is read-only`);
      if (target.kind !== 'value') {
        throw this.fail('KeywordSet', `${element} is a keyword and cannot be set`);
      }
      const { def: d, key, levels } = target;
      const shared = this.sharedDataAccess(key, levels);
      if (d.access === RO || (shared && !shared.writable)) {
        throw this.fail('ReadOnly', `${element} is read-only`);
      }
      const creating = this.checkSettableIndex(element, d, levels);
      this.checkValue(element, d, key, levels, value);
      this.checkRelations(element, d, key, levels, value, creating);
      const previous = this.values.has(key) ? chars(this.values.get(key)) : 0;
      const total = Math.max(0, this.storedChars - previous) + chars(value);
      if (total > this.options.max_total_chars) {
        throw this.fail(
          'SetFailure',
          `the run-time data would exceed ${this.options.max_total_chars} characters`,
        );
      }
      this.storedChars = total;
      if (creating && levels.length > 0) {
        const last = levels[levels.length - 1];
        this.counts.set(last.key, last.index + 1);
      }
      this.values.set(key, value);
      this.noteSet(key);
      return '';
    }

    noteSet(key) {
      this.changes += 1;
      if (!this.inOrder.has(key)) {
        this.inOrder.add(key);
        this.order.push(key);
      }
    }

    // -- Element names -------------------------------------------------------------------------

    count(key) {
      return this.counts.get(key) || 0;
    }

    hasAdlData() {
      return this.version === 'Scorm2004Ed4';
    }

    inEdition(path) {
      return !isFourthEditionOnly(path) || this.hasAdlData();
    }

    resolve(element) {
      const modelName = this.dataModel === 'Scorm12' ? '1.2' : '2004';
      const undefinedElement = () =>
        this.fail('Undefined', `${element} is not an element of the SCORM ${modelName} data model`);
      const navPrefix = 'adl.nav.request_valid.';
      if (this.dataModel === 'Scorm2004' && element.startsWith(navPrefix)) {
        const key = this.navQuery(element.slice(navPrefix.length));
        if (key === null) throw undefinedElement();
        return { kind: 'navValid', key };
      }
      if (element.endsWith('._version')) {
        if (element.slice(0, -'._version'.length) === 'cmi') return { kind: 'version' };
        throw undefinedElement();
      }
      if (element.endsWith('._children')) {
        const node = element.slice(0, -'._children'.length);
        const segments = node.split('.');
        for (const group of this.model.groups) {
          const levels = this.matchPattern(group.path, segments);
          if (levels) return { kind: 'children', value: group.children, levels };
        }
        for (const collection of this.model.collections.filter((c) => this.inEdition(c.path))) {
          const levels = this.matchPattern(collection.path, segments);
          if (levels) {
            if (collection.children !== null) {
              return { kind: 'children', value: collection.children, levels };
            }
            throw this.fail('NoChildren', `${node} has no _children`);
          }
        }
        if (this.isKnownNode(segments)) throw this.fail('NoChildren', `${node} has no children`);
        throw undefinedElement();
      }
      if (element.endsWith('._count')) {
        const node = element.slice(0, -'._count'.length);
        const segments = node.split('.');
        for (const collection of this.model.collections.filter((c) => this.inEdition(c.path))) {
          const levels = this.matchPattern(collection.path, segments);
          if (levels) return { kind: 'count', key: node, levels };
        }
        if (this.isKnownNode(segments)) {
          throw this.fail('NoCount', `${node} is not a collection and has no _count`);
        }
        throw undefinedElement();
      }
      const segments = element.split('.');
      for (const d of this.model.defs.filter((x) => this.inEdition(x.path))) {
        const levels = this.matchPattern(d.path, segments);
        if (levels) return { kind: 'value', def: d, key: element, levels };
      }
      if (this.model.unimplemented.some((p) => element === p || element.startsWith(`${p}.`))) {
        throw this.fail('NotImplemented', `${element} is not implemented by this LMS`);
      }
      throw undefinedElement();
    }

    /** Matches concrete segments against a table path with `n` for indices. */
    matchPattern(pattern, segments) {
      const parts = pattern.split('.');
      if (parts.length !== segments.length) return null;
      const levels = [];
      for (let at = 0; at < parts.length; at += 1) {
        if (parts[at] === 'n') {
          const index = parseIndex(segments[at]);
          if (index === null) return null;
          const collectionPath = parts.slice(0, at).join('.');
          const collection = this.model.collections.find((c) => c.path === collectionPath);
          if (!collection) return null;
          levels.push({ collection, key: segments.slice(0, at).join('.'), index });
        } else if (parts[at] !== segments[at]) {
          return null;
        }
      }
      return levels;
    }

    /** Whether the segments name an element, or a prefix of one. */
    isKnownNode(segments) {
      const paths = this.model.defs.map((d) => d.path).concat(this.model.groups.map((g) => g.path));
      return paths
        .filter((p) => this.inEdition(p))
        .some((path) => {
          const parts = path.split('.');
          return (
            parts.length >= segments.length &&
            segments.every((segment, i) =>
              parts[i] === 'n' ? parseIndex(segment) !== null : parts[i] === segment,
            )
          );
        });
    }

    /** `continue`, `previous`, `choice.{target=ID}`, `jump.{target=ID}` (4th Edition). */
    navQuery(query) {
      if (query === 'continue' || query === 'previous') return query;
      const dot = query.indexOf('.');
      if (dot === -1) return null;
      const kind = query.slice(0, dot);
      const rest = query.slice(dot + 1);
      if (!(kind === 'choice' || (kind === 'jump' && this.version === 'Scorm2004Ed4'))) return null;
      if (!rest.startsWith('{target=') || !rest.endsWith('}')) return null;
      const target = rest.slice('{target='.length, -1);
      return target === '' ? null : `${kind}.${target}`;
    }

    navAnswer(key) {
      if (key === 'continue' || key === 'previous') return this.navigation[key];
      const dot = key.indexOf('.');
      if (dot === -1) return 'unknown';
      const kind = key.slice(0, dot);
      const target = key.slice(dot + 1);
      const maps = { choice: this.navigation.choice, jump: this.navigation.jump };
      const map = Object.prototype.hasOwnProperty.call(maps, kind) ? maps[kind] : null;
      if (!map || !Object.prototype.hasOwnProperty.call(map, target)) return 'unknown';
      return map[target];
    }

    /** GetValue and keywords: every index must name an existing record. */
    checkExisting(element, levels) {
      for (const level of levels) {
        const count = this.count(level.key);
        if (level.index >= count) {
          throw this.fail(
            'GetIndexOutOfRange',
            `${element}: ${level.key} has ${count} records, there is no index ${level.index}`,
          );
        }
      }
    }

    /** SetValue: outer indices must exist, the last may be the next one. Returns whether the
     * call creates a record. */
    checkSettableIndex(element, d, levels) {
      if (levels.length === 0) return false;
      const outer = levels.slice(0, -1);
      const last = levels[levels.length - 1];
      for (const level of outer) {
        const count = this.count(level.key);
        if (level.index < count) continue;
        // The enclosing record does not exist: if it would be the next one, what is missing is
        // its creating field (2004: 408); past that, the index is wrong.
        if (level.index === count && level.collection.createdBy !== null) {
          throw this.fail(
            'DependencyNotEstablished',
            `${element}: set ${level.key}.${level.index}.${level.collection.createdBy} first`,
          );
        }
        throw this.fail(
          'SetIndexOutOfRange',
          `${element}: ${level.key} has ${count} records, there is no index ${level.index}`,
        );
      }
      const count = this.count(last.key);
      if (last.index < count) return false;
      if (last.index > count || !last.collection.writable) {
        throw this.fail(
          'SetIndexOutOfRange',
          `${element}: ${last.key} has ${count} records; the next one is index ${count}`,
        );
      }
      const field = d.path.slice(last.collection.path.length + 3);
      if (last.collection.createdBy !== null && field !== last.collection.createdBy) {
        throw this.fail(
          'DependencyNotEstablished',
          `${element}: set ${last.key}.${last.index}.${last.collection.createdBy} first`,
        );
      }
      if (count >= this.options.max_records) {
        throw this.fail(
          'SetFailure',
          `${element}: ${last.key} holds at most ${this.options.max_records} records`,
        );
      }
      return true;
    }

    /** `adl.data.n.store` access from the manifest's readSharedData / writeSharedData. */
    sharedDataAccess(key, levels) {
      const store = key.startsWith('adl.data.') && key.endsWith('.store') && levels.length > 0;
      if (!store) return null;
      const id = this.values.get(`adl.data.${levels[0].index}.id`);
      if (id === undefined) return null;
      const bucket = this.launch.shared_data.find((b) => b.id === id);
      return bucket ? { readable: bucket.readable, writable: bucket.writable } : null;
    }

    // -- Values --------------------------------------------------------------------------------

    checkValue(element, d, key, levels, value) {
      const strict = this.options.strict;
      if (chars(value) > this.options.max_value_chars) {
        throw this.fail(
          this.dataModel === 'Scorm12' ? 'TypeMismatch' : 'SetFailure',
          `${element}: the value is longer than ${this.options.max_value_chars} characters`,
        );
      }
      const spm = (limit) => (strict && chars(value) > limit ? MISMATCH : OK);
      const kind = d.kind;
      let fault;
      switch (kind.type) {
        case 'CmiString':
          fault = spm(kind.limit);
          break;
        case 'SuspendData12':
          fault = spm(4096);
          break;
        case 'CmiIdentifier':
          fault = cmiIdentifier(value);
          break;
        case 'CmiDecimal':
          fault = kind.blank && value === '' ? OK : realIn(value, kind.min, kind.max);
          break;
        case 'CmiDecimalAny':
          fault = realIn(value, null, null);
          break;
        case 'CmiSInteger':
          fault = integerIn(value, kind.min, kind.max);
          break;
        case 'CmiTimespan':
          fault = parseCmiTimespan(value) === null ? MISMATCH : OK;
          break;
        case 'CmiTime':
          fault = cmiTime(value);
          break;
        case 'CmiFeedback':
          fault = spm(255);
          break;
        case 'Result12':
          fault = RESULT_12.includes(value) ? OK : realIn(value, null, null);
          break;
        case 'Vocabulary':
          fault = kind.words.includes(value) ? OK : MISMATCH;
          break;
        case 'CharString': {
          const limit =
            key === 'cmi.suspend_data' && VERSION_RANK[this.version] < VERSION_RANK.Scorm2004Ed4
              ? SUSPEND_DATA_SPM_3RD
              : kind.limit;
          fault = spm(limit);
          break;
        }
        case 'Localized': {
          const parsed = localized(value);
          fault = parsed.fault || (strict && chars(parsed.text) > kind.limit ? MISMATCH : OK);
          break;
        }
        case 'LongIdentifier':
          fault = identifier(value, strict) || spm(4000);
          break;
        case 'Real':
          fault = realIn(value, kind.min, kind.max);
          break;
        case 'TimeInterval':
          fault = parseTimeInterval(value) === null ? MISMATCH : OK;
          break;
        case 'Time':
          fault = time(value, strict);
          break;
        case 'Language':
          fault = language(value, true);
          break;
        case 'Result2004':
          fault = RESULT_2004.includes(value) ? OK : realIn(value, null, null);
          break;
        case 'Pattern':
        case 'LearnerResponse': {
          const interaction = levels.length > 0 ? levels[0].index : 0;
          const typeKey = `cmi.interactions.${interaction}.type`;
          if (!this.values.has(typeKey)) {
            throw this.fail(
              'DependencyNotEstablished',
              `${element}: set ${typeKey} first, the format depends on it`,
            );
          }
          const interactionType = this.values.get(typeKey);
          fault =
            kind.type === 'Pattern'
              ? checkPattern(interactionType, value, strict)
              : checkResponse(interactionType, value, strict);
          break;
        }
        case 'NavRequest':
          fault = this.checkNavRequest(value);
          break;
        case 'Captioning':
          fault = ['-1', '0', '1'].includes(value) ? OK : MISMATCH;
          break;
        default:
          fault = MISMATCH;
      }
      if (fault === MISMATCH) {
        throw this.fail('TypeMismatch', `${element}: "${preview(value)}" is not a valid value`);
      }
      if (fault === RANGE) {
        throw this.fail('OutOfRange', `${element}: "${preview(value)}" is out of range`);
      }
    }

    checkNavRequest(value) {
      if (NAV_REQUESTS.includes(value)) return OK;
      if (!value.startsWith('{target=')) return MISMATCH;
      const rest = value.slice('{target='.length);
      const close = rest.indexOf('}');
      if (close === -1) return MISMATCH;
      const target = rest.slice(0, close);
      const request = rest.slice(close + 1);
      const allowed =
        request === 'choice' || (request === 'jump' && this.version === 'Scorm2004Ed4');
      if (!allowed) return MISMATCH;
      return identifier(target, true);
    }

    /**
     * Rules between values (SCORM 2004 RTE §4.2.9, §4.2.17): objective ids are unique and never
     * change; an interaction's objective ids are unique; the one-pattern interaction types take
     * one correct response and no pattern repeats.
     */
    checkRelations(element, d, key, levels, value, creating) {
      // An interaction's patterns and response were checked against its type: a different
      // type once they exist would leave values the type refuses. Both versions.
      if (d.path === 'cmi.interactions.n.type' && levels.length > 0) {
        const current = this.values.get(key);
        if (current !== undefined && current !== value) {
          const prefix = `cmi.interactions.${levels[0].index}.`;
          const answered = [...this.values.keys()].some((k) => {
            if (!k.startsWith(prefix)) return false;
            const rest = k.slice(prefix.length);
            return (
              rest.startsWith('correct_responses.') ||
              rest === 'learner_response' ||
              rest === 'student_response'
            );
          });
          if (answered) {
            throw this.fail(
              'SetFailure',
              `${element}: the type cannot change from "${current}" once correct responses or a response are set; record the new type as a new interaction`,
            );
          }
        }
      }
      if (this.dataModel !== 'Scorm2004' || levels.length === 0) return;
      const last = levels[levels.length - 1];
      const siblingHas = (field, wanted) => {
        for (let i = 0; i < this.count(last.key); i += 1) {
          if (i === last.index) continue;
          const sibling = this.values.get(`${last.key}.${i}.${field}`);
          if (sibling !== undefined && sibling === wanted) return true;
        }
        return false;
      };
      switch (d.path) {
        case 'cmi.objectives.n.id': {
          const current = this.values.get(key);
          if (current !== undefined && current !== value) {
            throw this.fail(
              'SetFailure',
              `${element}: an objective id cannot change once set (it is "${current}")`,
            );
          }
          if (siblingHas('id', value)) {
            throw this.fail('SetFailure', `${element}: objective id "${value}" is already used`);
          }
          break;
        }
        case 'cmi.interactions.n.objectives.n.id':
          if (siblingHas('id', value)) {
            throw this.fail(
              'SetFailure',
              `${element}: the interaction already lists objective "${value}"`,
            );
          }
          break;
        case 'cmi.interactions.n.correct_responses.n.pattern': {
          const interaction = levels[0].index;
          const kind = this.values.get(`cmi.interactions.${interaction}.type`) || '';
          const max = maxPatterns(kind);
          if (creating && max !== null && last.index >= max) {
            throw this.fail(
              'SetFailure',
              `${element}: a ${kind} interaction has one correct response pattern`,
            );
          }
          if (siblingHas('pattern', value)) {
            throw this.fail(
              'SetFailure',
              `${element}: the same pattern is already a correct response`,
            );
          }
          break;
        }
        default:
      }
    }

    /** Values the LMS works out rather than stores (SCORM 2004 RTE §4.2.4.1, §4.2.22.1). */
    computed(d) {
      if (this.dataModel !== 'Scorm2004') return null;
      if (d.path === 'cmi.completion_status') return this.completionStatus();
      if (d.path === 'cmi.success_status') return this.successStatus();
      return null;
    }

    /**
     * RTE §4.2.4.1: with a completion threshold and a progress measure, the measure decides;
     * with a threshold and no measure, the 4th Edition answers "unknown" and earlier editions
     * what the SCO set; without a threshold, what the SCO set ("unknown" by default).
     */
    completionStatus() {
      const progress = this.values.has('cmi.progress_measure')
        ? parseReal(this.values.get('cmi.progress_measure'))
        : null;
      const threshold = this.launch.completion_threshold;
      if (threshold !== null && progress !== null) {
        return progress >= threshold ? 'completed' : 'incomplete';
      }
      if (threshold !== null && this.version === 'Scorm2004Ed4') return 'unknown';
      return this.values.get('cmi.completion_status') || 'unknown';
    }

    /** RTE §4.2.22.1: with a scaled passing score, `score.scaled` decides ("unknown" without). */
    successStatus() {
      const scaled = this.values.has('cmi.score.scaled')
        ? parseReal(this.values.get('cmi.score.scaled'))
        : null;
      const passing = this.launch.scaled_passing_score;
      if (passing !== null && scaled !== null) return scaled >= passing ? 'passed' : 'failed';
      if (passing !== null) return 'unknown';
      return this.values.get('cmi.success_status') || 'unknown';
    }

    // -- Loading -------------------------------------------------------------------------------

    putLms(key, value) {
      this.values.set(key, value);
    }

    putRecord(collection, index, field, value) {
      this.values.set(`${collection}.${index}.${field}`, value);
      this.counts.set(collection, Math.max(this.count(collection), index + 1));
    }

    loadLaunchData() {
      const l = this.launch;
      if (this.dataModel === 'Scorm12') {
        this.putLms('cmi.core.student_id', l.learner_id);
        this.putLms('cmi.core.student_name', l.learner_name);
        this.putLms('cmi.core.credit', l.credit);
        this.putLms('cmi.core.lesson_mode', l.mode);
        this.putLms('cmi.core.entry', this.entry);
        this.putLms('cmi.core.total_time', formatCmiTimespan(this.priorTotal));
        if (l.launch_data !== null) this.putLms('cmi.launch_data', l.launch_data);
        if (l.comments_from_lms.length > 0) {
          const text = l.comments_from_lms.map((c) => c.comment).join('\n');
          this.putLms('cmi.comments_from_lms', text);
        }
        if (l.mastery_score !== null) {
          this.putLms('cmi.student_data.mastery_score', formatReal(l.mastery_score));
        }
        if (l.max_time_allowed !== null) {
          this.putLms('cmi.student_data.max_time_allowed', l.max_time_allowed);
        }
        if (l.time_limit_action !== null) {
          this.putLms('cmi.student_data.time_limit_action', l.time_limit_action);
        }
        if (l.learner_preference !== null) {
          this.putLms('cmi.student_preference.language', l.learner_preference.language);
        }
        return;
      }
      this.putLms('cmi.learner_id', l.learner_id);
      this.putLms('cmi.learner_name', l.learner_name);
      this.putLms('cmi.credit', l.credit);
      this.putLms('cmi.mode', l.mode);
      this.putLms('cmi.entry', this.entry);
      this.putLms('cmi.total_time', formatTimeInterval(this.priorTotal));
      if (l.launch_data !== null) this.putLms('cmi.launch_data', l.launch_data);
      if (l.max_time_allowed !== null) this.putLms('cmi.max_time_allowed', l.max_time_allowed);
      if (l.time_limit_action !== null) this.putLms('cmi.time_limit_action', l.time_limit_action);
      if (l.completion_threshold !== null) {
        this.putLms('cmi.completion_threshold', formatReal(l.completion_threshold));
      }
      if (l.scaled_passing_score !== null) {
        this.putLms('cmi.scaled_passing_score', formatReal(l.scaled_passing_score));
      }
      l.comments_from_lms.forEach((comment, index) => {
        this.putRecord('cmi.comments_from_lms', index, 'comment', comment.comment);
        if (comment.location !== null) {
          this.putRecord('cmi.comments_from_lms', index, 'location', comment.location);
        }
        if (comment.timestamp !== null) {
          this.putRecord('cmi.comments_from_lms', index, 'timestamp', comment.timestamp);
        }
      });
      l.objective_ids.forEach((id, index) => this.putRecord('cmi.objectives', index, 'id', id));
      if (this.hasAdlData()) {
        l.shared_data.forEach((bucket, index) => {
          this.putRecord('adl.data', index, 'id', bucket.id);
          if (bucket.store !== null) this.putRecord('adl.data', index, 'store', bucket.store);
        });
      }
      if (l.learner_preference !== null) {
        const p = l.learner_preference;
        this.putLms('cmi.learner_preference.audio_level', formatReal(p.audio_level));
        this.putLms('cmi.learner_preference.language', p.language);
        this.putLms('cmi.learner_preference.delivery_speed', formatReal(p.delivery_speed));
        this.putLms('cmi.learner_preference.audio_captioning', String(p.audio_captioning));
      }
    }

    /** A value a previous session committed: only elements the SCO can write, with record
     * counts rebuilt; anything that does not resolve is dropped. */
    loadPrior(element, value) {
      let target;
      try {
        target = this.resolve(element);
      } catch (error) {
        if (error instanceof RuntimeError) return;
        throw error;
      }
      if (target.kind !== 'value') return;
      if (target.def.access === RO || chars(value) > this.options.max_value_chars) return;
      for (const level of target.levels) {
        this.counts.set(level.key, Math.max(this.count(level.key), level.index + 1));
      }
      this.storedChars += chars(value);
      this.values.set(target.key, value);
    }
  }

  // -------------------------------------------------------------------------------------------
  // The API objects a SCO calls. Every method answers synchronously from the local model
  // (SCORM calls are synchronous); commits go to the server in the background.

  /** API method → runtime operation, per version (the SCORM 1.2 and SCORM 2004 RTE API). */
  const API_METHODS = {
    Scorm12: {
      LMSInitialize: 'initialize',
      LMSFinish: 'terminate',
      LMSGetValue: 'getValue',
      LMSSetValue: 'setValue',
      LMSCommit: 'commit',
      LMSGetLastError: 'getLastError',
      LMSGetErrorString: 'getErrorString',
      LMSGetDiagnostic: 'getDiagnostic',
    },
    Scorm2004: {
      Initialize: 'initialize',
      Terminate: 'terminate',
      GetValue: 'getValue',
      SetValue: 'setValue',
      Commit: 'commit',
      GetLastError: 'getLastError',
      GetErrorString: 'getErrorString',
      GetDiagnostic: 'getDiagnostic',
    },
  };

  /** The global each version's SCOs look for (SCORM 1.2 `API`, SCORM 2004 `API_1484_11`). */
  const API_GLOBALS = { Scorm12: 'API', Scorm2004: 'API_1484_11' };

  /** SCOs pass what they like; the data model speaks strings (`undefined` is the missing ""). */
  function argument(value) {
    return value === undefined || value === null ? '' : String(value);
  }

  /** An error code argument: a decimal u16, else null. */
  function parseCode(value) {
    const text = argument(value);
    if (!/^[0-9]{1,5}$/.test(text)) return null;
    const code = Number(text);
    return code <= 65535 ? code : null;
  }

  /**
   * A SCO session on the page: the runtime answering the API, plus when and what to commit.
   * `runtime`: a Runtime; `queue`: a CommitQueue for the session's commit URL;
   * `commitIntervalMs`: the periodic commit while there are changes; `timers`: setTimeout and
   * clearTimeout; `onTerminate(session)`: after a successful Terminate/LMSFinish.
   */
  class ScoSession {
    constructor({ runtime, queue, commitIntervalMs = 30000, timers, onTerminate } = {}) {
      this.runtime = runtime;
      this.queue = queue;
      this.commitIntervalMs = commitIntervalMs;
      this.timers = timers || {
        setTimeout: (fn, ms) => root.setTimeout(fn, ms),
        clearTimeout: (id) => root.clearTimeout(id),
      };
      this.onTerminate = onTerminate || (() => {});
      this.sentChanges = 0;
      this.timer = null;
      this.disposed = false;
    }

    get terminated() {
      return this.runtime.phase === TERMINATED;
    }

    get initialized() {
      return this.runtime.phase !== NOT_INITIALIZED;
    }

    /** Whether the SCO changed anything since the last commit was queued. */
    get dirty() {
      return this.runtime.changes !== this.sentChanges;
    }

    initialize(parameter) {
      return this.runtime.initialize(argument(parameter)).ok ? 'true' : 'false';
    }

    getValue(element) {
      const result = this.runtime.getValue(argument(element));
      return result.ok ? result.value : '';
    }

    setValue(element, value) {
      const result = this.runtime.setValue(argument(element), argument(value));
      if (result.ok) this.arm();
      return result.ok ? 'true' : 'false';
    }

    /** "true" once the local model accepted it; the commit itself is sent in the background. */
    commit(parameter) {
      const result = this.runtime.commit(argument(parameter));
      if (!result.ok) return 'false';
      if (this.dirty) this.send();
      return 'true';
    }

    terminate(parameter) {
      const result = this.runtime.terminate(argument(parameter));
      if (!result.ok) return 'false';
      this.send();
      // After the SCO's call has returned: the controller may navigate away from the SCO.
      Promise.resolve()
        .then(() => this.onTerminate(this))
        .catch(() => {});
      return 'true';
    }

    getLastError() {
      return String(this.runtime.lastError);
    }

    getErrorString(code) {
      const parsed = parseCode(code);
      return parsed === null ? '' : this.runtime.errorString(parsed);
    }

    /** `GetDiagnostic("")` is about the last error (SCORM 2004 RTE, support methods). */
    getDiagnostic(code) {
      const parsed = argument(code) === '' ? this.runtime.lastError : parseCode(code);
      return parsed === null ? '' : this.runtime.diagnostic(parsed);
    }

    /** Queues a commit of everything set so far (terminated when the runtime is). */
    send() {
      this.disarm();
      this.sentChanges = this.runtime.changes;
      return this.queue.enqueue(this.runtime.payload());
    }

    /** The periodic commit: armed by a change, fired once, re-armed by the next change. */
    arm() {
      if (this.timer !== null || this.disposed || !(this.commitIntervalMs > 0)) return;
      this.timer = this.timers.setTimeout(() => {
        this.timer = null;
        if (this.dirty && this.runtime.phase === RUNNING) this.send();
      }, this.commitIntervalMs);
    }

    disarm() {
      if (this.timer !== null) {
        this.timers.clearTimeout(this.timer);
        this.timer = null;
      }
    }

    /**
     * The learner leaves a SCO that did not terminate: its last data, `terminated: false`.
     * Nothing is sent when everything is already on its way (the unload and its timeout may
     * both ask).
     */
    finalCommit() {
      if (!this.terminated && this.dirty) this.send();
    }

    /** The page is going away (pagehide, hidden): get everything out by beacon. */
    flush() {
      if (this.runtime.phase === RUNNING && this.dirty) this.send();
      this.queue.flushWithBeacon();
    }

    settled(timeoutMs) {
      return this.queue.settled(timeoutMs);
    }

    dispose() {
      this.disarm();
      this.disposed = true;
    }
  }

  /**
   * The API object for one version, answering through whichever session is current. Between
   * deliveries there is none: every call fails with 101 (General Exception).
   */
  class ApiBridge {
    constructor(dataModel) {
      if (!API_METHODS[dataModel]) {
        throw new ConfigError('data_model', 'must be Scorm12 or Scorm2004');
      }
      this.dataModel = dataModel;
      this.session = null;
      this.idleError = 0;
      this.api = {};
      for (const [method, operation] of Object.entries(API_METHODS[dataModel])) {
        this.api[method] = (...args) => this.call(operation, args);
      }
      Object.freeze(this.api);
    }

    attach(session) {
      this.session = session;
      this.idleError = 0;
    }

    detach(session) {
      if (session === undefined || this.session === session) this.session = null;
    }

    call(operation, args) {
      const session = this.session;
      if (session) {
        try {
          return session[operation](...args);
        } catch (error) {
          // Whatever fails behind the API, the SCO gets an answer, never an exception.
          session.runtime.recordFailure('General', `internal error: ${error && error.message}`);
          return operation === 'getValue' ? '' : operation === 'getLastError' ? '101' : 'false';
        }
      }
      switch (operation) {
        case 'getLastError':
          return String(this.idleError);
        case 'getErrorString': {
          const code = parseCode(args[0]);
          return code === null ? '' : errorString(this.dataModel, code);
        }
        case 'getDiagnostic':
          return this.idleError === 0
            ? errorString(this.dataModel, 0)
            : 'no content is being delivered';
        default:
          this.idleError = 101;
          return operation === 'getValue' ? '' : 'false';
      }
    }

    /** Puts the API object where the SCO's discovery algorithm (parents, then opener) finds it. */
    install(win) {
      win[API_GLOBALS[this.dataModel]] = this.api;
      return this.api;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Commits to the server. Each session numbers its commits from 1; the server treats them as
  // idempotent by (session, sequence), so a commit is retried with the same number and body
  // until it is answered, and later commits wait behind it.

  /** Statuses worth retrying: the server or the network may recover. */
  const RETRY_STATUSES = [408, 425, 429];

  class CommitQueue {
    /**
     * `url`: the session's commit URL. `env` replaces browser globals (`fetch`, `navigator`,
     * `Blob`, `setTimeout`, `clearTimeout`). `backoff`: {initialMs, maxMs}. Callbacks:
     * `onAccepted(sequence, body)`, `onRejected(sequence, error)` (a commit the server refused
     * for good), `onRetry(sequence, attempt, delayMs, reason)`.
     */
    constructor({ url, env = {}, backoff = {}, onAccepted, onRejected, onRetry } = {}) {
      if (typeof url !== 'string' || url === '') {
        throw new ConfigError('commit_url', 'must be a URL');
      }
      this.url = url;
      this.env = env;
      this.initialMs = backoff.initialMs || 1000;
      this.maxMs = backoff.maxMs || 30000;
      this.onAccepted = onAccepted || (() => {});
      this.onRejected = onRejected || (() => {});
      this.onRetry = onRetry || (() => {});
      this.entries = [];
      this.lastSequence = 0;
      this.inFlight = false;
      this.retryTimer = null;
      this.waiters = [];
    }

    get pending() {
      return this.entries.length;
    }

    global(name) {
      return this.env[name] !== undefined ? this.env[name] : root[name];
    }

    /** Queues `payload` ({data_model, terminated, values}) under the next sequence number. */
    enqueue(payload) {
      this.lastSequence += 1;
      const body = JSON.stringify({
        data_model: payload.data_model,
        sequence: this.lastSequence,
        terminated: payload.terminated === true,
        values: payload.values,
      });
      this.entries.push({ sequence: this.lastSequence, body, attempts: 0, beaconed: false });
      this.pump();
      return this.lastSequence;
    }

    /** Resolves true once every queued commit is answered, false after `timeoutMs`. */
    settled(timeoutMs) {
      if (this.entries.length === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = { resolve, timer: null };
        if (timeoutMs !== undefined) {
          waiter.timer = this.global('setTimeout')(() => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            resolve(false);
          }, timeoutMs);
        }
        this.waiters.push(waiter);
      });
    }

    /** Sends the next commit now rather than at the end of a back-off wait. */
    retryNow() {
      if (this.retryTimer !== null) {
        this.global('clearTimeout')(this.retryTimer);
        this.retryTimer = null;
      }
      this.pump();
    }

    pump() {
      if (this.inFlight || this.retryTimer !== null) return;
      if (this.entries.length === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const waiter of waiters) {
          if (waiter.timer !== null) this.global('clearTimeout')(waiter.timer);
          waiter.resolve(true);
        }
        return;
      }
      const entry = this.entries[0];
      this.inFlight = true;
      this.send(entry).then((outcome) => {
        this.inFlight = false;
        if (outcome.kind === 'retry') {
          entry.attempts += 1;
          const delay = Math.min(this.maxMs, this.initialMs * 2 ** (entry.attempts - 1));
          this.retryTimer = this.global('setTimeout')(() => {
            this.retryTimer = null;
            this.pump();
          }, delay);
          try {
            this.onRetry(entry.sequence, entry.attempts, delay, outcome.reason);
          } catch (_) {
            // As above: the retry is scheduled whatever the observer does.
          }
          return;
        }
        this.entries.shift();
        try {
          if (outcome.kind === 'rejected') this.onRejected(entry.sequence, outcome.error);
          else this.onAccepted(entry.sequence, outcome.body);
        } catch (_) {
          // An observer's fault must not stop the commits behind this one.
        }
        this.pump();
      });
    }

    async send(entry) {
      let response;
      try {
        response = await this.global('fetch')(this.url, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: entry.body,
        });
      } catch (error) {
        return { kind: 'retry', reason: `network error: ${error && error.message}` };
      }
      let body = null;
      try {
        const text = await response.text();
        body = text === '' ? null : JSON.parse(text);
      } catch (_) {
        body = null;
      }
      if (response.status >= 200 && response.status < 300) {
        if (body && body.accepted === false && body.duplicate !== true) {
          return { kind: 'rejected', error: body };
        }
        return { kind: 'done', body };
      }
      if (response.status >= 500 || RETRY_STATUSES.includes(response.status)) {
        return { kind: 'retry', reason: `status ${response.status}` };
      }
      return {
        kind: 'rejected',
        error: body || { status: response.status, message: `status ${response.status}` },
      };
    }

    /**
     * The page may be going away: hand every commit not yet beaconed to the browser, which
     * delivers beacons after the page is gone. `text/plain` keeps the beacon a simple request;
     * if the beacon is refused (size, quota), a keepalive fetch carries it. The commits stay
     * queued, so if the page lives on they are confirmed as usual (the server answers a
     * duplicate for one that arrived).
     */
    flushWithBeacon() {
      const navigator = this.global('navigator');
      const BlobType = this.global('Blob');
      let handed = 0;
      for (const entry of this.entries) {
        if (entry.beaconed) continue;
        let sent = false;
        try {
          if (navigator && typeof navigator.sendBeacon === 'function' && BlobType) {
            const blob = new BlobType([entry.body], { type: 'text/plain' });
            sent = navigator.sendBeacon(this.url, blob);
          }
        } catch (_) {
          sent = false;
        }
        if (!sent) {
          try {
            const pending = this.global('fetch')(this.url, {
              method: 'POST',
              credentials: 'same-origin',
              keepalive: true,
              headers: { 'Content-Type': 'application/json' },
              body: entry.body,
            });
            if (pending && typeof pending.catch === 'function') pending.catch(() => {});
            sent = true;
          } catch (_) {
            sent = false;
          }
        }
        if (sent) {
          entry.beaconed = true;
          handed += 1;
        }
      }
      return handed;
    }
  }

  const ProficioScorm = {
    Runtime,
    RuntimeError,
    ConfigError,
    ScoSession,
    ApiBridge,
    CommitQueue,
    API_METHODS,
    API_GLOBALS,
    SCORM12,
    SCORM2004,
    SCORM12_ERRORS,
    SCORM2004_ERRORS,
    FAULT_CODES,
    DEFAULT_OPTIONS,
    normalizeOptions,
    parseVersion,
    errorString,
    types: {
      parseReal,
      realIn,
      integerIn,
      chars,
      cmiIdentifier,
      identifier,
      language,
      localized,
      parseCmiTimespan,
      cmiTime,
      formatCmiTimespan,
      parseTimeInterval,
      formatTimeInterval,
      time,
      formatReal,
      checkPattern,
      checkResponse,
      MISMATCH,
      RANGE,
    },
  };

  if (typeof module !== 'undefined' && module.exports) module.exports = ProficioScorm;
  else root.ProficioScorm = ProficioScorm;
})(typeof globalThis !== 'undefined' ? globalThis : this);
