'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { createClient, bucketFor } = require('../lib');

function client(percentage, seed) {
  const rule = { type: 'percentage', percentage };
  if (seed) rule.seed = seed;
  return createClient({ flags: { 'new-checkout': { enabled: true, rules: [rule] } }, overrides: {} });
}

test('issue example: 0% rollout is off for u-1069', () => {
  assert.strictEqual(bucketFor('new-checkout', 'u-1069'), 0);
  assert.strictEqual(client(0).isEnabled('new-checkout', { userId: 'u-1069' }), false);
  assert.strictEqual(client(1).isEnabled('new-checkout', { userId: 'u-1069' }), true);
});

test('0% rollout is off for everybody', () => {
  const flags = client(0);
  for (let i = 0; i < 3000; i++) {
    assert.strictEqual(flags.isEnabled('new-checkout', { userId: `user-${i}` }), false, `user-${i}`);
  }
});

test('100% rollout is on for everybody', () => {
  const flags = client(100);
  for (let i = 0; i < 3000; i++) {
    assert.strictEqual(flags.isEnabled('new-checkout', `user-${i}`), true, `user-${i}`);
  }
});

test('p% rollout covers exactly the buckets 0 .. p-1', () => {
  for (const p of [1, 10, 25, 50, 99]) {
    const flags = client(p);
    let on = 0;
    for (let i = 0; i < 2000; i++) {
      const expected = bucketFor('new-checkout', `user-${i}`) < p;
      assert.strictEqual(flags.isEnabled('new-checkout', `user-${i}`), expected, `p=${p} user-${i}`);
      if (expected) on++;
    }
    assert.ok(on > 0);
  }
});

test('a seed shares buckets between flags', () => {
  const flags = client(10, 'checkout-wave-1');
  for (let i = 0; i < 1000; i++) {
    const expected = bucketFor('checkout-wave-1', `user-${i}`) < 10;
    assert.strictEqual(flags.isEnabled('new-checkout', `user-${i}`), expected, `user-${i}`);
  }
});
