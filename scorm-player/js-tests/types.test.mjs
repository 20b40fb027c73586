// The value types of both data models (types.rs, interaction.rs): one check per table row.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Scorm from '../assets/api.js';

const t = Scorm.types;
const { MISMATCH, RANGE } = t;

test('CMITimespan: 2-4 hour digits, minutes and seconds below 60, two decimals', () => {
  const rows = [
    ['00:00:00', 0],
    ['0001:02:03.4', 372340],
    ['9999:59:59.99', 9999 * 360000 + 359999],
    ['12:00:00.05', 12 * 360000 + 5],
    ['0:00:00', null],
    ['00000:00:00', null],
    ['00:60:00', null],
    ['00:00:60', null],
    ['00:00:00.123', null],
    ['00:00', null],
    ['aa:bb:cc', null],
    ['00:00:00.', null],
    ['00:0:00', null],
    ['+0:00:00', null],
    ['', null],
  ];
  for (const [value, want] of rows) assert.equal(t.parseCmiTimespan(value), want, value);
  assert.equal(t.formatCmiTimespan(372340), '0001:02:03.40');
  assert.equal(t.formatCmiTimespan(0), '0000:00:00.00');
  assert.equal(t.formatCmiTimespan(10000 * 360000), '9999:59:59.99', 'saturates at 9999 hours');
});

test('CMITime: a time of day', () => {
  const rows = [
    ['12:30:00', null],
    ['23:59:59.99', null],
    ['00:00:00.5', null],
    ['24:00:00', RANGE],
    ['12:60:00', RANGE],
    ['12:30', MISMATCH],
    ['1:30:00', MISMATCH],
    ['12:30:00.123', MISMATCH],
    ['ab:cd:ef', MISMATCH],
  ];
  for (const [value, want] of rows) assert.equal(t.cmiTime(value), want, value);
});

test('timeinterval: ISO 8601 durations without weeks', () => {
  const rows = [
    ['PT1H5M3.25S', 360000 + 30000 + 325],
    ['P1D', 8640000],
    ['PT75M', 450000],
    ['P0Y0M0DT0H0M0S', 0],
    ['P1Y', 365 * 8640000],
    ['P1M', 30 * 8640000],
    ['PT0.5S', 50],
    ['PT1.999S', 199],
  ];
  for (const [value, want] of rows) assert.equal(t.parseTimeInterval(value), want, value);
  for (const bad of [
    '', 'P', 'PT', 'P1W', 'PT1.5M', 'P1H', 'PT1D', '1H', 'PT-1S', 'PT1S2M', 'P1Y1Y', 'PTS',
    'PT1.S', 'PT.5S', 'pt1s', 'P1DT', 'PT1HT1M', 'P1.5D',
  ]) {
    assert.equal(t.parseTimeInterval(bad), null, bad);
  }
  assert.equal(t.formatTimeInterval(360000 + 30000 + 325), 'PT1H5M3.25S');
  assert.equal(t.formatTimeInterval(0), 'PT0H0M0S');
  assert.equal(t.formatTimeInterval(360050), 'PT1H0M0.50S');
  assert.equal(t.formatTimeInterval(100 * 360000), 'PT100H0M0S');
});

test('time(second,10,0): dates, times, zones and their ranges', () => {
  for (const good of [
    '2005',
    '2005-10',
    '2005-10-11',
    '2005-10-11T10',
    '2005-10-11T10:11',
    '2005-10-11T10:11:12',
    '2005-10-11T10:11:12.5',
    '2005-10-11T10:11:12.123Z',
    '2005-10-11T10:11:12+05:30',
    '2005-10-11T10-05',
    '2004-02-29',
    '2000-02-29',
    '1970-01-01T00:00:00Z',
    '2038-12-31',
  ]) {
    assert.equal(t.time(good, false), null, good);
  }
  assert.equal(t.time('2005-10-11T10:11:12.123Z', true), MISMATCH, 'strict: at most two decimals');
  assert.equal(t.time('2005-10-11T10:11:12.12Z', true), null);
  for (const [bad, want] of [
    ['1969-01-01', RANGE],
    ['2039', RANGE],
    ['2005-13', RANGE],
    ['2005-02-29', RANGE],
    ['1900-02-29', RANGE],
    ['2005-04-31', RANGE],
    ['2005-10-11T24', RANGE],
    ['2005-10-11T10:60', RANGE],
    ['2005-10-11T10:11:12+24:00', RANGE],
    ['05-10-11', MISMATCH],
    ['2005/10/11', MISMATCH],
    ['2005-10-11Z', MISMATCH],
    ['2005-10-11T10:11:12.', MISMATCH],
    ['2005-10-11T10:11:12+5', MISMATCH],
    ['2005-10-11T10:11:12 ', MISMATCH],
    ['', MISMATCH],
  ]) {
    assert.equal(t.time(bad, false), want, bad);
  }
});

test('identifiers: URIs, RFC 2141 URNs, and white space only outside strict mode', () => {
  assert.equal(t.identifier('urn:ADL:interaction-id-0001', true), null);
  assert.equal(t.identifier('URN:isbn:0451450523', true), null);
  assert.equal(t.identifier('Question_1', true), null);
  assert.equal(t.identifier('abc\u00e9d', true), null);
  for (const bad of ['urn:', 'urn:x', 'urn:bad nid:x', 'urn:urn:x', 'urn:-x:y', 'urn:x:a b', '']) {
    assert.equal(t.identifier(bad, false), MISMATCH, bad);
  }
  assert.equal(t.identifier(`urn:${'a'.repeat(33)}:x`, false), MISMATCH, 'NID of at most 32');
  assert.equal(t.identifier('has space', false), null);
  assert.equal(t.identifier('has space', true), MISMATCH);
  assert.equal(t.identifier('line\nbreak', false), MISMATCH);
  assert.equal(t.cmiIdentifier('obj_1'), null);
  assert.equal(t.cmiIdentifier('obj 1'), MISMATCH);
  assert.equal(t.cmiIdentifier('x'.repeat(256)), MISMATCH);
  assert.equal(t.cmiIdentifier('\u00a0'), MISMATCH, 'no-break space is white space');
});

