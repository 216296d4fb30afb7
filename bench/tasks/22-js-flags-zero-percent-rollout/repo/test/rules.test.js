'use strict';
const test = require('node:test');
const assert = require('node:assert');
const allowlist = require('../lib/rules/allowlist');
const segment = require('../lib/rules/segment');
const schedule = require('../lib/rules/schedule');
const percentage = require('../lib/rules/percentage');

const ctx = (userId, attributes = {}) => ({ userId, attributes });

test('allowlist', () => {
  assert.ok(allowlist.matches({ users: ['alice', 42] }, ctx('42')));
  assert.ok(!allowlist.matches({ users: ['alice'] }, ctx(null)));
});

test('segment in / notIn', () => {
  const rule = { attribute: 'country', in: ['DE', 'AT'] };
  assert.ok(segment.matches(rule, ctx('u', { country: 'AT' })));
  assert.ok(!segment.matches(rule, ctx('u', { country: 'FR' })));
  assert.ok(!segment.matches(rule, ctx('u')));
  assert.ok(segment.matches({ attribute: 'plan', notIn: ['free'] }, ctx('u', { plan: 'pro' })));
});

test('schedule window is half-open', () => {
  const rule = { from: '2024-05-01T00:00:00Z', until: '2024-06-01T00:00:00Z' };
  assert.ok(schedule.matches(rule, ctx('u'), 'f', new Date('2024-05-01T00:00:00Z')));
  assert.ok(!schedule.matches(rule, ctx('u'), 'f', new Date('2024-06-01T00:00:00Z')));
  assert.ok(!schedule.matches(rule, ctx('u'), 'f', new Date('2024-04-30T23:59:59Z')));
});

test('percentage validation', () => {
  assert.strictEqual(percentage.validate({ percentage: 0 }), null);
  assert.strictEqual(percentage.validate({ percentage: 100 }), null);
  assert.ok(percentage.validate({ percentage: 101 }));
  assert.ok(percentage.validate({ percentage: '50' }));
});

test('percentage rollout: everybody at 100, nobody without a user id', () => {
  for (let i = 0; i < 300; i++) {
    assert.ok(percentage.matches({ percentage: 100 }, ctx(`user-${i}`), 'flag'));
  }
  assert.ok(!percentage.matches({ percentage: 100 }, ctx(null), 'flag'));
});

test('percentage rollout is roughly the requested share', () => {
  let on = 0;
  for (let i = 0; i < 4000; i++) {
    if (percentage.matches({ percentage: 30 }, ctx(`user-${i}`), 'search-v2')) on++;
  }
  assert.ok(on > 4000 * 0.25 && on < 4000 * 0.35, String(on));
});
