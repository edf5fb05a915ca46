import type { Db } from './open.js';
import type { Stores } from './stores.js';
import { SqliteSessionStore } from '../admin/session.store.sqlite.js';
import { memoryLimiters } from '../http/limits.js';
import { createSqliteBreaksStore } from '../breaks/breaks.store.sqlite.js';
import { SqliteOutboxStore } from '../delivery/outbox.store.sqlite.js';
import { SqliteIvrStepsStore } from '../ivr/ivr.steps.store.sqlite.js';
import { SqliteOutboundStore } from '../outbound/outbound.store.sqlite.js';
import { SqlitePauseStore } from '../pause/pause.store.sqlite.js';
import { SqliteShortUrlStore } from '../shorturl/shorturl.store.sqlite.js';
import { SqliteUserPrefsStore } from '../userprefs/userprefs.store.sqlite.js';

/** All stores on one SQLite database (opened and migrated by `open.ts`). */
export function createSqliteStores(db: Db): Stores {
  const ping = db.prepare('SELECT 1');
  return {
    engine: 'sqlite',
    // One process per SQLite file (docs/http.md §11), so its limits live in that process's memory.
    limiters: memoryLimiters,
    pause: new SqlitePauseStore(db),
    breaks: createSqliteBreaksStore(db),
    ivrSteps: new SqliteIvrStepsStore(db),
    outbox: new SqliteOutboxStore(db),
    outbound: new SqliteOutboundStore(db),
    userPrefs: new SqliteUserPrefsStore(db),
    shortUrls: new SqliteShortUrlStore(db),
    sessions: new SqliteSessionStore(db),
    async ping() {
      ping.get();
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
