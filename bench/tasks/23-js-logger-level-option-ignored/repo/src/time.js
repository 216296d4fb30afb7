'use strict';

let clock = () => new Date();

function now() {
  return clock().toISOString();
}

/** For tests: freeze the clock at a given date (or restore it with no argument). */
function setClock(date) {
  clock = date ? () => new Date(date) : () => new Date();
}

module.exports = { now, setClock };
