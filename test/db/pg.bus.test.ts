import { Writable } from 'node:stream';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migratePg, openPgPool } from '../../src/db/pg.js';
import { EventBus, type AgentChangeEvent, type PauseChangeEvent } from '../../src/events/bus.js';
import { BUS_CHANNEL, listenForPeers } from '../../src/events/pgBus.js';
import { createLogger } from '../../src/observability/logger.js';
import { PgPauseStore } from '../../src/pause/pause.store.pg.js';
import { TEST_DATABASE_URL, createPgTestDatabase } from '../helpers/pgTestDb.js';

/**
 * docs/http.md §11: after its listening connection was lost, an instance catches up on the pause
 * changes other instances committed meanwhile, each once, never its own, including one that
 * committed out of id order (its id is below the newest one seen before the gap). A database of
 * its own, so that ending "the" listening connection ends only this test's.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const LISTENERS = `SELECT pid FROM pg_stat_activity WHERE application_name = 'central-webhooks-bus' AND datname = current_database()`;

async function until<T>(find: () => T | undefined, ms = 15_000): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = find();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!TEST_DATABASE_URL)('the PostgreSQL event bus catching up (TEST_DATABASE_URL)', () => {
  it('when the listening connection is lost, then once it is back the other instance\'s changes made meanwhile are emitted once each, also one that committed out of id order, and none of its own', async () => {
    const db = await createPgTestDatabase();
    cleanups.push(db.drop);
    const pool = openPgPool(db.url, { max: 4 });
    cleanups.push(() => pool.end());
    await migratePg(pool);
    // Instance A listens; instance B (another origin) makes changes.
    const mine = new PgPauseStore(pool, 'instance-a');
    const other = new PgPauseStore(pool, 'instance-b');
    const bus = new EventBus();
    const changes: PauseChangeEvent[] = [];
    const agents: AgentChangeEvent[] = [];
    bus.on('pauseChange', (e) => changes.push(e));
    bus.on('agentChange', (e) => agents.push(e));
    const logs: string[] = [];
    const logger = createLogger('info', new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }));
    const listener = listenForPeers({ url: db.url, bus, pause: mine, origin: 'instance-a', logger });
    cleanups.push(() => listener.stop());
    await listener.ready;

    const T0 = Date.parse('2026-01-15T10:00:00.000Z');
    for (const cli of ['+919879967001', '+919879967002', '+919879967003', '+919879967004']) await other.saveAgent('test', cli, { name: cli }, T0);
    const pauseBy = (store: PgPauseStore, cli: string, reason: string, at: number) =>
      store.applyPauseChange('test', cli, () => ({ pause: true, reason }), { at, source: 'webhook' });

    // B's change of agent 1 takes an id and has not committed yet (another instance's open transaction).
    const held = new pg.Client({ connectionString: db.url });
    await held.connect();
    cleanups.push(() => held.end());
    await held.query('BEGIN');
    const late = await held.query<{ id: number }>(
      `INSERT INTO pause_events (stage, at, cli, pause, reason, source, prev_pause, origin)
       VALUES ('test', $1, '+919879967001', true, 'lunch', 'webhook', false, 'instance-b') RETURNING id`,
      [T0 + 1],
    );
    await held.query('SELECT pg_notify($1, $2)', [BUS_CHANNEL, JSON.stringify({ k: 'pause', id: Number(late.rows[0]!.id), o: 'instance-b' })]);
    // A later id commits first and is delivered.
    await pauseBy(other, '+919879967002', 'tea', T0 + 2);
    expect(await until(() => changes.find((c) => c.cli === '+919879967002'))).toBeDefined();

    // The connection is lost; meanwhile the held change commits, B makes another and A one of its own.
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    cleanups.push(() => sql.end());
    const cutOff = async () => {
      for (const { pid } of (await sql.query<{ pid: number }>(LISTENERS)).rows) await sql.query('SELECT pg_terminate_backend($1)', [pid]);
    };
    await cutOff();
    await held.query('COMMIT');
    await pauseBy(other, '+919879967003', 'meeting', T0 + 3);
    await pauseBy(mine, '+919879967004', 'coaching', T0 + 4);
    await cutOff();
    const before = agents.length;

    // Back: the gap is caught up.
    expect(await until(() => changes.find((c) => c.cli === '+919879967003'))).toBeDefined();
    expect(await until(() => changes.find((c) => c.cli === '+919879967001'))).toBeDefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(changes.map((c) => [c.cli, c.reason, c.name])).toEqual([
      ['+919879967002', 'tea', '+919879967002'],
      ['+919879967001', 'lunch', '+919879967001'],
      ['+919879967003', 'meeting', '+919879967003'],
    ]);
    // Boards of both stages are told to reload their agents.
    expect(agents.slice(before)).toEqual([
      { stage: 'prod', cli: null, change: 'imported' },
      { stage: 'test', cli: null, change: 'imported' },
    ]);
    expect(logs.join('')).toContain('event bus: listening again');
  }, 60_000);
});
