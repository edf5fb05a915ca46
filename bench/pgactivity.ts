import pg from 'pg';
import { cpuGrowth, databaseCpu, type BackendCpu } from './pgcpu.js';

/**
 * What the PostgreSQL server did for one database over a stretch of a benchmark (bench:pacing on
 * `--engine pg`): its backends' CPU (bench/pgcpu.ts, only when the server is on this machine), the
 * transactions committed (pg_stat_database), and, sampled every `everyMs`, how many of its
 * backends were running a statement, waiting for a lock, or idle inside a transaction (the
 * service holding a connection between round trips).
 */
export interface DatabaseActivity {
  /** Server CPU seconds of the database's backends; undefined when the server is not local. */
  cpuS: number | undefined;
  commits: number;
  rollbacks: number;
  samples: number;
  /** Mean and most backends at once per state over the samples. */
  active: { mean: number; max: number };
  lockWaits: { mean: number; max: number };
  idleInTransaction: { mean: number; max: number };
}

export async function watchDatabase(url: string, everyMs = 250): Promise<{ stop(): Promise<DatabaseActivity> }> {
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  const cpu = await databaseCpu(url);
  const counters = async () => {
    const r = await client.query<{ c: string; r: string }>('SELECT xact_commit AS c, xact_rollback AS r FROM pg_stat_database WHERE datname = $1', [database]);
    return { commits: Number(r.rows[0]?.c ?? 0), rollbacks: Number(r.rows[0]?.r ?? 0) };
  };
  const cpu0: BackendCpu | undefined = await cpu?.read();
  const c0 = await counters();
  const seen: { active: number; lock: number; idleTx: number }[] = [];
  let running = true;
  const sampling = (async () => {
    while (running) {
      const r = await client.query<{ active: string; lock: string; idle_tx: string }>(
        `SELECT count(*) FILTER (WHERE state = 'active') AS active,
           count(*) FILTER (WHERE wait_event_type = 'Lock') AS lock,
           count(*) FILTER (WHERE state = 'idle in transaction') AS idle_tx
         FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`,
        [database],
      );
      const row = r.rows[0]!;
      seen.push({ active: Number(row.active), lock: Number(row.lock), idleTx: Number(row.idle_tx) });
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  const stat = (k: 'active' | 'lock' | 'idleTx') => ({
    mean: seen.length ? seen.reduce((a, s) => a + s[k], 0) / seen.length : 0,
    max: seen.reduce((a, s) => Math.max(a, s[k]), 0),
  });
  return {
    async stop() {
      running = false;
      await sampling;
      // The CPU is read before the counters' query, which would add its own backend's work.
      const cpuS = cpu0 && cpu ? cpuGrowth(cpu0, await cpu.read()) / 1e6 : undefined;
      const c1 = await counters();
      await cpu?.close();
      await client.end();
      return {
        cpuS,
        commits: c1.commits - c0.commits,
        rollbacks: c1.rollbacks - c0.rollbacks,
        samples: seen.length,
        active: stat('active'),
        lockWaits: stat('lock'),
        idleInTransaction: stat('idleTx'),
      };
    },
  };
}
