import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { scenarios } from './scenarios/index.js';
import { context, ROOT, startChild, type Child } from './children.js';
import { freshPgDatabases } from './pgDatabases.js';
import type { RequestShape, Scenario } from './scenario.js';

/**
 * `npm run bench:roundtrips [-- --only <name,…>] [--requests <n>]`
 *
 * Round trips to PostgreSQL per request, of the service and of each scenario's same-work twin
 * (issue 15): both run on fresh databases (BENCH_PG_URL, default the development cluster;
 * BENCH_PG_DB, default bench_rt) with bench/countQueries.mjs preloaded, which counts the queries
 * node-pg sends while handling a request. Each process gets a warm-up, then `requests` requests
 * (8 connections). What the service's timers send meanwhile (the scheduler, senders, prunes) is
 * shown per second beside it. A debug measurement: CPU figures come from `npm run bench`, without the counter.
 */

const { values: args } = parseArgs({
  options: { only: { type: 'string' }, requests: { type: 'string', default: '500' } },
  strict: true,
});
const REQUESTS = Number(args.requests);
if (!Number.isInteger(REQUESTS) || REQUESTS < 1) throw new Error('--requests must be a whole number');
const DEFAULT = ['ivr-toggle', 'webhook-toggle', 'shorturl-create', 'userprefs', 'unknown-method', 'redirect'];
const names = args.only?.split(',').map((n) => n.trim()) ?? DEFAULT;
const chosen = scenarios.filter((s) => names.includes(s.name));
if (chosen.length === 0) throw new Error(`no scenario named "${names.join(',')}"`);
const PG_SERVER = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:55432';
const PG_DB = process.env.BENCH_PG_DB ?? 'bench_rt';
if (!/^[a-z_][a-z0-9_]{0,50}$/.test(PG_DB)) throw new Error('BENCH_PG_DB must be a lower-case SQL name (letters, digits, _)');

const dir = mkdtempSync(join(os.tmpdir(), 'cw-roundtrips-'));
const counter = ['--import', join(ROOT, 'bench', 'countQueries.mjs')];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Counted {
  child: Child;
  file: string;
}
/** Queries sent so far: while handling a request, and otherwise (timers). */
function queries(c: Counted): { inRequests: number; others: number } {
  try {
    const [a, b] = readFileSync(c.file, 'utf8').split(' ').map(Number);
    return { inRequests: a!, others: b! };
  } catch {
    return { inRequests: 0, others: 0 };
  }
}

/** Queries per successful request of `shape` against `c`, and what its timers sent per second meanwhile. */
async function perRequest(c: Counted, shape: RequestShape, s: Scenario): Promise<{ perRequest: number; othersPerS: number }> {
  const send = (amount: number) =>
    autocannon({ url: c.child.url + shape.path, method: shape.method ?? 'GET', headers: shape.headers, body: shape.body, requests: shape.requests, connections: 8, amount });
  await send(50);
  await sleep(300);
  const t0 = Date.now();
  const before = queries(c);
  const r = await send(REQUESTS);
  await sleep(300);
  const after = queries(c);
  const seconds = (Date.now() - t0) / 1000;
  const ok = s.expectStatus ? s.expectStatus.reduce((a, st) => a + (r.statusCodeStats?.[String(st) as '200']?.count ?? 0), 0) : r['2xx'];
  return { perRequest: ok ? (after.inRequests - before.inRequests) / ok : NaN, othersPerS: (after.others - before.others) / seconds };
}

async function main(): Promise<void> {
  const urls = await freshPgDatabases(PG_SERVER, PG_DB);
  const serviceFile = join(dir, 'service.count');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: urls.service,
    DATABASE_PATH: join(dir, 'service.db'),
    RATE_LIMIT_PER_IP: '0',
    PAUSE_CHANGES_PER_MINUTE: '0',
    SHORTURL_CREATES_PER_MINUTE: '0',
    LOG_LEVEL: 'info',
    COUNT_QUERIES_FILE: serviceFile,
  };
  for (const k of ['DIALER_URL', 'EVENTS_WEBHOOK_URL', 'ADMIN_TOKEN', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'ALLOWED_IPS', 'TRUST_PROXY']) delete env[k];
  const service: Counted = { child: await startChild('service', 'src/server.ts', env, '/healthz', counter), file: serviceFile };
  const rows: string[] = ['| scenario | service round trips/req | twin round trips/req | service queries/s outside requests |', '| --- | --- | --- | --- |'];
  try {
    for (const s of chosen) {
      await s.setup?.(context(service.child.url));
      const svc = await perRequest(service, s.request(context(service.child.url)), s);
      let twin = '- (echo: no database)';
      if (s.twin) {
        const file = join(dir, `${s.name}.count`);
        const own = { PATH: process.env.PATH, HOME: process.env.HOME, TWIN_DATABASE_PATH: join(dir, `twin-${s.name}.db`), TWIN_DATABASE_URL: urls.twin, COUNT_QUERIES_FILE: file };
        const child = await startChild(`${s.name} twin`, s.twin.file, { ...own, ...s.twin.env }, '/healthz', counter);
        try {
          const t = await perRequest({ child, file }, s.request(context(child.url)), s);
          twin = t.perRequest.toFixed(2);
        } finally {
          await child.stop();
        }
      }
      rows.push(`| ${s.name} | ${svc.perRequest.toFixed(2)} | ${twin} | ${svc.othersPerS.toFixed(1)} |`);
      process.stderr.write(`${rows.at(-1)}\n`);
    }
  } finally {
    await service.child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`\nRound trips to PostgreSQL per successful request (${REQUESTS} requests, 8 connections)\n${rows.join('\n')}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`bench:roundtrips failed: ${e.message}\n`);
  process.exit(1);
});
