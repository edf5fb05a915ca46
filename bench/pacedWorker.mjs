import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The fixed-rate sender of bench/paced.ts, on a worker thread with its own V8 heap, so neither
 * its garbage collections nor the bench runner's hold up sending (which would count as the
 * service's latency). Request i is due at t0 + i / rate; its latency runs from that due time.
 *
 * It speaks HTTP/1.1 over keep-alive TCP connections itself, as autocannon and wrk do, instead of
 * using node:http's client: requests are written out as bytes before sending starts and a reply
 * is read only as far as its status, its headers and its body's length. Measured at 5,000
 * requests/s against a plain Node server: about 60 µs of CPU a request, counting the requests'
 * making, the thread's start and its warm-up, against 116 µs for node:http's client in the
 * runner; at the rates the service now takes (half its maximum: 5,000–9,000 requests/s) that
 * client needed most of a core of the two the service shares with it. At most
 * `maxSockets` requests are on the wire at once, one per connection; a request due while all
 * are busy waits in a queue, and its wait is part of its latency. Plain JavaScript: a worker
 * does not get the runner's tsx loader.
 */
const { baseUrl, requests, rate, maxSockets, timeoutMs } = workerData;
const url = new URL(baseUrl);
const port = Number(url.port);
const hostHeader = `${url.hostname}:${port}`;
const intervalMs = 1000 / rate;

/** One request as bytes, with Host and Content-Length; `head` when no body will come back. */
function serialise(r) {
  const body = r.body === undefined ? Buffer.alloc(0) : typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength);
  let head = `${r.method} ${r.path} HTTP/1.1\r\nHost: ${hostHeader}\r\n`;
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    const name = k.toLowerCase();
    if (name !== 'host' && name !== 'content-length') head += `${k}: ${v}\r\n`;
  }
  if (body.length > 0 || r.method === 'POST' || r.method === 'PUT') head += `Content-Length: ${body.length}\r\n`;
  return { bytes: Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]), head: r.method === 'HEAD' };
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/**
 * How far `buf` holds one complete reply: its status and length in bytes, or undefined while
 * more must arrive. Bodies are Content-Length or chunked; 1xx, 204, 304 and replies to HEAD have none.
 */
function completeReply(buf, head) {
  const end = buf.indexOf(HEADER_END);
  if (end === -1) return undefined;
  const headers = buf.toString('latin1', 0, end);
  const status = Number(headers.slice(9, 12));
  const bodyStart = end + 4;
  if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) return { status, length: bodyStart };
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
  if (length) {
    const total = bodyStart + Number(length[1]);
    return buf.length >= total ? { status, length: total } : undefined;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(headers)) {
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf(CRLF, at);
      if (lineEnd === -1) return undefined;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (Number.isNaN(size)) return { status: -1, length: buf.length };
      if (size === 0) {
        const trailerEnd = buf.indexOf(HEADER_END, lineEnd - 2);
        return trailerEnd === -1 ? undefined : { status, length: trailerEnd + 4 };
      }
      at = lineEnd + 2 + size + 2;
      if (buf.length < at) return undefined;
    }
  }
  // A reply whose body runs to the connection's end is not one this bench sends for.
  return { status: -1, length: buf.length };
}

const statuses = {};
const latencies = new Float64Array(requests.length);
let responses = 0;
let errors = 0;
let finishedAt = 0;
/** Every open connection; `idle` those with nothing on the wire, `waiting` the jobs due while none was free. */
const connections = new Set();
const idle = [];
const waiting = [];
let inFlight = 0;

function settle(conn, status) {
  const job = conn.job;
  conn.job = undefined;
  inFlight -= 1;
  finishedAt = performance.now();
  if (!job.counted) return;
  if (status < 0) errors += 1;
  else {
    latencies[responses++] = finishedAt - job.due;
    const code = String(status);
    statuses[code] = (statuses[code] ?? 0) + 1;
  }
}

function send(conn, job) {
  inFlight += 1;
  conn.job = job;
  conn.sentAt = performance.now();
  conn.socket.write(job.bytes);
}

/** A connection whose reply is complete takes the next waiting job, or waits itself. */
function release(conn) {
  if (waiting.length > 0) send(conn, waiting.shift());
  else idle.push(conn);
}

function connect() {
  const socket = net.connect({ host: url.hostname, port, noDelay: true });
  const conn = { socket, buf: Buffer.alloc(0), job: undefined, sentAt: 0 };
  connections.add(conn);
  socket.on('data', (chunk) => {
    conn.buf = conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk]);
    if (!conn.job) return;
    const reply = completeReply(conn.buf, conn.job.head);
    if (!reply) return;
    conn.buf = conn.buf.subarray(reply.length);
    settle(conn, reply.status);
    if (reply.status < 0) socket.destroy();
    else release(conn);
  });
  const gone = () => {
    if (!connections.delete(conn)) return;
    const at = idle.indexOf(conn);
    if (at !== -1) idle.splice(at, 1);
    if (conn.job) settle(conn, -1);
    // A job that was waiting for a connection gets a new one.
    if (waiting.length > 0) send(connect(), waiting.shift());
  };
  socket.on('error', gone);
  socket.on('close', gone);
  return conn;
}

function start(job) {
  const conn = idle.pop() ?? (connections.size < maxSockets ? connect() : undefined);
  if (conn) send(conn, job);
  else waiting.push(job);
}

// A reply later than timeoutMs fails its request and its connection.
const timeouts = setInterval(() => {
  const now = performance.now();
  for (const conn of connections) if (conn.job && now - conn.sentAt > timeoutMs) conn.socket.destroy();
}, 100);

/** Send `jobs` at the rate, job i due at t0 + i / rate; resolves with t0 once all are sent. */
function schedule(jobs) {
  const t0 = performance.now() + 5;
  let sent = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      while (sent < jobs.length && t0 + sent * intervalMs <= now) {
        const job = jobs[sent];
        job.due = t0 + sent * intervalMs;
        sent += 1;
        start(job);
      }
      if (sent >= jobs.length) {
        clearInterval(timer);
        resolve(t0);
      }
    }, 1);
  });
}

async function drained(deadline) {
  while ((inFlight > 0 || waiting.length > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

// A new thread has compiled nothing yet: a second of GET /healthz at the same rate warms the
// sender before the measured requests, which would otherwise start late.
const warm = serialise({ method: 'GET', path: '/healthz', headers: {} });
await schedule(Array.from({ length: Math.ceil(rate) }, () => ({ ...warm, counted: false })));
await drained(performance.now() + timeoutMs);

const jobs = requests.map((r) => ({ ...serialise(r), counted: true }));
const t0 = await schedule(jobs);
await drained(performance.now() + timeoutMs + 1_000);
clearInterval(timeouts);
const unanswered = inFlight + waiting.length;
for (const conn of connections) conn.socket.destroy();
parentPort.postMessage({ latencies: latencies.subarray(0, responses), statuses, errors: errors + unanswered, sent: jobs.length, elapsedMs: finishedAt - t0 });
