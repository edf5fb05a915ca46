import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { XMLParser } from 'fast-xml-parser';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

const CREATE = '/UrlShortner/phonon/shortUrl';
const TOKEN = 'abcd1234';
const xml = new XMLParser({ parseTagValue: false });

let t: TestApp;
afterEach(() => t?.close());

const create = (body: Record<string, unknown>) => request(t.http).post(CREATE).send({ custToken: TOKEN, ...body });
const codeOf = (shortUrl: string) => shortUrl.slice(shortUrl.lastIndexOf('/') + 1);
const links = () => t.query<{ code: string; longUrl: string }>('SELECT code, long_url AS "longUrl" FROM short_urls ORDER BY created_at, code');

describe('creating a short URL (3)', () => {
  it('when a valid token and URL are sent as JSON, then 200 with the base and an 8-character code', async () => {
    t = buildTestApp();
    const r = await create({ longUrl: 'https://example.com/offer?id=7' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ shortUrl: expect.stringMatching(/^http:\/\/localhost:3000\/[A-Za-z0-9]{8}$/) });
    expect(await links()).toEqual([{ code: codeOf(r.body.shortUrl), longUrl: 'https://example.com/offer?id=7' }]);
  });

  it('when the request is a form, then it works the same', async () => {
    t = buildTestApp();
    const r = await request(t.http).post(CREATE).type('form').send(`custToken=${TOKEN}&longUrl=${encodeURIComponent('https://example.com/a?b=c&d=e')}`);
    expect(r.status).toBe(200);
    expect((await links())[0]!.longUrl).toBe('https://example.com/a?b=c&d=e');
  });

  it('when the request is XML, then the reply is XML with <shortUrl>', async () => {
    t = buildTestApp();
    const r = await request(t.http)
      .post(CREATE)
      .set('Content-Type', 'application/xml')
      .send(`<request><custToken>${TOKEN}</custToken><longUrl>https://example.com/x?a=1&amp;b=2</longUrl></request>`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/xml/);
    const shortUrl = xml.parse(r.text).response.shortUrl as string;
    expect(shortUrl).toMatch(/^http:\/\/localhost:3000\/[A-Za-z0-9]{8}$/);
    expect((await links())[0]!.longUrl).toBe('https://example.com/x?a=1&b=2');
  });

  it('when the same token shortens the same URL again, then it gets the same short URL and no new row', async () => {
    t = buildTestApp();
    const a = await create({ longUrl: 'https://example.com/same' });
    const b = await create({ longUrl: 'https://example.com/same' });
    expect(b.body.shortUrl).toBe(a.body.shortUrl);
    const other = await create({ longUrl: 'https://example.com/other' });
    expect(other.body.shortUrl).not.toBe(a.body.shortUrl);
    expect(await links()).toHaveLength(2);
  });

  it('when 100 creations of one URL run concurrently, then all get one code and one row exists', async () => {
    t = buildTestApp();
    const replies = await Promise.all(Array.from({ length: 100 }, () => create({ longUrl: 'https://example.com/burst' })));
    expect(replies.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(new Set(replies.map((r) => r.body.shortUrl)).size).toBe(1);
    expect(await links()).toHaveLength(1);
  });

  it('when two tokens shorten one URL, then each gets its own link under its own domain', async () => {
    t = buildTestApp({ SHORTURL_TOKENS: 'abcd1234,brand5678=https://s.example.in/' });
    const a = await create({ longUrl: 'https://example.com/p' });
    const b = await request(t.http).post(CREATE).send({ custToken: 'brand5678', longUrl: 'https://example.com/p' });
    expect(a.body.shortUrl).toMatch(/^http:\/\/localhost:3000\/[A-Za-z0-9]{8}$/);
    expect(b.body.shortUrl).toMatch(/^https:\/\/s\.example\.in\/[A-Za-z0-9]{8}$/);
    expect(codeOf(a.body.shortUrl)).not.toBe(codeOf(b.body.shortUrl));
  });

  it('when SHORTURL_BASE_URL is set, then links use it', async () => {
    t = buildTestApp({ SHORTURL_BASE_URL: 'https://go.example.org' });
    const r = await create({ longUrl: 'https://example.com/' });
    expect(r.body.shortUrl).toMatch(/^https:\/\/go\.example\.org\/[A-Za-z0-9]{8}$/);
  });

  it('when parameters use other spellings (flow variables, case), then they are read', async () => {
    t = buildTestApp();
    const r = await request(t.http).post(CREATE).send({ '$flow.key.custToken': TOKEN, LONGURL: 'https://example.com/case' });
    expect(r.status).toBe(200);
  });

  it('when the caller is outside ALLOWED_IPS, then creation is refused with 403 FORBIDDEN_IP like every webhook (7.4) and nothing is stored', async () => {
    t = buildTestApp({ ALLOWED_IPS: '10.1.2.3' });
    const r = await create({ longUrl: 'https://example.com/' });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN_IP');
    expect(await links()).toEqual([]);
  });
});

describe('tokens and limits (3, 1.4)', () => {
  it('when custToken is missing, then 400 MISSING_PARAMETER and nothing is stored', async () => {
    t = buildTestApp();
    const r = await request(t.http).post(CREATE).send({ longUrl: 'https://example.com/' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ shortUrl: null, error: { code: 'MISSING_PARAMETER', message: expect.any(String), field: 'custToken' } });
    expect(await links()).toEqual([]);
  });

  for (const bad of ['wrongtoken', 'abcd123', 'abcd12345', 'ABCD1234']) {
    it(`when custToken is "${bad}", then 401 UNAUTHORIZED and nothing is stored`, async () => {
      t = buildTestApp();
      const before = await tableCounts(t);
      const r = await request(t.http).post(CREATE).send({ custToken: bad, longUrl: 'https://example.com/' });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ shortUrl: null, error: { code: 'UNAUTHORIZED' } });
      expect(await tableCounts(t)).toEqual(before);
    });
  }

  it('when a token passes SHORTURL_CREATES_PER_MINUTE, then 429 with Retry-After, nothing stored, other tokens unaffected', async () => {
    t = buildTestApp({ SHORTURL_CREATES_PER_MINUTE: '3', SHORTURL_TOKENS: 'abcd1234,other999' });
    for (let i = 0; i < 3; i++) expect((await create({ longUrl: `https://example.com/${i}` })).status).toBe(200);
    const before = await tableCounts(t);
    const r = await create({ longUrl: 'https://example.com/4' });
    expect(r.status).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(r.body).toMatchObject({ shortUrl: null, error: { code: 'RATE_LIMITED' } });
    expect(await tableCounts(t)).toEqual(before);
    expect((await request(t.http).post(CREATE).send({ custToken: 'other999', longUrl: 'https://example.com/4' })).status).toBe(200);
  });

  it('when a token is used, then it never appears in the logs or the database', async () => {
    t = buildTestApp({ SHORTURL_TOKENS: 'Sup3rSecretTok' });
    const r = await request(t.http).post(`${CREATE}?custToken=Sup3rSecretTok`).send({ longUrl: 'https://example.com/' });
    expect(r.status).toBe(200);
    await request(t.http).get(`/UrlShortner/phonon/stats/${codeOf(r.body.shortUrl)}?custToken=Sup3rSecretTok`);
    expect(t.logs.join('')).not.toContain('Sup3rSecretTok');
    const dump = JSON.stringify(await t.query('SELECT * FROM short_urls'));
    expect(dump).not.toContain('Sup3rSecretTok');
  });

  it('when creation is asked with GET, then 405 with Allow: POST', async () => {
    t = buildTestApp();
    const r = await request(t.http).get(CREATE);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
  });
});

