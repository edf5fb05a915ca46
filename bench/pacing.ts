import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort, ROOT, startChild, type Child } from './children.js';
import { processCpuMicros } from './cpu.js';
import { watchDatabase, type DatabaseActivity } from './pgactivity.js';

/**
 * `npm run bench:pacing [-- --contacts 100000] [--clients 100] [--max-concurrent 10] [--cps 5]
 *                       [--hold-ms 500-1500] [--engine sqlite|pg] [--instances 1] [--cpu-prof]`
 *
 * Issue 13's pacing benchmark (docs/http.md §9.5): the scheduler draining `contacts` contacts of
 * `clients` clients, each limited to `max-concurrent` calls in flight and `cps` call starts a
 * second, into a Twilio double (bench/pacingDouble.ts, its own process) that keeps every call up
 * for a random `hold-ms` and then posts its signed status callback to the service's real route.
 * The service is `node --import tsx src/server.ts` with DIALER=twilio on a temp SQLite file, or
 * with `--engine pg` on a fresh database of BENCH_PG_URL (default the development cluster), named
 * BENCH_PG_DATABASE (default `pacing_bench`), with `--instances` processes sharing it.
 *
 * Every request is made with delayMinutes 1, so the drain starts a minute after the first one, with
 * the contacts of the others falling due as they were made.
 *
 * Reported: the aggregate call starts a second while every client had work (from the moment every
 * request was due to the first client running out) against the sum of the client limits, each
 * client's most calls in flight at once and most starts in any rolling second (as the double saw
 * them), duplicates and missing calls, /healthz latency during the drain (the event loop kept
 * answering), total time and the service's CPU. Exit 1 when a client exceeded a limit, the
 * aggregate was more than 5 % under the sum, a contact was called twice or not at all, or the
 * run hit its time limit. On PostgreSQL on this machine also the database server's CPU for the
 * drain (its backends for the database, bench/pgcpu.ts), its transactions, and how many of its
 * backends were running or waiting for a lock (sampled every 250 ms). Writes bench/pacing-results.json; `--cpu-prof` writes V8 CPU profiles
 * of each instance to bench/profiles/pacing-<n>/.
 */

const { values: args } = parseArgs({
  options: {
    contacts: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '100' },
    'max-concurrent': { type: 'string', default: '10' },
    cps: { type: 'string', default: '5' },
    'hold-ms': { type: 'string', default: '500-1500' },
    engine: { type: 'string', default: 'sqlite' },
    instances: { type: 'string', default: '1' },
    'cpu-prof': { type: 'boolean', default: false },
  },
  strict: true,
});

function whole(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) {
    process.stderr.write(`--${name} must be a whole number from ${min} to ${max}\n`);
    process.exit(2);
  }
  return n;
}

const contacts = whole('contacts', args.contacts, 1, 1_000_000);
const clientCount = whole('clients', args.clients, 1, 1_000);
const maxConcurrent = whole('max-concurrent', args['max-concurrent'], 1, 1_000);
const cps = whole('cps', args.cps, 1, 100);
const instances = whole('instances', args.instances, 1, 8);
const holdMatch = /^(\d+)-(\d+)$/.exec(args['hold-ms']);
if (!holdMatch || Number(holdMatch[1]) > Number(holdMatch[2])) {
  process.stderr.write('--hold-ms must be MIN-MAX in ms (e.g. 500-1500)\n');
  process.exit(2);
}
const hold = [holdMatch[0], holdMatch[1]!, holdMatch[2]!] as const;
if (args.engine !== 'sqlite' && args.engine !== 'pg') {
  process.stderr.write('--engine must be sqlite or pg\n');
  process.exit(2);
}
const engine = args.engine;
if (instances > 1 && engine !== 'pg') {
  process.stderr.write('--instances above 1 needs --engine pg (instances share one database)\n');
  process.exit(2);
}
const PG_SERVER = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:55432';
const PG_DATABASE = process.env.BENCH_PG_DATABASE ?? 'pacing_bench';
if (!/^[a-z_][a-z0-9_]*$/.test(PG_DATABASE)) {
  process.stderr.write('BENCH_PG_DATABASE must be a plain lower-case database name\n');
  process.exit(2);
}

