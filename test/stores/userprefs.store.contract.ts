import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../../src/db/stores.js';
import type { UserRef } from '../../src/userprefs/userprefs.store.js';
import type { OpenStores } from './engines.js';

/** What every UserPrefsStore must do, whatever the engine (src/userprefs/userprefs.store.ts). */
export function userPrefsStoreContract(open: OpenStores): void {
  const T0 = Date.parse('2026-01-15T10:00:00.000Z');
  let opened: { stores: Stores; dispose(): Promise<void> };
  beforeEach(async () => {
    opened = await open();
  });
  afterEach(async () => opened.dispose());

  describe('UserPrefsStore', () => {
    const user: UserRef = { stage: 'prod', accountId: 'ACC1', contactNumber: '+919800000001' };

    it('when keys are set, changed and deleted, then the read-back is every key by name, per stage, account and number', async () => {
      const store = opened.stores.userPrefs;
      expect(await store.apply(user, new Map([['b', '2'], ['a', '1']]), T0, 10)).toEqual({ ok: true, keys: [['a', '1'], ['b', '2']] });
      expect(await store.apply(user, new Map([['a', null], ['c', 'x']]), T0 + 1, 10)).toEqual({ ok: true, keys: [['b', '2'], ['c', 'x']] });
      expect(await store.keys(user)).toEqual([['b', '2'], ['c', 'x']]);
      expect(await store.keys({ ...user, stage: 'test' })).toEqual([]);
      expect(await store.keys({ ...user, accountId: 'ACC2' })).toEqual([]);
      expect(await store.keys({ ...user, contactNumber: '+919800000002' })).toEqual([]);
      // Deleting a key that is not there is fine.
      expect(await store.apply(user, new Map([['zz', null]]), T0 + 2, 10)).toEqual({ ok: true, keys: [['b', '2'], ['c', 'x']] });
    });

    it('when an update would leave more than the limit, then nothing of it is stored and the count is given', async () => {
      const store = opened.stores.userPrefs;
      await store.apply(user, new Map([['a', '1'], ['b', '2']]), T0, 3);
      expect(await store.apply(user, new Map([['a', 'changed'], ['c', '3'], ['d', '4']]), T0 + 1, 3)).toEqual({ ok: false, count: 4 });
      expect(await store.keys(user)).toEqual([['a', '1'], ['b', '2']]);
      // Deleting one makes room in the same update.
      expect(await store.apply(user, new Map([['a', null], ['c', '3'], ['d', '4']]), T0 + 2, 3)).toMatchObject({ ok: true });
    });

    it('when updates of one user race, then the limit holds and every accepted key is kept', async () => {
      const store = opened.stores.userPrefs;
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.apply(user, new Map([[`k${i}`, String(i)]]), T0 + i, 5)));
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      expect(await store.keys(user)).toHaveLength(5);
    });
  });
}
