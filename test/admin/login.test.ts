import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { createSessions, SESSION_COOKIE } from '../../src/admin/session.js';

/** Supervisor sign-in, the session cookie and the HTML pages browsers get (docs/http.md §8.2). */

const ADMIN = 'admin-token-0123456789';
const BOARD = 'board-token-9876543210';
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
let t: TestApp;
afterEach(() => t.close());

const withTokens = () => buildTestApp({ ADMIN_TOKEN: ADMIN, BOARD_TOKEN: BOARD });

function sessionCookie(res: request.Response): string {
  const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const c = set.find((v) => v.startsWith(`${SESSION_COOKIE}=`));
  if (!c) throw new Error(`no session cookie in ${JSON.stringify(set)}`);
  return c;
}

async function login(token: string, next?: string) {
  const form = new URLSearchParams({ token, ...(next ? { next } : {}) }).toString();
  return request(t.http).post('/admin/login').set('Accept', BROWSER).type('form').send(form);
}

describe('sign-in (8)', () => {
  it('when a browser opens the login page, then it is an HTML form that posts the token to /admin/login', async () => {
    t = withTokens();
    const r = await request(t.http).get('/admin/login?next=/admin/test/board').set('Accept', BROWSER);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.headers['content-security-policy']).toContain("form-action 'self'");
    expect(r.text).toContain('<form method="post" action="/admin/login">');
    expect(r.text).toContain('name="token"');
    expect(r.text).toContain('name="next" value="/admin/test/board"');
  });

  it('when the admin token is posted from the form, then a 12 h HttpOnly SameSite=Strict cookie is set and the browser goes to next', async () => {
    t = withTokens();
    const r = await login(ADMIN, '/admin/test/board');
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/admin/test/board');
    const c = sessionCookie(r);
    expect(c).toMatch(/; Path=\/admin; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(c).not.toContain('Secure'); // plain HTTP here; HTTPS adds Secure
    const cookie = c.split(';')[0]!;
    expect((await request(t.http).put('/admin/test/agents/9879964805').set('Cookie', cookie).send({ name: 'Asha' })).status).toBe(201);
    expect((await request(t.http).get('/admin/test/board/data').set('Cookie', cookie)).status).toBe(200);
  });

  it('when the request arrived over HTTPS (a trusted proxy says so), then the cookie is Secure', async () => {
    t = buildTestApp({ ADMIN_TOKEN: ADMIN, TRUST_PROXY: 'loopback' });
    const r = await request(t.http).post('/admin/login').set('X-Forwarded-Proto', 'https').send({ token: ADMIN });
    expect(r.status).toBe(200);
    expect(sessionCookie(r)).toMatch(/; Secure$/);
  });

  it('when the board token signs in, then GETs work and changes are 403 FORBIDDEN', async () => {
    t = withTokens();
    await request(t.http).put('/admin/test/agents/9879964805').set('Authorization', `Bearer ${ADMIN}`).send({}).expect(201);
    const cookie = sessionCookie(await login(BOARD)).split(';')[0]!;
    expect((await request(t.http).get('/admin/test/board').set('Cookie', cookie)).status).toBe(200);
    expect((await request(t.http).get('/admin/test/reports/breaks').set('Cookie', cookie)).status).toBe(200);
    expect((await request(t.http).get('/admin/test/agents').set('Cookie', cookie)).status).toBe(200);
    const change = await request(t.http).post('/admin/test/agents/9879964805/pause').set('Cookie', cookie).send({ pause: true });
    expect(change.status).toBe(403);
    expect(change.body.error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('read-only') });
    expect((await request(t.http).get('/admin/test/agents/9879964805').set('Cookie', cookie)).body.pause).toBe(false);
    // The board token works as a bearer too, with the same limits.
    expect((await request(t.http).get('/admin/test/agents').set('Authorization', `Bearer ${BOARD}`)).status).toBe(200);
    expect((await request(t.http).delete('/admin/test/agents/9879964805').set('Authorization', `Bearer ${BOARD}`)).status).toBe(403);
  });

  it('when a wrong token is posted, then the form comes back with 401 and an error, and no cookie is set', async () => {
    t = withTokens();
    const r = await login('not-the-token-at-all');
    expect(r.status).toBe(401);
    expect(r.text).toContain('That token is not valid.');
    expect(r.headers['set-cookie']).toBeUndefined();
    const api = await request(t.http).post('/admin/login').send({ token: 'wrong-token-000000' });
    expect(api.status).toBe(401);
    expect(api.body.error).toMatchObject({ code: 'UNAUTHORIZED', field: 'token' });
  });

  it('when next points anywhere but this service /admin/, then the login goes to the board instead', async () => {
    t = withTokens();
    for (const next of ['https://evil.example.com/', '//evil.example.com/admin/', '/admin//evil.example.com', '/\\evil.example.com', '/shorturl']) {
      const r = await login(ADMIN, next);
      expect(r.headers.location).toBe('/admin/prod/board');
    }
  });

  it('when the cookie is forged, altered, expired or made with an old token, then it is refused', async () => {
    t = withTokens();
    const good = sessionCookie(await login(ADMIN)).split(';')[0]!;
    const value = good.slice(SESSION_COOKIE.length + 1);
    const [role, id, exp, sig] = value.split('.');
    const tries = [
      `board.${id}.${exp}.${sig}`,
      `${role}.${id}.${Number(exp) + 60}.${sig}`,
      `${role}.${'B'.repeat(22)}.${exp}.${sig}`,
      `${role}.${id}.${exp}.${'A'.repeat(43)}`,
      `${role}.${exp}.${sig}`,
      'admin',
      '',
    ];
    for (const v of tries) expect((await request(t.http).get('/admin/test/agents').set('Cookie', `${SESSION_COOKIE}=${v}`)).status).toBe(401);
    // 12 h later the same cookie no longer works.
    t.clock.advance(12 * 60 * 60 * 1000 + 1000);
    expect((await request(t.http).get('/admin/test/agents').set('Cookie', good)).status).toBe(401);
    // A cookie signed with another ADMIN_TOKEN (a rotated token) is refused.
    const other = createSessions({ ...t.config, ADMIN_TOKEN: 'another-admin-token-42' }, t.clock, t.stores.sessions).issue('admin').value;
    expect((await request(t.http).get('/admin/test/agents').set('Cookie', `${SESSION_COOKIE}=${other}`)).status).toBe(401);
  });

  it('when a browser signs out, then the cookie is cleared and it goes back to the login page', async () => {
    t = withTokens();
    const r = await request(t.http).post('/admin/logout').set('Accept', BROWSER);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/admin/login');
    expect(sessionCookie(r)).toMatch(/^cw_session=; Path=\/admin; Max-Age=0; HttpOnly; SameSite=Strict/);
    expect((await request(t.http).post('/admin/logout')).status).toBe(204);
  });

  it('when a session signs out, then its old cookie is refused like no cookie (401, the login page for a browser), and a fresh login still works', async () => {
    t = withTokens();
    const kept = sessionCookie(await login(ADMIN)).split(';')[0]!;
    const other = sessionCookie(await login(ADMIN)).split(';')[0]!;
    expect((await request(t.http).get('/admin/prod/agents').set('Cookie', kept)).status).toBe(200);
    expect((await request(t.http).post('/admin/logout').set('Cookie', kept)).status).toBe(204);
    // The copy of the cookie kept from before sign-out no longer works.
    const api = await request(t.http).get('/admin/prod/agents').set('Cookie', kept);
    expect(api.status).toBe(401);
    expect(api.body.error).toMatchObject({ code: 'UNAUTHORIZED' });
    const page = await request(t.http).get('/admin/prod/board').set('Cookie', kept).set('Accept', BROWSER);
    expect(page.status).toBe(401);
    expect(page.text).toContain('action="/admin/login"');
    // Signing out again with it is harmless; another session of the same token is untouched.
    expect((await request(t.http).post('/admin/logout').set('Cookie', kept)).status).toBe(204);
    expect((await request(t.http).get('/admin/prod/agents').set('Cookie', other)).status).toBe(200);
    // The record lives in the database, which every instance reads.
    expect(await t.query('SELECT expires_at FROM revoked_sessions')).toHaveLength(1);
    const fresh = sessionCookie(await login(ADMIN)).split(';')[0]!;
    expect((await request(t.http).get('/admin/prod/agents').set('Cookie', fresh)).status).toBe(200);
  });

  it('when the login form is posted from another site, then 403 and no cookie', async () => {
    t = withTokens();
    const r = await request(t.http).post('/admin/login').set('Origin', 'https://evil.example.com').type('form').send(`token=${ADMIN}`);
    expect(r.status).toBe(403);
    expect(r.headers['set-cookie']).toBeUndefined();
  });
});

