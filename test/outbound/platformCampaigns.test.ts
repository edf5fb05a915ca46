import type { Server } from 'node:http';
import supertest from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/deps.js';
import { createFeatures } from '../../src/features.js';
import { createOutboundFeature } from '../../src/outbound/outbound.feature.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { freePort } from '../helpers/listen.js';
import { signNotification } from '../../src/delivery/signature.js';
import { startReceiver } from '../breaks/receiver.js';
import { startExotelDouble } from './doubles/exotel.js';
import { startPlivoDouble } from './doubles/plivo.js';
import { startTwilioDouble, type TwilioDouble } from './doubles/twilio.js';
import { CLIENT_ID, createBody, eventually, FLOW_ID, numbers, SECURITY_ID, statusBody, webhook } from './outboundHelpers.js';

/**
 * Campaigns against the platform doubles (test/outbound/doubles/*, which cite each platform's
 * API docs), through the real service listening on 127.0.0.1 so the doubles' signed status
 * callbacks reach POST /outbound/{stage}/status/{key} (docs/http.md §9). The fake clock starts
 * at 15:30 IST, inside the default prod calling window.
 */

const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const TWILIO_TOKEN = 'twilio-test-token';
const ANSWER_URL = 'https://flows.example.com/answer';
const FLOW_SID = `FW${'c3'.repeat(16)}`;
const CALLER_ID = '+918030752400';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The service on a real port, PUBLIC_BASE_URL pointing at it. */
async function service(env: Record<string, string>, opts: { features?: (deps: AppDeps) => ReturnType<typeof createFeatures> } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t = buildTestApp({ PUBLIC_BASE_URL: base, DIALER_TIMEOUT_MS: '3000', ...env }, { start: true, ...opts });
  const server = await new Promise<Server>((resolve) => {
    const s = t.http.listen(port, '127.0.0.1', () => resolve(s));
  });
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await t.close();
  });
  return { t, base };
}

async function client(t: TestApp, body: Record<string, unknown>) {
  const res = await supertest(t.http).put(`/admin/prod/clients/${CLIENT_ID}`).send({ securityID: SECURITY_ID, callerId: CALLER_ID, ...body });
  expect(res.status).toBe(201);
  return res.body;
}

async function status(t: TestApp, reqID: string) {
  return (await webhook(t, statusBody(reqID))).body;
}

async function twilioSetUp(env: Record<string, string> = {}, override?: Parameters<typeof startTwilioDouble>[0]['override']) {
  const double = await startTwilioDouble({ accountSid: ACCOUNT_SID, authToken: TWILIO_TOKEN, override });
  cleanups.push(double.close);
  const svc = await service({ DIALER: 'twilio', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, TWILIO_API_URL: double.url, ...env });
  return { double, ...svc };
}

const statusKey = (url: string) => /\/outbound\/prod\/status\/([0-9a-f]{32})$/.exec(url)?.[1];