describe('long URL safety (3)', () => {
  const rejected: [string, string][] = [
    ['javascript scheme', 'javascript:alert(1)'],
    ['javascript scheme in capitals', 'JavaScript:alert(document.cookie)'],
    ['javascript scheme after a slash trick', 'javascript://example.com/%0aalert(1)'],
    ['data scheme', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='],
    ['vbscript scheme', 'vbscript:msgbox(1)'],
    ['file scheme', 'file:///etc/passwd'],
    ['ftp scheme', 'ftp://example.com/file.txt'],
    ['mailto scheme', 'mailto:someone@example.com'],
    ['blob scheme', 'blob:https://example.com/uuid'],
    ['scheme-relative URL', '//example.com/path'],
    ['no scheme', 'example.com/path'],
    ['relative path', '/local/path'],
    ['http without slashes', 'http:example.com'],
    ['http with one slash', 'http:/example.com'],
    ['empty host', 'http:///example.com'],
    ['only a scheme', 'https://'],
    ['user and password', 'https://user:pass@example.com/'],
    ['user only', 'https://user@example.com/'],
    ['empty credentials', 'https://@example.com/'],
    ['credentials hiding the host', 'https://example.com:443@evil.example/'],
    ['a space', 'https://example.com/a b'],
    ['a leading space', ' https://example.com/'],
    ['a trailing newline', 'https://example.com/\n'],
    ['a tab', 'https://exam\tple.com/'],
    ['a NUL', 'https://example.com/\u0000'],
    ['a DEL', 'https://example.com/\u007f'],
    ['a zero-width space', 'https://example.com/\u200b'],
    ['a right-to-left override', 'https://example.com/\u202Egnp.exe'],
    ['a non-breaking space', 'https://example.com/\u00a0'],
    ['a backslash', 'https://example.com\\@evil.example/'],
    ['an invalid host', 'https://exa<mple.com/'],
    ['an invalid port', 'https://example.com:99999/'],
    ['a link to the default short-link base', 'http://localhost:3000/AbCd1234'],
    ['a link to the short-link host in capitals', 'HTTP://LOCALHOST:3000/AbCd1234'],
    ['a link to a token custom domain', 'https://s.example.in/AbCd1234'],
    ['a link to a custom domain over the other scheme', 'http://s.example.in./x'],
    ['a 2049-character URL', `https://example.com/${'a'.repeat(2049 - 20)}`],
  ];
  for (const [what, longUrl] of rejected) {
    it(`when longUrl has ${what}, then 400 INVALID_PARAMETER on longUrl and nothing is stored`, async () => {
      t = buildTestApp({ SHORTURL_TOKENS: 'abcd1234,brand5678=https://s.example.in' });
      const before = await tableCounts(t);
      const r = await create({ longUrl });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ shortUrl: null, error: { code: 'INVALID_PARAMETER', field: 'longUrl' } });
      expect(await tableCounts(t)).toEqual(before);
    });
  }

  it('when longUrl is missing or empty, then 400 MISSING_PARAMETER', async () => {
    t = buildTestApp();
    expect((await create({})).body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'longUrl' });
    expect((await create({ longUrl: '' })).body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'longUrl' });
  });

  it('when longUrl is not a single value, then 400 INVALID_PARAMETER', async () => {
    t = buildTestApp();
    const r = await create({ longUrl: ['https://a.example/', 'https://b.example/'] });
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'longUrl' });
  });

  it('when a URL is exactly 2048 characters, then it is accepted', async () => {
    t = buildTestApp();
    const longUrl = `https://example.com/${'a'.repeat(2048 - 20)}`;
    expect(longUrl).toHaveLength(2048);
    expect((await create({ longUrl })).status).toBe(200);
  });

  it('when the URL is unusual but safe, then it is stored exactly as given (no normalisation)', async () => {
    t = buildTestApp();
    const longUrl = 'HTTPS://Example.COM:443/a/../b/%7Euser?q=1&q=2&empty=#Frag%20x';
    const r = await create({ longUrl });
    expect(r.status).toBe(200);
    expect((await links())[0]!.longUrl).toBe(longUrl);
  });

  it('when the URL has non-ASCII text, then it is stored in its ASCII form (punycode host, UTF-8 escapes)', async () => {
    t = buildTestApp();
    const r = await create({ longUrl: 'https://bücher.example/सूची?q=नमस्ते' });
    expect(r.status).toBe(200);
    const stored = (await links())[0]!.longUrl;
    expect(stored).toBe(new URL('https://bücher.example/सूची?q=नमस्ते').href);
    expect(stored).toMatch(/^https:\/\/xn--bcher-kva\.example\/%E0%A4/);
  });
});

