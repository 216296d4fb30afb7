'use strict';

/** Keeps lines in memory; handy in tests. */
function memoryTransport() {
  const lines = [];
  return {
    lines,
    write: (line) => lines.push(line),
    records: () => lines.map((line) => JSON.parse(line)),
    clear: () => lines.splice(0, lines.length),
  };
}

module.exports = { memoryTransport };
