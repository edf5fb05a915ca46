import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { measurements, scenarios } from './scenarios/index.js';
import type { BenchContext, RequestShape, Scenario } from './scenario.js';
import {
  describeTarget,
  formatTable,
  judgeMemory,
  parseProcessMemory,
  ratio,
  summarise,
  verdict,
  type LoadSummary,
  type MemorySample,
  type Row,
} from './report.js';

/**
 * `npm run bench [-- --only <name>] [--duration <s>] [--connections <n>] [--soak <s>]`
 *
 * Starts the service (`tsx src/server.ts`, temp database, every rate limit off, LOG_LEVEL=warn)
 * and the bare Express baseline as child processes on free 127.0.0.1 ports, runs each scenario
 * against both in this one run, prints one table, runs the measurements and writes
 * bench/results.json. `--soak <s>` repeats the scenarios against the service for that long,
 * sampling its memory from /metrics, and exits 1 unless memory stayed flat and errors stayed 0.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const WARMUP_S = 1;
const SAMPLE_EVERY_MS = 5_000;

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string' },
    soak: { type: 'string' },
  },
  strict: true,
});

function positiveInt(name: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > max) {
    process.stderr.write(`--${name} must be a whole number from 1 to ${max}\n`);
    process.exit(2);
  }
  return n;
}
const durationS = positiveInt('duration', args.duration, 600)!;
const connectionsOverride = positiveInt('connections', args.connections, 1024);
const soakS = positiveInt('soak', args.soak, 24 * 3600);

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Child {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Start `npx tsx <file>` in its own process group and wait until `readyPath` answers 200. */
async function startChild(label: string, file: string, env: NodeJS.ProcessEnv, readyPath: string): Promise<Child> {
  const port = await freePort();
  const proc = spawn('npx', ['tsx', file], {
    cwd: ROOT,
    env: { ...env, PORT: String(port), HOST },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const url = `http://${HOST}:${port}`;
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (proc.pid) process.kill(-proc.pid, sig);
    } catch {
      /* already gone */
    }
  };
  const stop = async () => {
    if (exited) return;
    signal('SIGTERM');
    const killer = setTimeout(() => signal('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killer);
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${label} exited during start-up: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    try {
      const r = await fetch(url + readyPath, { signal: AbortSignal.timeout(1_000) });
      if (r.ok) return { proc, url, stop };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`${label} did not answer ${readyPath} within 60 s`);
}

function context(baseUrl: string): BenchContext {
  return {
    baseUrl,
    async call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers }, signal: AbortSignal.timeout(30_000) };
      if (body !== undefined) {
        if (typeof body === 'string') init.body = body;
        else {
          init.body = JSON.stringify(body);
          (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
        }
      }
      const r = await fetch(baseUrl + path, init);
      const text = await r.text();
      if (r.status >= 500) throw new Error(`setup ${method} ${path} → ${r.status}: ${text.slice(0, 200)}`);
      return (r.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
    },
  };
}

async function load(baseUrl: string, shape: RequestShape, s: Scenario, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: baseUrl + shape.path,
    method: shape.method ?? 'GET',
    headers: shape.headers,
    body: shape.body,
    requests: shape.requests,
    connections: connectionsOverride ?? s.connections ?? 64,
    duration: seconds,
    timeout: 10,
  });
}

async function measure(baseUrl: string, shape: RequestShape, s: Scenario, seconds: number): Promise<LoadSummary> {
  await load(baseUrl, shape, s, WARMUP_S);
  return summarise(await load(baseUrl, shape, s, seconds), s.expectStatus);
}

