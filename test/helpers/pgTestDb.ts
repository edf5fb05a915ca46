import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { gatePool, migratePg, openPgPool, quoteIdent, type PgPool } from '../../src/db/pg.js';
import type { Stores } from '../../src/db/stores.js';
import { createPgStores, type PgStores } from '../../src/db/stores.pg.js';

/**
 * PostgreSQL for tests (docs/http.md §11). `TEST_DATABASE_URL` names a database the tests may
 * write to (CI's throwaway cluster, `.ci/pg-cluster`); unset, the PostgreSQL-only tests are
 * skipped and everything runs on SQLite. Each test app gets a schema of its own, created and
 * migrated here and dropped after, so parallel vitest workers never see each other's rows,
 * notifications or locks.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;

export interface PgTestSchema {
  schema: string;
  /** A pool whose connections use the schema (`search_path`). */
  pool: PgPool;
  /** Close the pool and drop the schema with everything in it. */
  drop(): Promise<void>;
}

let admin: pg.Pool | undefined;
function adminPool(url: string): pg.Pool {
  if (!admin) {
    admin = new pg.Pool({ connectionString: url, max: 2 });
    admin.on('error', () => undefined);
  }
  return admin;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(5).toString('hex')}`;
}

/**
 * A fresh schema on TEST_DATABASE_URL, usable at once: queries wait until it exists (and, with
 * `migrate`, is migrated), so a test app can be built synchronously.
 */
export function createPgTestSchema(url = requireTestUrl(), opts: { max?: number; migrate?: boolean } = {}): PgTestSchema {
  const schema = uniqueName('t');
  const pool = gatePool(openPgPool(url, { schema, max: opts.max ?? 4 }), async (connect) => {
    await adminPool(url).query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    if (opts.migrate) await migratePg({ connect });
  });
  return {
    schema,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      await adminPool(url).query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    },
  };
}

/** The stores on a fresh, migrated schema; `dispose` drops it. */
export function openPgTestStores(url = requireTestUrl()): { stores: PgStores; pool: PgPool; dispose(): Promise<void> } {
  const s = createPgTestSchema(url, { migrate: true });
  const stores = createPgStores(s.pool);
  return { stores, pool: s.pool, dispose: () => s.drop() };
}

/** A fresh database on TEST_DATABASE_URL's server, for tests that start whole instances. */
export async function createPgTestDatabase(url = requireTestUrl()): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('pg_cluster');
  await adminPool(url).query(`CREATE DATABASE ${quoteIdent(name)}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      await adminPool(url).query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    },
  };
}

function requireTestUrl(): string {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  return TEST_DATABASE_URL;
}
