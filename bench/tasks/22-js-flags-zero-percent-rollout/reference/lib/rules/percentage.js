'use strict';

const { bucketFor } = require('../hash');

function validate(rule) {
  const p = rule.percentage;
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100) {
    return 'percentage must be a number from 0 to 100';
  }
  return null;
}

/** A gradual rollout: the flag is on for `percentage` percent of users. */
function matches(rule, ctx, flagKey) {
  if (ctx.userId == null) return false;
  const bucket = bucketFor(rule.seed || flagKey, ctx.userId);
  return bucket < rule.percentage;
}

module.exports = { type: 'percentage', validate, matches };
