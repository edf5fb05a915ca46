import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase, type Db } from '../../src/db/open.js';
import type { Stores } from '../../src/db/stores.js';
import { createSqliteStores } from '../../src/db/stores.sqlite.js';
import { openPgTestStores, TEST_DATABASE_URL } from './pgTestDb.js';

/**
 * The one place the test suite chooses its storage engine (used by buildTestApp and by the store
 * contract suites in test/stores/):
 *   TEST_DATABASE_URL unset            → SQLite, a fresh migrated file per test app;
 *   TEST_DATABASE_URL=postgres://…     → PostgreSQL, a fresh migrated schema per test app
 *                                        (test/helpers/pgTestDb.ts); `db` is then an empty
 *                                        SQLite file for the tests of SQLite itself.
 */

export interface TestStores {
  stores: Stores;
  /** The SQLite handle (SQLite runs only), for tests that inspect rows directly. */
  db: Db;
  /** SQLite: the file; a test that restarts the service opens it again. */
  dbPath: string;
  /**
   * Rows of `sql` (`?` placeholders) run on the stores' engine, for tests that inspect what a
   * store wrote. SQL that both engines read the same way only.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * Row count of every table of both databases while some features still live on SQLite; not
   * `rate_limits` (PostgreSQL's limiter counters, kept in memory on SQLite: a refused request counts there).
   */
  counts(): Promise<Record<string, number>>;
  /** Close the stores and remove what was created for this test. */
  dispose(): Promise<void>;
}

function sqliteCounts(db: Db): Record<string, number> {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'")
    .pluck()
    .all() as string[];
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number]));
}

/** `engine: 'sqlite'` for the tests of SQLite itself (query plans), whatever TEST_DATABASE_URL says. */
export function openTestStores(opts: { engine?: 'sqlite' } = {}): TestStores {
  const dir = mkdtempSync(join(tmpdir(), 'cw-test-'));
  const dbPath = join(dir, 'test.db');
  const db = openDatabase(dbPath);
  migrate(db);
  if (TEST_DATABASE_URL && opts.engine !== 'sqlite') {
    const pg = openPgTestStores(TEST_DATABASE_URL);
    const query = async <T,>(sql: string, params: unknown[] = []): Promise<T[]> => {
      let n = 0;
      return (await pg.pool.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
    };
    return {
      stores: pg.stores,
      db,
      dbPath,
      query,
      async counts() {
        const out = sqliteCounts(db);
        const tables = await query<{ t: string }>(
          "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT IN ('schema_migrations', 'rate_limits')",
        );
        for (const { t } of tables) {
          const [row] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t}"`);
          out[t] = (out[t] ?? 0) + row!.n;
        }
        return out;
      },
      async dispose() {
        await pg.dispose();
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const stores = createSqliteStores(db);
  return {
    stores,
    db,
    dbPath,
    async query<T>(sql: string, params: unknown[] = []) {
      const stmt = db.prepare(sql);
      if (stmt.reader) return stmt.all(...params) as T[];
      stmt.run(...params);
      return [];
    },
    async counts() {
      return sqliteCounts(db);
    },
    async dispose() {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
