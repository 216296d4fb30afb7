'use strict';

const WIDTH = 5;

function formatPretty(record) {
  const { time, level, name, msg, ...rest } = record;
  const parts = [];
  if (time) parts.push(time);
  parts.push(level.toUpperCase().padEnd(WIDTH));
  if (name) parts.push(`[${name}]`);
  parts.push(msg);
  const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.concat(extra).join(' ');
}

module.exports = { formatPretty };
