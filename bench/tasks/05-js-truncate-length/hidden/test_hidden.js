'use strict';
const assert = require('assert');
const { truncate, fitColumn } = require('./text');

assert.strictEqual(truncate('Hello world', 8), 'Hello w\u2026');
assert.strictEqual(truncate('Hello world', 8, '...'), 'Hello...');
assert.strictEqual(truncate('Hello world', 11), 'Hello world');
assert.strictEqual(truncate('Hello world', 10).length, 10);
for (let n = 4; n < 11; n++) {
  assert.ok(truncate('Hello world', n, '...').length <= n, `length for ${n}`);
}
assert.strictEqual(fitColumn('A very long product name', 10).length, 10);
console.log('hidden tests passed');
