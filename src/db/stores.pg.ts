import type { PgPool } from './pg.js';
import type { Stores } from './stores.js';
import { PgOutboundStore } from '../outbound/outbound.store.pg.js';

/** The stores that have a PostgreSQL implementation so far; the others are still SQLite only. */
export type PgStores = Omit<Stores, 'pause' | 'breaks' | 'ivrSteps' | 'userPrefs' | 'shortUrls' | 'notifications'>;

/** All stores on one PostgreSQL database (pool from `pg.ts`, migrated by `migratePg`). docs/http.md §11 */
export function createPgStores(pool: PgPool): PgStores {
  return {
    engine: 'postgres',
    outbound: new PgOutboundStore(pool),
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