test('languages and localized strings', () => {
  for (const good of ['en', 'en-US', 'i-klingon', 'x-private', 'deu', 'zh-Hant-TW']) {
    assert.equal(t.language(good, false), null, good);
  }
  for (const bad of ['english', 'e', 'en-', 'en-toolongtag', 'e1', '']) {
    assert.equal(t.language(bad, false), MISMATCH, bad);
  }
  assert.equal(t.language('', true), null);
  assert.deepEqual(t.localized('{lang=fr}Bonjour'), { fault: null, lang: 'fr', text: 'Bonjour' });
  assert.equal(t.localized('{lang=}x').fault, MISMATCH);
  assert.equal(t.localized('{lang=en').fault, MISMATCH);
  assert.deepEqual(t.localized('{other}x'), { fault: null, lang: null, text: '{other}x' });
});

test('numbers: decimals without exponent, integers in range', () => {
  for (const [value, want] of [
    ['.5', 0.5],
    ['5.', 5],
    ['-0.25', -0.25],
    ['007', 7],
    ['1e5', null],
    ['-', null],
    ['.', null],
    ['+1', null],
    [' 1', null],
    ['1 ', null],
    ['0x10', null],
    ['Infinity', null],
    ['1'.repeat(400), null],
    ['', null],
  ]) {
    assert.equal(t.parseReal(value), want, value);
  }
  assert.equal(t.realIn('1.5', 0, 1), RANGE);
  assert.equal(t.realIn('x', 0, 1), MISMATCH);
  assert.equal(t.realIn('-1', null, null), null);
  assert.equal(t.integerIn('-1', -1, 100), null);
  assert.equal(t.integerIn('101', -1, 100), RANGE);
  assert.equal(t.integerIn('1.5', -1, 100), MISMATCH);
  assert.equal(t.integerIn('9'.repeat(19), -1, 100), MISMATCH, 'more than 18 digits');
});

test('reals the LMS supplies are written as Rust writes an f64', () => {
  for (const [value, want] of [
    [80, '80'],
    [0.75, '0.75'],
    [1e-7, '0.0000001'],
    [-0.5, '-0.5'],
    [1e21, '1000000000000000000000'],
    [1.5e-10, '0.00000000015'],
    [123456789.125, '123456789.125'],
    [-0, '-0'],
  ]) {
    assert.equal(t.formatReal(value), want, String(value));
  }
});

test('interaction patterns by type (RTE §4.2.9.1)', () => {
  const good = [
    ['true-false', 'true'],
    ['choice', 'a[,]b[,]c'],
    ['choice', ''],
    ['sequencing', 'a[,]b[,]a'],
    ['likert', 'agree'],
    ['matching', 'a[.]1[,]b[.]2'],
    ['fill-in', '{case_matters=true}{order_matters=false}{lang=en}one[,]two'],
    ['long-fill-in', '{case_matters=false}{lang=de}Ein langer Text'],
    ['performance', '{order_matters=true}step1[.]answer[,][.]42[,]s3[.]1[:]5'],
    ['numeric', '1.5[:]3'],
    ['numeric', '[:]3'],
    ['numeric', '7'],
    ['other', 'anything at all'],
  ];
  for (const [kind, value] of good) assert.equal(t.checkPattern(kind, value, true), null, `${kind} ${value}`);
  const bad = [
    ['true-false', 'yes'],
    ['choice', 'a[,]a'],
    ['choice', 'a[,]'],
    ['matching', 'a[.]'],
    ['matching', 'a'],
    ['fill-in', '{case_matters=maybe}x'],
    ['fill-in', '{case_matters=true}{case_matters=true}x'],
    ['fill-in', '{lang=toolonglanguage}x'],
    ['numeric', '3[:]1'],
    ['numeric', 'x'],
    ['numeric', ''],
    ['performance', '[.]'],
    ['unknown', 'x'],
  ];
  for (const [kind, value] of bad) assert.equal(t.checkPattern(kind, value, true), MISMATCH, `${kind} ${value}`);
});

test('bare delimiters count only outside strict mode and without bracketed ones', () => {
  assert.equal(t.checkResponse('matching', 'a.1,b.2', false), null);
  assert.equal(t.checkResponse('matching', 'a.1,b.2', true), MISMATCH);
  assert.equal(t.checkResponse('choice', 'a,b', false), null);
  assert.equal(t.checkResponse('choice', 'a,b', true), null, 'one id "a,b" is still a URI');
  assert.equal(t.checkResponse('numeric', '3.25', true), null);
  assert.equal(t.checkResponse('numeric', '1[:]2', true), MISMATCH);
  assert.equal(t.checkResponse('performance', 's1.answer', false), null);
  assert.equal(t.checkResponse('performance', 's1.answer', true), MISMATCH);
});

test('character counts are Unicode scalar values, as in Rust', () => {
  assert.equal(t.chars('abc'), 3);
  assert.equal(t.chars('\u{1F600}x'), 2);
  assert.equal(t.chars(''), 0);
});
