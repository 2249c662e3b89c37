'use strict';

// Formats metrics in the Prometheus text exposition format (version 0.0.4).

const contentType = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value) {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

// metric('up', 'gauge', 'help text', 1)
// metric('requests_total', 'counter', 'help', [[{ code: '200' }, 5], [{ code: '500' }, 1]])
function metric(name, type, help, samples) {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  const list = Array.isArray(samples) ? samples : [[{}, samples]];
  for (const [labels, value] of list) {
    const keys = Object.keys(labels || {});
    const rendered = keys.length
      ? `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',')}}`
      : '';
    lines.push(`${name}${rendered} ${formatValue(value)}`);
  }
  return lines.join('\n') + '\n';
}

module.exports = { contentType, metric };
