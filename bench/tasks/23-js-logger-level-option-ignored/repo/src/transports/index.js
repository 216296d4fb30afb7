'use strict';

module.exports = { ...require('./stream'), ...require('./memory') };
