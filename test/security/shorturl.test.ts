import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { configFrom } from '../../src/config.js';
import { startupWarnings } from '../../src/observability/startupReport.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { snapshot } from './attack.helpers.js';

/** Issue 10, hole 8: short URLs on a public deployment (docs/http.md §7.4). */

const CREATE = '/UrlShortner/phonon/shortUrl';
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const create = (app: TestApp, body: Record<string, string>, from?: string) => {
  const r = supertest(app.http).post(CREATE);
  return (from ? r.set('X-Forwarded-For', from) : r).send(body);
};

describe('the documented default token (hole 8)', () => {
  it('when someone outside the allowlist uses the default token, then 403 FORBIDDEN_IP and no link is made; start-up warns while it is accepted', async () => {
    t = buildTestApp({ TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true', ALLOWED_IPS: '10.0.0.0/8' });
    const before = await snapshot(t);
    const r = await create(t, { custToken: 'abcd1234', longUrl: 'https://example.com/phish' }, '198.51.100.7');
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN_IP');
    expect(await snapshot(t)).toEqual(before);
    expect(startupWarnings(configFrom({}))).toContainEqual(expect.stringContaining('abcd1234'));
    expect(startupWarnings(configFrom({ SHORTURL_TOKENS: 'own-token-1' })).join('\n')).not.toContain('abcd1234');
  });
});

describe('guessing tokens (hole 8)', () => {
  it('when an address sends more than 10 wrong custTokens in a minute, then 429 with Retry-After for further creations, even with the right token', async () => {
    t = buildTestApp({ TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true', ALLOWED_IPS: '0.0.0.0/0' });
    const before = await snapshot(t);
    for (let i = 0; i < 10; i++) {
      const r = await create(t, { custToken: `guess${i}xx`, longUrl: 'https://example.com/' }, '203.0.113.9');
      expect(r.status).toBe(401);
    }
    const eleventh = await create(t, { custToken: 'guess10xx', longUrl: 'https://example.com/' }, '203.0.113.9');
    expect(eleventh.status).toBe(429);
    expect(eleventh.body).toMatchObject({ shortUrl: null, error: { code: 'RATE_LIMITED' } });
    expect(Number(eleventh.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const right = await create(t, { custToken: 'abcd1234', longUrl: 'https://example.com/' }, '203.0.113.9');
    expect(right.status).toBe(429);
    expect(await snapshot(t)).toEqual(before);
    // Another address is not affected.
    expect((await create(t, { custToken: 'abcd1234', longUrl: 'https://example.com/' }, '203.0.113.10')).status).toBe(200);
  });

  it('when an address guesses custTokens on the stats of a public link, then the 11th wrong one in a minute gets 429', async () => {
    t = buildTestApp();
    const made = await create(t, { custToken: 'abcd1234', longUrl: 'https://example.com/', customSlug: 'public-link' });
    expect(made.status).toBe(200);
    for (let i = 0; i < 10; i++) {
      expect((await supertest(t.http).get(`/UrlShortner/phonon/stats/public-link?custToken=guess${i}xx`)).status).toBe(404);
    }
    const limited = await supertest(t.http).get('/UrlShortner/phonon/stats/public-link?custToken=guess10xx');
    expect(limited.status).toBe(429);
    expect((await supertest(t.http).get('/UrlShortner/phonon/stats/public-link?custToken=abcd1234')).status).toBe(429);
  });
});

describe('guessing codes and slugs (hole 8)', () => {
  it('when an address asks for more than SHORTURL_MISSES_PER_MINUTE unknown codes, then 429 for unknown codes while known codes still redirect and count', async () => {
    t = buildTestApp({ SHORTURL_MISSES_PER_MINUTE: '5' });
    const made = await create(t, { custToken: 'abcd1234', longUrl: 'https://example.com/secret', customSlug: 'quarterly-report' });
    expect(made.status).toBe(200);
    const statuses: number[] = [];
    for (const guess of ['aaaaaaaa', 'bbbbbbbb', 'quarterly', 'report-q1', 'cccccccc', 'dddddddd', 'eeeeeeee']) {
      statuses.push((await supertest(t.http).get(`/${guess}`)).status);
    }
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429]);
    const limited = await supertest(t.http).get('/ffffffff');
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const known = await supertest(t.http).get('/quarterly-report');
    expect(known.status).toBe(302);
    expect(known.headers.location).toBe('https://example.com/secret');
  });

  it('when SHORTURL_MISSES_PER_MINUTE is invalid, then start-up stops naming it', () => {
    expect(() => configFrom({ SHORTURL_MISSES_PER_MINUTE: 'lots' })).toThrow(/SHORTURL_MISSES_PER_MINUTE/);
  });
});

describe('links that point back at the service (hole 8)', () => {
  const own = {
    SHORTURL_BASE_URL: 'https://s.example.com',
    PUBLIC_BASE_URL: 'https://central.example.com',
    SHORTURL_TOKENS: 'abcd1234,tok12345=https://go.example.in',
    ALLOWED_HOSTS: 'ops.example.com',
  };
  const targets = [
    'https://s.example.com/abcdefgh',
    'https://S.EXAMPLE.COM./abcdefgh',
    'https://central.example.com/admin/prod/agents',
    'https://go.example.in/x1234567',
    'https://ops.example.com/',
    'http://localhost:3000/abcdefgh',
    'http://LOCALHOST./x',
    'http://app.localhost/x',
    'http://127.0.0.1:3000/x',
    'http://127.8.9.10/x',
    'http://127.1/x',
    'http://0x7f000001/x',
    'http://2130706433/x',
    'http://0177.0.0.1/x',
    'http://0.0.0.0:3000/x',
    'http://0/x',
    'http://[::1]:3000/x',
    'http://[::]/x',
    'http://[::ffff:127.0.0.1]/x',
    'http://[::127.0.0.1]/x',
    'http://[0:0:0:0:0:0:0:1]/x',
  ];
  it('when longUrl is the service’s own host or a loopback/unspecified address in any spelling, then 400 INVALID_PARAMETER on longUrl and nothing is stored', async () => {
    t = buildTestApp(own);
    const before = await snapshot(t);
    for (const longUrl of targets) {
      const r = await create(t, { custToken: 'abcd1234', longUrl });
      expect(r.status, longUrl).toBe(400);
      expect(r.body.error, longUrl).toMatchObject({ code: 'INVALID_PARAMETER', field: 'longUrl' });
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('when longUrl is another host, including private addresses and lookalikes, then it is accepted', async () => {
    t = buildTestApp(own);
    for (const longUrl of ['https://example.com/', 'http://10.0.0.5/', 'https://s.example.com.evil.example/', 'https://localhost.example.com/', 'http://[2001:db8::1]/']) {
      expect((await create(t, { custToken: 'abcd1234', longUrl })).status, longUrl).toBe(200);
    }
  });
});
