'use strict';

const LEVELS = Object.freeze({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 });

function levelValue(name) {
  const key = String(name).toLowerCase();
  if (!Object.prototype.hasOwnProperty.call(LEVELS, key)) {
    throw new Error(`unknown log level "${name}" (use one of: ${Object.keys(LEVELS).join(', ')})`);
  }
  return LEVELS[key];
}

module.exports = { LEVELS, levelValue };
