import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { measurements, scenarios } from './scenarios/index.js';
import type { RequestShape, Scenario } from './scenario.js';
import { processCpuMicros } from './cpu.js';
import { context, ROOT, startChild, type Child } from './children.js';
import { paced } from './paced.js';
import {
  cpuPerRequest,
  cpuRatio,
  formatLoadTable,
  formatTable,
  formatTargets,
  judgeMemory,
  median,
  parseProcessMemory,
  spread,
  summarise,
  verdict,
  type LoadSummary,
  type MemorySample,
  type Round,
  type Row,
} from './report.js';

/**
 * `npm run bench [-- --only <name,…>] [--duration <s>] [--rounds <n>] [--connections <n>]
 *                [--engine sqlite|pg] [--cpu-prof] [--soak <s>]`
 *
 * Starts the service (`node --import tsx src/server.ts`, temp database, every rate limit off,
 * LOG_LEVEL=info, its output discarded), the bare Express echo and, per scenario, its same-work twin (bench/twins/) as
 * child processes on free 127.0.0.1 ports. For each scenario: setup, a warm-up of each process,
 * then `rounds` pairs of runs (service, then its comparator, `duration` s each, autocannon at 64
 * connections) with each process's own CPU time read from /proc/<pid>/stat around every run; then
 * the service alone at a fixed rate of half its measured maximum (bench/paced.ts) for its p99.
 * Prints the table and the issue's targets, runs the measurements and writes bench/results.json.
 * `--engine pg` runs the service with DATABASE_URL on a fresh database `bench_x` and the twins on
 * `bench_x_twin` (server: BENCH_PG_URL, default the development cluster on 127.0.0.1:55432).
 * `--cpu-prof` writes V8 CPU profiles of the service and of each twin to bench/profiles/<process>/.
 * `--soak <s>` repeats the scenarios against the service for that long, sampling its memory from
 * /metrics, and exits 1 unless memory stayed flat and errors stayed 0.
 */

const WARMUP_S = 2;
const SAMPLE_EVERY_MS = 5_000;

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    engine: { type: 'string', default: 'sqlite' },
    duration: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
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
if (args.engine !== 'sqlite' && args.engine !== 'pg') {
  process.stderr.write('--engine must be sqlite or pg\n');
  process.exit(2);
}
const engine = args.engine;
/** The PostgreSQL server of `--engine pg` (the development cluster unless BENCH_PG_URL says otherwise). */
const PG_SERVER = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:55432';
const rounds = positiveInt('rounds', args.rounds, 50)!;
const connectionsOverride = positiveInt('connections', args.connections, 1024);
const soakS = positiveInt('soak', args.soak, 24 * 3600);

const log = (msg: string) => process.stderr.write(`${msg}\n`);

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

