'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { createLogger, memoryTransport } = require('../src');

function withEnv(value, fn) {
  const saved = process.env.LOG_LEVEL;
  if (value === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = saved;
  }
}

function messages(options) {
  const transport = memoryTransport();
  const log = createLogger({ transport, timestamp: false, ...options });
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) log[level](level);
  return { log, msgs: transport.records().map((r) => r.msg) };
}

test('issue example: level "warn" drops info and debug', () => withEnv(undefined, () => {
  const { log, msgs } = messages({ name: 'api', level: 'warn' });
  assert.strictEqual(log.level, 'warn');
  assert.deepStrictEqual(msgs, ['warn', 'error', 'fatal']);
}));

test('level "debug" shows debug messages', () => withEnv(undefined, () => {
  assert.deepStrictEqual(messages({ level: 'debug' }).msgs, ['debug', 'info', 'warn', 'error', 'fatal']);
  assert.deepStrictEqual(messages({ level: 'trace' }).msgs, ['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
}));

test('level names are case-insensitive and unknown ones are rejected', () => withEnv(undefined, () => {
  assert.deepStrictEqual(messages({ level: 'ERROR' }).msgs, ['error', 'fatal']);
  assert.throws(() => createLogger({ level: 'verbose', transport: memoryTransport() }), /unknown log level/);
}));

test('the option wins over LOG_LEVEL, which is still the fallback', () => {
  withEnv('debug', () => {
    assert.deepStrictEqual(messages({ level: 'error' }).msgs, ['error', 'fatal']);
    assert.deepStrictEqual(messages({}).msgs, ['debug', 'info', 'warn', 'error', 'fatal']);
  });
  withEnv(undefined, () => {
    assert.deepStrictEqual(messages({}).msgs, ['info', 'warn', 'error', 'fatal']);
  });
});

test('child loggers inherit the level', () => withEnv(undefined, () => {
  const transport = memoryTransport();
  const child = createLogger({ transport, timestamp: false, level: 'warn' }).child({ requestId: 'r-9' });
  child.info('hidden');
  child.warn('shown');
  assert.deepStrictEqual(transport.records(), [{ level: 'warn', msg: 'shown', requestId: 'r-9' }]);
}));
