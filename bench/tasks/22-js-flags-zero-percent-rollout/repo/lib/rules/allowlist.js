'use strict';

function validate(rule) {
  if (!Array.isArray(rule.users)) return 'allowlist rule needs a "users" array';
  return null;
}

function matches(rule, ctx) {
  return ctx.userId != null && rule.users.map(String).includes(ctx.userId);
}

module.exports = { type: 'allowlist', validate, matches };
