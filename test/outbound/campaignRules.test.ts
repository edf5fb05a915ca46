import supertest from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';
import { CLIENT_ID, createBody, eventually, numbers, registerClient, statusBody, webhook } from './outboundHelpers.js';

/**
 * India rules, suppression, pause/resume and expiry (docs/http.md §9), with the recording dialer
 * (prod contacts end `recorded`) and the fake clock at 15:30 IST unless a test moves it.
 */

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function app(env: Record<string, string> = {}) {
  t = buildTestApp(env, { start: true });
  await registerClient(t);
  return t;
}

const status = async (a: TestApp, reqID: string) => (await webhook(a, statusBody(reqID))).body;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const suppressed = (a: TestApp, path: string) => supertest(a.http).put(`/admin/prod/clients/${CLIENT_ID}/suppressed/${path}`);

describe('calling window and holidays on prod', () => {
  it('when a request comes at 22:00 IST, then it is scheduled for 09:00 IST and nothing goes out before; the test stage is not held back', async () => {
    const a = await app();
    a.clock.set('2026-01-15T16:30:00.000Z'); // 22:00 IST
    const created = await webhook(a, createBody({ contactNumbers: numbers(2) }));
    expect(created.body.scheduledAt).toBe('2026-01-16T03:30:00.000Z');
    await registerClient(a, { stage: 'test' });
    const onTest = await webhook(a, createBody({ contactNumbers: numbers(1) }), 'test');
    expect(onTest.body.scheduledAt).toBe('2026-01-15T16:30:00.000Z');
    await eventually(async () => expect((await webhook(a, statusBody(onTest.body.obdReqID), 'test')).body.status).toBe('done'));
    await sleep(300);
    expect((await status(a, created.body.obdReqID)).status).toBe('scheduled');
    a.clock.set('2026-01-16T03:30:00.000Z');
    await eventually(async () => expect((await status(a, created.body.obdReqID)).status).toBe('done'));
  });

  it('when the next day is a holiday, then calls wait for the first working day', async () => {
    const a = await app({ CALLING_HOLIDAYS: '2026-01-16,2026-01-17' });
    a.clock.set('2026-01-15T16:30:00.000Z');
    const created = await webhook(a, createBody({ contactNumbers: numbers(1) }));
    expect(created.body.scheduledAt).toBe('2026-01-18T03:30:00.000Z');
  });

  it('when CALLING_WINDOW=off, then calls go out at any hour', async () => {
    const a = await app({ CALLING_WINDOW: 'off' });
    a.clock.set('2026-01-15T20:30:00.000Z'); // 02:00 IST
    const created = await webhook(a, createBody({ contactNumbers: numbers(1) }));
    expect(created.body.scheduledAt).toBe('2026-01-15T20:30:00.000Z');
    await eventually(async () => expect((await status(a, created.body.obdReqID)).status).toBe('done'));
  });

  it('when category is given, then it is kept; an unknown category is refused and nothing is stored', async () => {
    const a = await app();
    const created = await webhook(a, createBody({ category: 'Promotional' }));
    expect((await status(a, created.body.obdReqID)).category).toBe('promotional');
    const before = await tableCounts(a);
    const bad = await webhook(a, createBody({ category: 'spam' }));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'category' });
    expect(await tableCounts(a)).toEqual(before);
  });
});

describe('suppression list', () => {
  it('when a number is suppressed, then createOutbound counts it, it is never dialled, and the others are', async () => {
    const a = await app();
    expect((await suppressed(a, encodeURIComponent('+91 98000 00001'))).status).toBe(201);
    expect((await suppressed(a, '9800000001')).status).toBe(200);
    const created = await webhook(a, createBody({ contactNumbers: numbers(3) }));
    expect(created.body).toMatchObject({ contacts: 3, suppressed: 1 });
    await eventually(async () => expect((await status(a, created.body.obdReqID)).status).toBe('done'));
    const s = await status(a, created.body.obdReqID);
    expect(s.contacts.map((c: { status: string; attempts: number }) => [c.status, c.attempts])).toEqual([
      ['recorded', 1],
      ['suppressed', 0],
      ['recorded', 1],
    ]);
  });

  it('when a number is suppressed after the request was made, then it is still never dialled; DELETE lifts it for later requests', async () => {
    const a = await app();
    const created = await webhook(a, createBody({ contactNumbers: numbers(2), delayMinutes: 5 }));
    await suppressed(a, '9800000000');
    a.clock.advance(5 * 60_000);
    await eventually(async () => expect((await status(a, created.body.obdReqID)).status).toBe('done'));
    expect((await status(a, created.body.obdReqID)).contacts.map((c: { status: string }) => c.status)).toEqual(['suppressed', 'recorded']);
    expect((await supertest(a.http).delete(`/admin/prod/clients/${CLIENT_ID}/suppressed/9800000000`)).status).toBe(204);
    expect((await supertest(a.http).delete(`/admin/prod/clients/${CLIENT_ID}/suppressed/9800000000`)).status).toBe(404);
    const again = await webhook(a, createBody({ contactNumbers: numbers(1) }));
    expect(again.body.suppressed).toBe(0);
  });

  it('when a CSV or JSON list is imported, then valid numbers are added, repeats counted, and invalid lines named', async () => {
    const a = await app();
    const csv = await supertest(a.http)
      .post(`/admin/prod/clients/${CLIENT_ID}/suppressed/import`)
      .set('Content-Type', 'text/csv')
      .send('number\n9800000000\n+91 98000-00001\nnot-a-number\n9800000000\n');
    expect(csv.status).toBe(200);
    expect(csv.body).toEqual({ imported: 2, alreadySuppressed: 0, invalid: [{ line: 4, error: 'not a valid phone number' }] });
    const json = await supertest(a.http).post(`/admin/prod/clients/${CLIENT_ID}/suppressed/import`).send(['9800000001', { number: '9800000002' }, 12]);
    expect(json.body).toEqual({ imported: 1, alreadySuppressed: 1, invalid: [{ line: 3, error: 'not a valid phone number' }] });
    const created = await webhook(a, createBody({ contactNumbers: numbers(4) }));
    expect(created.body.suppressed).toBe(3);
  });

  it('when the client is unknown or the number invalid, then 404 / 400 and nothing is stored', async () => {
    const a = await app();
    const before = await tableCounts(a);
    expect((await supertest(a.http).put('/admin/prod/clients/nobody/suppressed/9800000000')).status).toBe(404);
    const bad = await suppressed(a, '12345');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'number' });
    expect((await supertest(a.http).post(`/admin/prod/clients/${CLIENT_ID}/suppressed/import`).send({ number: 'x' })).status).toBe(400);
    expect(await tableCounts(a)).toEqual(before);
  });
});

