'use strict';

/**
 * Shorten `text` so that the result, including `ellipsis`,
 * is at most `maxLength` characters long.
 */
function truncate(text, maxLength, ellipsis = '\u2026') {
  if (text.length <= maxLength) {
    return text;
  }
  return text.slice(0, maxLength) + ellipsis;
}

/** Collapse runs of whitespace into single spaces and trim the ends. */
function squish(text) {
  return text.replace(/\s+/g, ' ').trim();
}

/** Pad or truncate `text` so it is exactly `width` characters wide. */
function fitColumn(text, width) {
  return truncate(squish(text), width).padEnd(width, ' ');
}

module.exports = { truncate, squish, fitColumn };