/** One timed run against one process, with the CPU time that process used during it. */
async function round(child: Child, shape: RequestShape, s: Scenario, seconds: number, expect: number[] | undefined): Promise<Round> {
  const before = processCpuMicros(child.pid);
  const result = await load(child.url, shape, s, seconds);
  const cpuMicros = processCpuMicros(child.pid) - before;
  const summary = summarise(result, expect);
  return { ...summary, cpuMicros, cpuPerRequestUs: cpuPerRequest(cpuMicros, summary) };
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
  const only = args.only?.split(',').map((n) => n.trim());
  const chosen = only ? scenarios.filter((s) => only.includes(s.name)) : scenarios;
  const chosenMeasurements = only ? measurements.filter((m) => only.includes(m.name)) : measurements;
  if (chosen.length === 0 && chosenMeasurements.length === 0) {
    log(`no scenario or measurement named "${args.only}"; known: ${[...scenarios, ...measurements].map((s) => s.name).join(', ')}`);
    return 2;
  }

  const dataDir = mkdtempSync(join(os.tmpdir(), 'cw-bench-'));
  const pgUrls = engine === 'pg' ? await freshPgDatabases(PG_SERVER) : undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_PATH: join(dataDir, 'bench.db'),
    ...(pgUrls ? { DATABASE_URL: pgUrls.service } : {}),
    RATE_LIMIT_PER_IP: '0',
    PAUSE_CHANGES_PER_MINUTE: '0',
    SHORTURL_CREATES_PER_MINUTE: '0',
    // The default level: the request line is work the service does for every request in production.
    LOG_LEVEL: 'info',
  };
  // Nothing the bench starts may talk to anything but loopback.
  for (const k of ['DIALER_URL', 'EVENTS_WEBHOOK_URL', 'ADMIN_TOKEN', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'ALLOWED_IPS', 'TRUST_PROXY']) delete env[k];

  // Twins get only what they need: where to listen and keep their database, nothing of the service's settings.
  const twinEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: process.env.NODE_ENV };
  const profileDir = join(ROOT, 'bench', 'profiles');
  const profileFlags = (name: string) => (args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []);
  const serviceFlags = profileFlags('service');

  const children: Child[] = [];
  const cleanup = async () => {
    await Promise.all(children.map((c) => c.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const service = await startChild('service', 'src/server.ts', env, '/healthz', serviceFlags);
    children.push(service);
    log(`service on ${service.url} (database ${env.DATABASE_PATH})`);
    const ctx = context(service.url);
    const results: Record<string, unknown> = {
      startedAt: new Date().toISOString(),
      node: process.version,
      engine,
      cpus: os.cpus().length,
      durationS,
      loadavg: os.loadavg(),
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
        const shapes = new Map(chosen.map((s) => [s.name, s.request(ctx)]));
        let pass = 0;
        while ((Date.now() - t0) / 1000 < soakS) {
          pass += 1;
          for (const s of chosen) {
            const left = Math.ceil(soakS - (Date.now() - t0) / 1000);
            if (left <= 0) break;
            log(`soak pass ${pass}: ${s.name} for ${Math.min(durationS, left)} s`);
            const sum = summarise(await load(service.url, shapes.get(s.name)!, s, Math.min(durationS, left)), s.expectStatus);
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
      const rows = chosen.flatMap((s) => {
        const t = totals.get(s.name);
        return t ? [{ scenario: s.name, load: t }] : [];
      });
      const errors = rows.reduce((a, r) => a + r.load.errors + r.load.unexpected, 0);
      const memory = judgeMemory(samples);
      process.stdout.write(`\n${formatLoadTable(rows)}\n\n`);
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

    const echo = await startChild('echo', 'bench/baseline.ts', env, '/');
    children.push(echo);
    log(`echo on ${echo.url}`);
    const rows: Row[] = [];
    for (const s of chosen) {
      log(`${s.name}: setup`);
      await s.setup?.(ctx);
      let twin: Child | undefined;
      if (s.twin) {
        const own = {
          TWIN_DATABASE_PATH: join(dataDir, `twin-${s.name}.db`),
          ...(pgUrls ? { TWIN_DATABASE_URL: pgUrls.twin } : {}),
          TWIN_SHORTURL_BASE: `http://localhost:${new URL(service.url).port}`,
        };
        twin = await startChild(`${s.name} twin`, s.twin.file, { ...twinEnv, ...own, ...s.twin.env }, '/healthz', profileFlags(`twin-${s.name}`));
        children.push(twin);
        log(`${s.name}: twin on ${twin.url}`);
      }
      const other = twin ?? echo;
      // One shape per process, reused for all its runs: per-request state carries on across them.
      const svcShape = s.request(ctx);
      const otherShape = s.request(context(other.url));
      const otherExpect = twin ? s.expectStatus : undefined;
      await load(service.url, svcShape, s, WARMUP_S);
      await load(other.url, otherShape, s, WARMUP_S);
      const svcRounds: Round[] = [];
      const otherRounds: Round[] = [];
      for (let i = 0; i < rounds; i++) {
        log(`${s.name}: round ${i + 1}/${rounds}: service, then ${twin ? 'twin' : 'echo'}, ${durationS} s each`);
        svcRounds.push(await round(service, svcShape, s, durationS, s.expectStatus));
        otherRounds.push(await round(other, otherShape, s, durationS, otherExpect));
      }
      const ratios = spread(svcRounds.map((r, i) => cpuRatio(r.cpuPerRequestUs, otherRounds[i]!.cpuPerRequestUs)));
      const rate = Math.max(1, Math.floor(median(svcRounds.map((r) => r.rps)) / 2));
      log(`${s.name}: service at a fixed ${rate} req/s for ${durationS} s`);
      const fixed = await paced(service.url, svcShape, { rate, seconds: durationS, expect: s.expectStatus });
      if (twin) {
        await twin.stop();
        children.splice(children.indexOf(twin), 1);
      }
      const row: Row = {
        scenario: s.name,
        comparator: twin ? 'twin' : 'echo',
        service: svcRounds,
        other: otherRounds,
        ratio: ratios,
        fixed,
        target: s.target,
        met: verdict(svcRounds, ratios, fixed, s.target),
      };
      if (pgUrls && s.writes) {
        const n = (await pgRowCounts(pgUrls.service, [s.writes]))[s.writes];
        if (!(typeof n === 'number' && n > 0)) {
          row.note = `the service wrote no ${s.writes} rows to PostgreSQL (its store is still SQLite)`;
          row.met = '-';
        }
      }
      rows.push(row);
      process.stdout.write(`${formatTable([row]).split('\n').slice(2).join('\n')}\n`);
    }
    if (rows.length) {
      process.stdout.write(`\n${formatTable(rows)}\n\nTargets (issue 15, engine ${engine})\n${formatTargets(rows)}\n`);
    }
    if (pgUrls) {
      // Which features' state really went to PostgreSQL (the others are still on the SQLite file).
      const onPg = await pgRowCounts(pgUrls.service, ['agents', 'pause_events', 'ivr_steps', 'short_urls', 'user_preferences']);
      process.stdout.write(`\nrows the service wrote to PostgreSQL: ${Object.entries(onPg).map(([t, n]) => `${t} ${n}`).join(', ')}\n`);
      results.rowsOnPostgres = onPg;
    }

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
    Object.assign(results, { rounds, connections: connectionsOverride ?? 'per scenario (default 64)', rows, measurements: measured });
    writeResults(results);
    return rows.some((r) => r.service.some((x) => x.responses === 0)) || measured.some((m) => 'error' in m) ? 1 : 0;
  } finally {
    await cleanup();
  }
}

/**
 * `bench_x` for the service and `bench_x_twin` for the twins, dropped and made afresh: the bench's
 * own databases on the server (nobody else's is touched).
 */
async function freshPgDatabases(server: string): Promise<{ service: string; twin: string }> {
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  try {
    for (const name of ['bench_x', 'bench_x_twin']) {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
    }
  } finally {
    await admin.end();
  }
  return { service: `${server}/bench_x`, twin: `${server}/bench_x_twin` };
}

async function pgRowCounts(url: string, tables: string[]): Promise<Record<string, number | string>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const out: Record<string, number | string> = {};
  try {
    for (const t of tables) {
      try {
        out[t] = Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
      } catch {
        out[t] = 'no table';
      }
    }
  } finally {
    await c.end();
  }
  return out;
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
