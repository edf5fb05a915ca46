import type { Db } from '../db/open.js';
import type { ApplyResult, KeyChanges, UserPrefsStore, UserRef } from './userprefs.store.js';

/** Thrown inside the transaction only to roll it back; never leaves this module. */
class KeyLimitExceeded extends Error {
  constructor(readonly count: number) {
    super('key limit exceeded');
  }
}

/** User preferences on SQLite (table user_preferences, migration 040). */
export class SqliteUserPrefsStore implements UserPrefsStore {
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
      const keys = this.list.all(stage, accountId, contactNumber) as [string, string][];
      if (keys.length > maxKeys) throw new KeyLimitExceeded(keys.length);
      return keys;
    });
  }

  async apply(user: UserRef, changes: KeyChanges, now: number, maxKeys: number): Promise<ApplyResult> {
    try {
      return { ok: true, keys: this.applyTx.immediate(user, changes, now, maxKeys) };
    } catch (e) {
      if (e instanceof KeyLimitExceeded) return { ok: false, count: e.count };
      throw e;
    }
  }

  async keys(user: UserRef): Promise<[string, string][]> {
    return this.list.all(user.stage, user.accountId, user.contactNumber) as [string, string][];
  }
}
