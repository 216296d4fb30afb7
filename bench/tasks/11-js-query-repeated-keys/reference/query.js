'use strict';

function decode(part) {
  return decodeURIComponent(part.replace(/\+/g, ' '));
}

/** Parse a query string such as "?a=1&b=two" into an object. */
function parseQuery(qs) {
  const text = qs.startsWith('?') ? qs.slice(1) : qs;
  const result = {};
  for (const pair of text.split('&')) {
    if (pair === '') {
      continue;
    }
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    if (!Object.prototype.hasOwnProperty.call(result, key)) {
      result[key] = value;
    } else if (Array.isArray(result[key])) {
      result[key].push(value);
    } else {
      result[key] = [result[key], value];
    }
  }
  return result;
}

/** Build a query string; array values become repeated keys. */
function stringifyQuery(params) {
  const parts = [];
  for (const [key, value] of Object.entries(params)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(v)}`);
    }
  }
  return parts.join('&');
}

module.exports = { parseQuery, stringifyQuery };