const ACCOUNT_SID = `AC${'0b'.repeat(16)}`;
const AUTH_TOKEN = 'pacing-bench-auth-token';
const SECURITY_ID = 'p'.repeat(64);
const FLOW_ID = 'PACEFLOW';
const PER_REQUEST = 1_000;
/** The sum of the client limits may be missed by this much at most. */
const TOLERANCE = 0.05;

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ClientStats {
  from: string;
  calls: number;
  inFlight: number;
  maxInFlight: number;
  maxPerSecond: number;
  starts?: number[];
}
interface DoubleStats {
  clients: ClientStats[];
  duplicates: number;
  callbacksDone: number;
  callbacksFailed: number;
  refused: number;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  callbackLatencyMs: { p50: number; p99: number; max: number };
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const callerId = (i: number) => `+9180${String(40_000_000 + i).padStart(8, '0')}`;
const number = (i: number) => `+9198${String(i).padStart(8, '0')}`;

async function freshPgDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${PG_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${PG_DATABASE}`);
  } finally {
    await admin.end();
  }
  return `${PG_SERVER}/${PG_DATABASE}`;
}

/** /healthz answered during the drain: how long each answer took (a starved event loop shows here). */
function probeHealth(urls: string[]): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loops = urls.map(async (url) => {
    while (running) {
      const t0 = performance.now();
      try {
        await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.arrayBuffer());
        latencies.push(performance.now() - t0);
      } catch {
        latencies.push(30_000);
      }
      await sleep(250);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return latencies;
    },
  };
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0);

async function main(): Promise<number> {
  const perClient = Math.ceil(contacts / clientCount);
  const limitSum = clientCount * cps;
  const expectedS = perClient / cps;
  const dataDir = mkdtempSync(join(os.tmpdir(), 'cw-pacing-'));
  const children: Child[] = [];
  const cleanup = async () => {
    await Promise.all(children.map((c) => c.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const double = await startChild(
      'twilio double',
      'bench/pacingDouble.ts',
      { PATH: process.env.PATH, HOME: process.env.HOME, DOUBLE_ACCOUNT_SID: ACCOUNT_SID, DOUBLE_AUTH_TOKEN: AUTH_TOKEN, DOUBLE_HOLD_MIN_MS: hold[1], DOUBLE_HOLD_MAX_MS: hold[2] },
      '/stats',
    );
    children.push(double);
    const databaseUrl = engine === 'pg' ? await freshPgDatabase() : undefined;
    const ports = await Promise.all(Array.from({ length: instances }, () => freePort()));
    const startServices = async (profile: boolean): Promise<Child[]> => {
      const started: Child[] = [];
      for (const [i, port] of ports.entries()) {
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          DATABASE_PATH: join(dataDir, 'pacing.db'),
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
          DIALER: 'twilio',
          TWILIO_ACCOUNT_SID: ACCOUNT_SID,
          TWILIO_AUTH_TOKEN: AUTH_TOKEN,
          TWILIO_API_URL: double.url,
          PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
          CALLING_WINDOW: 'off',
          CALLING_HOLIDAYS: '',
          RATE_LIMIT_PER_IP: '0',
          LOG_LEVEL: 'info',
        };
        for (const k of ['DIALER_URL', 'EVENTS_WEBHOOK_URL', 'EVENTS_WEBHOOK_SECRET', 'ADMIN_TOKEN', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'ALLOWED_IPS', 'TRUST_PROXY']) delete env[k];
        const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench', 'profiles', `pacing-${i + 1}`)}`] : [];
        const svc = await startChild(`service ${i + 1}`, 'src/server.ts', env, '/healthz', flags, ROOT, port);
        children.push(svc);
        started.push(svc);
      }
      return started;
    };
    const services = await startServices(args['cpu-prof']);
    log(`double on ${double.url}; ${instances} service instance(s) on ${engine}: ${services.map((s) => s.url).join(', ')}`);

    for (let c = 0; c < clientCount; c++) {
      const put = await json(`${services[0]!.url}/admin/prod/clients/client${c}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          securityID: SECURITY_ID,
          callerId: callerId(c),
          maxConcurrent,
          callsPerSecond: cps,
          flows: [{ flowID: FLOW_ID, target: 'https://example.com/answer' }],
        }),
      });
      if (put.status >= 300) throw new Error(`PUT client${c} → ${put.status} ${JSON.stringify(put.body)}`);
    }

    const t0 = Date.now();
    const requests: { client: number; reqID: string; url: string; dueAt: number }[] = [];
    let next = 0;
    for (let part = 0; part * PER_REQUEST < perClient; part++) {
      for (let c = 0; c < clientCount; c++) {
        const from = c * perClient + part * PER_REQUEST;
        const to = Math.min((c + 1) * perClient, from + PER_REQUEST, contacts);
        if (to <= from) continue;
        const svc = services[next++ % services.length]!;
        const r = await json(`${svc.url}/centraloutboundwebhook-v1/prod/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            method: 'createOutbound',
            apiVersion: '1.0',
            clientID: `client${c}`,
            securityID: SECURITY_ID,
            flowID: FLOW_ID,
            delayMinutes: 1,
            contactNumbers: Array.from({ length: to - from }, (_, i) => number(from + i)),
          }),
        });
        if (r.status !== 200) throw new Error(`createOutbound client${c} → ${r.status} ${JSON.stringify(r.body)}`);
        requests.push({ client: c, reqID: String(r.body.obdReqID), url: svc.url, dueAt: Date.parse(String(r.body.scheduledAt)) });
      }
    }
    const tCreated = Date.now();
    const total = Math.min(contacts, perClient * clientCount);
    // Every request is due a minute after it was made, so the drain starts once they all are.
    const tDrain = Math.min(...requests.map((r) => r.dueAt));
    const allDue = Math.max(...requests.map((r) => r.dueAt));
    log(`${total} contacts in ${requests.length} requests created in ${((tCreated - t0) / 1000).toFixed(1)} s, due from ${new Date(tDrain).toISOString()}`);
    await sleep(Math.max(0, tDrain - Date.now() - 1_000));
    const cpu0 = services.map((s) => processCpuMicros(s.pid));
    log(`draining (about ${Math.round(expectedS)} s at the limits)`);
    const health = probeHealth(services.map((s) => s.url));
    const dbWatch = databaseUrl ? await watchDatabase(databaseUrl) : undefined;
    const deadline = tDrain + (expectedS * 2 + 120) * 1000;
    let stats: DoubleStats | undefined;
    let lastDone = -1;
    let lastProgress = Date.now();
    let timedOut = false;
    for (;;) {
      await sleep(2_000);
      stats = (await json(`${double.url}/stats?brief`)).body as unknown as DoubleStats;
      const started = stats.clients.reduce((a, c) => a + c.calls, 0);
      if (stats.callbacksDone >= total) break;
      if (stats.callbacksDone !== lastDone) {
        lastDone = stats.callbacksDone;
        lastProgress = Date.now();
      }
      log(`  ${((Date.now() - tDrain) / 1000).toFixed(0)} s: ${started} calls started, ${stats.callbacksDone} ended`);
      if (Date.now() > deadline || Date.now() - lastProgress > 60_000) {
        timedOut = true;
        break;
      }
    }
    const tEnd = Date.now();
    const latencies = (await health.stop()).sort((a, b) => a - b);
    const db: DatabaseActivity | undefined = await dbWatch?.stop();
    // The service's event-loop delay as prom-client's default metrics report it (since start).
    const lag = await Promise.all(
      services.map(async (s) => {
        const text = await (await fetch(`${s.url}/metrics`)).text();
        const read = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
        // The service's own time for the status callbacks (from its request-duration histogram).
        const sum = [...text.matchAll(/^http_request_duration_seconds_sum\{[^}]*route="\/outbound\/:stage\/status\/:key"[^}]*\} ([0-9.e+-]+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
        const count = [...text.matchAll(/^http_request_duration_seconds_count\{[^}]*route="\/outbound\/:stage\/status\/:key"[^}]*\} ([0-9.e+-]+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
        return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds'), callbackMeanMs: count ? (sum / count) * 1000 : NaN };
      }),
    );
    const cpuS = services.reduce((a, s, i) => a + (processCpuMicros(s.pid) - cpu0[i]!), 0) / 1e6;
    stats = (await json(`${double.url}/stats`)).body as unknown as DoubleStats;

    // The service's own view: every contact dispatched once, with the double's outcome.
    let completed = 0;
    let notDone = 0;
    for (const r of requests) {
      const s = await json(`${r.url}/centraloutboundwebhook-v1/prod/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'getOutboundStatus', apiVersion: '1.0', clientID: `client${r.client}`, securityID: SECURITY_ID, obdReqID: r.reqID }),
      });
      const list = (s.body.contacts ?? []) as { status: string; outcome: string | null; attempts: number }[];
      for (const c of list) {
        if (c.status === 'dispatched' && c.outcome === 'completed' && c.attempts === 1) completed += 1;
        else notDone += 1;
      }
    }

    const starts = stats.clients.flatMap((c) => c.starts ?? []).sort((a, b) => a - b);
    const calls = starts.length;
    // While every client had work: from the moment every request was due to the first client's last call.
    const firstOut = Math.min(...stats.clients.map((c) => Math.max(...(c.starts ?? [0]))));
    const from = Math.max(allDue, starts[0] ?? tDrain);
    const to = firstOut;
    const window = 'every client had work';
    const inWindow = starts.filter((s) => s >= from && s <= to).length;
    const aggregate = to > from ? inWindow / ((to - from) / 1000) : 0;
    const worstConcurrent = Math.max(...stats.clients.map((c) => c.maxInFlight));
    const worstPerSecond = Math.max(...stats.clients.map((c) => c.maxPerSecond));
    const missing = total - (calls - stats.duplicates);
    const drainS = ((starts[starts.length - 1] ?? tEnd) - (starts[0] ?? t0)) / 1000;

    const checks = {
      aggregate: aggregate >= limitSum * (1 - TOLERANCE),
      concurrent: worstConcurrent <= maxConcurrent,
      perSecond: worstPerSecond <= cps,
      exactlyOnce: stats.duplicates === 0 && missing === 0 && completed === total,
      finished: !timedOut,
    };
    const ok = Object.values(checks).every(Boolean);
    const lines = [
      `pacing: ${total} contacts, ${clientCount} clients × (maxConcurrent ${maxConcurrent}, callsPerSecond ${cps}), calls up ${hold[1]}-${hold[2]} ms, ${engine}, ${instances} instance(s)`,
      `  aggregate (${window}, ${((to - from) / 1000).toFixed(1)} s): ${aggregate.toFixed(1)} calls/s vs the limits' sum ${limitSum}/s = ${((aggregate / limitSum) * 100).toFixed(1)} % (need ≥ ${100 - TOLERANCE * 100} %) ${checks.aggregate ? 'ok' : 'MISSED'}`,
      `  overall: ${calls} calls in ${drainS.toFixed(1)} s first to last = ${(calls / Math.max(drainS, 0.001)).toFixed(1)} calls/s`,
      `  most in flight for one client: ${worstConcurrent} (limit ${maxConcurrent}) ${checks.concurrent ? 'ok' : 'EXCEEDED'}`,
      `  most starts in a rolling second for one client: ${worstPerSecond} (limit ${cps}) ${checks.perSecond ? 'ok' : 'EXCEEDED'}`,
      `  exactly once: ${stats.duplicates} duplicate calls, ${missing} contacts not called, ${completed}/${total} recorded completed on the first attempt ${checks.exactlyOnce ? 'ok' : 'WRONG'}`,
      `  status callbacks answered in p50 ${stats.callbackLatencyMs.p50.toFixed(1)} ms, p99 ${stats.callbackLatencyMs.p99.toFixed(1)} ms, max ${stats.callbackLatencyMs.max.toFixed(1)} ms at the double; mean ${lag.map((l) => l.callbackMeanMs.toFixed(1)).join('/')} ms inside the service`,
      `  /healthz during the drain: ${latencies.length} probes, p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${(latencies[latencies.length - 1] ?? 0).toFixed(1)} ms`,
      `  event-loop delay: service p99 ${lag.map((l) => l.p99.toFixed(0)).join('/')} ms, max ${lag.map((l) => l.max.toFixed(0)).join('/')} ms; the double (observer) p99 ${stats.loopDelayP99Ms.toFixed(0)} ms, max ${stats.loopDelayMaxMs.toFixed(0)} ms`,
      `  total: ${((tEnd - tDrain) / 1000).toFixed(1)} s from the first contact due to the last call ended (creating the contacts before: ${((tCreated - t0) / 1000).toFixed(1)} s); service CPU ${cpuS.toFixed(1)} s = ${((cpuS / ((tEnd - tDrain) / 1000)) * 100).toFixed(0)} % of one core; callbacks retried ${stats.callbacksFailed}${timedOut ? '; TIMED OUT' : ''}`,
      ...(db
        ? [
            `  PostgreSQL during the drain: server CPU ${db.cpuS === undefined ? 'not local' : `${db.cpuS.toFixed(1)} s = ${((db.cpuS / ((tEnd - tDrain) / 1000)) * 100).toFixed(0)} % of one core`}; ${db.commits} transactions (${(db.commits / Math.max(calls, 1)).toFixed(1)} a call), ${db.rollbacks} rolled back; backends running a statement mean ${db.active.mean.toFixed(1)} (max ${db.active.max}), waiting for a lock ${db.lockWaits.mean.toFixed(2)} (max ${db.lockWaits.max}), idle in a transaction ${db.idleInTransaction.mean.toFixed(1)} (max ${db.idleInTransaction.max})`,
          ]
        : []),
      `  machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, node ${process.version}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n${ok ? 'PASS' : 'FAIL'}\n`);
    const perClientOut = stats.clients.map(({ starts: _s, ...c }) => c);
    // Where a client's rolling second held too many starts (seconds after the first call), to tell
    // a pacing fault from a stall of one process (which bunches every client's calls at once).
    const t1 = starts[0] ?? t0;
    const overLimit = stats.clients.flatMap((c) => {
      const s = c.starts ?? [];
      const at: number[] = [];
      for (let i = cps; i < s.length; i++) if (s[i]! - s[i - cps]! < 1_000) at.push(Number(((s[i]! - t1) / 1000).toFixed(2)));
      return at.length ? [{ from: c.from, at: at.slice(0, 10) }] : [];
    });
    writeFileSync(
      join(ROOT, 'bench', 'pacing-results.json'),
      `${JSON.stringify(
        {
          at: new Date().toISOString(),
          settings: { contacts: total, clients: clientCount, maxConcurrent, cps, holdMs: args['hold-ms'], engine, instances },
          aggregate,
          limitSum,
          window: { from, to, what: window },
          worstConcurrent,
          worstPerSecond,
          duplicates: stats.duplicates,
          missing,
          completed,
          callbackLatencyMs: stats.callbackLatencyMs,
          callbackSocket: (stats as unknown as Record<string, unknown>).callbackSocket,
          eventLoopDelayMs: { service: lag, double: { p99: stats.loopDelayP99Ms, max: stats.loopDelayMaxMs } },
          healthzMs: { p50: pct(latencies, 50), p99: pct(latencies, 99), max: latencies[latencies.length - 1] ?? 0 },
          totalS: (tEnd - tDrain) / 1000,
          createS: (tCreated - t0) / 1000,
          cpuS,
          ...(db ? { database: db } : {}),
          checks,
          overLimit,
          sampleStarts: stats.clients.slice(0, 3).map((c) => ({ from: c.from, starts: (c.starts ?? []).map((x) => Math.round(x - t1)) })),
          clients: perClientOut,
        },
        null,
        2,
      )}\n`,
    );
    return ok ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    log(`bench:pacing failed: ${e.message}`);
    process.exit(1);
  },
);
