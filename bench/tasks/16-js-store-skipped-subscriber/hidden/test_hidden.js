'use strict';
const assert = require('assert');
const { Store } = require('./store');
const { Emitter } = require('./emitter');

// nextChange registered before a subscriber
{
  const store = new Store({ count: 0 });
  const seen = [];
  store.nextChange((key) => seen.push('once:' + key));
  store.subscribe((key, value) => seen.push(`sub:${key}=${value}`));
  store.set('count', 1);
  store.set('count', 2);
  assert.deepStrictEqual(seen, ['once:count', 'sub:count=1', 'sub:count=2']);
}

// several nextChange callbacks in a row, then subscribers
{
  const store = new Store();
  const seen = [];
  store.nextChange(() => seen.push('a'));
  store.nextChange(() => seen.push('b'));
  store.subscribe(() => seen.push('c'));
  store.subscribe(() => seen.push('d'));
  store.set('x', 1);
  assert.deepStrictEqual(seen, ['a', 'b', 'c', 'd']);
  store.set('x', 2);
  assert.deepStrictEqual(seen, ['a', 'b', 'c', 'd', 'c', 'd']);
}

// subscriber unsubscribing itself from inside its callback
{
  const store = new Store();
  const seen = [];
  const unsub = store.subscribe(() => { seen.push('first'); unsub(); });
  store.subscribe(() => seen.push('second'));
  store.set('x', 1);
  assert.deepStrictEqual(seen, ['first', 'second']);
  store.set('x', 2);
  assert.deepStrictEqual(seen, ['first', 'second', 'second']);
}

// plain emitter with once
{
  const em = new Emitter();
  const calls = [];
  em.once('e', () => calls.push(1));
  em.on('e', () => calls.push(2));
  assert.strictEqual(em.emit('e'), true);
  assert.deepStrictEqual(calls, [1, 2]);
  assert.strictEqual(em.listenerCount('e'), 1);
}
console.log('hidden tests passed');
