'use strict';
const assert = require('assert');
const { parseQuery, stringifyQuery } = require('./query');

assert.deepStrictEqual(parseQuery('?a=1&b=hello+world'), { a: '1', b: 'hello world' });
assert.strictEqual(stringifyQuery({ q: 'a&b', n: 2 }), 'q=a%26b&n=2');
assert.deepStrictEqual(parseQuery('tag=js&tag=node'), { tag: ['js', 'node'] });
console.log('visible tests passed');
