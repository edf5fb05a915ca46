import pg from 'pg';
import { processCpuMicros } from './cpu.js';

/**
 * CPU time of the PostgreSQL server processes serving one database, for the bench's PostgreSQL
 * rows: the service's own µs per request leave out the work its statements cause in the server.
 * Read like the service's (/proc/<pid>/stat of each client backend connected to the database,
 * from pg_stat_activity), so only when the server runs on this machine. A backend that exits
 * during a run takes its CPU time with it (the service's pool keeps its connections under load).
 */

/** Backend pid → CPU µs so far. */
export type BackendCpu = Map<number, number>;

/** CPU µs the backends used between two readings; one absent from the first started since (from 0). */
export function cpuGrowth(before: BackendCpu, after: BackendCpu): number {
  let sum = 0;
  for (const [pid, us] of after) sum += Math.max(0, us - (before.get(pid) ?? 0));
  return sum;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface DatabaseCpu {
  read(): Promise<BackendCpu>;
  close(): Promise<void>;
}

/** A reader for the database of `url`, or undefined when the server is not on this machine. */
export async function databaseCpu(url: string): Promise<DatabaseCpu | undefined> {
  const u = new URL(url);
  if (!LOOPBACK.has(u.hostname) || process.platform !== 'linux') return undefined;
  const database = decodeURIComponent(u.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  return {
    async read() {
      const { rows } = await client.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
        [database],
      );
      const out: BackendCpu = new Map();
      for (const { pid } of rows) {
        try {
          out.set(pid, processCpuMicros(pid));
        } catch {
          /* ended meanwhile */
        }
      }
      return out;
    },
    close: () => client.end(),
  };
}
