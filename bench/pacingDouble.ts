import http from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import twilio from 'twilio';
import { statusCallbackForm } from '../test/outbound/doubles/twilio.js';

/**
 * The pacing benchmark's telephony platform (bench/pacing.ts): a Twilio double on 127.0.0.1 that
 * speaks the documented REST API and keeps each call up for a while, then reports its end
 * through the service's real status callback route, and counts, per client (a client is its
 * caller ID, the call's `From`), how many of its calls were ever up at once and how many it
 * started in any rolling second.
 *
 * - Call resource, create: `POST /2010-04-01/Accounts/{AccountSid}/Calls.json`, form-encoded,
 *   HTTP Basic `AccountSid:AuthToken`, `To`, `From`, `Url` (or `Twiml`), `StatusCallback`;
 *   201 with the Call JSON (`sid` CA…, `status` queued); 401 code 20003 for bad credentials.
 *   https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
 * - The status callback at the call's end: a form POST to `StatusCallback` with `CallSid`,
 *   `CallStatus`, `CallDuration`, `AccountSid`, `From`, `To`, `Direction`, `ApiVersion`,
 *   `SequenceNumber`, `Timestamp`, `CallbackSource`, signed with `X-Twilio-Signature` (the twilio
 *   SDK's own `getExpectedTwilioSignature`).
 *   https://www.twilio.com/docs/voice/api/call-resource#statuscallback
 *   https://www.twilio.com/docs/usage/webhooks/webhooks-security
 *
 * A call is "in flight" (up, at the platform) from the moment its create request arrives until it
 * hangs up, when its status callback is sent (the service counts it a little longer: until it has
 * recorded that callback). A call "starts" when its create request arrives. `GET /stats` returns
 * the counts, every start time (epoch ms) and the status callbacks' latencies;
 * `GET /stats?brief`, which the bench polls every 2 s during the drain, the counts only. It sorts
 * nothing: this process timestamps the calls, and a stall of its own makes calls that arrived
 * during it look bunched (sorting the 100,000 callback times of the 100,000-contact run at every
 * poll held it for tens to hundreds of ms every 2 s, and that was where the "6 starts in a
 * second" came from).
 *
 * Settings (environment): PORT, HOST, DOUBLE_ACCOUNT_SID, DOUBLE_AUTH_TOKEN, DOUBLE_HOLD_MIN_MS,
 * DOUBLE_HOLD_MAX_MS (each call is up for a uniformly drawn time in between).
 */

const accountSid = process.env.DOUBLE_ACCOUNT_SID ?? '';
const authToken = process.env.DOUBLE_AUTH_TOKEN ?? '';
const holdMin = Number(process.env.DOUBLE_HOLD_MIN_MS ?? 500);
const holdMax = Number(process.env.DOUBLE_HOLD_MAX_MS ?? 1_500);
const callsPath = `/2010-04-01/Accounts/${accountSid}/Calls.json`;
const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

/** Wall-clock ms with sub-ms precision, comparable with the bench's `Date.now()`. */
const nowMs = () => performance.timeOrigin + performance.now();

interface ClientCounts {
  calls: number;
  inFlight: number;
  maxInFlight: number;
  maxPerSecond: number;
  /** Start times of the last calls (enough to count a rolling second). */
  recent: number[];
  starts: number[];
}

const clients = new Map<string, ClientCounts>();
const seenNumbers = new Map<string, number>();
let duplicates = 0;
let callbacksFailed = 0;
let callbacksDone = 0;
let refused = 0;
/** How long the service took to answer each status callback (ms). */
const callbackMs: number[] = [];
const socketWaitMs: number[] = [];
const connectMs: number[] = [];

function countsOf(from: string): ClientCounts {
  let c = clients.get(from);
  if (!c) {
    c = { calls: 0, inFlight: 0, maxInFlight: 0, maxPerSecond: 0, recent: [], starts: [] };
    clients.set(from, c);
  }
  return c;
}

function started(c: ClientCounts, at: number): void {
  c.calls += 1;
  c.inFlight += 1;
  c.maxInFlight = Math.max(c.maxInFlight, c.inFlight);
  c.starts.push(at);
  // Starts less than 1000 ms before this one share a rolling second with it.
  c.recent.push(at);
  while (c.recent.length > 0 && at - c.recent[0]! >= 1_000) c.recent.shift();
  c.maxPerSecond = Math.max(c.maxPerSecond, c.recent.length);
}

