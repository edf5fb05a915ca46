import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { listen } from '../helpers/listen.js';
import { echoFeature } from './echoFeature.js';

const HOOK = '/centraloutboundwebhook-v1/test/';
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});
const build = (env: Record<string, string>) => (t = buildTestApp(env, { features: echoFeature }));

describe('IP allowlist (1.4)', () => {
  it('when the caller is loopback and the default list applies, then it is served', async () => {
    const app = build({});
    const r = await request(app.http).post(HOOK).send({ method: 'echoParams' });
    expect(r.status).toBe(200);
  });

  it('when the caller is outside ALLOWED_IPS, then every guarded route answers 403 FORBIDDEN_IP and public ones still work', async () => {
    const app = build({ ALLOWED_IPS: '10.0.0.0/8' });
    for (const [method, path] of [
      ['post', HOOK],
      ['get', '/ivr/inbound'],
      ['post', '/mapping/preview'],
      ['get', '/admin/prod/agents'],
      ['get', '/metrics'],
    ] as const) {
      const r = await request(app.http)[method](path).send({});
      expect(r.status, path).toBe(403);
      expect(r.body.error.code, path).toBe('FORBIDDEN_IP');
    }
    expect((await request(app.http).get('/healthz')).status).toBe(200);
  });

  it('when a trusted proxy forwards the client address, then the allowlist judges that address (CIDR match)', async () => {
    const app = build({ ALLOWED_IPS: '203.0.113.0/24', TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true' });
    const inside = await request(app.http).post(HOOK).set('X-Forwarded-For', '203.0.113.77').send({ method: 'echoParams' });
    expect(inside.status).toBe(200);
    const outside = await request(app.http).post(HOOK).set('X-Forwarded-For', '198.51.100.1').send({ method: 'echoParams' });
    expect(outside.status).toBe(403);
  });

  it('when TRUST_PROXY is off, then X-Forwarded-For is ignored', async () => {
    const app = build({ ALLOWED_IPS: '203.0.113.0/24' });
    const r = await request(app.http).post(HOOK).set('X-Forwarded-For', '203.0.113.77').send({ method: 'echoParams' });
    expect(r.status).toBe(403);
  });

  it('when the caller is IPv6, then IPv6 addresses and CIDRs are matched', async () => {
    const allowed = build({ ALLOWED_IPS: '::1/128' });
    const server = await listen(allowed.http, '::1');
    try {
      const ok = await fetch(`${server.url}${HOOK}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"echoParams"}' });
      expect(ok.status).toBe(200);
    } finally {
      await server.close();
    }
    await allowed.close();
    const denied = build({ ALLOWED_IPS: '127.0.0.1,2001:db8::/32' });
    const server2 = await listen(denied.http, '::1');
    try {
      const no = await fetch(`${server2.url}${HOOK}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"echoParams"}' });
      expect(no.status).toBe(403);
    } finally {
      await server2.close();
    }
  });

  it('when a trusted proxy forwards an IPv6 client, then IPv6 CIDRs apply', async () => {
    const app = build({ ALLOWED_IPS: '2001:db8::/32', TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true' });
    const r = await request(app.http).post(HOOK).set('X-Forwarded-For', '2001:db8::5').send({ method: 'echoParams' });
    expect(r.status).toBe(200);
  });
});

describe('HTTPS only (1.4)', () => {
  const remote = { ALLOWED_IPS: '0.0.0.0/0,::/0', TRUST_PROXY: 'loopback' };

  it('when plain HTTP comes from a non-loopback address, then 403 HTTPS_REQUIRED', async () => {
    const app = build(remote);
    const r = await request(app.http).post(HOOK).set('X-Forwarded-For', '198.51.100.9').send({ method: 'echoParams' });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('HTTPS_REQUIRED');
  });

  it('when the trusted proxy says X-Forwarded-Proto: https, then it is served', async () => {
    const app = build(remote);
    const r = await request(app.http)
      .post(HOOK)
      .set('X-Forwarded-For', '198.51.100.9')
      .set('X-Forwarded-Proto', 'https')
      .send({ method: 'echoParams' });
    expect(r.status).toBe(200);
  });

  it('when ALLOW_HTTP=true, then plain HTTP from anywhere is served', async () => {
    const app = build({ ...remote, ALLOW_HTTP: 'true' });
    const r = await request(app.http).post(HOOK).set('X-Forwarded-For', '198.51.100.9').send({ method: 'echoParams' });
    expect(r.status).toBe(200);
  });

  it('when the caller is loopback, then plain HTTP is served', async () => {
    const app = build({});
    expect((await request(app.http).post(HOOK).send({ method: 'echoParams' })).status).toBe(200);
  });
});

describe('per-IP rate limit (1.4)', () => {
  it('when a caller exceeds RATE_LIMIT_PER_IP per second, then 429 RATE_LIMITED with Retry-After and the error envelope', async () => {
    const app = build({ RATE_LIMIT_PER_IP: '5' });
    const statuses: number[] = [];
    let limited: request.Response | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await request(app.http).post(HOOK).send({ method: 'echoParams' });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(limited).toBeDefined();
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited!.body).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String) } });
    // Public routes are not counted.
    expect((await request(app.http).get('/healthz')).status).toBe(200);
  });

  it('when RATE_LIMIT_PER_IP=0, then there is no limit', async () => {
    const app = build({ RATE_LIMIT_PER_IP: '0' });
    for (let i = 0; i < 30; i++) expect((await request(app.http).post(HOOK).send({ method: 'echoParams' })).status).toBe(200);
  });
});

describe('admin guard (6)', () => {
  it('when ADMIN_TOKEN is unset, then loopback callers are served and others get 401', async () => {
    const app = build({ ALLOWED_IPS: '0.0.0.0/0', TRUST_PROXY: 'loopback', ALLOW_HTTP: 'true' });
    expect((await request(app.http).get('/admin/prod/nothing')).status).toBe(404);
    const r = await request(app.http).get('/admin/prod/nothing').set('X-Forwarded-For', '198.51.100.9');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('UNAUTHORIZED');
  });

  it('when ADMIN_TOKEN is set, then a missing or wrong bearer token is 401 and the right one passes', async () => {
    const token = 'a-very-long-admin-token-123';
    const app = build({ ADMIN_TOKEN: token });
    expect((await request(app.http).get('/admin/prod/nothing')).status).toBe(401);
    expect((await request(app.http).get('/admin/prod/nothing').set('Authorization', 'Bearer wrong-token-xxxxxxxx')).status).toBe(401);
    expect((await request(app.http).get('/admin/prod/nothing').set('Authorization', `Bearer ${token}`)).status).toBe(404);
  });
});
