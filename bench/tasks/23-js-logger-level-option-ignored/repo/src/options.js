'use strict';

const { levelValue } = require('./levels');
const { getFormatter } = require('./formatters');
const { streamTransport } = require('./transports');

const DEFAULTS = Object.freeze({ level: 'info', name: '', format: 'json', redact: [], timestamp: true });

/** Fills in defaults and checks the options given to createLogger(). */
function normalizeOptions(options = {}) {
  const level = String(options.logLevel || process.env.LOG_LEVEL || DEFAULTS.level).toLowerCase();
  levelValue(level); // throws on unknown levels
  const format = options.format || DEFAULTS.format;
  return {
    level,
    name: options.name || DEFAULTS.name,
    format,
    formatter: getFormatter(format),
    redact: Array.isArray(options.redact) ? options.redact.slice() : DEFAULTS.redact.slice(),
    timestamp: options.timestamp !== undefined ? Boolean(options.timestamp) : DEFAULTS.timestamp,
    transport: options.transport || streamTransport(process.stdout),
    fields: { ...(options.fields || {}) },
  };
}

module.exports = { DEFAULTS, normalizeOptions };
