import type { SessionStore } from '../admin/session.store.js';
import type { BreaksStore } from '../breaks/breaks.store.js';
import type { OutboxStore } from '../delivery/outbox.store.js';
import type { IvrStepsStore } from '../ivr/ivr.steps.store.js';
import type { OutboundStore } from '../outbound/outbound.store.js';
import type { PauseStore } from '../pause/pause.store.js';
import type { ShortUrlStore } from '../shorturl/shorturl.store.js';
import type { UserPrefsStore } from '../userprefs/userprefs.store.js';
import type { Limiters } from '../http/limits.js';

/**
 * Every feature's storage, behind one interface per feature (`src/<feature>/<feature>.store.ts`).
 * Each engine builds all of them in one factory (`stores.sqlite.ts`, `stores.pg.ts`); features
 * receive them through AppDeps and never see the engine. Store methods are async and each is one
 * whole state change, run as one transaction inside the store.
 */
export interface Stores {
  /** Which engine this is, for logs and the rare engine-specific default. */
  engine: 'sqlite' | 'postgres';
  pause: PauseStore;
  breaks: BreaksStore;
  ivrSteps: IvrStepsStore;
  /** Every signed delivery waiting to go out: change notifications and statusCallbackUrl (docs/http.md §9.6, §11). */
  outbox: OutboxStore;
  outbound: OutboundStore;
  userPrefs: UserPrefsStore;
  shortUrls: ShortUrlStore;
  /** Supervisor sessions ended by logout (docs/http.md §8.2). */
  sessions: SessionStore;
  /** Makes every rate limiter (src/http/limits.ts): memory on SQLite, the shared `rate_limits` table on PostgreSQL (docs/http.md §11). */
  limiters: Limiters;
  /** One round trip to the database, for /healthz. */
  ping(): Promise<void>;
  /** Release the database (connections, file handle); the stores are unusable afterwards. */
  close(): Promise<void>;
}
