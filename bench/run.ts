import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measurements, scenarios } from './scenarios/index.js';
import type { Measurement, RequestShape, Scenario } from './scenario.js';
import { context, ROOT, startChild, type Child } from './children.js';
import { checkoutRevision, measureAgainst } from './against.js';
import { measureInstances } from './instances.js';
import { load, round } from './load.js';
import { paced } from './paced.js';
import { cpuGrowth, databaseCpu } from './pgcpu.js';
import { freshPgDatabases, pgRowCounts, vacuumPg } from './pgDatabases.js';
import {
  cpuPerRequest,
  cpuRatio,
  formatAgainstTable,
  formatEnginesTable,
  formatInstancesTable,
  formatLoadTable,
  formatTable,
  formatTargets,
  judgeMemory,
  median,
  parseProcessMemory,
  spread,
  summarise,
  verdict,
  type InstancesRow,
  type LoadSummary,
  type MemorySample,
  type Round,
  type Row,
} from './report.js';

/**
 * `npm run bench [-- --only <name,…>] [--duration <s>] [--rounds <n>] [--connections <n>]
 *                [--engine both|sqlite|pg] [--cpu-prof] [--soak <s>] [--against <rev>]
 *                [--lean-comparators]`
 *
 * Starts the service (`node --import tsx src/server.ts`, temp database, every rate limit off,
 * LOG_LEVEL=info, its output discarded), the bare Express echo and, per scenario, its same-work twin (bench/twins/) as
 * child processes on free 127.0.0.1 ports. For each scenario: setup, a warm-up of each process,
 * then `rounds` pairs of runs (service, then its comparator, `duration` s each, autocannon at 64
 * connections) with each process's own CPU time read from /proc/<pid>/stat around every run; then
 * the service alone at a fixed rate of half its measured maximum (bench/paced.ts) for its p99.
 * Prints the table and the issue's targets, runs the measurements and writes bench/results.json.
 *
 * `--engine both` (the default): every chosen scenario and measurement on SQLite, then the
 * chosen write scenarios (those with `writes`) on PostgreSQL, then webhook-toggle through two
 * instances on one PostgreSQL database (bench/instances.ts), and the write scenarios' figures of
 * both engines side by side. `--engine sqlite` or `--engine pg` runs one engine (pg: the whole
 * chosen set there, and the two instances when webhook-toggle is chosen). On PostgreSQL the
 * service runs with DATABASE_URL on a fresh database `bench_x` and the twins on `bench_x_twin`
 * (server: BENCH_PG_URL, default the development cluster on 127.0.0.1:55432; BENCH_PG_DB names
 * the database instead of bench_x).
 * `--against <rev>`: ivr-toggle and webhook-toggle (or the `--only` scenarios) on SQLite, this
 * code's service and `<rev>`'s alternately under the same load (bench/against.ts).
 * `--cpu-prof` writes V8 CPU profiles of the service and of each twin to bench/profiles/<process>/
 * (with `--against`: of both services, bench/profiles/against-<scenario>-current and -<rev>).
 * `--lean-comparators`: the echo and the twins listen with the service's server construction
 * instead of `app.listen` (bench/comparatorServer.ts), so the ratios show only the service's own work.
 * `--soak <s>` repeats the scenarios against the service (SQLite unless `--engine pg`) for that
 * long, sampling its memory from /metrics, and exits 1 unless memory stayed flat and errors stayed 0.
 */

