import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The fixed-rate sender of bench/paced.ts, on a worker thread: its own V8 heap, so neither its
 * garbage collections nor the bench runner's (autocannon's results, every round kept) hold up
 * sending, which would count as the service's latency. Plain JavaScript: a worker does not get
 * the runner's tsx loader. Request i is due at t0 + i / rate; its latency runs from that due time.
 */
const { baseUrl, requests, rate, maxSockets, timeoutMs } = workerData;
const url = new URL(baseUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets });
const latencies = new Float64Array(requests.length);
const statuses = {};
let responses = 0;
let errors = 0;
let sent = 0;
let inFlight = 0;
let finishedAt = 0;
const intervalMs = 1000 / rate;

function fire(due) {
  const r = requests[sent];
  sent += 1;
  inFlight += 1;
  const body = r.body === undefined ? undefined : typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength);
  const headers = body ? { ...r.headers, 'content-length': String(body.length) } : r.headers;
  const req = http.request({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers, agent, timeout: timeoutMs }, (res) => {
    res.resume();
    res.on('end', () => {
      latencies[responses++] = performance.now() - due;
      const code = String(res.statusCode ?? 0);
      statuses[code] = (statuses[code] ?? 0) + 1;
      inFlight -= 1;
      finishedAt = performance.now();
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => {
    errors += 1;
    inFlight -= 1;
    finishedAt = performance.now();
  });
  req.end(body);
}

// A new thread's HTTP client is cold (nothing compiled yet): a second of GET /healthz at the same
// rate warms it before the measured requests, which would otherwise start late.
await new Promise((resolve) => {
  const warmStart = performance.now();
  let warmSent = 0;
  const warmTotal = Math.ceil(rate);
  const timer = setInterval(() => {
    while (warmSent < warmTotal && warmStart + warmSent * intervalMs <= performance.now()) {
      warmSent += 1;
      http.get({ host: url.hostname, port: url.port, path: '/healthz', agent, timeout: timeoutMs }, (res) => res.resume()).on('error', () => undefined);
    }
    if (warmSent >= warmTotal) {
      clearInterval(timer);
      setTimeout(resolve, 100);
    }
  }, 1);
});

const t0 = performance.now() + 5;
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const now = performance.now();
    while (sent < requests.length && t0 + sent * intervalMs <= now) fire(t0 + sent * intervalMs);
    if (sent >= requests.length) {
      clearInterval(timer);
      resolve();
    }
  }, 1);
});
const drainDeadline = performance.now() + timeoutMs + 1_000;
while (inFlight > 0 && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 5));
agent.destroy();
parentPort.postMessage({ latencies: latencies.subarray(0, responses), statuses, errors: errors + Math.max(0, inFlight), sent, elapsedMs: finishedAt - t0 });