describe('HTML pages for browsers (8)', () => {
  it('when a browser opens an admin page without a session, then it gets the login page with 401, and an API client gets JSON', async () => {
    t = withTokens();
    const r = await request(t.http).get('/admin/test/board').set('Accept', BROWSER);
    expect(r.status).toBe(401);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.text).toContain('action="/admin/login"');
    expect(r.text).toContain('name="next" value="/admin/test/board"');
    const api = await request(t.http).get('/admin/test/board');
    expect(api.status).toBe(401);
    expect(api.body.error.code).toBe('UNAUTHORIZED');
  });

  it('when a browser asks for an unknown admin path or agent, then the error is an HTML page with its status', async () => {
    t = withTokens();
    const r = await request(t.http).get('/admin/test/agents/9879964805').set('Authorization', `Bearer ${ADMIN}`).set('Accept', BROWSER);
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.text).toContain('AGENT_NOT_FOUND');
  });

  it('when a browser follows an unknown or expired short link, then 404 or 410 is an HTML page; curl gets JSON', async () => {
    t = buildTestApp();
    const unknown = await request(t.http).get('/Zz9Zz9Zz').set('Accept', BROWSER);
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/^text\/html/);
    expect(unknown.text).toContain('Not found');
    const expiresAt = new Date(t.clock.now() + 60_000).toISOString();
    const made = await request(t.http).post('/UrlShortner/phonon/shortUrl').send({ custToken: 'abcd1234', longUrl: 'https://example.com/sale', expiresAt });
    expect(made.status).toBe(200);
    const path = new URL(made.body.shortUrl).pathname;
    t.clock.advance(120_000);
    const gone = await request(t.http).get(path).set('Accept', BROWSER);
    expect(gone.status).toBe(410);
    expect(gone.text).toContain('This link has expired');
    const curl = await request(t.http).get(path).set('Accept', '*/*');
    expect(curl.status).toBe(410);
    expect(curl.body.error.code).toBe('GONE');
  });

  it('when an error message carries markup, then the page shows it escaped', async () => {
    t = withTokens();
    const r = await request(t.http).get('/admin/test/agents/%3Cscript%3E').set('Authorization', `Bearer ${ADMIN}`).set('Accept', BROWSER);
    expect(r.status).toBe(400);
    expect(r.text).not.toContain('<script>');
  });
});
