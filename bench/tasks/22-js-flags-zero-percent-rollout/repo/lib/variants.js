'use strict';

const { bucketFor } = require('./hash');

function validateVariants(variants) {
  if (!Array.isArray(variants) || variants.length === 0) return 'variants must be a non-empty array';
  const total = variants.reduce((sum, v) => sum + (Number(v.weight) || 0), 0);
  if (total !== 100) return `variant weights must add up to 100, got ${total}`;
  return null;
}

/** Picks a variant by weight: with weights 20/80, buckets 0-19 get the first, 20-99 the second. */
function pickVariant(variants, flagKey, userId) {
  const bucket = bucketFor(`${flagKey}:variant`, userId);
  let upper = 0;
  for (const variant of variants) {
    upper += variant.weight;
    if (bucket < upper) return variant.name;
  }
  return variants[variants.length - 1].name;
}

module.exports = { validateVariants, pickVariant };
