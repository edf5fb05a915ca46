import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../../src/db/stores.js';
import type { OpenStores } from './engines.js';

/** What every SessionStore must do, whatever the engine (src/admin/session.store.ts). */
export function sessionStoreContract(open: OpenStores): void {
  const T0 = Date.parse('2026-01-15T10:00:00.000Z');
  const HOUR = 60 * 60 * 1000;
  let opened: { stores: Stores; dispose(): Promise<void> };
  beforeEach(async () => {
    opened = await open();
  });
  afterEach(async () => opened.dispose());

  describe('SessionStore', () => {
    it('when a session id is revoked, then it reads as revoked and other ids do not; revoking it twice is fine', async () => {
      const store = opened.stores.sessions;
      expect(await store.isRevoked('AAAAAAAAAAAAAAAAAAAAAA')).toBe(false);
      await store.revoke('AAAAAAAAAAAAAAAAAAAAAA', T0 + 12 * HOUR, T0);
      await store.revoke('AAAAAAAAAAAAAAAAAAAAAA', T0 + 12 * HOUR, T0 + 1);
      expect(await store.isRevoked('AAAAAAAAAAAAAAAAAAAAAA')).toBe(true);
      // Ids are compared exactly (base64url is case-sensitive).
      expect(await store.isRevoked('aaaaaaaaaaaaaaaaaaaaaa')).toBe(false);
      expect(await store.isRevoked('BBBBBBBBBBBBBBBBBBBBBB')).toBe(false);
    });

    it('when a revocation is recorded, then records whose expiry has passed are deleted and the others kept', async () => {
      const store = opened.stores.sessions;
      await store.revoke('old-session-id-0000000', T0 + HOUR, T0);
      await store.revoke('new-session-id-0000000', T0 + 12 * HOUR, T0);
      // Two hours later the first cookie has expired by itself: the next revocation prunes it.
      await store.revoke('third-session-id-00000', T0 + 14 * HOUR, T0 + 2 * HOUR);
      expect(await store.isRevoked('old-session-id-0000000')).toBe(false);
      expect(await store.isRevoked('new-session-id-0000000')).toBe(true);
      expect(await store.isRevoked('third-session-id-00000')).toBe(true);
    });
  });
}
