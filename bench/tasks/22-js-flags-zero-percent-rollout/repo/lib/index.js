'use strict';

const { Client } = require('./client');
const { loadJsonFile } = require('./loaders/json');
const { overridesFromEnv } = require('./loaders/env');
const { bucketFor } = require('./hash');
const errors = require('./errors');

function createClient(options = {}) {
  const overrides = options.overrides || overridesFromEnv(process.env);
  return new Client(options.flags || {}, { overrides, onError: options.onError });
}

module.exports = { createClient, Client, loadJsonFile, overridesFromEnv, bucketFor, ...errors };