describe('Twilio campaigns', () => {
  it('when a campaign runs, then each contact gets one Call with its keys, the signed completed callback records outcome and duration, and a forged one is refused', async () => {
    const { double, t, base } = await twilioSetUp();
    const registered = await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], maxConcurrent: 5, callsPerSecond: 50 });
    expect(registered).toMatchObject({ flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], callerId: CALLER_ID, maxConcurrent: 5, callsPerSecond: 50 });
    const created = await webhook(t, createBody({ contactNumbers: undefined, contacts: [
      { number: '9879964805', keys: { name: 'Asha', order: 'A-1' } },
      { number: '9800000001', keys: { name: 'Ravi', order: 'B-2' } },
    ] }));
    expect(created.body).toMatchObject({ obdResponseCode: 200, contacts: 2, suppressed: 0 });
    const reqID = created.body.obdReqID as string;
    await eventually(() => expect(double.calls).toHaveLength(2));
    const byTo = Object.fromEntries(double.calls.map((c) => [c.to, c]));
    expect(Object.keys(byTo).sort()).toEqual(['+919800000001', '+919879964805']);
    expect(byTo['+919879964805']!.url).toBe(`${ANSWER_URL}?name=Asha&order=A-1`);
    expect(byTo['+919800000001']!.url).toBe(`${ANSWER_URL}?name=Ravi&order=B-2`);
    for (const c of double.calls) {
      expect(c.from).toBe(CALLER_ID);
      expect(c.statusCallback.startsWith(`${base}/outbound/prod/status/`)).toBe(true);
      expect(statusKey(c.statusCallback)).toBeDefined();
      expect(c.request.fields.StatusCallbackEvent).toBe('completed');
    }
    const asha = byTo['+919879964805']!;
    const forged = await double.finish(asha, 'completed', 42, 'forged');
    expect(forged.status).toBe(403);
    expect((await double.finish(asha, 'completed', 42, 'none')).status).toBe(403);
    expect((await status(t, reqID)).contacts[0]).toMatchObject({ status: 'dispatched', outcome: null });
    // A progress callback is acknowledged and changes nothing.
    expect((await double.finish(asha, 'ringing', 0)).status).toBe(200);
    expect((await double.finish(asha, 'completed', 42)).status).toBe(200);
    // The same callback again (a platform retry): the key is spent.
    expect((await double.finish(asha, 'completed', 42)).status).toBe(404);
    expect((await double.finish(byTo['+919800000001']!, 'failed', 0)).status).toBe(200);
    const s = await status(t, reqID);
    expect(s.status).toBe('done');
    expect(s.contacts).toEqual([
      { number: '+919879964805', status: 'dispatched', attempts: 1, lastError: null, outcome: 'completed', durationSeconds: 42 },
      { number: '+919800000001', status: 'dispatched', attempts: 1, lastError: null, outcome: 'failed', durationSeconds: 0 },
    ]);
    expect(double.calls).toHaveLength(2); // failed is not retried
  });

  it('when the flow maps to a Studio Flow SID, then an Execution starts with the keys as Parameters and its end is read back as completed', async () => {
    const { double, t } = await twilioSetUp();
    await client(t, { flows: [{ flowID: FLOW_ID, target: FLOW_SID }], callsPerSecond: 50 });
    const created = await webhook(t, createBody({ contactNumbers: undefined, contacts: [{ number: '9879964805', keys: { city: 'Pune' } }] }));
    await eventually(() => expect(double.executions).toHaveLength(1));
    expect(double.executions[0]).toMatchObject({ flowSid: FLOW_SID, to: '+919879964805', from: CALLER_ID, parameters: { city: 'Pune' } });
    expect(double.calls).toHaveLength(0);
    const reqID = created.body.obdReqID as string;
    // The Execution reached the double before the service wrote down its reply (and its first poll
    // time, 5 s on): move the clock only once it has.
    await eventually(async () => expect((await status(t, reqID)).contacts[0].status).toBe('dispatched'));
    t.clock.advance(5_000);
    await eventually(() => expect(double.received.filter((r) => r.method === 'GET').length).toBeGreaterThan(0));
    expect((await status(t, reqID)).contacts[0].outcome).toBeNull();
    double.end(double.executions[0]!);
    await eventually(async () => {
      t.clock.advance(5_000);
      expect((await status(t, reqID)).contacts[0]).toMatchObject({ status: 'dispatched', outcome: 'completed' });
    }, 10_000, 100);
    expect((await status(t, reqID)).status).toBe('done');
  });

  it('when Twilio answers 429 with Retry-After, then the call is placed once after that wait and the attempt is not counted', async () => {
    const { double, t } = await twilioSetUp({}, (_r, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '30' }, body: { code: 20429, message: 'Too Many Requests', status: 429 } } : undefined));
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], callsPerSecond: 50 });
    const created = await webhook(t, createBody({ contactNumbers: ['9879964805'] }));
    const reqID = created.body.obdReqID as string;
    await eventually(async () => expect((await status(t, reqID)).contacts[0].lastError).toBe('twilio answered HTTP 429'));
    t.clock.advance(29_000);
    await new Promise((r) => setTimeout(r, 400));
    expect(double.received).toHaveLength(1);
    t.clock.advance(1_000);
    await eventually(() => expect(double.calls).toHaveLength(1));
    await eventually(async () => expect((await status(t, reqID)).contacts[0]).toMatchObject({ status: 'dispatched', attempts: 1 }));
  });

  it('when calls end busy or unanswered, then they are redialled 10 minutes later up to OUTBOUND_RETRIES times, and the last outcome stays', async () => {
    const { double, t } = await twilioSetUp();
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], callsPerSecond: 50 });
    const reqID = (await webhook(t, createBody({ contactNumbers: ['9879964805'] }))).body.obdReqID as string;
    for (const [i, outcome] of (['busy', 'no-answer', 'busy'] as const).entries()) {
      await eventually(() => expect(double.calls).toHaveLength(i + 1));
      expect((await double.finish(double.calls[i]!, outcome, 0)).status).toBe(200);
      if (i < 2) {
        expect((await status(t, reqID)).contacts[0]).toMatchObject({ status: 'scheduled', outcome });
        t.clock.advance(10 * 60_000 - 1_000);
        await new Promise((r) => setTimeout(r, 300));
        expect(double.calls).toHaveLength(i + 1);
        t.clock.advance(1_000);
      }
    }
    t.clock.advance(60 * 60_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(double.calls).toHaveLength(3);
    expect((await status(t, reqID)).contacts[0]).toMatchObject({ status: 'dispatched', outcome: 'busy', attempts: 3 });
    expect((await status(t, reqID)).status).toBe('done');
  });

  it('when a busy redial would fall after 21:00 IST, then it waits for the next opening of the window', async () => {
    const { double, t } = await twilioSetUp();
    t.clock.set('2026-01-15T15:25:00.000Z'); // 20:55 IST
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], callsPerSecond: 50 });
    await webhook(t, createBody({ contactNumbers: ['9879964805'] }));
    await eventually(() => expect(double.calls).toHaveLength(1));
    await double.finish(double.calls[0]!, 'busy', 0);
    t.clock.advance(12 * 60 * 60_000 - 5 * 60_000); // 08:50 IST next day
    await new Promise((r) => setTimeout(r, 400));
    expect(double.calls).toHaveLength(1);
    t.clock.set('2026-01-16T03:30:00.000Z'); // 09:00 IST
    await eventually(() => expect(double.calls).toHaveLength(2));
  });
});

