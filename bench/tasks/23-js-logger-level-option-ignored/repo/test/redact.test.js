'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { redact } = require('../src/redact');
const { createLogger, memoryTransport } = require('../src');

test('redacts nested keys case-insensitively', () => {
  const out = redact({ user: { name: 'ann', Password: 'x' }, list: [{ token: 't' }] }, ['password', 'token']);
  assert.deepStrictEqual(out, { user: { name: 'ann', Password: '[redacted]' }, list: [{ token: '[redacted]' }] });
});

test('logger applies redact option', () => {
  const transport = memoryTransport();
  const log = createLogger({ transport, timestamp: false, redact: ['password'] });
  log.info('login', { user: 'ann', password: 'hunter2' });
  assert.deepStrictEqual(transport.records()[0], { level: 'info', msg: 'login', user: 'ann', password: '[redacted]' });
});
