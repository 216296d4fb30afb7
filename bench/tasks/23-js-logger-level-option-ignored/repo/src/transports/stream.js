'use strict';

function streamTransport(stream) {
  return { write: (line) => stream.write(line + '\n') };
}

module.exports = { streamTransport };
