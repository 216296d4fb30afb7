'use strict';

const { formatJson } = require('./json');
const { formatPretty } = require('./pretty');

const FORMATTERS = { json: formatJson, pretty: formatPretty };

function getFormatter(name) {
  const formatter = FORMATTERS[name];
  if (!formatter) throw new Error(`unknown format "${name}" (use "json" or "pretty")`);
  return formatter;
}

module.exports = { FORMATTERS, getFormatter };