describe('Pacing (docs/http.md §9)', () => {
  it('when the platform is slow and calls stay up, then never more than maxConcurrent are in flight, and the next go out as calls end', async () => {
    const { double, t } = await twilioSetUp({}, () => ({ delayMs: 150 }));
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], maxConcurrent: 3, callsPerSecond: 100 });
    const reqID = (await webhook(t, createBody({ contactNumbers: numbers(8) }))).body.obdReqID as string;
    await eventually(() => expect(double.calls).toHaveLength(3));
    await new Promise((r) => setTimeout(r, 600));
    expect(double.calls).toHaveLength(3); // three calls up, none ended: nothing more goes out
    for (let ended = 0; ended < 8; ended++) {
      await eventually(() => expect(double.calls.length).toBeGreaterThan(ended));
      expect(double.calls.length - ended).toBeLessThanOrEqual(3);
      expect((await double.finish(double.calls[ended]!, 'completed', 5)).status).toBe(200);
    }
    expect(double.maxInFlight()).toBeLessThanOrEqual(3);
    await eventually(async () => expect((await status(t, reqID)).status).toBe('done'));
    expect(new Set(double.calls.map((c) => c.to)).size).toBe(8);
  });

  it('when a client may make 2 calls a second, then its calls are spread out at that rate', async () => {
    const { double, t } = await twilioSetUp();
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], maxConcurrent: 10, callsPerSecond: 2 });
    await webhook(t, createBody({ contactNumbers: numbers(5) }));
    await eventually(() => expect(double.calls).toHaveLength(5), 15_000);
    // Starts are 0.5 s apart at the service; arrival times at the double carry some scheduling
    // jitter, so allow one extra call per second and half a second less in all.
    const starts = double.calls.map((c) => c.request.at).sort((a, b) => a - b);
    expect(starts[4]! - starts[0]!).toBeGreaterThanOrEqual(1_500);
    for (const s of starts) expect(starts.filter((x) => x >= s && x < s + 1_000).length).toBeLessThanOrEqual(3);
  });

  it('when a new scheduler takes over the database mid-campaign, then every contact is called exactly once and calls still up keep their slots', async () => {
    let saved: AppDeps | undefined;
    const double = await startTwilioDouble({ accountSid: ACCOUNT_SID, authToken: TWILIO_TOKEN });
    cleanups.push(double.close);
    const { t } = await service(
      { DIALER: 'twilio', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, TWILIO_API_URL: double.url },
      { features: (deps) => ((saved = deps), createFeatures(deps)) },
    );
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], maxConcurrent: 4, callsPerSecond: 100 });
    const reqID = (await webhook(t, createBody({ contactNumbers: numbers(10) }))).body.obdReqID as string;
    await eventually(() => expect(double.calls).toHaveLength(4));
    await double.finish(double.calls[0]!, 'completed', 3);
    await eventually(() => expect(double.calls).toHaveLength(5));
    // The first instance stops (its dials in flight finish); another starts on the same database.
    await t.app.features.find((f) => f.name === 'outbound')!.stop!();
    const next = createOutboundFeature(saved!);
    next.start?.();
    cleanups.push(async () => { await next.stop?.(); });
    await new Promise((r) => setTimeout(r, 500));
    expect(double.calls).toHaveLength(5); // four calls are still up: the new instance respects them
    for (let i = 1; i < 10; i++) {
      await eventually(() => expect(double.calls.length).toBeGreaterThan(i));
      await double.finish(double.calls[i]!, 'completed', 3);
    }
    await eventually(async () => expect((await status(t, reqID)).status).toBe('done'));
    const perNumber = new Map<string, number>();
    for (const c of double.calls) perNumber.set(c.to, (perNumber.get(c.to) ?? 0) + 1);
    expect(perNumber.size).toBe(10);
    expect([...perNumber.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('Plivo campaigns', () => {
  const AUTH_ID = 'MAPLIVOTESTAUTHID001';
  const TOKEN = 'plivo-test-token';

  it('when a campaign runs, then one Call per contact with its keys, and the V3-signed hangup callback records the outcome; a forged one is refused', async () => {
    const double = await startPlivoDouble({ authId: AUTH_ID, authToken: TOKEN });
    cleanups.push(double.close);
    const { t, base } = await service({ DIALER: 'plivo', PLIVO_AUTH_ID: AUTH_ID, PLIVO_AUTH_TOKEN: TOKEN, PLIVO_API_URL: double.url });
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], callsPerSecond: 50 });
    const reqID = (await webhook(t, createBody({ contactNumbers: undefined, contacts: [{ number: '9879964805', keys: { lang: 'hi' } }] }))).body.obdReqID as string;
    await eventually(() => expect(double.calls).toHaveLength(1));
    const call = double.calls[0]!;
    expect(call).toMatchObject({ from: '918030752400', to: '919879964805', answerUrl: `${ANSWER_URL}?lang=hi` });
    expect(call.hangupUrl.startsWith(`${base}/outbound/prod/status/`)).toBe(true);
    expect((await double.finish(call, 'no-answer', 0, 'forged')).status).toBe(403);
    expect((await double.finish(call, 'completed', 17)).status).toBe(200);
    expect((await status(t, reqID)).contacts[0]).toMatchObject({ status: 'dispatched', outcome: 'completed', durationSeconds: 17 });
  });

  it('when Plivo answers 429 with Retry-After, then the contact waits that long and is called once', async () => {
    const double = await startPlivoDouble({ authId: AUTH_ID, authToken: TOKEN, override: (_r, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '5' }, body: { api_id: 'x', error: 'too many requests' } } : undefined) });
    cleanups.push(double.close);
    const { t } = await service({ DIALER: 'plivo', PLIVO_AUTH_ID: AUTH_ID, PLIVO_AUTH_TOKEN: TOKEN, PLIVO_API_URL: double.url });
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], callsPerSecond: 50 });
    await webhook(t, createBody({ contactNumbers: ['9879964805'] }));
    await eventually(() => expect(double.received).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 300));
    expect(double.received).toHaveLength(1);
    t.clock.advance(5_000);
    await eventually(() => expect(double.calls).toHaveLength(1));
  });
});

