'use strict';

function validate(rule) {
  for (const key of ['from', 'until']) {
    if (rule[key] !== undefined && Number.isNaN(Date.parse(rule[key]))) return `schedule "${key}" is not a date`;
  }
  if (rule.from === undefined && rule.until === undefined) return 'schedule rule needs "from" or "until"';
  return null;
}

/** Matches while now is in [from, until). */
function matches(rule, ctx, flagKey, now = new Date()) {
  const time = now.getTime();
  if (rule.from !== undefined && time < Date.parse(rule.from)) return false;
  if (rule.until !== undefined && time >= Date.parse(rule.until)) return false;
  return true;
}

module.exports = { type: 'schedule', validate, matches };
