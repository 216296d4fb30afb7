'use strict';

/** Minimal synchronous event emitter. */
class Emitter {
  constructor() {
    this.listeners = new Map();
  }

  on(event, fn) {
    if (!this.listeners.has(event)) {
      this.listeners.set(event, []);
    }
    this.listeners.get(event).push(fn);
    return this;
  }

  off(event, fn) {
    const list = this.listeners.get(event);
    if (!list) return this;
    const index = list.findIndex((l) => l === fn || l.original === fn);
    if (index !== -1) list.splice(index, 1);
    return this;
  }

  once(event, fn) {
    const wrapper = (...args) => {
      this.off(event, wrapper);
      fn(...args);
    };
    wrapper.original = fn;
    return this.on(event, wrapper);
  }

  /** Call every listener of `event`; returns true if there were any. */
  emit(event, ...args) {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const fn of list) {
      fn(...args);
    }
    return true;
  }

  listenerCount(event) {
    const list = this.listeners.get(event);
    return list ? list.length : 0;
  }
}

module.exports = { Emitter };
