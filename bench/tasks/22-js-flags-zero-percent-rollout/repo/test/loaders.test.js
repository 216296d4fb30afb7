'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { loadJsonFile, overridesFromEnv, FlagError } = require('../lib');

test('overrides from the environment', () => {
  assert.deepStrictEqual(overridesFromEnv({ FLAGPOLE_OVERRIDES: 'a=on, b=OFF,c=maybe,,d=1' }), { a: true, b: false, d: true });
  assert.deepStrictEqual(overridesFromEnv({}), {});
});

test('flags from a JSON file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flagpole-'));
  const file = path.join(dir, 'flags.json');
  fs.writeFileSync(file, JSON.stringify({ flags: { a: { enabled: true } } }));
  assert.deepStrictEqual(loadJsonFile(file), { a: { enabled: true } });
  fs.writeFileSync(file, '{ nope');
  assert.throws(() => loadJsonFile(file), FlagError);
  fs.rmSync(dir, { recursive: true });
});
