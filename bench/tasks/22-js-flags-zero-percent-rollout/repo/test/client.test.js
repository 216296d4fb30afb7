'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { createClient, UnknownFlagError, InvalidFlagError } = require('../lib');

const flags = {
  'new-checkout': {
    enabled: true,
    rules: [
      { type: 'allowlist', users: ['alice'] },
      { type: 'segment', attribute: 'country', in: ['DE'] },
    ],
  },
  'dark-mode': { enabled: true },
  'old-search': { enabled: false },
  'button-color': { enabled: true, variants: [{ name: 'blue', weight: 20 }, { name: 'green', weight: 80 }] },
};

test('rules are ORed', () => {
  const client = createClient({ flags, overrides: {} });
  assert.ok(client.isEnabled('new-checkout', { userId: 'alice', country: 'FR' }));
  assert.ok(client.isEnabled('new-checkout', { user: { id: 'zoe', country: 'DE' } }));
  assert.ok(!client.isEnabled('new-checkout', { userId: 'zoe', country: 'FR' }));
});

test('flags without rules are on; disabled flags are off', () => {
  const client = createClient({ flags, overrides: {} });
  assert.ok(client.isEnabled('dark-mode', 'anyone'));
  assert.ok(!client.isEnabled('old-search', 'anyone'));
  assert.deepStrictEqual(client.enabledFlags({ userId: 'alice' }), ['button-color', 'dark-mode', 'new-checkout']);
});

test('overrides win', () => {
  const client = createClient({ flags, overrides: { 'old-search': true } });
  assert.ok(client.isEnabled('old-search', 'x'));
});

test('unknown flags throw unless onError is given', () => {
  assert.throws(() => createClient({ flags, overrides: {} }).isEnabled('nope', 'x'), UnknownFlagError);
  const seen = [];
  const client = createClient({ flags, overrides: {}, onError: (e) => seen.push(e.flag) });
  assert.strictEqual(client.isEnabled('nope', 'x'), false);
  assert.deepStrictEqual(seen, ['nope']);
});

test('invalid definitions are rejected up front', () => {
  assert.throws(() => createClient({ flags: { x: { rules: [{ type: 'magic' }] } } }), InvalidFlagError);
  assert.throws(() => createClient({ flags: { x: { rules: [{ type: 'percentage', percentage: 150 }] } } }),
    /percentage must be a number/);
});

test('variants are split by weight and stable', () => {
  const client = createClient({ flags, overrides: {} });
  const counts = { blue: 0, green: 0 };
  for (let i = 0; i < 2000; i++) counts[client.variant('button-color', `user-${i}`)]++;
  assert.ok(counts.blue > 300 && counts.blue < 500, JSON.stringify(counts));
  assert.strictEqual(client.variant('button-color', 'user-7'), client.variant('button-color', 'user-7'));
  assert.strictEqual(client.variant('dark-mode', 'user-7'), null);
});
