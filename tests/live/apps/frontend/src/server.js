'use strict';

// Sample frontend of the vitalyst-render live testbed. Built with the rendered frontend
// Dockerfile unchanged; runs as uid 10001 on a read-only root filesystem.
//
// GET /health      200 {"status":"ok"}
// GET /metrics     Prometheus text: process_resident_memory_bytes, process_cpu_seconds_total,
//                  nodejs_eventloop_lag_seconds, http_requests_total
// GET /api/health  GET ${API_URL}/health; answers with its status and body, 502 when the
//                  backend cannot be reached
//
// vitalyst-testbed-promtext is the app's one npm dependency: it must come from the
// node_modules that the Dockerfile's deps stage installed, or the server does not start.

const http = require('http');
const { metric, contentType } = require('vitalyst-testbed-promtext');

const PORT = Number.parseInt(process.env.PORT || '3000', 10);
const API_URL = (process.env.API_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');
const startTime = Date.now() / 1000;
const requests = new Map();

function count(method, route, status) {
  const key = JSON.stringify([method, route, String(status)]);
  requests.set(key, (requests.get(key) || 0) + 1);
}

function send(res, status, body, type) {
  const payload = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'Content-Type': type || 'application/json',
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function eventLoopLag() {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    setImmediate(() => resolve(Number(process.hrtime.bigint() - started) / 1e9));
  });
}

async function metrics() {
  const lag = await eventLoopLag();
  const cpu = process.cpuUsage();
  const samples = [...requests.entries()].map(([key, value]) => {
    const [method, route, status] = JSON.parse(key);
    return [{ method, route, status }, value];
  });
  return [
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.',
      process.memoryUsage().rss),
    metric('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.',
      (cpu.user + cpu.system) / 1e6),
    metric('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.',
      startTime),
    metric('nodejs_eventloop_lag_seconds', 'gauge', 'Lag of event loop in seconds.', lag),
    metric('http_requests_total', 'counter', 'Total number of HTTP requests by method, route and status.',
      samples),
  ].join('');
}

function apiHealth(res, done) {
  const upstream = http.get(`${API_URL}/health`, { timeout: 5000 }, (up) => {
    const chunks = [];
    up.on('data', (chunk) => chunks.push(chunk));
    up.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8') || '{}';
      send(res, up.statusCode, body.endsWith('\n') ? body : `${body}\n`,
        up.headers['content-type'] || 'application/json');
      done(up.statusCode);
    });
  });
  upstream.on('timeout', () => upstream.destroy(new Error('timeout after 5 s')));
  upstream.on('error', (err) => {
    if (res.headersSent) return;
    send(res, 502, { status: 'unreachable', error: err.message });
    done(502);
  });
}

const server = http.createServer((req, res) => {
  const route = (req.url || '/').split('?')[0];
  const finish = (status, name) => count(req.method, name || route, status);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, { error: 'method not allowed' });
    finish(405, 'other');
  } else if (route === '/health') {
    send(res, 200, { status: 'ok' });
    finish(200);
  } else if (route === '/metrics') {
    metrics().then((text) => {
      send(res, 200, text, contentType);
      finish(200);
    }, (err) => {
      send(res, 500, { error: err.message });
      finish(500);
    });
  } else if (route === '/api/health') {
    apiHealth(res, (status) => finish(status));
  } else {
    send(res, 404, { error: 'not found' });
    finish(404, 'other');
  }
});

function shutdown(signal) {
  console.log(`${signal}: closing`);
  server.close(() => process.exit(0));
  if (server.closeIdleConnections) server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.listen(PORT, process.env.HOST, () => {
  console.log(`frontend listening on port ${PORT}, backend at ${API_URL}`);
});
