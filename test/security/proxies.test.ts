import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { CLI, HOOK, createOutbound, seed, snapshot } from './attack.helpers.js';

/**
 * Issue 10, holes 4 and 5, and the appending-proxy X-Forwarded-Proto hole (docs/http.md §7.2).
 * supertest connects from 127.0.0.1, so each request here comes from a loopback socket peer,
 * exactly like a reverse proxy on the same host.
 */

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const warnLines = (app: TestApp) => app.logs.filter((l) => JSON.parse(l).level === 40);

describe('TRUST_PROXY=true (hole 4)', () => {
  it('when the service is started with TRUST_PROXY=true, then it exits 1 with one line naming TRUST_PROXY', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-trust-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: join(import.meta.dirname, '../..'),
        env: { ...process.env, TRUST_PROXY: 'true', DATABASE_PATH: join(dir, 'db.sqlite'), PORT: '0' },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/TRUST_PROXY must not be true/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a client behind a trusted appending proxy writes X-Forwarded-For: 127.0.0.1, then its real address is judged and nothing changes', async () => {
    t = buildTestApp({ TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true' });
    await seed(t);
    const before = await snapshot(t);
    // The client wrote "127.0.0.1"; nginx's $proxy_add_x_forwarded_for appended its real address.
    const chain = '127.0.0.1, 203.0.113.5';
    const client = await supertest(t.http).put('/admin/prod/clients/evil').set('X-Forwarded-For', chain).send({ securityID: 'e'.repeat(64), flows: ['FLOW0001'] });
    expect(client.status).toBe(403);
    expect(client.body.error.code).toBe('FORBIDDEN_IP');
    const dial = await supertest(t.http).post(HOOK).set('X-Forwarded-For', chain).send(createOutbound);
    expect(dial.status).toBe(403);
    expect(dial.body.error.code).toBe('FORBIDDEN_IP');
    const metrics = await supertest(t.http).get('/metrics').set('X-Forwarded-For', chain);
    expect(metrics.status).toBe(403);
    expect(await snapshot(t)).toEqual(before);
  });

  it('when the per-IP limit applies behind a trusted proxy, then a client cannot dodge it by writing a new X-Forwarded-For each time', async () => {
    t = buildTestApp({ TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true', ALLOWED_IPS: '0.0.0.0/0', RATE_LIMIT_PER_IP: '3' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await supertest(t.http).post(HOOK).set('X-Forwarded-For', `10.9.9.${i}, 203.0.113.5`).send({ method: 'getPauseStatusForCLI', cli: CLI });
      statuses.push(r.status);
    }
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
  });
});

describe('a proxy on the same host with default settings (hole 5)', () => {
  for (const [header, value] of [
    ['X-Forwarded-For', '203.0.113.5'],
    ['X-Real-IP', '203.0.113.5'],
    ['Forwarded', 'for=203.0.113.5;proto=https'],
  ] as const) {
    it(`when a loopback peer sends ${header} and TRUST_PROXY is off, then admin, webhooks and /metrics answer 403 FORBIDDEN_IP naming TRUST_PROXY and nothing changes`, async () => {
      t = buildTestApp();
      await seed(t);
      const before = await snapshot(t);
      const attempts = [
        supertest(t.http).put('/admin/prod/agents/9879964807').set(header, value).send({ name: 'Mallory' }),
        supertest(t.http).post(`/admin/prod/agents/${CLI}/pause`).set(header, value).send({ pause: true }),
        supertest(t.http).post(HOOK).set(header, value).send({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true }),
        supertest(t.http).post(HOOK).set(header, value).send(createOutbound),
        supertest(t.http).get('/metrics').set(header, value),
        supertest(t.http).get('/admin/prod/events').set(header, value),
      ];
      for (const r of await Promise.all(attempts)) {
        expect(r.status).toBe(403);
        expect(r.body.error.code).toBe('FORBIDDEN_IP');
        expect(r.body.error.message).toContain('TRUST_PROXY');
      }
      expect(await snapshot(t)).toEqual(before);
      const warns = warnLines(t);
      expect(warns).toHaveLength(1);
      expect(warns[0]).toContain('TRUST_PROXY');
    });
  }

  it('when a loopback peer without forwarded headers calls, then it is still served (the operator on the host)', async () => {
    t = buildTestApp();
    await seed(t);
    expect((await supertest(t.http).get('/admin/prod/events')).status).toBe(200);
    expect(warnLines(t)).toHaveLength(0);
  });

  it('when a public short link is opened through the untrusted proxy over plain HTTP, then 403 HTTPS_REQUIRED names TRUST_PROXY', async () => {
    t = buildTestApp();
    const r = await supertest(t.http).get('/SomeCode1').set('X-Forwarded-For', '203.0.113.5');
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'HTTPS_REQUIRED', message: expect.stringContaining('TRUST_PROXY') });
  });
});

