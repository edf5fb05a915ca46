import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { OPENAPI_PATH, checkExchange, spec } from '../helpers/openapi.js';

/**
 * docs/openapi.json against the running app (docs/http.md §8.5): every route the app serves is
 * in the file and every operation of the file is served; the file is what GET /openapi.json
 * sends; the reply checker that runs on every component test's reply rejects drift.
 */

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD /path/{param}` for every route registered on the Express app. */
function servedRoutes(stack: Layer[], out = new Set<string>()): Set<string> {
  for (const layer of stack) {
    if (layer.route) {
      const path = layer.route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      for (const m of Object.keys(layer.route.methods)) if (m !== '_all') out.add(`${m.toUpperCase()} ${path}`);
    } else if (layer.handle?.stack) servedRoutes(layer.handle.stack, out);
  }
  return out;
}

/** Served without an Express route: the short-link redirect is a middleware that only sees GET/HEAD (src/shorturl/shorturl.routes.ts). */
const MIDDLEWARE_ROUTES = ['GET /{code}', 'HEAD /{code}'];

let t: TestApp;
beforeAll(() => {
  t = buildTestApp();
});
afterAll(() => t.close());

describe('docs/openapi.json and the app (8)', () => {
  it('when the app is built, then every route it serves is described, and every described operation is served', () => {
    const served = servedRoutes((t.http as unknown as { router: { stack: Layer[] } }).router.stack);
    const described = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths)) for (const m of Object.keys(item)) described.add(`${m.toUpperCase()} ${path}`);
    const missing = [...served].filter((r) => !described.has(r));
    expect(missing, 'routes served but missing from docs/openapi.json: add them').toEqual([]);
    const extra = [...described].filter((r) => !served.has(r) && !MIDDLEWARE_ROUTES.includes(r));
    expect(extra, 'operations in docs/openapi.json the app does not serve').toEqual([]);
  });

  it('when a short code is followed, then the middleware route the file describes answers (GET 302, HEAD 302)', async () => {
    const made = await request(t.http).post('/UrlShortner/phonon/shortUrl').send({ custToken: 'abcd1234', longUrl: 'https://example.com/o' });
    const path = new URL(made.body.shortUrl).pathname;
    expect((await request(t.http).get(path)).status).toBe(302);
    expect((await request(t.http).head(path)).status).toBe(302);
  });

  it('when GET /openapi.json is asked for, then it is the repository file, an OpenAPI 3.1 document', async () => {
    const r = await request(t.http).get('/openapi.json');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.text).toBe(readFileSync(OPENAPI_PATH, 'utf8'));
    expect(r.body.openapi).toBe('3.1.0');
  });
});

describe('the reply checker (8)', () => {
  const ok = { cli_pause_update: true, cli: '+919879964805', pause: true, changed: true, since: '2026-01-15T10:00:00.000Z' };
  const base = { method: 'POST', path: '/centraloutboundwebhook-v1/test/', status: 200, contentType: 'application/json; charset=utf-8', webhookMethod: 'updatePauseStatusForCLI' };

  it('when a reply matches its operation, then it passes', () => {
    expect(checkExchange({ ...base, body: ok })).toBeUndefined();
    expect(checkExchange({ ...base, status: 404, body: { cli_pause_update: false, error: { code: 'AGENT_NOT_FOUND', message: 'no agent' } } })).toBeUndefined();
  });

  it('when a field is missing or of the wrong type, then it names the schema and the field', () => {
    const { cli: _cli, ...noCli } = ok;
    expect(checkExchange({ ...base, body: noCli })).toMatch(/PauseUpdate: .*must have required property 'cli'/);
    expect(checkExchange({ ...base, body: { ...ok, pause: 'yes' } })).toMatch(/pause must be boolean/);
  });

  it('when a status, media type or path is not described, then it says so', () => {
    expect(checkExchange({ ...base, status: 418, body: ok })).toMatch(/status 418 is not listed/);
    expect(checkExchange({ ...base, contentType: 'text/csv', body: 'x' })).toMatch(/text\/csv is not listed/);
    expect(checkExchange({ ...base, path: '/no/such/route/here', body: ok })).toMatch(/no path of docs\/openapi.json matches/);
    expect(checkExchange({ method: 'GET', path: '/admin/prod/clients', status: 200, contentType: 'application/json', body: [{ clientID: 'a', flows: [], createdAt: '2026-01-15T10:00:00.000Z', updatedAt: '2026-01-15T10:00:00.000Z', securityID: 'x' }] })).toMatch(/body does not match .*must NOT be valid/);
  });
});
