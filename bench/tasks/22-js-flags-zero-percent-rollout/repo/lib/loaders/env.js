'use strict';

const ON = new Set(['on', 'true', '1', 'yes']);
const OFF = new Set(['off', 'false', '0', 'no']);

/** FLAGPOLE_OVERRIDES="a=on,b=off" -> { a: true, b: false }. Unknown values are ignored. */
function overridesFromEnv(env) {
  const overrides = {};
  const text = (env && env.FLAGPOLE_OVERRIDES) || '';
  for (const part of text.split(',')) {
    const [key, value = ''] = part.split('=').map((s) => s.trim());
    if (!key) continue;
    const lower = value.toLowerCase();
    if (ON.has(lower)) overrides[key] = true;
    else if (OFF.has(lower)) overrides[key] = false;
  }
  return overrides;
}

module.exports = { overridesFromEnv };