describe('pauseOutbound, resumeOutbound and expiresAt', () => {
  it('when a request is paused, then it dials nothing until resumed, and then everything goes out once', async () => {
    const a = await app();
    const created = await webhook(a, createBody({ contactNumbers: numbers(3), delayMinutes: 1 }));
    const paused = await webhook(a, statusBody(created.body.obdReqID, 'pauseOutbound'));
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('paused');
    a.clock.advance(10 * 60_000);
    await sleep(400);
    expect((await status(a, created.body.obdReqID)).contacts.every((c: { attempts: number }) => c.attempts === 0)).toBe(true);
    const resumed = await webhook(a, statusBody(created.body.obdReqID, 'resumeOutbound'));
    expect(resumed.body.status).toBe('scheduled');
    await eventually(async () => expect((await status(a, created.body.obdReqID)).status).toBe('done'));
    expect((await status(a, created.body.obdReqID)).contacts.every((c: { attempts: number; status: string }) => c.attempts === 1 && c.status === 'recorded')).toBe(true);
  });

  it("when another client's or an unknown request is paused, then 404", async () => {
    const a = await app();
    const res = await webhook(a, statusBody('nope', 'pauseOutbound'));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ obdReqID: null, status: null, error: { code: 'NOT_FOUND' } });
  });

  it('when expiresAt passes before a contact is dialled, then it is expired and never dialled', async () => {
    const a = await app();
    const expiresAt = new Date(a.clock.now() + 5 * 60_000).toISOString();
    const created = await webhook(a, createBody({ contactNumbers: numbers(2), delayMinutes: 10, expiresAt }));
    expect((await status(a, created.body.obdReqID)).expiresAt).toBe(expiresAt);
    a.clock.advance(10 * 60_000);
    await eventually(async () => expect((await status(a, created.body.obdReqID)).contacts.map((c: { status: string }) => c.status)).toEqual(['expired', 'expired']));
    expect((await status(a, created.body.obdReqID)).status).toBe('done');
  });

  it('when expiresAt is in the past or malformed, then 400 naming it', async () => {
    const a = await app();
    for (const expiresAt of [new Date(a.clock.now() - 1000).toISOString(), 'tomorrow', '2026-01-16']) {
      const res = await webhook(a, createBody({ expiresAt }));
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe('expiresAt');
    }
  });
});

describe('contacts[] and client settings validation', () => {
  it('when contacts and contactNumbers are both given, or a contact is malformed, then 400 on contacts', async () => {
    const a = await app();
    const both = await webhook(a, createBody({ contacts: [{ number: '9879964805' }] }));
    expect(both.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'contacts' });
    for (const contacts of [[{ number: '9879964805', keys: { 'bad name': 'x' } }], [{ number: '9879964805', extra: 1 }], ['9879964805'], 'not json']) {
      const res = await webhook(a, createBody({ contactNumbers: undefined, contacts }));
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe('contacts');
    }
    const invalid = await webhook(a, createBody({ contactNumbers: undefined, contacts: [{ number: '12345' }, { number: '9879964805' }] }));
    expect(invalid.body.error).toMatchObject({ field: 'contacts', invalid: ['12345'] });
  });

  it('when a client is put with bad settings, then 400 naming the field and nothing changes', async () => {
    const a = await app();
    const put = (body: Record<string, unknown>) => supertest(a.http).put('/admin/prod/clients/other').send({ securityID: 'x'.repeat(64), flows: ['FLOW0001'], ...body });
    const before = await tableCounts(a);
    for (const [body, field] of [
      [{ maxConcurrent: 0 }, 'maxConcurrent'],
      [{ callsPerSecond: -1 }, 'callsPerSecond'],
      [{ callsPerSecond: 'fast' }, 'callsPerSecond'],
      [{ callerId: '123' }, 'callerId'],
      [{ flows: [{ flowID: 'FLOW0001', target: 'ftp://x' }] }, 'flows'],
      [{ flows: [{ flowID: 'FLOW0001', target: 'https://a.example.com', extra: 1 }] }, 'flows'],
    ] as const) {
      const res = await put(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.field).toBe(field);
    }
    expect(await tableCounts(a)).toEqual(before);
    const ok = await put({ callsPerSecond: 0.5, maxConcurrent: 3, flows: ['FLOW0001', { flowID: 'FLOW0002', target: 'https://a.example.com/x' }] });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ flows: ['FLOW0001', { flowID: 'FLOW0002', target: 'https://a.example.com/x' }], callsPerSecond: 0.5, maxConcurrent: 3, callerId: null });
  });
});