describe('Exotel campaigns', () => {
  const SID = 'acme1';

  it('when a campaign runs, then one connect-to-flow per contact with CustomField keys, and its terminal callback with the contact key records the outcome; a wrong key is refused', async () => {
    const double = await startExotelDouble({ accountSid: SID, apiKey: 'k', apiToken: 'tok' });
    cleanups.push(double.close);
    const { t, base } = await service({ DIALER: 'exotel', EXOTEL_ACCOUNT_SID: SID, EXOTEL_API_KEY: 'k', EXOTEL_API_TOKEN: 'tok', EXOTEL_API_URL: double.url });
    await client(t, { flows: [{ flowID: FLOW_ID, target: '778899' }], callsPerSecond: 50 });
    const reqID = (
      await webhook(t, createBody({ contactNumbers: undefined, category: 'promotional', contacts: [{ number: '9879964805', keys: { offer: 'D10' } }] }))
    ).body.obdReqID as string;
    await eventually(() => expect(double.calls).toHaveLength(1));
    const call = double.calls[0]!;
    expect(call).toMatchObject({ from: '+919879964805', callerId: CALLER_ID, url: `http://my.exotel.com/${SID}/exoml/start_voice/778899`, callType: 'promo', customField: '{"offer":"D10"}' });
    expect((await double.finish(call, 'completed', 9, `${base}/outbound/prod/status/${'0'.repeat(32)}`)).status).toBe(404);
    expect((await double.finish(call, 'completed', 9, call.statusCallback.replace('/prod/', '/test/'))).status).toBe(404);
    expect((await status(t, reqID)).contacts[0].outcome).toBeNull();
    expect((await double.finish(call, 'completed', 9)).status).toBe(200);
    expect((await status(t, reqID)).contacts[0]).toMatchObject({ outcome: 'completed', durationSeconds: 9 });
  });
});

