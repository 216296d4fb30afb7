'use strict';

const RULES = {};
for (const rule of [require('./allowlist'), require('./segment'), require('./schedule'), require('./percentage')]) {
  RULES[rule.type] = rule;
}

function ruleFor(type) {
  return RULES[type] || null;
}

module.exports = { RULES, ruleFor };
