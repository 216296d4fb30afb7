'use strict';

const { InvalidFlagError } = require('./errors');
const { ruleFor } = require('./rules');
const { validateVariants } = require('./variants');

function validateFlag(key, flag) {
  if (flag === null || typeof flag !== 'object') throw new InvalidFlagError(key, 'must be an object');
  if (flag.enabled !== undefined && typeof flag.enabled !== 'boolean') {
    throw new InvalidFlagError(key, '"enabled" must be true or false');
  }
  for (const [index, rule] of (flag.rules || []).entries()) {
    const kind = ruleFor(rule && rule.type);
    if (!kind) throw new InvalidFlagError(key, `rule ${index}: unknown type "${rule && rule.type}"`);
    const problem = kind.validate(rule);
    if (problem) throw new InvalidFlagError(key, `rule ${index}: ${problem}`);
  }
  if (flag.variants !== undefined) {
    const problem = validateVariants(flag.variants);
    if (problem) throw new InvalidFlagError(key, problem);
  }
}

function validateFlags(flags) {
  for (const [key, flag] of Object.entries(flags)) validateFlag(key, flag);
  return flags;
}

module.exports = { validateFlag, validateFlags };
