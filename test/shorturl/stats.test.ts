import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { XMLParser } from 'fast-xml-parser';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { hashToken } from '../../src/shorturl/tokens.js';

let t: TestApp;
afterEach(() => t?.close());

const TOKENS = 'abcd1234,brand5678=https://s.example.in';

async function shorten(token: string, longUrl: string): Promise<string> {
  const r = await request(t.http).post('/UrlShortner/phonon/shortUrl').send({ custToken: token, longUrl });
  expect(r.status).toBe(200);
  return (r.body.shortUrl as string).split('/').pop()!;
}
const stats = (code: string, token?: string) =>
  request(t.http).get(`/UrlShortner/phonon/stats/${code}${token === undefined ? '' : `?custToken=${token}`}`);

describe('stats (3)', () => {
  it('when the owning token asks, then it gets shortUrl, longUrl, visits, createdAt and lastVisitAt', async () => {
    t = buildTestApp({ SHORTURL_TOKENS: TOKENS });
    const code = await shorten('brand5678', 'https://example.com/s');
    const fresh = await stats(code, 'brand5678');
    expect(fresh.status).toBe(200);
    expect(fresh.body).toEqual({
      shortUrl: `https://s.example.in/${code}`,
      longUrl: 'https://example.com/s',
      visits: 0,
      createdAt: '2026-01-15T10:00:00.000Z',
      lastVisitAt: null,
    });
    t.clock.advance(90_000);
    await request(t.http).get(`/${code}`);
    await request(t.http).get(`/${code}`);
    const after = await stats(code, 'brand5678');
    expect(after.body).toMatchObject({ visits: 2, lastVisitAt: '2026-01-15T10:01:30.000Z' });
  });

  it('when the reply is asked as XML, then the same fields come as <response>', async () => {
    t = buildTestApp();
    const code = await shorten('abcd1234', 'https://example.com/x?a=1&b=2');
    const r = await request(t.http).get(`/UrlShortner/phonon/stats/${code}?custToken=abcd1234&format=xml`);
    const doc = new XMLParser({ parseTagValue: false }).parse(r.text).response;
    expect(doc).toMatchObject({ longUrl: 'https://example.com/x?a=1&b=2', visits: '0', lastVisitAt: '' });
  });

  it('when another valid token, an unknown token or an unknown code is used, then one identical 404', async () => {
    t = buildTestApp({ SHORTURL_TOKENS: TOKENS });
    const code = await shorten('abcd1234', 'https://example.com/private');
    const replies = [await stats(code, 'brand5678'), await stats(code, 'notatoken'), await stats('ZZZZZZZZ', 'abcd1234'), await stats('a.b', 'abcd1234')];
    for (const r of replies) {
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'NOT_FOUND', message: 'no such short link for this token' } });
    }
  });

  it('when custToken is missing, then 400 MISSING_PARAMETER', async () => {
    t = buildTestApp();
    const code = await shorten('abcd1234', 'https://example.com/');
    const r = await stats(code);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'custToken' });
  });

  it('when a token is no longer in SHORTURL_TOKENS, then its stats are not served but its links still redirect', async () => {
    t = buildTestApp({ SHORTURL_TOKENS: 'abcd1234' });
    // A link made earlier by a token that has since been removed from the configuration.
    await t.query(
      "INSERT INTO short_urls (stage, code, token_hash, long_url, custom, created_at) VALUES ('prod', 'OldLink1', ?, 'https://example.com/old', ?, 0)",
      [hashToken('brand5678'), t.stores.engine === 'postgres' ? false : 0],
    );
    expect((await stats('OldLink1', 'brand5678')).status).toBe(404);
    expect((await request(t.http).get('/OldLink1')).headers.location).toBe('https://example.com/old');
  });
});
