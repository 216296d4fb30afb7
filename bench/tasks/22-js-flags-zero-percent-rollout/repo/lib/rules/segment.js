'use strict';

function validate(rule) {
  if (typeof rule.attribute !== 'string' || !rule.attribute) return 'segment rule needs an "attribute"';
  if (!Array.isArray(rule.in) && !Array.isArray(rule.notIn)) return 'segment rule needs "in" or "notIn"';
  return null;
}

function matches(rule, ctx) {
  const value = ctx.attributes[rule.attribute];
  if (value === undefined || value === null) return false;
  const text = String(value);
  if (Array.isArray(rule.in) && !rule.in.map(String).includes(text)) return false;
  if (Array.isArray(rule.notIn) && rule.notIn.map(String).includes(text)) return false;
  return true;
}

module.exports = { type: 'segment', validate, matches };
