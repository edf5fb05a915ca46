import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * PostgreSQL (docs/http.md §11): one pool per instance, migrations applied under an advisory
 * lock so that of several instances starting at once exactly one applies each migration while
 * the others wait for it, then find it applied.
 */

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations-pg');

/** int8 (BIGINT: epoch milliseconds, counters) as a JS number; every value we store is < 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8 && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export interface PgPoolOptions {
  /** Schema the connections use (`search_path`), for tests that share one database. */
  schema?: string;
  max?: number;
}

/** A pool on `url`; no connection is opened until the first query. */
export function openPgPool(url: string, opts: PgPoolOptions = {}): PgPool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    types,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'central-webhooks',
    ...(opts.schema ? { options: `-c search_path=${quoteIdent(opts.schema)}` } : {}),
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** The URL without its password or query (for logs): postgres://user@host:port/db. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://…';
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Run `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
export async function withTransaction<T>(pool: PgPool, fn: (client: PgClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** The advisory lock key of the migrations of the current schema. */
const LOCK_SQL = "SELECT pg_advisory_lock(hashtext('central-webhooks:migrate:' || current_schema()))";
const UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('central-webhooks:migrate:' || current_schema()))";

/**
 * Apply `migrations-pg/NNN_name.sql` in order, each once, each in its own transaction. The
 * session-level advisory lock is held for the whole run: an instance that starts while another is
 * migrating waits here, then sees the versions applied and applies none. Returns what it applied.
 */
export async function migratePg(pool: Pick<PgPool, 'connect'>, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const client = await pool.connect();
  const done: string[] = [];
  try {
    await client.query(LOCK_SQL);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version TEXT PRIMARY KEY,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const applied = new Set((await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const file of files) {
        if (applied.has(file)) continue;
        const sql = readFileSync(join(dir, file), 'utf8');
        await client.query('BEGIN');
        try {
          await client.query(sql);
          await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${file} failed: ${(e as Error).message}`);
        }
        done.push(file);
      }
    } finally {
      await client.query(UNLOCK_SQL).catch(() => undefined);
    }
  } finally {
    client.release();
  }
  return done;
}

/**
 * Hold every connection of `pool` back until `prepare` has run on a connection of its own (tests
 * create and migrate their schema this way while the app is built synchronously). If `prepare`
 * fails, every query fails with its error.
 */
export function gatePool(pool: PgPool, prepare: (connect: () => Promise<PgClient>) => Promise<void>): PgPool {
  const connect = pool.connect.bind(pool) as () => Promise<PgClient>;
  const ready = prepare(connect);
  ready.catch(() => undefined);
  const gated = (cb?: (err: Error | undefined, client?: PgClient, done?: () => void) => void) => {
    const p = ready.then(() => connect());
    if (!cb) return p;
    p.then(
      (c) => cb(undefined, c, () => c.release()),
      (e: Error) => cb(e, undefined, () => undefined),
    );
    return undefined;
  };
  pool.connect = gated as PgPool['connect'];
  return pool;
}

/** Wait until the database answers a query (start-up), or throw after `timeoutMs`. */
export async function waitForPg(pool: PgPool, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