describe('statusCallbackUrl (docs/http.md §9)', () => {
  const SECRET = 'events-secret-for-tests';

  it('when a campaign with a statusCallbackUrl ends, then each contact outcome and then the completion are POSTed, signed like the change notifications, and a failed delivery is retried', async () => {
    const receiver = await startReceiver([503]);
    cleanups.push(receiver.close);
    const { double, t } = await twilioSetUp({ EVENTS_WEBHOOK_SECRET: SECRET });
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }], callsPerSecond: 50 });
    const created = await webhook(t, createBody({ contactNumbers: numbers(2), statusCallbackUrl: receiver.url }));
    const reqID = created.body.obdReqID as string;
    await eventually(() => expect(double.calls).toHaveLength(2));
    await double.finish(double.calls[0]!, 'completed', 12);
    await double.finish(double.calls[1]!, 'failed', 0);
    await eventually(() => expect(receiver.received.length).toBeGreaterThanOrEqual(4), 10_000);
    const bodies = receiver.received.map((r) => JSON.parse(r.body));
    // The first delivery was refused with 503 and sent again with the same event id.
    expect(bodies[1].id).toBe(bodies[0].id);
    const distinct = bodies.slice(1);
    expect(distinct.map((b) => b.type)).toEqual(['outbound.contact', 'outbound.contact', 'outbound.completed']);
    expect(distinct[0]).toMatchObject({ stage: 'prod', obdReqID: reqID, status: 'dispatched', outcome: 'completed', durationSeconds: 12 });
    expect(distinct[1]).toMatchObject({ obdReqID: reqID, outcome: 'failed' });
    expect(distinct[2]).toMatchObject({ obdReqID: reqID, status: 'done', contacts: [{ outcome: 'completed' }, { outcome: 'failed' }] });
    for (const r of receiver.received) {
      const ts = Number(r.headers['x-central-timestamp']);
      expect(r.headers['x-central-signature']).toBe(`t=${ts},v1=${signNotification(SECRET, ts, r.body)}`);
      expect(r.headers['x-central-event-id']).toBe(JSON.parse(r.body).id);
    }
  });

  it('when EVENTS_WEBHOOK_SECRET is not set, then a statusCallbackUrl is refused and nothing is scheduled', async () => {
    const { t } = await twilioSetUp();
    await client(t, { flows: [{ flowID: FLOW_ID, target: ANSWER_URL }] });
    const res = await webhook(t, createBody({ statusCallbackUrl: 'https://crm.example.com/hook' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'statusCallbackUrl' });
    expect(await t.query('SELECT count(*) AS n FROM outbound_requests')).toEqual([{ n: 0 }]);
  });
});

