import { withTransaction, type PgPool } from '../db/pg.js';
import type { ApplyResult, KeyChanges, UserPrefsStore, UserRef } from './userprefs.store.js';

/** Thrown inside the transaction only to roll it back; never leaves this module. */
class KeyLimitExceeded extends Error {
  constructor(readonly count: number) {
    super('key limit exceeded');
  }
}

const LIST = 'SELECT name, value FROM user_preferences WHERE stage = $1 AND account_id = $2 AND contact_number = $3 ORDER BY name';

/**
 * User preferences on PostgreSQL (docs/http.md §11). A user has no row of their own to lock, so an
 * update first takes a transaction-scoped advisory lock on the user: concurrent updates of one
 * user, on any instance, run one after another and the key limit holds; other users' updates
 * never wait.
 */
export class PgUserPrefsStore implements UserPrefsStore {
  constructor(private readonly pool: PgPool) {}

  async apply(user: UserRef, changes: KeyChanges, now: number, maxKeys: number): Promise<ApplyResult> {
    const { stage, accountId, contactNumber } = user;
    try {
      const keys = await withTransaction(this.pool, async (c) => {
        await c.query("SELECT pg_advisory_xact_lock(hashtextextended('user_preferences:' || $1 || ':' || $2 || ':' || $3, 0))", [
          stage,
          accountId,
          contactNumber,
        ]);
        for (const [name, value] of changes) {
          if (value === null) {
            await c.query('DELETE FROM user_preferences WHERE stage = $1 AND account_id = $2 AND contact_number = $3 AND name = $4', [
              stage,
              accountId,
              contactNumber,
              name,
            ]);
          } else {
            await c.query(
              `INSERT INTO user_preferences (stage, account_id, contact_number, name, value, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (stage, account_id, contact_number, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
              [stage, accountId, contactNumber, name, value, now],
            );
          }
        }
        // The read-back the reply needs is also the count the limit needs.
        const rows = (await c.query<{ name: string; value: string }>(LIST, [stage, accountId, contactNumber])).rows;
        if (rows.length > maxKeys) throw new KeyLimitExceeded(rows.length);
        return rows.map((r): [string, string] => [r.name, r.value]);
      });
      return { ok: true, keys };
    } catch (e) {
      if (e instanceof KeyLimitExceeded) return { ok: false, count: e.count };
      throw e;
    }
  }

  async keys(user: UserRef): Promise<[string, string][]> {
    const r = await this.pool.query<{ name: string; value: string }>(LIST, [user.stage, user.accountId, user.contactNumber]);
    return r.rows.map((x) => [x.name, x.value]);
  }
}
