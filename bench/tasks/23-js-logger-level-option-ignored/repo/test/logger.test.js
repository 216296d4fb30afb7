'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { createLogger, memoryTransport } = require('../src');
const { setClock } = require('../src/time');

function make(options = {}) {
  const transport = memoryTransport();
  return { log: createLogger({ transport, timestamp: false, ...options }), transport };
}

test('defaults to info', () => {
  const saved = process.env.LOG_LEVEL;
  delete process.env.LOG_LEVEL;
  try {
    const { log, transport } = make();
    assert.strictEqual(log.level, 'info');
    log.debug('hidden');
    log.info('shown', { user: 'ann' });
    assert.deepStrictEqual(transport.records(), [{ level: 'info', msg: 'shown', user: 'ann' }]);
  } finally {
    if (saved !== undefined) process.env.LOG_LEVEL = saved;
  }
});

test('LOG_LEVEL environment variable', () => {
  const saved = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'ERROR';
  try {
    const { log, transport } = make();
    log.warn('hidden');
    log.error('shown');
    assert.deepStrictEqual(transport.records().map((r) => r.msg), ['shown']);
  } finally {
    if (saved === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = saved;
  }
});

test('setLevel', () => {
  const { log, transport } = make();
  log.setLevel('debug');
  assert.ok(log.isLevelEnabled('debug'));
  log.debug('now shown');
  log.setLevel('fatal');
  log.error('hidden');
  assert.deepStrictEqual(transport.records().map((r) => r.msg), ['now shown']);
  assert.throws(() => log.setLevel('loud'), /unknown log level/);
});

test('child loggers add fields and share the transport', () => {
  const { log, transport } = make({ name: 'api' });
  const child = log.child({ requestId: 'r-1' });
  child.warn('slow', { ms: 812 });
  assert.deepStrictEqual(transport.records(), [{ level: 'warn', name: 'api', msg: 'slow', requestId: 'r-1', ms: 812 }]);
});

test('errors and timestamps', () => {
  setClock('2024-05-01T12:00:00Z');
  try {
    const { log, transport } = make({ timestamp: true });
    log.error(new Error('boom'));
    const [record] = transport.records();
    assert.strictEqual(record.time, '2024-05-01T12:00:00.000Z');
    assert.strictEqual(record.msg, 'boom');
    assert.strictEqual(record.err.type, 'Error');
  } finally {
    setClock();
  }
});

test('unknown formats are rejected', () => {
  assert.throws(() => createLogger({ format: 'xml' }), /unknown format/);
});
