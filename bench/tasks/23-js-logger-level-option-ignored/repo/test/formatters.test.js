'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { formatPretty } = require('../src/formatters/pretty');
const { formatJson } = require('../src/formatters/json');

test('pretty format', () => {
  assert.strictEqual(
    formatPretty({ time: '2024-05-01T12:00:00.000Z', level: 'info', name: 'api', msg: 'started', port: 8080 }),
    '2024-05-01T12:00:00.000Z INFO  [api] started port=8080',
  );
  assert.strictEqual(formatPretty({ level: 'error', msg: 'x', tags: ['a'] }), 'ERROR x tags=["a"]');
});

test('json format serialises errors', () => {
  const line = formatJson({ level: 'error', msg: 'x', err: new TypeError('bad') });
  assert.deepStrictEqual(JSON.parse(line).err.type, 'TypeError');
});
