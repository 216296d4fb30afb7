'use strict';

const { Logger } = require('./logger');
const { normalizeOptions } = require('./options');
const { LEVELS } = require('./levels');
const { memoryTransport, streamTransport } = require('./transports');

function createLogger(options = {}) {
  return new Logger(normalizeOptions(options));
}

module.exports = { createLogger, Logger, LEVELS, memoryTransport, streamTransport };
