import type { PgPool } from './pg.js';
import type { Stores } from './stores.js';
import { PgSessionStore } from '../admin/session.store.pg.js';
import { pgLimiters } from '../http/limits.js';
import { createPgBreaksStore } from '../breaks/breaks.store.pg.js';
import { PgOutboxStore } from '../delivery/outbox.store.pg.js';
import { PgIvrStepsStore } from '../ivr/ivr.steps.store.pg.js';
import { PgOutboundStore } from '../outbound/outbound.store.pg.js';
import { PgPauseStore } from '../pause/pause.store.pg.js';
import { PgShortUrlStore } from '../shorturl/shorturl.store.pg.js';
import { PgUserPrefsStore } from '../userprefs/userprefs.store.pg.js';

/**
 * The stores that have a PostgreSQL implementation so far; the others (Omit) stay on the SQLite
 * file beside it until their twin is written.
 */
export type PgStores = Stores & { pause: PgPauseStore };

/** All stores on one PostgreSQL database (pool from `pg.ts`, migrated by `migratePg`). docs/http.md §11 */
export function createPgStores(pool: PgPool, origin?: string): PgStores {
  return {
    engine: 'postgres',
    // `origin`: this instance's id on the event bus (src/events/pgBus.ts).
    pause: new PgPauseStore(pool, origin),
    breaks: createPgBreaksStore(pool),
    ivrSteps: new PgIvrStepsStore(pool),
    outbound: new PgOutboundStore(pool),
    userPrefs: new PgUserPrefsStore(pool),
    shortUrls: new PgShortUrlStore(pool),
    sessions: new PgSessionStore(pool),
    outbox: new PgOutboxStore(pool),
    limiters: pgLimiters(pool),
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