const WARMUP_S = 2;
const SAMPLE_EVERY_MS = 5_000;
/** The scenario `--engine both|pg` also runs through two instances: its state (agents) is shared. */
const INSTANCES_SCENARIO = 'webhook-toggle';
/** What `--against` measures unless `--only` says otherwise (issue 12). */
const AGAINST_SCENARIOS = ['ivr-toggle', 'webhook-toggle'];

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    engine: { type: 'string' },
    duration: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    soak: { type: 'string' },
    against: { type: 'string' },
    'lean-comparators': { type: 'boolean', default: false },
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
function usage(msg: string): never {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
}
const durationS = positiveInt('duration', args.duration, 600)!;
const rounds = positiveInt('rounds', args.rounds, 50)!;
const connectionsOverride = positiveInt('connections', args.connections, 1024);
const soakS = positiveInt('soak', args.soak, 24 * 3600);
type Engine = 'sqlite' | 'pg';
const engineArg = args.engine ?? (soakS || args.against ? 'sqlite' : 'both');
if (engineArg !== 'sqlite' && engineArg !== 'pg' && engineArg !== 'both') usage('--engine must be both, sqlite or pg');
if (soakS && engineArg === 'both') usage('--soak runs on one engine: --engine sqlite or --engine pg');
if (args.against !== undefined && engineArg !== 'sqlite') usage('--against compares SQLite services: leave --engine out or say sqlite');
if (args.against !== undefined && soakS) usage('--against and --soak are separate runs');
const engines: Engine[] = engineArg === 'both' ? ['sqlite', 'pg'] : [engineArg];
/** The PostgreSQL server of `--engine pg` (the development cluster unless BENCH_PG_URL says otherwise). */
const PG_SERVER = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:55432';
const PG_DB = process.env.BENCH_PG_DB ?? 'bench_x';
if (!/^[a-z_][a-z0-9_]{0,50}$/.test(PG_DB)) usage('BENCH_PG_DB must be a lower-case SQL name (letters, digits, _)');
/** `--lean-comparators`: the echo and the twins listen the way the service does (bench/comparatorServer.ts). */
const COMPARATOR_ENV: NodeJS.ProcessEnv = args['lean-comparators'] ? { BENCH_COMPARATOR_SERVER: 'lean' } : {};
const ENGINE_NAME: Record<Engine, string> = { sqlite: 'SQLite', pg: 'PostgreSQL' };

const log = (msg: string) => process.stderr.write(`${msg}\n`);

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

const dataDir = mkdtempSync(join(os.tmpdir(), 'cw-bench-'));
/** Every process the bench started and has not stopped yet, stopped on exit or a signal. */
const children: Child[] = [];
const started = (c: Child) => void children.push(c);
const stopped = (c: Child) => {
  const i = children.indexOf(c);
  if (i >= 0) children.splice(i, 1);
};
async function stopChild(c: Child): Promise<void> {
  await c.stop();
  stopped(c);
}
const cleanups: (() => void)[] = [];
async function cleanup(): Promise<void> {
  await Promise.all(children.map((c) => c.stop()));
  children.length = 0;
  for (const f of cleanups.splice(0)) f();
  rmSync(dataDir, { recursive: true, force: true });
}

/** The service's settings: its own SQLite file `name`.db, or DATABASE_URL; every limit off. */
function serviceEnv(name: string, databaseUrl?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_PATH: join(dataDir, `${name}.db`),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    RATE_LIMIT_PER_IP: '0',
    PAUSE_CHANGES_PER_MINUTE: '0',
    SHORTURL_CREATES_PER_MINUTE: '0',
    // The default level: the request line is work the service does for every request in production.
    LOG_LEVEL: 'info',
  };
  if (!databaseUrl) delete env.DATABASE_URL;
  // Nothing the bench starts may talk to anything but loopback.
  for (const k of ['DIALER_URL', 'EVENTS_WEBHOOK_URL', 'ADMIN_TOKEN', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'ALLOWED_IPS', 'TRUST_PROXY']) delete env[k];
  return env;
}

const profileDir = join(ROOT, 'bench', 'profiles');
const profileFlags = (name: string) => (args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []);

