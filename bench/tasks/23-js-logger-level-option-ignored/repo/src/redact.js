'use strict';

const MASK = '[redacted]';

/** Returns a copy of `fields` with the values of the listed keys masked, at any depth. */
function redact(fields, keys) {
  if (!keys.length) return fields;
  const wanted = new Set(keys.map((k) => k.toLowerCase()));
  const walk = (value) => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Error) return value;
    const out = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = wanted.has(key.toLowerCase()) ? MASK : walk(inner);
    }
    return out;
  };
  return walk(fields);
}

module.exports = { MASK, redact };
