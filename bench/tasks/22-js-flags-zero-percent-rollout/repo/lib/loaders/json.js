'use strict';

const fs = require('fs');
const { FlagError } = require('../errors');

/** Reads `{ "flags": { ... } }` (or just the flags object) from a JSON file. */
function loadJsonFile(path) {
  let data;
  try {
    data = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FlagError(`cannot read flags from ${path}: ${err.message}`);
  }
  return data && typeof data.flags === 'object' ? data.flags : data;
}

module.exports = { loadJsonFile };
