import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase, type Db } from '../../src/db/open.js';
import type { Stores } from '../../src/db/stores.js';
import { createSqliteStores } from '../../src/db/stores.sqlite.js';
import { TEST_DATABASE_URL } from './pgTestDb.js';

/**
 * The one place the test suite chooses its storage engine (used by buildTestApp and by the store
 * contract suites in test/stores/):
 *   TEST_DATABASE_URL unset            → SQLite, a fresh migrated file per test app;
 *   TEST_DATABASE_URL=postgres://…     → PostgreSQL, a fresh migrated database per test app
 *                                        (registered by the PostgreSQL stores).
 */

export interface TestStores {
  stores: Stores;
  /** The SQLite handle (SQLite runs only), for tests that inspect rows directly. */
  db: Db;
  /** SQLite: the file; a test that restarts the service opens it again. */
  dbPath: string;
  /** Close the stores and remove what was created for this test. */
  dispose(): Promise<void>;
}

export function openTestStores(): TestStores {
  if (TEST_DATABASE_URL) {
    throw new Error('TEST_DATABASE_URL is set but this build has no PostgreSQL stores to run the tests on');
  }
  const dir = mkdtempSync(join(tmpdir(), 'cw-test-'));
  const dbPath = join(dir, 'test.db');
  const db = openDatabase(dbPath);
  migrate(db);
  const stores = createSqliteStores(db);
  return {
    stores,
    db,
    dbPath,
    async dispose() {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
