import { createHash } from 'node:crypto';
import type { PgPool } from '../db/pg.js';
import type { ApplyResult, KeyChanges, UserPrefsStore, UserRef } from './userprefs.store.js';

const LIST = 'SELECT name, value FROM user_preferences WHERE stage = $1 AND account_id = $2 AND contact_number = $3 ORDER BY name';

/**
 * Every change of one update and the read-back in ONE statement: `after` is the user's keys as
 * they will be (the stored ones not named, then the ones set), its size decides whether the
 * limit holds, and only then are the keys upserted and deleted. The reply's rows are `after`,
 * name order (COLLATE "C", as the column); over the limit one row carries only the count.
 * $4/$5: names and values set, $6: names deleted, $7: now, $8: the limit.
 */
const APPLY = {
  name: 'userprefs.apply',
  text: `WITH after AS (
      SELECT name, value FROM user_preferences
       WHERE stage = $1 AND account_id = $2 AND contact_number = $3 AND NOT (name = ANY ($4::text[]) OR name = ANY ($6::text[]))
      UNION ALL
      SELECT u.name COLLATE "C", u.value FROM unnest($4::text[], $5::text[]) AS u (name, value)),
    size AS (SELECT count(*)::int AS n FROM after),
    upserted AS (
      INSERT INTO user_preferences (stage, account_id, contact_number, name, value, updated_at)
      SELECT $1, $2, $3, u.name, u.value, $7 FROM unnest($4::text[], $5::text[]) AS u (name, value), size WHERE size.n <= $8
      ON CONFLICT (stage, account_id, contact_number, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at),
    deleted AS (
      DELETE FROM user_preferences USING size
       WHERE size.n <= $8 AND stage = $1 AND account_id = $2 AND contact_number = $3 AND name = ANY ($6::text[]))
    SELECT size.n, after.name, after.value FROM size LEFT JOIN after ON size.n <= $8 ORDER BY after.name`,
};

/**
 * The user's advisory lock key: the first 8 bytes of SHA-256 of stage, account and number, as a
 * signed 64-bit integer (digits only, so it can go into the SQL text of the transaction's first
 * round trip).
 */
function lockKey({ stage, accountId, contactNumber }: UserRef): string {
  return createHash('sha256').update(`user_preferences\0${stage}\0${accountId}\0${contactNumber}`).digest().readBigInt64BE(0).toString();
}

/**
 * User preferences on PostgreSQL (docs/http.md §11). A user has no row of their own to lock, so an
 * update first takes a transaction-scoped advisory lock on the user: concurrent updates of one
 * user, on any instance, run one after another and the key limit holds; other users' updates
 * never wait. Three round trips whatever the number of keys: BEGIN with the lock, the one
 * statement of every change and the read-back (APPLY), COMMIT.
 */
export class PgUserPrefsStore implements UserPrefsStore {
  constructor(private readonly pool: PgPool) {}

  async apply(user: UserRef, changes: KeyChanges, now: number, maxKeys: number): Promise<ApplyResult> {
    const set: string[] = [];
    const values: string[] = [];
    const deleted: string[] = [];
    for (const [name, value] of changes) {
      if (value === null) deleted.push(name);
      else {
        set.push(name);
        values.push(value);
      }
    }
    const c = await this.pool.connect();
    try {
      // One round trip: the simple protocol runs both statements (the key is digits, not input).
      await c.query(`BEGIN; SELECT pg_advisory_xact_lock(${lockKey(user)})`);
      const r = await c.query<{ n: number; name: string | null; value: string | null }>({
        ...APPLY,
        values: [user.stage, user.accountId, user.contactNumber, set, values, deleted, now, maxKeys],
      });
      await c.query('COMMIT');
      const n = r.rows[0]!.n;
      if (n > maxKeys) return { ok: false, count: n };
      const keys: [string, string][] = [];
      for (const row of r.rows) if (row.name !== null) keys.push([row.name, row.value!]);
      return { ok: true, keys };
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async keys(user: UserRef): Promise<[string, string][]> {
    const r = await this.pool.query<{ name: string; value: string }>({ name: 'userprefs.keys', text: LIST, values: [user.stage, user.accountId, user.contactNumber] });
    return r.rows.map((x) => [x.name, x.value]);
  }
}