describe('custom slugs (3)', () => {
  it('when a free slug is asked for, then the short URL uses it', async () => {
    t = buildTestApp();
    const r = await create({ longUrl: 'https://example.com/sale', customSlug: 'diwali-Sale_2026' });
    expect(r.status).toBe(200);
    expect(r.body.shortUrl).toBe('http://localhost:3000/diwali-Sale_2026');
  });

  it('when a slug is taken, then 409 SLUG_TAKEN, also for the same token and URL, and nothing changes', async () => {
    t = buildTestApp({ SHORTURL_TOKENS: 'abcd1234,other999' });
    expect((await create({ longUrl: 'https://example.com/a', customSlug: 'promo' })).status).toBe(200);
    const before = await tableCounts(t);
    for (const body of [
      { custToken: TOKEN, longUrl: 'https://example.com/a', customSlug: 'promo' },
      { custToken: 'other999', longUrl: 'https://example.com/b', customSlug: 'promo' },
    ]) {
      const r = await request(t.http).post(CREATE).send(body);
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ shortUrl: null, error: { code: 'SLUG_TAKEN', field: 'customSlug' } });
    }
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when two requests race for one slug, then exactly one gets it and the other 409', async () => {
    t = buildTestApp();
    const [a, b] = await Promise.all([
      create({ longUrl: 'https://example.com/first', customSlug: 'raceme' }),
      create({ longUrl: 'https://example.com/second', customSlug: 'raceme' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? 'https://example.com/first' : 'https://example.com/second';
    expect(await links()).toEqual([{ code: 'raceme', longUrl: winner }]);
    const go = await request(t.http).get('/raceme');
    expect(go.headers.location).toBe(winner);
  });

  it('when a slug is asked for a URL that already has a generated code, then both links exist', async () => {
    t = buildTestApp();
    const generated = await create({ longUrl: 'https://example.com/x' });
    const custom = await create({ longUrl: 'https://example.com/x', customSlug: 'xlink' });
    expect(custom.body.shortUrl).toBe('http://localhost:3000/xlink');
    expect(generated.body.shortUrl).not.toBe(custom.body.shortUrl);
    expect((await create({ longUrl: 'https://example.com/x' })).body.shortUrl).toBe(generated.body.shortUrl);
  });

  const badSlugs: [string, string][] = [
    ['3 characters', 'abc'],
    ['65 characters', 'a'.repeat(65)],
    ['a dot', 'my.link'],
    ['a slash', 'my/link'],
    ['a space', 'my link'],
    ['non-ASCII letters', 'café1'],
    ['the health path', 'healthz'],
    ['the metrics path', 'metrics'],
    ['the admin path in other case', 'Admin'],
    ['the stats path', 'stats'],
    ['the mapping path', 'mapping'],
    ['the shortener path', 'UrlShortner'],
    ['the central webhook path', 'centraloutboundwebhook-v1'],
  ];
  for (const [what, customSlug] of badSlugs) {
    it(`when customSlug has ${what}, then 400 INVALID_PARAMETER on customSlug and nothing is stored`, async () => {
      t = buildTestApp();
      const r = await create({ longUrl: 'https://example.com/', customSlug });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ shortUrl: null, error: { code: 'INVALID_PARAMETER', field: 'customSlug' } });
      expect(await links()).toEqual([]);
    });
  }

  it('when customSlug is empty (blank form field), then a code is generated', async () => {
    t = buildTestApp();
    const r = await request(t.http).post(CREATE).type('form').send(`custToken=${TOKEN}&longUrl=https%3A%2F%2Fexample.com%2F&customSlug=&expiresAt=`);
    expect(r.status).toBe(200);
    expect(r.body.shortUrl).toMatch(/\/[A-Za-z0-9]{8}$/);
  });
});

