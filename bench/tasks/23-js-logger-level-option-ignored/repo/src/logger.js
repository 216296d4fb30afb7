'use strict';

const { LEVELS, levelValue } = require('./levels');
const { redact } = require('./redact');
const { now } = require('./time');

class Logger {
  constructor(options) {
    this.options = options;
    this.threshold = levelValue(options.level);
  }

  get level() {
    return this.options.level;
  }

  setLevel(level) {
    this.threshold = levelValue(level);
    this.options = { ...this.options, level: String(level).toLowerCase() };
  }

  isLevelEnabled(level) {
    return levelValue(level) >= this.threshold;
  }

  child(fields = {}) {
    return new Logger({ ...this.options, fields: { ...this.options.fields, ...fields } });
  }

  log(level, msg, fields = {}) {
    if (!this.isLevelEnabled(level)) return false;
    const record = {};
    if (this.options.timestamp) record.time = now();
    record.level = level;
    if (this.options.name) record.name = this.options.name;
    record.msg = msg instanceof Error ? msg.message : String(msg);
    Object.assign(record, redact({ ...this.options.fields, ...fields }, this.options.redact));
    if (msg instanceof Error && !('err' in record)) record.err = msg;
    this.options.transport.write(this.options.formatter(record));
    return true;
  }
}

for (const level of Object.keys(LEVELS)) {
  Logger.prototype[level] = function log(msg, fields) {
    return this.log(level, msg, fields);
  };
}

module.exports = { Logger };
