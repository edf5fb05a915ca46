import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';

/** Whose preferences: a caller of one account, within one stage. */
export interface UserRef {
  stage: Stage;
  accountId: string;
  contactNumber: string;
}

/** A key to store (text) or to delete (null). */
export type KeyChanges = Map<string, string | null>;

export type ApplyResult = { ok: true; keys: [string, string][] } | { ok: false; count: number };

/** Thrown inside the transaction only to roll it back; never leaves this module. */
class KeyLimitExceeded extends Error {
  constructor(readonly count: number) {
    super('key limit exceeded');
  }
}

/** Storage of user preferences: one row per key, statements prepared once. */
export class UserPrefsRepo {
  private readonly upsert;
  private readonly remove;
  private readonly list;
  private readonly applyTx;

  constructor(db: Db) {
    this.upsert = db.prepare(
      `INSERT INTO user_preferences (stage, account_id, contact_number, name, value, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (stage, account_id, contact_number, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
    this.remove = db.prepare('DELETE FROM user_preferences WHERE stage = ? AND account_id = ? AND contact_number = ? AND name = ?');
    this.list = db
      .prepare('SELECT name, value FROM user_preferences WHERE stage = ? AND account_id = ? AND contact_number = ? ORDER BY name')
      .raw();
    // better-sqlite3 runs the whole function before any other request's code: the writes, the
    // limit check and the read-back are one atomic step, and a failed check rolls back every write.
    this.applyTx = db.transaction((user: UserRef, changes: KeyChanges, now: number, maxKeys: number) => {
      const { stage, accountId, contactNumber } = user;
      for (const [name, value] of changes) {
        if (value === null) this.remove.run(stage, accountId, contactNumber, name);
        else this.upsert.run(stage, accountId, contactNumber, name, value, now);
      }
      // The read-back the reply needs is also the count the limit needs.
      const keys = this.keys(user);
      if (keys.length > maxKeys) throw new KeyLimitExceeded(keys.length);
      return keys;
    });
  }

  /** Upsert and delete keys atomically, unless the user would end up with more than `maxKeys`. */
  apply(user: UserRef, changes: KeyChanges, now: number, maxKeys: number): ApplyResult {
    try {
      return { ok: true, keys: this.applyTx(user, changes, now, maxKeys) };
    } catch (e) {
      if (e instanceof KeyLimitExceeded) return { ok: false, count: e.count };
      throw e;
    }
  }

  /** Every key of the user, ordered by name. */
  keys(user: UserRef): [string, string][] {
    return this.list.all(user.stage, user.accountId, user.contactNumber) as [string, string][];
  }
}
