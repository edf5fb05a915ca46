import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';
import { CLIENT_ID, FLOW_ID, SECURITY_ID, createBody, registerClient } from '../outbound/outboundHelpers.js';

/** The operating rules of docs/http.md §8.1 and §8.4 that a component test can show. */

let t: TestApp;
afterEach(() => t.close());

const CLI = '+919879964805';
const hook = (body: Record<string, unknown>, stage = 'test') => request(t.http).post(`/centraloutboundwebhook-v1/${stage}/`).send(body);

describe('request log (8)', () => {
  it('when a webhook method fails or succeeds, then its log line carries the method name and the error code', async () => {
    t = buildTestApp();
    await request(t.http).put(`/admin/test/agents/${CLI}`).send({ name: 'Asha' }).expect(201);
    await hook({ method: 'getPauseStatusForCLI', cli: '9999999999' }).set('X-Request-Id', 'log-fail');
    await hook({ method: 'getPauseStatusForCLI', cli: CLI }).set('X-Request-Id', 'log-ok');
    await request(t.http).get('/admin/test/agents/12').set('X-Request-Id', 'log-admin');
    const line = (id: string) => t.logs.map((l) => JSON.parse(l)).find((l) => l.reqId === id);
    expect(line('log-fail')).toMatchObject({ status: 404, code: 'AGENT_NOT_FOUND', webhookMethod: 'getPauseStatusForCLI' });
    expect(line('log-ok')).toMatchObject({ status: 200, webhookMethod: 'getPauseStatusForCLI' });
    expect(line('log-ok')).not.toHaveProperty('code');
    expect(line('log-admin')).toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
    expect(line('log-admin')).not.toHaveProperty('webhookMethod');
  });
});

describe('JSON or XML sent as a form (8)', () => {
  it('when a JSON body comes with curl -d (form type), then 415 names Content-Type and nothing changes', async () => {
    t = buildTestApp();
    await request(t.http).put(`/admin/test/agents/${CLI}`).send({}).expect(201);
    const before = await tableCounts(t);
    const r = await request(t.http)
      .post('/centraloutboundwebhook-v1/test/')
      .type('form')
      .send(JSON.stringify({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true }));
    expect(r.status).toBe(415);
    expect(r.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('Content-Type: application/json') });
    expect(await tableCounts(t)).toEqual(before);
    const xml = await request(t.http).post('/centraloutboundwebhook-v1/test/').type('form').send('<request><method>getPauseStatusForCLI</method></request>');
    expect(xml.status).toBe(415);
  });

  it('when a real form has one field, then it is read as a form', async () => {
    t = buildTestApp();
    const r = await request(t.http).post('/centraloutboundwebhook-v1/test/').type('form').send('method=noSuchMethod');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('UNKNOWN_METHOD');
  });
});

describe('admin JSON bodies name only known fields (8)', () => {
  it('when an agent PUT misspells a field, then 400 names it and the agent is not created', async () => {
    t = buildTestApp();
    const r = await request(t.http).put(`/admin/test/agents/${CLI}`).send({ nmae: 'Asha' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'nmae', message: expect.stringContaining('unknown field "nmae"') });
    expect((await request(t.http).get(`/admin/test/agents/${CLI}`)).status).toBe(404);
    // Known names match case-insensitively, like every parameter.
    expect((await request(t.http).put(`/admin/test/agents/${CLI}`).send({ Name: 'Asha', accountId: 'a-1' })).status).toBe(201);
  });

  it('when a supervisor pause or a client PUT carries an unknown field, then 400 names it and nothing changes', async () => {
    t = buildTestApp();
    await request(t.http).put(`/admin/test/agents/${CLI}`).send({}).expect(201);
    const before = await tableCounts(t);
    const p = await request(t.http).post(`/admin/test/agents/${CLI}/pause`).send({ pause: true, reasn: 'lunch' });
    expect(p.status).toBe(400);
    expect(p.body.error.field).toBe('reasn');
    const c = await request(t.http).put(`/admin/test/clients/${CLIENT_ID}`).send({ securityID: SECURITY_ID, flow: [FLOW_ID] });
    expect(c.status).toBe(400);
    expect(c.body.error.field).toBe('flow');
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when an import row has an unknown field, then that row is invalid and the others are imported', async () => {
    t = buildTestApp();
    const r = await request(t.http).post('/admin/test/agents/import').send([{ cli: CLI, name: 'Asha' }, { cli: '9879964806', nickname: 'B' }]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ imported: 1, updated: 0, invalid: [{ line: 2, error: expect.stringContaining('unknown field "nickname"') }] });
  });
});

describe('supervisor changes and the per-agent limit (8)', () => {
  it('when a supervisor changes an agent more often than PAUSE_CHANGES_PER_MINUTE, then every change is made and the agent keeps their own allowance', async () => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '2' });
    await request(t.http).put(`/admin/test/agents/${CLI}`).send({}).expect(201);
    for (let i = 0; i < 5; i++) {
      const r = await request(t.http).post(`/admin/test/agents/${CLI}/pause`).send({ pause: i % 2 === 0 });
      expect(r.status).toBe(200);
      expect(r.body.changed).toBe(true);
    }
    // The agent's own two changes still go through, the third is limited.
    expect((await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: false })).status).toBe(200);
    expect((await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true })).status).toBe(200);
    expect((await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: false })).status).toBe(429);
  });
});

describe('clients list and delete (8)', () => {
  it('when clients are listed, then each shows its flows and never its security ID', async () => {
    t = buildTestApp();
    await registerClient(t);
    await registerClient(t, { clientID: 'beta', flows: ['FLOW0002', 'FLOW0003'] });
    await registerClient(t, { stage: 'test', clientID: 'only-test' });
    const r = await request(t.http).get('/admin/prod/clients');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      // callerId and the pacing limits: docs/http.md §9 (defaults 10 in flight, 1 call a second).
      { clientID: CLIENT_ID, flows: [FLOW_ID], callerId: null, maxConcurrent: 10, callsPerSecond: 1, createdAt: expect.any(String), updatedAt: expect.any(String) },
      { clientID: 'beta', flows: ['FLOW0002', 'FLOW0003'], callerId: null, maxConcurrent: 10, callsPerSecond: 1, createdAt: expect.any(String), updatedAt: expect.any(String) },
    ]);
    expect(r.text).not.toContain(SECURITY_ID);
    const xml = await request(t.http).get('/admin/prod/clients').set('Accept', 'application/xml');
    expect(xml.text).toContain('<clientID>acme</clientID>');
    expect(xml.text).not.toContain(SECURITY_ID);
  });

  it('when a client is deleted, then 204, it is gone from the list, its createOutbound is 401, and a second delete is 404', async () => {
    t = buildTestApp();
    await registerClient(t);
    expect((await request(t.http).delete(`/admin/prod/clients/${CLIENT_ID}`)).status).toBe(204);
    expect((await request(t.http).get('/admin/prod/clients')).body).toEqual([]);
    expect((await hook(createBody(), 'prod')).status).toBe(401);
    const again = await request(t.http).delete(`/admin/prod/clients/${CLIENT_ID}`);
    expect(again.status).toBe(404);
    expect(again.body.error).toMatchObject({ code: 'NOT_FOUND', field: 'clientID' });
  });
});