describe('expiresAt (3)', () => {
  it('when expiresAt is in the past or now, then 400 INVALID_PARAMETER and nothing is stored', async () => {
    t = buildTestApp();
    for (const expiresAt of ['2026-01-15T09:59:59Z', '2026-01-15T10:00:00.000Z', '2020-01-01']) {
      const r = await create({ longUrl: 'https://example.com/', expiresAt });
      expect(r.status, expiresAt).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'expiresAt' });
    }
    expect(await links()).toEqual([]);
  });

  for (const expiresAt of ['tomorrow', '2030-13-01T00:00:00Z', '2030-02-30T00:00:00Z', '2030-01-01T25:00:00Z', '2030-01-01T10:00:00', '1893456000000', '2030-01-01 10:00:00Z']) {
    it(`when expiresAt is "${expiresAt}", then 400 INVALID_PARAMETER`, async () => {
      t = buildTestApp();
      const r = await create({ longUrl: 'https://example.com/', expiresAt });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'expiresAt' });
    });
  }

  it('when expiresAt has an offset, then the instant is honoured: redirect before it, 410 from it on', async () => {
    t = buildTestApp();
    // 2026-01-15T16:00:00+05:30 is 10:30:00Z; the clock starts at 10:00:00Z.
    const r = await create({ longUrl: 'https://example.com/flash', expiresAt: '2026-01-15T16:00:00+05:30' });
    expect(r.status).toBe(200);
    const path = `/${codeOf(r.body.shortUrl)}`;
    t.clock.set('2026-01-15T10:29:59.999Z');
    expect((await request(t.http).get(path)).status).toBe(302);
    t.clock.set('2026-01-15T10:30:00.000Z');
    const gone = await request(t.http).get(path);
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('GONE');
    expect(gone.headers.location).toBeUndefined();
  });

  it('when the same URL is shortened with and without expiry, then they are different links', async () => {
    t = buildTestApp();
    const forever = await create({ longUrl: 'https://example.com/e' });
    const brief = await create({ longUrl: 'https://example.com/e', expiresAt: '2026-02-01T00:00:00Z' });
    const again = await create({ longUrl: 'https://example.com/e', expiresAt: '2026-02-01T05:30:00+05:30' });
    expect(brief.body.shortUrl).not.toBe(forever.body.shortUrl);
    expect(again.body.shortUrl).toBe(brief.body.shortUrl);
  });
});