async function sampleMemory(serviceUrl: string, t0: number): Promise<MemorySample | undefined> {
  try {
    const r = await fetch(`${serviceUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const m = parseProcessMemory(await r.text());
    return m && { t: (Date.now() - t0) / 1000, ...m };
  } catch {
    return undefined;
  }
}

function merge(a: LoadSummary | undefined, b: LoadSummary): LoadSummary {
  if (!a) return b;
  const n = a.responses + b.responses;
  const statuses = { ...a.statuses };
  for (const [k, v] of Object.entries(b.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    rps: n ? (a.rps * a.responses + b.rps * b.responses) / n : 0,
    p50Ms: Math.max(a.p50Ms, b.p50Ms),
    p99Ms: Math.max(a.p99Ms, b.p99Ms),
    responses: n,
    errors: a.errors + b.errors,
    unexpected: a.unexpected + b.unexpected,
    statuses,
  };
}

async function main(): Promise<number> {
  const chosen = args.only ? scenarios.filter((s) => s.name === args.only) : scenarios;
  const chosenMeasurements = args.only ? measurements.filter((m) => m.name === args.only) : measurements;
  if (chosen.length === 0 && chosenMeasurements.length === 0) {
    log(`no scenario or measurement named "${args.only}"; known: ${[...scenarios, ...measurements].map((s) => s.name).join(', ')}`);
    return 2;
  }

  const dataDir = mkdtempSync(join(os.tmpdir(), 'cw-bench-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_PATH: join(dataDir, 'bench.db'),
    RATE_LIMIT_PER_IP: '0',
    PAUSE_CHANGES_PER_MINUTE: '0',
    SHORTURL_CREATES_PER_MINUTE: '0',
    LOG_LEVEL: 'warn',
  };
  // Nothing the bench starts may talk to anything but loopback.
  for (const k of ['DIALER_URL', 'EVENTS_WEBHOOK_URL', 'ADMIN_TOKEN', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'ALLOWED_IPS', 'TRUST_PROXY']) delete env[k];

  const children: Child[] = [];
  const cleanup = async () => {
    await Promise.all(children.map((c) => c.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const service = await startChild('service', 'src/server.ts', env, '/healthz');
    children.push(service);
    log(`service on ${service.url} (database ${env.DATABASE_PATH})`);
    const ctx = context(service.url);
    const results: Record<string, unknown> = {
      startedAt: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      durationS,
      mode: soakS ? 'soak' : 'bench',
    };

    if (soakS) {
      const t0 = Date.now();
      const samples: MemorySample[] = [];
      let warmedUp = false;
      const timer = setInterval(() => {
        void sampleMemory(service.url, t0).then((s) => s && warmedUp && samples.push(s));
      }, SAMPLE_EVERY_MS);
      const totals = new Map<string, LoadSummary>();
      try {
        for (const s of chosen) await s.setup?.(ctx);
        let pass = 0;
        while ((Date.now() - t0) / 1000 < soakS) {
          pass += 1;
          for (const s of chosen) {
            const left = Math.ceil(soakS - (Date.now() - t0) / 1000);
            if (left <= 0) break;
            log(`soak pass ${pass}: ${s.name} for ${Math.min(durationS, left)} s`);
            const sum = summarise(await load(service.url, s.request(ctx), s, Math.min(durationS, left)), s.expectStatus);
            totals.set(s.name, merge(totals.get(s.name), sum));
          }
          // The first pass warms caches and the JIT; memory is judged from what follows.
          warmedUp = true;
        }
      } finally {
        clearInterval(timer);
      }
      const last = await sampleMemory(service.url, t0);
      if (last) samples.push(last);
      const rows: Row[] = chosen.flatMap((s) => {
        const t = totals.get(s.name);
        return t ? [{ scenario: s.name, service: t, baseline: undefined, ratio: undefined, target: describeTarget(s.target), met: verdict(t, undefined, { p99Ms: s.target?.p99Ms }) }] : [];
      });
      const errors = rows.reduce((a, r) => a + r.service.errors + r.service.unexpected, 0);
      const memory = judgeMemory(samples);
      process.stdout.write(`\n${formatTable(rows)}\n\n`);
      process.stdout.write(
        memory
          ? `memory: heap ${memory.heapStartMiB} → ${memory.heapEndMiB} MiB, RSS ${memory.rssStartMiB} → ${memory.rssEndMiB} MiB: ${memory.flat ? 'flat' : 'GREW'}\n`
          : `memory: too few samples after warm-up to judge (soak longer than one pass of the scenarios)\n`,
      );
      process.stdout.write(`errors and unexpected statuses over the soak: ${errors}\n`);
      Object.assign(results, { soakS, rows, memory: memory ?? null, samples, errors });
      writeResults(results);
      return memory?.flat && errors === 0 ? 0 : 1;
    }

    const baseline = await startChild('baseline', 'bench/baseline.ts', env, '/');
    children.push(baseline);
    log(`baseline on ${baseline.url}`);
    const rows: Row[] = [];
    for (const s of chosen) {
      log(`${s.name}: setup`);
      await s.setup?.(ctx);
      const shape = s.request(ctx);
      log(`${s.name}: service ${durationS} s`);
      const svc = await measure(service.url, shape, s, durationS);
      log(`${s.name}: baseline ${durationS} s`);
      const base = await measure(baseline.url, shape, { ...s, expectStatus: undefined }, durationS);
      const r = ratio(svc.rps, base.rps);
      rows.push({ scenario: s.name, service: svc, baseline: base, ratio: r, target: describeTarget(s.target), met: verdict(svc, r, s.target) });
    }
    if (rows.length) process.stdout.write(`\n${formatTable(rows)}\n`);

    const measured: Record<string, unknown>[] = [];
    for (const m of chosenMeasurements) {
      log(`measurement ${m.name}`);
      try {
        const values = await m.run(ctx);
        measured.push({ name: m.name, ...values });
        process.stdout.write(`\n${m.name}\n${Object.entries(values).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
      } catch (e) {
        measured.push({ name: m.name, error: (e as Error).message });
        process.stdout.write(`\n${m.name}: FAILED — ${(e as Error).message}\n`);
      }
    }
    Object.assign(results, { connections: connectionsOverride ?? 'per scenario (default 64)', rows, measurements: measured });
    writeResults(results);
    return rows.some((r) => r.service.responses === 0) || measured.some((m) => 'error' in m) ? 1 : 0;
  } finally {
    await cleanup();
  }
}

function writeResults(results: Record<string, unknown>): void {
  const file = join(ROOT, 'bench', 'results.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${file}`);
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    log(`bench failed: ${e.message}`);
    process.exit(1);
  },
);