describe('admin without ADMIN_TOKEN (7.2)', () => {
  it('when a trusted proxy forwards a loopback client address, then the admin API still refuses it: a forwarded address never grants it', async () => {
    t = buildTestApp({ TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true' });
    await seed(t);
    const before = await snapshot(t);
    const r = await supertest(t.http).put('/admin/prod/agents/9879964807').set('X-Forwarded-For', '127.0.0.1').send({ name: 'Mallory' });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('UNAUTHORIZED');
    expect(await snapshot(t)).toEqual(before);
    // The webhook itself serves the loopback client the proxy vouches for.
    expect((await supertest(t.http).post(HOOK).set('X-Forwarded-For', '127.0.0.1').send({ method: 'getPauseStatusForCLI', cli: CLI })).status).toBe(200);
  });

  it('when a trusted proxy sends only Forwarded (no X-Forwarded-For), then the client is unknown rather than loopback', async () => {
    t = buildTestApp({ TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true' });
    const r = await supertest(t.http).post(HOOK).set('Forwarded', 'for=203.0.113.5').send({ method: 'getPauseStatusForCLI', cli: CLI });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN_IP', message: expect.stringContaining('X-Forwarded-For') });
  });
});

describe('X-Forwarded-Proto behind an appending proxy (hole 9)', () => {
  const remote = { TRUST_PROXY: 'loopback', ALLOWED_IPS: '0.0.0.0/0' };

  it('when the client writes its own X-Forwarded-Proto: https and the proxy appends http, then plain HTTP is refused and nothing changes', async () => {
    t = buildTestApp(remote);
    await seed(t);
    const before = await snapshot(t);
    const r = await supertest(t.http)
      .post(HOOK)
      .set('X-Forwarded-For', '203.0.113.5')
      .set('X-Forwarded-Proto', 'https, http')
      .send({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('HTTPS_REQUIRED');
    expect(await snapshot(t)).toEqual(before);
  });

  it('when the nearest trusted proxy wrote https last, then the request counts as HTTPS', async () => {
    t = buildTestApp(remote);
    await seed(t);
    const r = await supertest(t.http)
      .post(HOOK)
      .set('X-Forwarded-For', '203.0.113.5')
      .set('X-Forwarded-Proto', 'http, https')
      .send({ method: 'getPauseStatusForCLI', cli: CLI });
    expect(r.status).toBe(200);
  });

  it('when the peer is not a trusted proxy, then its X-Forwarded-Proto is ignored', async () => {
    t = buildTestApp({ TRUST_PROXY: '10.0.0.1', ALLOWED_IPS: '0.0.0.0/0' });
    // A loopback peer that is not the trusted proxy: its forwarded headers make it unknown.
    const r = await supertest(t.http).post(HOOK).set('X-Forwarded-For', '203.0.113.5').set('X-Forwarded-Proto', 'https').send({ method: 'getPauseStatusForCLI', cli: CLI });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN_IP');
  });
});
