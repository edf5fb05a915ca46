import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatchByFirstSegment } from '../../src/http/dispatch.js';

/**
 * src/http/dispatch.ts: routers run by first path segment answer as if all were mounted at `/`.
 * Plain fetch against a listening app: these paths are made up, not the service's (docs/openapi.json).
 */
const servers: { close(): void }[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

function app() {
  const ran: string[] = [];
  const a = express();
  a.use(
    dispatchByFirstSegment([
      (r) => r.use('/admin', (_req, _res, next) => (ran.push('admin guard'), next())),
      (r) => r.get('/admin/:stage/agents', (_req, res) => void res.send('agents')),
      (r) => r.route('/ivr/:stage/inbound').post((_req, res) => void res.send('ivr')),
      (r) => r.get('/admin/fail', (_req, _res, next) => next(new Error('boom'))),
      // Any path: a leading parameter and a plain middleware.
      (r) => r.get('/:code', (req, res, next) => (req.params.code === 'abc' ? void res.send('link') : next())),
      (r) => r.use((_req, _res, next) => (ran.push('catch-all'), next())),
    ]),
  );
  a.use((_req, res) => void res.status(404).send('none'));
  a.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).send(err.message));
  const server = a.listen(0, '127.0.0.1');
  servers.push(server);
  const call = async (method: string, path: string) => {
    if (!server.listening) await new Promise((r) => server.once('listening', r));
    const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, { method });
    return { status: r.status, text: await r.text() };
  };
  return { call, ran };
}

describe('dispatch by first path segment', () => {
  it('when a path is under a segment, then only that segment’s routers and the any-path ones run, in mounting order', async () => {
    const t = app();
    expect((await t.call('GET', '/admin/test/agents')).text).toBe('agents');
    expect(t.ran).toEqual(['admin guard']);
    t.ran.length = 0;
    expect((await t.call('GET', '/admin/nothing/here')).text).toBe('none');
    expect(t.ran).toEqual(['admin guard', 'catch-all']);
    t.ran.length = 0;
    expect((await t.call('POST', '/ivr/test/inbound')).text).toBe('ivr');
    expect(t.ran).toEqual([]);
  });

  it('when a path has an unknown first segment, then only the any-path routers run; an error skips the rest', async () => {
    const t = app();
    expect((await t.call('GET', '/abc')).text).toBe('link');
    expect((await t.call('GET', '/zzz/deeper')).text).toBe('none');
    expect(t.ran).toEqual(['catch-all']);
    t.ran.length = 0;
    const failed = await t.call('GET', '/admin/fail');
    expect([failed.status, failed.text]).toEqual([500, 'boom']);
    expect(t.ran).toEqual(['admin guard']);
    // Routes stay case-sensitive: another case is another (unknown) segment.
    expect((await t.call('GET', '/ADMIN/test/agents')).text).toBe('none');
  });
});
