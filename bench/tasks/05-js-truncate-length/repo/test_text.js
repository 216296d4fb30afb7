'use strict';
const assert = require('assert');
const { truncate, squish, fitColumn } = require('./text');

assert.strictEqual(truncate('short', 10), 'short');
assert.strictEqual(truncate('exactly10!', 10), 'exactly10!');
assert.strictEqual(squish('  a \n b\t\tc '), 'a b c');
assert.strictEqual(fitColumn('ab', 4), 'ab  ');
console.log('visible tests passed');
