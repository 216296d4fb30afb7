'use strict';

const { Emitter } = require('./emitter');

/** A tiny observable key/value store. */
class Store {
  constructor(initial = {}) {
    this.state = { ...initial };
    this.events = new Emitter();
  }

  get(key) {
    return this.state[key];
  }

  set(key, value) {
    const old = this.state[key];
    if (old === value) return;
    this.state[key] = value;
    this.events.emit('change', key, value, old);
  }

  /** Call `fn(key, value, old)` on every change; returns an unsubscribe function. */
  subscribe(fn) {
    this.events.on('change', fn);
    return () => this.events.off('change', fn);
  }

  /** Call `fn(key, value, old)` on the next change only. */
  nextChange(fn) {
    this.events.once('change', fn);
  }
}

module.exports = { Store };
