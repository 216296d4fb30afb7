'use strict';

const { normalizeContext } = require('./context');
const { evaluateFlag } = require('./evaluate');
const { UnknownFlagError } = require('./errors');
const { validateFlags } = require('./validate');
const { pickVariant } = require('./variants');

class Client {
  constructor(flags, { overrides = {}, onError } = {}) {
    this.flags = validateFlags({ ...flags });
    this.overrides = { ...overrides };
    this.onError = onError || null;
  }

  _flag(key) {
    const flag = this.flags[key];
    if (flag === undefined) {
      const error = new UnknownFlagError(key);
      if (this.onError) {
        this.onError(error);
        return null;
      }
      throw error;
    }
    return flag;
  }

  isEnabled(key, context, now = new Date()) {
    if (Object.prototype.hasOwnProperty.call(this.overrides, key)) return this.overrides[key];
    const flag = this._flag(key);
    if (flag === null) return false;
    return evaluateFlag(key, flag, normalizeContext(context), now);
  }

  variant(key, context, now = new Date()) {
    const flag = this._flag(key);
    if (flag === null || !flag.variants || !this.isEnabled(key, context, now)) return null;
    const ctx = normalizeContext(context);
    if (ctx.userId == null) return flag.variants[0].name;
    return pickVariant(flag.variants, key, ctx.userId);
  }

  enabledFlags(context, now = new Date()) {
    return Object.keys(this.flags).filter((key) => this.isEnabled(key, context, now)).sort();
  }
}

module.exports = { Client };
