import type { Stage } from '../http/routing.js';

/**
 * Storage of user preferences (docs/http.md §2.5): one row per key. Each method is one whole
 * change or read, its transaction inside the store.
 * Engines: userprefs.store.sqlite.ts, userprefs.store.pg.ts.
 */

/** Whose preferences: a caller of one account, within one stage. */
export interface UserRef {
  stage: Stage;
  accountId: string;
  contactNumber: string;
}

/** A key to store (text) or to delete (null). */
export type KeyChanges = Map<string, string | null>;

export type ApplyResult = { ok: true; keys: [string, string][] } | { ok: false; count: number };

export interface UserPrefsStore {
  /**
   * Upsert and delete keys and read the user's keys back, atomically, unless the user would end
   * up with more than `maxKeys` (then nothing changes and `count` says how many it would be).
   * Concurrent updates of one user serialise, so the limit holds.
   */
  apply(user: UserRef, changes: KeyChanges, now: number, maxKeys: number): Promise<ApplyResult>;
  /** Every key of the user, ordered by name. */
  keys(user: UserRef): Promise<[string, string][]>;
}
