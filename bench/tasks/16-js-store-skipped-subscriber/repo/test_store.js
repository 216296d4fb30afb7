'use strict';
const assert = require('assert');
const { Store } = require('./store');

const store = new Store({ count: 0 });
const seen = [];
const unsubscribe = store.subscribe((key, value, old) => seen.push([key, value, old]));
store.set('count', 1);
store.set('count', 1); // unchanged: no event
unsubscribe();
store.set('count', 2);
assert.deepStrictEqual(seen, [['count', 1, 0]]);
assert.strictEqual(store.get('count'), 2);

const onceSeen = [];
store.nextChange((key, value) => onceSeen.push(value));
store.set('count', 3);
store.set('count', 4);
assert.deepStrictEqual(onceSeen, [3]);
console.log('visible tests passed');