/** This process's own stalls: a call that arrives during one is timestamped late (observer jitter). */
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** The call hangs up: it is no longer up, and its signed `completed` callback is POSTed (retried until one lands). */
function hangUp(c: ClientCounts, call: { sid: string; from: string; to: string; statusCallback: string }, durationS: number): void {
  c.inFlight -= 1;
  finish(call, durationS);
}

function finish(call: { sid: string; from: string; to: string; statusCallback: string }, durationS: number, tries = 0): void {
  const form = statusCallbackForm(accountSid, call, 'completed', durationS);
  const signature = twilio.getExpectedTwilioSignature(authToken, call.statusCallback, Object.fromEntries(form));
  const body = new URLSearchParams(form).toString();
  const u = new URL(call.statusCallback);
  const sent = nowMs();
  const req = http.request(
    {
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), 'x-twilio-signature': signature },
    },
    (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) {
          callbacksDone += 1;
          callbackMs.push(nowMs() - sent);
        } else retry();
      });
    },
  );
  // Twilio retries a callback that failed to connect.
  const retry = () => {
    callbacksFailed += 1;
    if (tries < 5) setTimeout(() => finish(call, durationS, tries + 1), 500);
  };
  req.on('error', retry);
  req.on('socket', (sock) => {
    const got = nowMs();
    socketWaitMs.push(got - sent);
    if (sock.connecting) sock.once('connect', () => connectMs.push(nowMs() - got));
  });
  req.end(body);
}

function reply(res: http.ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

const twilioError = (res: http.ServerResponse, status: number, code: number, message: string) =>
  reply(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

const server = http.createServer((req, res) => {
  // The call starts when its request arrives (before its body is read).
  const at = nowMs();
  if (req.method === 'GET' && (req.url === '/stats' || req.url === '/stats?brief')) {
    const brief = req.url.endsWith('?brief');
    const out = [...clients].map(([from, c]) => ({ from, calls: c.calls, inFlight: c.inFlight, maxInFlight: c.maxInFlight, maxPerSecond: c.maxPerSecond, ...(brief ? {} : { starts: c.starts }) }));
    const counts = { clients: out, duplicates, callbacksDone, callbacksFailed, refused };
    if (brief) return reply(res, 200, counts);
    const st = (a: number[]) => {
      const x = [...a].sort((m, n) => m - n);
      return { n: x.length, p50: x[Math.floor(x.length / 2)] ?? 0, p99: x[Math.floor(x.length * 0.99)] ?? 0, max: x[x.length - 1] ?? 0 };
    };
    const { p50, p99, max } = st(callbackMs);
    return reply(res, 200, {
      ...counts,
      callbackLatencyMs: { p50, p99, max },
      callbackSocket: { wait: st(socketWaitMs), connect: st(connectMs) },
      loopDelayMaxMs: loopDelay.max / 1e6,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    });
  }
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    if (req.headers.authorization !== expectedAuth) return twilioError(res, 401, 20003, 'Authenticate');
    if (req.method !== 'POST' || req.url !== callsPath) return twilioError(res, 404, 20404, 'The requested resource was not found');
    const f = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const to = f.get('To');
    const from = f.get('From');
    const statusCallback = f.get('StatusCallback');
    if (!to || !from || !(f.get('Url') || f.get('Twiml'))) {
      refused += 1;
      return twilioError(res, 400, 21205, 'Url parameter is required.');
    }
    const c = countsOf(from);
    started(c, at);
    const seen = (seenNumbers.get(to) ?? 0) + 1;
    seenNumbers.set(to, seen);
    if (seen > 1) duplicates += 1;
    const sid = `CA${Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('')}`;
    reply(res, 201, {
      sid,
      account_sid: accountSid,
      to,
      from,
      status: 'queued',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      uri: `/2010-04-01/Accounts/${accountSid}/Calls/${sid}.json`,
    });
    const holdMs = holdMin + Math.random() * (holdMax - holdMin);
    if (statusCallback) setTimeout(() => hangUp(c, { sid, from, to, statusCallback }, Math.round(holdMs / 1000)), holdMs);
    else c.inFlight -= 1;
  });
});
server.keepAliveTimeout = 30_000;

// The SDK loads its modules on first use: sign once now, not in the middle of the run.
twilio.getExpectedTwilioSignature(authToken, 'http://127.0.0.1/', {});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