async function soak(engine: Engine, chosen: Scenario[]): Promise<number> {
  const pgUrls = engine === 'pg' ? await freshPgDatabases(PG_SERVER, PG_DB) : undefined;
  const service = await startChild('service', 'src/server.ts', serviceEnv('soak', pgUrls?.service), '/healthz', profileFlags('service'));
  started(service);
  log(`service on ${service.url}`);
  const ctx = context(service.url);
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
    while ((Date.now() - t0) / 1000 < soakS!) {
      pass += 1;
      for (const s of chosen) {
        const left = Math.ceil(soakS! - (Date.now() - t0) / 1000);
        if (left <= 0) break;
        log(`soak pass ${pass}: ${s.name} for ${Math.min(durationS, left)} s`);
        const sum = summarise(await load(service.url, shapes.get(s.name)!, s, Math.min(durationS, left), connectionsOverride), s.expectStatus);
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
  writeResults({ ...header(engine), mode: 'soak', soakS, rows, memory: memory ?? null, samples, errors });
  return memory?.flat && errors === 0 ? 0 : 1;
}

function header(engine: string): Record<string, unknown> {
  return {
    startedAt: new Date().toISOString(),
    node: process.version,
    engine,
    cpus: os.cpus().length,
    durationS,
    loadavg: os.loadavg(),
    comparatorServer: args['lean-comparators'] ? 'lean (the service\'s construction)' : 'app.listen',
  };
}

interface EngineResult {
  rows: Row[];
  measurements: Record<string, unknown>[];
  instances?: InstancesRow[];
  rowsOnPostgres?: Record<string, number | string>;
  failed: boolean;
}

/**
 * One engine: the service (and the echo) on it, each scenario against its comparator, the
 * measurements, and on PostgreSQL webhook-toggle through two instances when it is chosen.
 */
async function benchEngine(engine: Engine, chosen: Scenario[], chosenMeasurements: Measurement[]): Promise<EngineResult> {
  const pgUrls = engine === 'pg' ? await freshPgDatabases(PG_SERVER, PG_DB) : undefined;
  const env = serviceEnv(`service-${engine}`, pgUrls?.service);
  // Twins get only what they need: where to listen and keep their database, nothing of the service's settings.
  const twinEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: process.env.NODE_ENV, ...COMPARATOR_ENV };
  const service = await startChild('service', 'src/server.ts', env, '/healthz', profileFlags(`service-${engine}`));
  started(service);
  log(`${ENGINE_NAME[engine]}: service on ${service.url} (database ${pgUrls ? pgUrls.service : env.DATABASE_PATH})`);
  const ctx = context(service.url);
  const echo = await startChild('echo', 'bench/baseline.ts', { ...env, ...COMPARATOR_ENV }, '/');
  started(echo);
  log(`echo on ${echo.url}`);
  // On PostgreSQL on this machine, the server's CPU for the service's database (and for the
  // twins' database, around each twin run) is read around each run.
  const dbCpu = pgUrls ? await databaseCpu(pgUrls.service) : undefined;
  const twinDbCpu = pgUrls ? await databaseCpu(pgUrls.twin) : undefined;
  const measuredRound = async (child: Child, shape: RequestShape, s: Scenario, expect: number[] | undefined, db: typeof dbCpu): Promise<Round> => {
    const before = await db?.read();
    const r = await round(child, shape, s, durationS, expect, connectionsOverride);
    if (db && before) r.dbCpuPerRequestUs = cpuPerRequest(cpuGrowth(before, await db.read()), r);
    return r;
  };
  const rows: Row[] = [];
  for (const s of chosen) {
    log(`${s.name}: setup`);
    await s.setup?.(ctx);
    let twin: Child | undefined;
    if (s.twin) {
      const own = {
        TWIN_DATABASE_PATH: join(dataDir, `twin-${engine}-${s.name}.db`),
        ...(pgUrls ? { TWIN_DATABASE_URL: pgUrls.twin } : {}),
        TWIN_SHORTURL_BASE: `http://localhost:${new URL(service.url).port}`,
      };
      twin = await startChild(`${s.name} twin`, s.twin.file, { ...twinEnv, ...own, ...s.twin.env }, '/healthz', profileFlags(`twin-${engine}-${s.name}`));
      started(twin);
      log(`${s.name}: twin on ${twin.url}`);
    }
    const other = twin ?? echo;
    // One shape per process, reused for all its runs: per-request state carries on across them.
    const svcShape = s.request(ctx);
    const otherShape = s.request(context(other.url));
    const otherExpect = twin ? s.expectStatus : undefined;
    await load(service.url, svcShape, s, WARMUP_S, connectionsOverride);
    await load(other.url, otherShape, s, WARMUP_S, connectionsOverride);
    // On PostgreSQL, what earlier scenarios and the warm-ups wrote is vacuumed before measuring (pgDatabases.ts).
    if (pgUrls) await Promise.all([vacuumPg(pgUrls.service), vacuumPg(pgUrls.twin)]);
    const svcRounds: Round[] = [];
    const otherRounds: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      log(`${s.name}: round ${i + 1}/${rounds}: service, then ${twin ? 'twin' : 'echo'}, ${durationS} s each`);
      svcRounds.push(await measuredRound(service, svcShape, s, s.expectStatus, dbCpu));
      otherRounds.push(await measuredRound(other, otherShape, s, otherExpect, twin ? twinDbCpu : undefined));
    }
    const ratios = spread(svcRounds.map((r, i) => cpuRatio(r.cpuPerRequestUs, otherRounds[i]!.cpuPerRequestUs)));
    const rate = Math.max(1, Math.floor(median(svcRounds.map((r) => r.rps)) / 2));
    if (pgUrls) await vacuumPg(pgUrls.service);
    log(`${s.name}: service at a fixed ${rate} req/s for ${durationS} s`);
    const fixed = await paced(service.url, svcShape, { rate, seconds: durationS, expect: s.expectStatus });
    if (twin) await stopChild(twin);
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
  await stopChild(echo);
  await dbCpu?.close();
  await twinDbCpu?.close();
  if (rows.length) {
    process.stdout.write(`\n${formatTable(rows)}\n\nTargets (issue 15, engine ${engine}${args['lean-comparators'] ? ', comparators on the service\'s server construction' : ''})\n${formatTargets(rows)}\n`);
  }
  const result: EngineResult = { rows, measurements: [], failed: rows.some((r) => r.service.some((x) => x.responses === 0)) };
  if (pgUrls) {
    // Which features' state really went to PostgreSQL.
    const onPg = await pgRowCounts(pgUrls.service, ['agents', 'pause_events', 'ivr_steps', 'short_urls', 'user_preferences']);
    process.stdout.write(`\nrows the service wrote to PostgreSQL: ${Object.entries(onPg).map(([t, n]) => `${t} ${n}`).join(', ')}\n`);
    result.rowsOnPostgres = onPg;
    const s = chosen.find((x) => x.name === INSTANCES_SCENARIO);
    if (s) {
      const second = await startChild('second service', 'src/server.ts', serviceEnv(`service-${engine}-2`, pgUrls.service), '/healthz', profileFlags(`service-${engine}-2`));
      started(second);
      log(`${s.name}: a second instance on ${second.url}, same database`);
      await s.setup?.(ctx);
      result.instances = await measureInstances({
        scenario: s,
        instances: [service, second],
        shape: s.request(ctx),
        rounds,
        seconds: durationS,
        warmupSeconds: WARMUP_S,
        connections: connectionsOverride,
        log,
      });
      await stopChild(second);
      process.stdout.write(`\n${s.name} through two instances on one PostgreSQL database (each round: one instance, then two)\n${formatInstancesTable(result.instances)}\n`);
      if (result.instances.some((r) => r.rounds.some((x) => x.responses === 0))) result.failed = true;
    }
  }

  for (const m of chosenMeasurements) {
    log(`measurement ${m.name}`);
    try {
      const values = await m.run(ctx);
      result.measurements.push({ name: m.name, ...values });
      process.stdout.write(`\n${m.name}\n${Object.entries(values).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
    } catch (e) {
      result.measurements.push({ name: m.name, error: (e as Error).message });
      process.stdout.write(`\n${m.name}: FAILED — ${(e as Error).message}\n`);
      result.failed = true;
    }
  }
  await stopChild(service);
  return result;
}

async function against(rev: string, chosen: Scenario[]): Promise<number> {
  const revision = checkoutRevision(rev, log);
  cleanups.push(revision.remove);
  const rows = await measureAgainst({
    revision,
    scenarios: chosen,
    env: (name) => serviceEnv(name),
    rounds,
    seconds: durationS,
    warmupSeconds: WARMUP_S,
    connections: connectionsOverride,
    nodeFlags: (name) => profileFlags(`against-${name}`),
    started,
    stopped,
    log,
  });
  process.stdout.write(`\nThis code against ${revision.label} (${rev}), SQLite, alternate rounds of ${durationS} s\n${formatAgainstTable(rows, revision.label)}\n`);
  writeResults({ ...header('sqlite'), mode: 'against', against: { rev, commit: revision.commit }, rounds, rows });
  return rows.some((r) => [...r.current, ...r.old].some((x) => x.responses === 0)) ? 1 : 0;
}

async function main(): Promise<number> {
  const only = args.only?.split(',').map((n) => n.trim());
  if (args.against !== undefined) {
    const names = only ?? AGAINST_SCENARIOS;
    const chosen = scenarios.filter((s) => names.includes(s.name));
    if (chosen.length === 0) return usage(`no scenario named "${names.join(',')}"; known: ${scenarios.map((s) => s.name).join(', ')}`);
    return against(args.against, chosen);
  }
  const chosen = only ? scenarios.filter((s) => only.includes(s.name)) : scenarios;
  const chosenMeasurements = only ? measurements.filter((m) => only.includes(m.name)) : measurements;
  if (chosen.length === 0 && chosenMeasurements.length === 0) {
    log(`no scenario or measurement named "${args.only}"; known: ${[...scenarios, ...measurements].map((s) => s.name).join(', ')}`);
    return 2;
  }
  if (soakS) return soak(engines[0]!, chosen);

  const both = engines.length > 1;
  const results: Record<string, unknown> = { ...header(engineArg), mode: 'bench', rounds, connections: connectionsOverride ?? 'per scenario (default 64)' };
  const byEngine: Partial<Record<Engine, EngineResult>> = {};
  for (const engine of engines) {
    // Both engines: everything on SQLite; the write scenarios on PostgreSQL.
    const list = both && engine === 'pg' ? chosen.filter((s) => s.writes) : chosen;
    const ms = both && engine === 'pg' ? [] : chosenMeasurements;
    if (list.length === 0 && ms.length === 0) continue;
    if (both) log(`\n== ${ENGINE_NAME[engine]} ==`);
    byEngine[engine] = await benchEngine(engine, list, ms);
  }
  if (both) {
    const writes = new Set(chosen.filter((s) => s.writes).map((s) => s.name));
    const side = engines.flatMap((e) => (byEngine[e] ? [{ engine: ENGINE_NAME[e], rows: byEngine[e]!.rows.filter((r) => writes.has(r.scenario)) }] : []));
    if (writes.size) process.stdout.write(`\nWrite scenarios on both engines (medians over ${rounds} rounds of ${durationS} s; p99 at half the measured maximum)\n${formatEnginesTable(side)}\n`);
    const inst = byEngine.pg?.instances;
    if (inst) process.stdout.write(`\n${INSTANCES_SCENARIO} through two instances on one PostgreSQL database\n${formatInstancesTable(inst)}\n`);
    results.engines = byEngine;
  } else {
    const r = byEngine[engines[0]!];
    Object.assign(results, { rows: r?.rows ?? [], measurements: r?.measurements ?? [], ...(r?.rowsOnPostgres ? { rowsOnPostgres: r.rowsOnPostgres } : {}), ...(r?.instances ? { instances: r.instances } : {}) });
  }
  writeResults(results);
  return Object.values(byEngine).some((r) => r!.failed) ? 1 : 0;
}

function writeResults(results: Record<string, unknown>): void {
  const file = join(ROOT, 'bench', 'results.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${file}`);
}

const onSignal = () => void cleanup().then(() => process.exit(130));
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
main()
  .catch((e: Error) => {
    log(`bench failed: ${e.message}`);
    return 1;
  })
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  });
