'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { fnv1a, bucketFor } = require('../lib/hash');

test('fnv1a matches the reference values', () => {
  assert.strictEqual(fnv1a(''), 0x811c9dc5);
  assert.strictEqual(fnv1a('a'), 0xe40c292c);
  assert.strictEqual(fnv1a('foobar'), 0xbf9cf968);
});

test('buckets are integers from 0 to 99 and stable', () => {
  for (let i = 0; i < 500; i++) {
    const bucket = bucketFor('flag', `user-${i}`);
    assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket <= 99, String(bucket));
    assert.strictEqual(bucketFor('flag', `user-${i}`), bucket);
  }
});
