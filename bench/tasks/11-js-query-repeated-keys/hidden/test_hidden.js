'use strict';
const assert = require('assert');
const { parseQuery, stringifyQuery } = require('./query');

assert.deepStrictEqual(parseQuery('tag=js&tag=node&page=2'), { tag: ['js', 'node'], page: '2' });
assert.deepStrictEqual(parseQuery('?x=1&x=2&x=3'), { x: ['1', '2', '3'] });
assert.deepStrictEqual(parseQuery('a=1&b=hello+world'), { a: '1', b: 'hello world' });
assert.deepStrictEqual(parseQuery('flag&q=a%26b'), { flag: '', q: 'a&b' });
assert.deepStrictEqual(parseQuery(''), {});
assert.deepStrictEqual(parseQuery('?'), {});

const params = { tag: ['js', 'node'], q: 'a b', page: '2' };
assert.deepStrictEqual(parseQuery(stringifyQuery(params)), params);
console.log('hidden tests passed');
