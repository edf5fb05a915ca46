// Storage engine for the whole suite: TEST_DATABASE_URL (agreed with the PostgreSQL stores).
// Unset → SQLite; `TEST_DATABASE_URL=postgres://… npx vitest run` runs every test on PostgreSQL.
// The choice is made in one place, test/helpers/testStores.ts.
import { Writable } from 'node:stream';
import { configFrom, type Config } from '../../src/config.js';
import type { Db } from '../../src/db/open.js';
import type { Stores } from '../../src/db/stores.js';
import { openTestStores, type TestStores } from './testStores.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createApp, type App } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { EventBus } from '../../src/events/bus.js';
import type { AppDeps } from '../../src/deps.js';
import type { Feature } from '../../src/webhook/registry.js';

export class FakeClock implements Clock {
  constructor(public t = Date.parse('2026-01-15T10:00:00.000Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(isoOrMs: string | number): void {
    this.t = typeof isoOrMs === 'number' ? isoOrMs : Date.parse(isoOrMs);
  }
}

export interface TestApp {
  app: App;
  bus: EventBus;
  http: App['http'];
  stores: Stores;
  db: Db;
  config: Config;
  clock: FakeClock;
  /** Every log line written so far, as text (for redaction tests). */
  logs: string[];
  dbPath: string;
  /** Rows of `sql` (`?` placeholders) on the stores' engine (SQLite or PostgreSQL). */
  query: TestStores['query'];
  /** Row counts of every table (see tableCounts). */
  counts: TestStores['counts'];
  close(): Promise<void>;
}

/**
 * A real app on a temp database with migrations applied, a fake clock and captured logs.
 * `env` overrides settings as environment strings; the per-IP limit is off unless a test sets it.
 */
export function buildTestApp(
  env: Record<string, string> = {},
  opts: { start?: boolean; clock?: FakeClock; features?: (deps: AppDeps) => Feature[]; engine?: 'sqlite' } = {},
): TestApp {
  const { stores, db, dbPath, query, counts, dispose } = openTestStores({ engine: opts.engine });
  const config = configFrom({ RATE_LIMIT_PER_IP: '0', DATABASE_PATH: dbPath, ...env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger('info', sink);
  const clock = opts.clock ?? new FakeClock();
  const bus = new EventBus();
  const deps: AppDeps = { stores, config, logger, clock, metrics: createMetrics(), bus };
  const app = opts.features ? createApp(deps, opts.features(deps)) : createApp(deps);
  if (opts.start) app.start();
  return {
    app,
    bus,
    http: app.http,
    stores,
    db,
    config,
    clock,
    logs,
    dbPath,
    query,
    counts,
    async close() {
      await app.stop();
      await dispose();
    },
  };
}

/** Count rows of every table, to assert that a rejected request changed nothing. */
export function tableCounts(t: TestApp): Promise<Record<string, number>> {
  return t.counts();
}
