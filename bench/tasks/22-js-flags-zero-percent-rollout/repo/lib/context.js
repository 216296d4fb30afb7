'use strict';

/**
 * Normalises what callers pass as the evaluation context:
 * { userId, ...attributes } or { user: { id, ...attributes } }.
 */
function normalizeContext(input) {
  if (input == null) return { userId: null, attributes: {} };
  if (typeof input === 'string' || typeof input === 'number') {
    return { userId: String(input), attributes: {} };
  }
  const source = input.user && typeof input.user === 'object' ? input.user : input;
  const { userId, id, user, ...attributes } = source;
  const key = userId != null ? userId : id;
  return { userId: key != null && key !== '' ? String(key) : null, attributes };
}

module.exports = { normalizeContext };
