import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer } from '../../src/http/slowClients.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';

/**
 * The service's server hands requests to Express without changing their prototypes
 * (src/http/expressServer.ts, docs/http.md §8.7), and Express works as through app.handle.
 */

const closers: (() => Promise<void>)[] = [];
let t: TestApp | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of closers.splice(0)) await c();
  await t?.close();
  t = undefined;
});

async function serve(app: express.Express): Promise<string> {
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the service server (docs/http.md §8.7)', () => {
  it('when a request is served, then no request or response has its prototype changed, and the webhook answers as usual', async () => {
    t = buildTestApp();
    const url = await serve(t.http);
    const setPrototypeOf = vi.spyOn(Object, 'setPrototypeOf');
    const r = await fetch(`${url}/centraloutboundwebhook-v1/test/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'noSuchMethod' }),
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_METHOD');
    const messages = setPrototypeOf.mock.calls.filter(([o]) => o instanceof http.IncomingMessage || o instanceof http.ServerResponse);
    expect(messages).toEqual([]);
  });

  it("when a route uses Express's request and response, then params, settings (trust proxy), locals and res.json work", async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use((_req, res, next) => ((res.locals.seen = 'yes'), next()));
    app.get('/things/:id', (req, res) => {
      res.json({ id: req.params.id, ip: req.ip, header: req.get('x-thing'), seen: res.locals.seen, app: req.app === app });
    });
    const url = await serve(app);
    const r = await fetch(`${url}/things/42`, { headers: { 'x-thing': 'hello', 'x-forwarded-for': '192.0.2.7' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await r.json()).toEqual({ id: '42', ip: '192.0.2.7', header: 'hello', seen: 'yes', app: true });
  });

  it('when nothing answers, then 404; when an error escapes every handler, then a bare 500', async () => {
    const app = express();
    app.get('/boom', () => {
      throw new Error('secret detail');
    });
    const url = await serve(app);
    expect((await fetch(`${url}/nothing-here`)).status).toBe(404);
    const boom = await fetch(`${url}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).toBe('');
  });
});
