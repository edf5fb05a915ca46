import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../../src/db/stores.js';
import type { LinkRow } from '../../src/shorturl/shorturl.store.js';
import type { OpenStores } from './engines.js';

/** What every ShortUrlStore must do, whatever the engine (src/shorturl/shorturl.store.ts). */
export function shortUrlStoreContract(open: OpenStores): void {
  const T0 = Date.parse('2026-01-15T10:00:00.000Z');
  let opened: { stores: Stores; dispose(): Promise<void> };
  beforeEach(async () => {
    opened = await open();
  });
  afterEach(async () => opened.dispose());

  describe('ShortUrlStore', () => {
    const link = { code: 'Abc12345', tokenHash: 'h1', longUrl: 'https://example.com/a', custom: false, createdAt: T0, expiresAt: null };

    it('when a link is inserted, then it reads back by code with no visits', async () => {
      const store = opened.stores.shortUrls;
      expect(await store.insert(link)).toEqual({ kind: 'inserted' });
      expect(await store.byCode('Abc12345')).toEqual<LinkRow>({
        code: 'Abc12345', tokenHash: 'h1', longUrl: 'https://example.com/a', createdAt: T0, expiresAt: null, visits: 0, lastVisitAt: null,
      });
      expect(await store.byCode('Nope0000')).toBeUndefined();
    });

    it('when a code is taken, then a generated link gets the same generated link of its token, URL and expiry, a slug only "taken"', async () => {
      const store = opened.stores.shortUrls;
      await store.insert(link);
      expect(await store.insert({ ...link, code: 'Abc12345', longUrl: 'https://example.com/b' })).toEqual({ kind: 'taken' });
      expect(await store.insert({ ...link, code: 'Abc12345' })).toEqual({ kind: 'taken', sameLink: 'Abc12345' });
      // Same link under a new code is also "taken" (one generated link per token + URL + expiry).
      expect(await store.insert({ ...link, code: 'Zzz99999' })).toEqual({ kind: 'taken', sameLink: 'Abc12345' });
      expect(await store.insert({ ...link, code: 'Abc12345', custom: true })).toEqual({ kind: 'taken' });
      // Another expiry or another token is another link.
      expect(await store.insert({ ...link, code: 'Exp00001', expiresAt: T0 + 1000 })).toEqual({ kind: 'inserted' });
      expect(await store.insert({ ...link, code: 'Tok00001', tokenHash: 'h2' })).toEqual({ kind: 'inserted' });
      expect(await store.insert({ ...link, code: 'Slug0001', custom: true })).toEqual({ kind: 'inserted' });
    });

    it('when a link is deleted, then it no longer reads back, another link stays, and deleting it again finds nothing', async () => {
      const store = opened.stores.shortUrls;
      await store.insert(link);
      await store.insert({ ...link, code: 'Other000', longUrl: 'https://example.com/o' });
      expect(await store.delete('Abc12345')).toBe(true);
      expect(await store.byCode('Abc12345')).toBeUndefined();
      expect(await store.byCode('Other000')).toMatchObject({ longUrl: 'https://example.com/o' });
      expect(await store.delete('Abc12345')).toBe(false);
      expect(await store.delete('Nope0000')).toBe(false);
      // The code is free again, and the same generated link can be made anew.
      expect(await store.insert({ ...link, code: 'New00000' })).toEqual({ kind: 'inserted' });
    });

    it('when visit batches are added, then counts add up and the last visit is the latest', async () => {
      const store = opened.stores.shortUrls;
      await store.insert(link);
      await store.insert({ ...link, code: 'Other000', longUrl: 'https://example.com/o' });
      await store.addVisits(new Map([['Abc12345', { count: 3, lastAt: T0 + 50 }], ['Other000', { count: 1, lastAt: T0 + 5 }]]));
      await Promise.all([
        store.addVisits(new Map([['Abc12345', { count: 2, lastAt: T0 + 10 }]])),
        store.addVisits(new Map([['Abc12345', { count: 5, lastAt: T0 + 70 }], ['Gone0000', { count: 9, lastAt: T0 }]])),
      ]);
      expect(await store.byCode('Abc12345')).toMatchObject({ visits: 10, lastVisitAt: T0 + 70 });
      expect(await store.byCode('Other000')).toMatchObject({ visits: 1, lastVisitAt: T0 + 5 });
    });
  });
}
