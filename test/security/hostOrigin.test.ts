import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { CLI, HOOK, createOutbound, seed, snapshot } from './attack.helpers.js';

/** Issue 10, hole 6: CSRF from another origin and DNS rebinding (docs/http.md §7.3). */

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('CSRF: a page on another origin posts a plain form (hole 6)', () => {
  it('when the form changes an agent’s pause state or a user’s preferences, then 403 FORBIDDEN and nothing changes', async () => {
    t = buildTestApp();
    await seed(t);
    const before = await snapshot(t);
    const forms: Record<string, string>[] = [
      { method: 'updatePauseStatusForCLI', cli: CLI, pause: 'true' },
      { method: 'updateUserPreferences', contactNumber: CLI, accountID: 'acc1', 'key.city': 'Pune' },
    ];
    for (const fields of forms) {
      const r = await supertest(t.http)
        .post(HOOK)
        .set('Origin', 'https://attacker.example')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(form(fields));
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('FORBIDDEN');
    }
    // Browsers that send Sec-Fetch-Site but no Origin are caught too; so is Origin: null (sandboxed pages).
    const fetchSite = await supertest(t.http).post(HOOK).set('Sec-Fetch-Site', 'cross-site').type('form').send(form({ method: 'updatePauseStatusForCLI', cli: CLI, pause: 'true' }));
    expect(fetchSite.status).toBe(403);
    const nullOrigin = await supertest(t.http).post('/mapping/preview').set('Origin', 'null').send({ document: '<a/>', mapping: {} });
    expect(nullOrigin.status).toBe(403);
    const admin = await supertest(t.http).post(`/admin/prod/agents/${CLI}/pause`).set('Origin', 'https://attacker.example').send({ pause: true });
    expect(admin.status).toBe(403);
    expect(await snapshot(t)).toEqual(before);
  });

  it('when the request comes from the service’s own origin or carries no Origin (a server), then it is served', async () => {
    t = buildTestApp();
    await seed(t);
    const own = await supertest(t.http).post(HOOK).set('Origin', 'http://localhost:3000').set('Host', 'localhost:3000').send({ method: 'getPauseStatusForCLI', cli: CLI });
    expect(own.status).toBe(200);
    const server = await supertest(t.http).post(HOOK).send({ method: 'getPauseStatusForCLI', cli: CLI });
    expect(server.status).toBe(200);
    const sameSite = await supertest(t.http).post(HOOK).set('Sec-Fetch-Site', 'same-origin').send({ method: 'getPauseStatusForCLI', cli: CLI });
    expect(sameSite.status).toBe(200);
  });

  it('when a proxy rewrites Host and the page is on PUBLIC_BASE_URL, then its Origin is the service’s own', async () => {
    t = buildTestApp({ PUBLIC_BASE_URL: 'https://central.example.com' });
    const r = await supertest(t.http).post(HOOK).set('Origin', 'https://central.example.com').send({ method: 'getPauseStatusForCLI', cli: CLI });
    // Past the origin check: the agent is simply not registered in this fresh app.
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('AGENT_NOT_FOUND');
  });

  it('when the admin API gets a form body, then 415 and nothing changes; JSON and CSV still work', async () => {
    t = buildTestApp();
    await seed(t);
    const before = await snapshot(t);
    const r = await supertest(t.http).put('/admin/prod/agents/9879964807').type('form').send(form({ name: 'Mallory' }));
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const plain = await supertest(t.http).put('/admin/prod/agents/9879964807').set('Content-Type', 'text/plain').send('{"name":"Mallory"}');
    expect(plain.status).toBe(415);
    expect(await snapshot(t)).toEqual(before);
    const csv = await supertest(t.http).post('/admin/prod/agents/import').set('Content-Type', 'text/csv').send('cli,name\n9879964808,Ravi\n');
    expect(csv.status).toBe(200);
    // POST /admin/login keeps its HTML form (docs/http.md §8): never refused for being a form.
    const login = await supertest(t.http).post('/admin/login').type('form').send(form({ token: 'x' }));
    expect(login.status).not.toBe(415);
  });
});

describe('DNS rebinding: a hostname that resolves to the service (hole 6)', () => {
  it('when the Host is not one of the service’s names, then 421 MISDIRECTED_REQUEST, nothing changes, and /healthz still answers', async () => {
    t = buildTestApp();
    await seed(t);
    const before = await snapshot(t);
    const rebound = 'rebind.attacker.example:3000';
    const client = await supertest(t.http).put('/admin/prod/clients/evil').set('Host', rebound).send({ securityID: 'e'.repeat(64), flows: ['FLOW0001'] });
    expect(client.status).toBe(421);
    expect(client.body.error.code).toBe('MISDIRECTED_REQUEST');
    // Same-origin for the rebinding page: Origin matches Host, and still refused.
    const dial = await supertest(t.http).post(HOOK).set('Host', rebound).set('Origin', `http://${rebound}`).send(createOutbound);
    expect(dial.status).toBe(421);
    const read = await supertest(t.http).get('/admin/prod/agents').set('Host', rebound);
    expect(read.status).toBe(421);
    expect(await snapshot(t)).toEqual(before);
    expect((await supertest(t.http).get('/healthz').set('Host', rebound)).status).toBe(200);
  });

  it('when ALLOWED_HOSTS, PUBLIC_BASE_URL or a custom short-URL domain names the host, then it is served', async () => {
    t = buildTestApp({
      ALLOWED_HOSTS: 'ops.example.com, [2001:db8::1]',
      PUBLIC_BASE_URL: 'https://central.example.com',
      SHORTURL_TOKENS: 'tok12345=https://s.example.in',
    });
    for (const host of ['ops.example.com', 'OPS.example.com.', 'central.example.com:443', 's.example.in', '[2001:db8::1]:3000', 'localhost', '[::1]:8080']) {
      const r = await supertest(t.http).get('/admin/prod/agents').set('Host', host);
      expect(r.status, host).toBe(200);
    }
    expect((await supertest(t.http).get('/admin/prod/agents').set('Host', 'other.example.com')).status).toBe(421);
  });
});
