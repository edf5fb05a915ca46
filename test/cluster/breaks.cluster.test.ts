import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { createCluster, call, sleep } from './instances.js';
import { openStream, waitFor } from './stream.js';

/**
 * docs/http.md §11: break timers fire exactly once. Three real instances on one PostgreSQL
 * database, each with AUTO_RESUME=true and its own break timer sweeping every second, find the
 * same breaks over their limit at about the same moment; each break must end once: one event
 * with source "auto", shown once on a board's stream, and one "break over its limit" line in
 * the whole cluster. Limits are whole minutes (MAX_BREAK_MINUTES=1, the smallest), so instead of
 * waiting a minute the test moves the breaks' start two minutes back in the database, as if
 * they had begun then.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const AGENTS = Array.from({ length: 30 }, (_, i) => `+9198799${String(64000 + i)}`);

describe.skipIf(!TEST_DATABASE_URL)('several instances: break timers (PostgreSQL only)', () => {
  it('when three instances with AUTO_RESUME find the same breaks over their limit, then each break is ended exactly once: one auto event, one frame on the board stream, one log line in the cluster', async () => {
    const cluster = await createCluster({ PAUSE_CHANGES_PER_MINUTE: '0', MAX_BREAK_MINUTES: '1', AUTO_RESUME: 'true' });
    cleanups.push(cluster.close);
    const instances = await Promise.all(['a', 'b', 'c'].map((n) => cluster.start(n)));
    const sql = new pg.Pool({ connectionString: cluster.databaseUrl, max: 1 });
    cleanups.push(() => sql.end());
    const stream = await openStream(instances[0]!);
    cleanups.push(stream.close);

    for (const [i, cli] of AGENTS.entries()) {
      const inst = instances[i % 3]!;
      expect((await call(inst, 'PUT', `/admin/test/agents/${encodeURIComponent(cli)}`, { name: `Agent ${i}` })).status).toBe(201);
      const r = await call(inst, 'POST', '/centraloutboundwebhook-v1/test/', { method: 'updatePauseStatusForCLI', cli, pause: true, reason: 'coaching' });
      expect(r.body.changed).toBe(true);
    }
    // Nothing is over a one-minute limit yet.
    await sleep(1_500);
    expect((await sql.query(`SELECT count(*)::int AS n FROM pause_events WHERE source = 'auto'`)).rows[0].n).toBe(0);

    // The breaks began two minutes ago: every instance's next sweep finds all of them.
    await sql.query(`UPDATE pause_events SET at = at - 120000`);
    await sql.query(`UPDATE agents SET since = since - 120000 WHERE pause`);

    const allBack = await waitFor(async () => {
      const r = await sql.query(`SELECT count(*)::int AS n FROM agents WHERE stage = 'test' AND NOT pause`);
      return r.rows[0].n === AGENTS.length ? true : undefined;
    }, 30_000);
    expect(allBack).toBe(true);
    // Several more sweeps on every instance: none may end a break a second time.
    await sleep(3_000);

    const autos = await sql.query<{ cli: string; n: number }>(
      `SELECT cli, count(*)::int AS n FROM pause_events WHERE source = 'auto' GROUP BY cli ORDER BY cli`,
    );
    expect(autos.rows).toEqual([...AGENTS].sort().map((cli) => ({ cli, n: 1 })));
    // Through the API too: each agent's log is its break, then one auto resume.
    const log = await call(instances[1]!, 'GET', '/admin/test/events?limit=1000');
    for (const cli of AGENTS) {
      expect(log.body.filter((e: any) => e.cli === cli).map((e: any) => [e.pause, e.source])).toEqual([
        [true, 'webhook'],
        [false, 'auto'],
      ]);
    }
    // The board on instance a shows each auto resume once, whichever instance made it.
    const shown = stream.frames.filter((f) => f.event === 'pauseChange' && f.data.source === 'auto').map((f) => f.data.cli as string);
    expect(shown.sort()).toEqual([...AGENTS].sort());
    // One warn line per break in the whole cluster, from the instance whose resume committed.
    const lines = instances.flatMap((i) => i.logs.join('').split('\n')).filter((l) => l.includes('break over its limit'));
    expect(lines.map((l) => JSON.parse(l).cli as string).sort()).toEqual([...AGENTS].sort());
  }, 180_000);
});
