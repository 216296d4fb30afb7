'use strict';

const { ruleFor } = require('./rules');

/** Whether a (valid) flag is on for a normalised context. */
function evaluateFlag(key, flag, ctx, now = new Date()) {
  if (flag.enabled === false) return false;
  const rules = flag.rules || [];
  if (rules.length === 0) return true;
  return rules.some((rule) => ruleFor(rule.type).matches(rule, ctx, key, now));
}

module.exports = { evaluateFlag };
