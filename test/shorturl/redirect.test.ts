import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';

const CREATE = '/UrlShortner/phonon/shortUrl';

let t: TestApp;
afterEach(() => t?.close());

async function shorten(longUrl: string, extra: Record<string, string> = {}): Promise<string> {
  const r = await request(t.http).post(CREATE).send({ custToken: 'abcd1234', longUrl, ...extra });
  expect(r.status).toBe(200);
  return `/${(r.body.shortUrl as string).split('/').pop()}`;
}
const storedVisits = async (path: string) =>
  (await t.query<{ visits: number; lastVisitAt: number | null }>('SELECT visits, last_visit_at AS "lastVisitAt" FROM short_urls WHERE code = ?', [path.slice(1)]))[0]!;

/** Send `n` requests, `width` at a time. */
async function burst(n: number, width: number, send: () => Promise<{ status: number }>): Promise<number[]> {
  const statuses: number[] = [];
  for (let done = 0; done < n; done += width) {
    const batch = await Promise.all(Array.from({ length: Math.min(width, n - done) }, send));
    statuses.push(...batch.map((r) => r.status));
  }
  return statuses;
}

describe('redirects (3)', () => {
  it('when a short link is opened, then 302 with Location exactly the long URL', async () => {
    t = buildTestApp();
    const longUrl = 'https://Example.com/a/../b?utm_source=sms&x=%20y#top';
    const path = await shorten(longUrl);
    const r = await request(t.http).get(path).redirects(0);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe(longUrl);
  });

  it('when SHORTURL_REDIRECT_STATUS=301, then the redirect is 301', async () => {
    t = buildTestApp({ SHORTURL_REDIRECT_STATUS: '301' });
    const path = await shorten('https://example.com/permanent');
    const r = await request(t.http).get(path);
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('https://example.com/permanent');
  });

  it('when HEAD is used, then it redirects the same way but counts no visit', async () => {
    t = buildTestApp();
    const path = await shorten('https://example.com/head');
    const r = await request(t.http).head(path);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('https://example.com/head');
    await t.app.stop();
    expect((await storedVisits(path)).visits).toBe(0);
  });

  it('when codes are unknown, then 404 with one identical body, the same as any unknown path', async () => {
    t = buildTestApp();
    await shorten('https://example.com/known');
    const bodies = new Set<string>();
    for (const path of ['/AAAAAAAA', '/zzzz', '/Zz9_-Zz9', `/${'q'.repeat(64)}`, '/no/such/path', '/a.b', '/%E2%9C%93']) {
      const r = await request(t.http).get(path).set('X-Request-Id', 'fixed-id');
      expect(r.status, path).toBe(404);
      expect(r.headers.location).toBeUndefined();
      bodies.add(r.text);
    }
    expect(bodies.size).toBe(1);
    expect(JSON.parse([...bodies][0]!)).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('when a known code is asked with another method, then the reply is the unknown-path 404 (no oracle)', async () => {
    t = buildTestApp();
    const path = await shorten('https://example.com/m');
    const post = await request(t.http).post(path);
    const unknown = await request(t.http).post('/AAAAAAAA');
    expect(post.status).toBe(404);
    expect(post.text).toBe(unknown.text);
    for (const method of ['options', 'put', 'delete', 'patch'] as const) {
      const r = await request(t.http)[method](path);
      expect(r.status, method).toBe(404);
      expect(r.text, method).toBe(unknown.text);
    }
  });

  it('when the app serves other paths, then they still work and the redirect does not hide them', async () => {
    t = buildTestApp();
    await shorten('https://example.com/');
    expect((await request(t.http).get('/healthz')).body).toEqual({ status: 'ok' });
    const hook = await request(t.http).post('/centraloutboundwebhook-v1/test/').send({ method: 'nope' });
    expect(hook.body.error.code).toBe('UNKNOWN_METHOD');
    expect((await request(t.http).get('/metrics')).status).toBe(200);
  });

  it('when the caller is outside ALLOWED_IPS, then redirects still work (they are public)', async () => {
    t = buildTestApp({ ALLOWED_IPS: '10.1.2.3', TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true' });
    // The Central flow (allowlisted, behind the proxy) creates the link; anyone may open it.
    const r = await request(t.http).post(CREATE).set('X-Forwarded-For', '10.1.2.3').send({ custToken: 'abcd1234', longUrl: 'https://example.com/public' });
    expect(r.status).toBe(200);
    const path = `/${(r.body.shortUrl as string).split('/').pop()}`;
    expect((await request(t.http).get(path)).status).toBe(302);
    expect((await request(t.http).get(path).set('X-Forwarded-For', '198.51.100.7')).status).toBe(302);
    expect((await request(t.http).post('/centraloutboundwebhook-v1/test/').send({ method: 'x' })).status).toBe(403);
  });

  it('when a link expires, then it redirects until expiresAt and answers 410 GONE afterwards', async () => {
    t = buildTestApp();
    const path = await shorten('https://example.com/flash', { expiresAt: '2026-01-15T11:00:00Z' });
    expect((await request(t.http).get(path)).status).toBe(302);
    t.clock.advance(60 * 60 * 1000 - 1);
    expect((await request(t.http).get(path)).status).toBe(302);
    t.clock.advance(1);
    const gone = await request(t.http).get(path);
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ error: { code: 'GONE' } });
    expect((await request(t.http).head(path)).status).toBe(410);
    await t.app.stop();
    expect((await storedVisits(path)).visits).toBe(2);
  });

  it('when a link was cached before the clock passed its expiry, then the cache still answers 410', async () => {
    t = buildTestApp();
    const path = await shorten('https://example.com/c', { expiresAt: '2026-01-15T10:00:01Z' });
    for (let i = 0; i < 3; i++) expect((await request(t.http).get(path)).status).toBe(302);
    t.clock.advance(1000);
    expect((await request(t.http).get(path)).status).toBe(410);
  });
});

describe('visit counting (3)', () => {
  it('when 1,000 redirects and 100 HEADs are served and the app stops, then exactly 1,000 visits are stored', async () => {
    t = buildTestApp();
    const path = await shorten('https://example.com/popular');
    const other = await shorten('https://example.com/other');
    const gets = await burst(1000, 50, () => request(t.http).get(path));
    expect(gets.every((s) => s === 302)).toBe(true);
    await burst(100, 50, () => request(t.http).head(path));
    await burst(7, 7, () => request(t.http).get(other));
    t.clock.advance(5000);
    await request(t.http).get(path);

    // Before the flush the stats already include visits held in memory.
    const stats = await request(t.http).get(`/UrlShortner/phonon/stats${path}?custToken=abcd1234`);
    expect(stats.body.visits).toBe(1001);
    expect(stats.body.lastVisitAt).toBe('2026-01-15T10:00:05.000Z');

    await t.app.stop();
    expect(await storedVisits(path)).toEqual({ visits: 1001, lastVisitAt: Date.parse('2026-01-15T10:00:05.000Z') });
    expect((await storedVisits(other)).visits).toBe(7);
    // A second stop (the test harness stops again on close) must not count anything twice.
    await t.app.stop();
    expect((await storedVisits(path)).visits).toBe(1001);
  });

  it('when the app is running, then counted visits reach the database on the flush timer', async () => {
    t = buildTestApp({}, { start: true });
    const path = await shorten('https://example.com/timer');
    await burst(20, 20, () => request(t.http).get(path));
    const deadline = Date.now() + 5000;
    while ((await storedVisits(path)).visits < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await storedVisits(path)).visits).toBe(20);
    const stats = await request(t.http).get(`/UrlShortner/phonon/stats${path}?custToken=abcd1234`);
    expect(stats.body.visits).toBe(20);
  });
});
