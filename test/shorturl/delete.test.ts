import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { CACHE_TTL_MS } from '../../src/shorturl/shorturl.service.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';

/**
 * docs/http.md §6: `DELETE /admin/{stage}/links/{code}` deletes a short link; it stops
 * redirecting at once on the instance that deleted it, and within CACHE_TTL_MS on one that had it
 * cached (docs/http.md §11; test/cluster/shorturl.cluster.test.ts runs that across instances).
 * Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.
 */

const CREATE = '/UrlShortner/phonon/shortUrl';
const ADMIN = 'admin-token-0123456789';
const BOARD = 'board-token-9876543210';

let t: TestApp;
afterEach(() => t?.close());

async function shorten(longUrl: string, extra: Record<string, string> = {}): Promise<string> {
  const r = await request(t.http).post(CREATE).send({ custToken: 'abcd1234', longUrl, ...extra });
  expect(r.status).toBe(200);
  return (r.body.shortUrl as string).split('/').pop()!;
}
const stats = (code: string) => request(t.http).get(`/UrlShortner/phonon/stats/${code}?custToken=abcd1234`);

describe('deleting short links (6)', () => {
  it('when a link is deleted, then 204, it no longer redirects (the same 404 as any unknown path) and its stats are gone', async () => {
    t = buildTestApp();
    const code = await shorten('https://example.com/delete-me');
    const other = await shorten('https://example.com/keep-me');
    expect((await request(t.http).get(`/${code}`)).status).toBe(302);
    const unknown = await request(t.http).get('/AAAAAAAA');

    const r = await request(t.http).delete(`/admin/prod/links/${code}`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    const after = await request(t.http).get(`/${code}`);
    expect(after.status).toBe(404);
    expect(after.body).toEqual(unknown.body);
    expect((await request(t.http).head(`/${code}`)).status).toBe(404);
    expect((await stats(code)).status).toBe(404);
    // Only that link.
    expect((await request(t.http).get(`/${other}`)).status).toBe(302);
  });

  it('when the link is unknown, already deleted or not a code, then 404 NOT_FOUND naming code, and nothing changes', async () => {
    t = buildTestApp();
    const code = await shorten('https://example.com/once');
    expect((await request(t.http).delete(`/admin/test/links/${code}`)).status).toBe(204);
    for (const path of [`/admin/prod/links/${code}`, '/admin/prod/links/Nope0000', '/admin/prod/links/a.b']) {
      const r = await request(t.http).delete(path);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ error: { code: 'NOT_FOUND', field: 'code' } });
    }
    expect((await request(t.http).delete(`/admin/nope/links/${code}`)).status).toBe(404);
  });

  it('when ADMIN_TOKEN is set, then deleting needs it: none → 401, the board token → 403, and the link still redirects', async () => {
    t = buildTestApp({ ADMIN_TOKEN: ADMIN, BOARD_TOKEN: BOARD });
    const code = await shorten('https://example.com/guarded');
    expect((await request(t.http).delete(`/admin/prod/links/${code}`)).status).toBe(401);
    expect((await request(t.http).delete(`/admin/prod/links/${code}`).set('Authorization', `Bearer ${BOARD}`)).status).toBe(403);
    expect((await request(t.http).get(`/${code}`)).status).toBe(302);
    expect((await request(t.http).delete(`/admin/prod/links/${code}`).set('Authorization', `Bearer ${ADMIN}`)).status).toBe(204);
    expect((await request(t.http).get(`/${code}`)).status).toBe(404);
  });

  it('when another instance deletes a link this one has cached, then this one stops redirecting once the cache entry is CACHE_TTL_MS old', async () => {
    t = buildTestApp();
    const code = await shorten('https://example.com/cached');
    expect((await request(t.http).get(`/${code}`)).status).toBe(302);
    // Straight in the database, as another instance's DELETE would be.
    expect(await t.stores.shortUrls.delete(code)).toBe(true);
    t.clock.advance(CACHE_TTL_MS);
    expect((await request(t.http).get(`/${code}`)).status).toBe(404);
  });

  it('when a deleted slug is made again, then it leads to the new URL and its visits start from 0', async () => {
    t = buildTestApp();
    const code = await shorten('https://example.com/old', { customSlug: 'promo-2026' });
    for (let i = 0; i < 3; i++) expect((await request(t.http).get(`/${code}`)).status).toBe(302);
    expect((await request(t.http).delete(`/admin/prod/links/${code}`)).status).toBe(204);
    expect(await shorten('https://example.com/new', { customSlug: 'promo-2026' })).toBe(code);
    const r = await request(t.http).get(`/${code}`);
    expect(r.headers.location).toBe('https://example.com/new');
    await t.app.stop();
    expect((await t.stores.shortUrls.byCode(code))?.visits).toBe(1);
  });
});
