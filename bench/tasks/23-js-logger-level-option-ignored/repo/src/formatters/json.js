'use strict';

function serializeError(error) {
  return { type: error.name, message: error.message, stack: error.stack };
}

function formatJson(record) {
  return JSON.stringify(record, (key, value) => (value instanceof Error ? serializeError(value) : value));
}

module.exports = { formatJson };
