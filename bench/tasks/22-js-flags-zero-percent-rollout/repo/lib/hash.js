'use strict';

// 32-bit FNV-1a over the UTF-8 bytes of a string.
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(String(text), 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The user's bucket for a flag (or seed): an integer from 0 to 99, stable across runs. */
function bucketFor(seed, userId) {
  return fnv1a(`${seed}:${userId}`) % 100;
}

module.exports = { fnv1a, bucketFor };
