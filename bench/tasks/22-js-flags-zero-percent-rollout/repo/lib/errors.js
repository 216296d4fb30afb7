'use strict';

class FlagError extends Error {
  constructor(message) {
    super(message);
    this.name = 'FlagError';
  }
}

class UnknownFlagError extends FlagError {
  constructor(key) {
    super(`unknown flag "${key}"`);
    this.name = 'UnknownFlagError';
    this.flag = key;
  }
}

class InvalidFlagError extends FlagError {
  constructor(key, reason) {
    super(`flag "${key}": ${reason}`);
    this.name = 'InvalidFlagError';
    this.flag = key;
  }
}

module.exports = { FlagError, UnknownFlagError, InvalidFlagError };
