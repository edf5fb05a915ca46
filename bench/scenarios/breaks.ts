import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import supertest from 'supertest';
import { createApp } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { configFrom } from '../../src/config.js';
import { migrate, openDatabase, type Db } from '../../src/db/open.js';
import type { AppDeps } from '../../src/deps.js';
import { createSqliteStores } from '../../src/db/stores.sqlite.js';
import { EventBus } from '../../src/events/bus.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { loadIvrCatalog } from '../../src/ivr/ivr.catalog.js';
import { createPauseService } from '../../src/pause/pause.service.js';
import type { Measurement, Scenario } from '../scenario.js';

/**
 * Issue 7's scale goal: with 1,000 agents and 1,000,000 pause events (30 days of history), a
 * one-day break report answers in under 1 s, and a pause change is as fast as on an empty
 * database. Both databases are built here, in-process, with the real migrations.
 */

const AGENTS = 1_000;
const EVENTS = 1_000_000;
const DAYS = 30;
const REASONS = ['lunch', 'tea', 'meeting', 'training', 'personal', null];
const CHANGES = 2_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function open(): { db: Db; dir: string; deps: AppDeps; clock: { t: number } & Clock } {
  const dir = mkdtempSync(join(tmpdir(), 'cw-bench-breaks-'));
  const path = join(dir, 'breaks.db');
  const db = openDatabase(path);
  migrate(db);
  const clock = { t: Date.parse('2026-01-31T12:00:00.000Z'), now() { return this.t; } };
  const config = configFrom({ DATABASE_PATH: path, PAUSE_CHANGES_PER_MINUTE: '0', RATE_LIMIT_PER_IP: '0' });
  const logger = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
  return { db, dir, clock, deps: { stores: createSqliteStores(db), config, logger, clock, metrics: createMetrics(), bus: new EventBus() } };
}

const cliOf = (i: number) => `+9190000${String(i).padStart(5, '0')}`;

/** 1,000 agents whose breaks alternate with work, spread evenly over `DAYS` up to `end`. */
function fill(db: Db, end: number): void {
  const insertAgent = db.prepare(
    `INSERT INTO agents (stage, cli, name, account_id, language, pause, reason, since, created_at, updated_at)
     VALUES ('prod', ?, ?, NULL, 'en', ?, ?, ?, ?, ?)`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
     VALUES ('prod', ?, ?, ?, ?, 'ivr', NULL, ?, ?, ?)`,
  );
  const perAgent = EVENTS / AGENTS;
  const step = Math.floor((DAYS * 86_400_000) / perAgent);
  const start = end - DAYS * 86_400_000;
  db.transaction(() => {
    for (let a = 0; a < AGENTS; a++) {
      const cli = cliOf(a);
      let pause = 0;
      let reason: string | null = null;
      let since: number | null = null;
      for (let k = 0; k < perAgent; k++) {
        const at = start + k * step + ((a * 7919) % step);
        const nextPause = pause ? 0 : 1;
        const nextReason = nextPause ? REASONS[(a + k) % REASONS.length]! : null;
        insertEvent.run(at, cli, nextPause, nextReason, pause, reason, since);
        pause = nextPause;
        reason = nextReason;
        since = at;
      }
      insertAgent.run(cli, `Agent ${a}`, pause, reason, since, start, since);
    }
  })();
  db.pragma('optimize');
}

async function changeSpeed(deps: AppDeps, clock: { t: number }): Promise<number> {
  const ivr = loadIvrCatalog('ivr', 'en');
  const service = createPauseService(deps, { languages: ivr.languages });
  for (let i = 0; i < 50; i++) service.saveAgent('prod', { cli: cliOf(i) });
  const times: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    clock.t += 1_000;
    const t0 = performance.now();
    await service.changePause({ stage: 'prod', cli: cliOf(i % 50), pause: 'toggle', reason: i % 4 ? 'tea' : null, source: 'webhook' });
    times.push(performance.now() - t0);
  }
  return median(times.slice(CHANGES / 4)) * 1000;
}

export const breaksMeasurements: Measurement[] = [
  {
    name: 'break-report-1m-events',
    async run() {
      const big = open();
      const empty = open();
      try {
        const t0 = performance.now();
        fill(big.db, big.clock.t);
        const fillS = (performance.now() - t0) / 1000;
        const app = createApp(big.deps);
        const http = supertest(app.http);
        const timed = async (path: string) => {
          const runs: number[] = [];
          let bytes = 0;
          for (let i = 0; i < 5; i++) {
            const s = performance.now();
            const r = await http.get(path);
            if (r.status !== 200) throw new Error(`${path} → ${r.status}`);
            bytes = r.text.length;
            runs.push(performance.now() - s);
          }
          return { ms: median(runs), bytes };
        };
        const day = await timed('/admin/prod/reports/breaks');
        const csv = await timed('/admin/prod/reports/breaks?format=csv');
        const week = await timed(`/admin/prod/reports/breaks?from=${new Date(big.clock.t - 7 * 86_400_000).toISOString()}`);
        const board = await timed('/admin/prod/board');
        const events = big.db.prepare('SELECT count(*) FROM pause_events').pluck().get() as number;
        const emptyUs = await changeSpeed(empty.deps, empty.clock);
        const bigUs = await changeSpeed(big.deps, big.clock);
        await app.stop();
        return {
          agents: AGENTS,
          events: events.toLocaleString('en-US'),
          'fill seconds': fillS.toFixed(1),
          'one-day report ms (JSON, median of 5)': day.ms.toFixed(0),
          'one-day report ms (CSV)': csv.ms.toFixed(0),
          'seven-day report ms': week.ms.toFixed(0),
          'board page ms': board.ms.toFixed(0),
          'target: one-day report < 1000 ms': day.ms < 1000 ? 'met' : 'NOT met',
          'pause change µs, empty database (median)': emptyUs.toFixed(0),
          'pause change µs, 1M events (median)': bigUs.toFixed(0),
          'change slowdown on 1M events': `${(bigUs / emptyUs).toFixed(2)}×`,
        };
      } finally {
        for (const d of [big, empty]) {
          d.db.close();
          rmSync(d.dir, { recursive: true, force: true });
        }
      }
    },
  },
];

/** The break report over HTTP for 100 agents, half of them on break (no goal in the issue; for reference). */
export const breaksScenarios: Scenario[] = [
  {
    name: 'break-report-json',
    async setup(ctx) {
      for (let i = 0; i < 100; i++) {
        await ctx.call('PUT', `/admin/test/agents/${cliOf(i)}`, { name: `Agent ${i}` });
        await ctx.call('POST', '/centraloutboundwebhook-v1/test/', { method: 'updatePauseStatusForCLI', cli: cliOf(i), pause: true, reason: 'tea' });
        if (i % 2) await ctx.call('POST', '/centraloutboundwebhook-v1/test/', { method: 'updatePauseStatusForCLI', cli: cliOf(i), pause: false });
      }
    },
    request: () => ({ method: 'GET', path: '/admin/test/reports/breaks' }),
  },
];
