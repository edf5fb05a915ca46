import { afterEach, describe, expect, it } from 'vitest';
import { createPgTestSchema, TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { PgUserPrefsStore } from '../../src/userprefs/userprefs.store.pg.js';

/**
 * docs/http.md §2.5, §11: the key limit holds when many updates of one user run at once on
 * PostgreSQL, each on its own connection (as from several instances): the updates of one user
 * serialise (src/userprefs/userprefs.store.pg.ts), so no two both see room for one more key.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe.skipIf(!TEST_DATABASE_URL)('user preferences on PostgreSQL under concurrent updates (TEST_DATABASE_URL)', () => {
  it('when 12 updates adding a key each race for 20 users with room for 5 keys, then every user ends with exactly 5 keys and 5 accepted updates', async () => {
    const schema = createPgTestSchema(undefined, { migrate: true, max: 12 });
    cleanups.push(schema.drop);
    const store = new PgUserPrefsStore(schema.pool);
    const T0 = Date.parse('2026-01-15T10:00:00.000Z');
    for (let u = 0; u < 20; u++) {
      const user = { stage: 'test' as const, accountId: 'ACC', contactNumber: `+9198799640${String(u).padStart(2, '0')}` };
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.apply(user, new Map([[`k${i}`, String(i)]]), T0 + i, 5)));
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      expect(await store.keys(user)).toHaveLength(5);
    }
  }, 60_000);
});
