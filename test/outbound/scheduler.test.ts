import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { createBody, eventually, numbers, registerClient, statusBody, webhook } from './outboundHelpers.js';
import { startPlatform } from './testPlatform.js';

let t: TestApp | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  while (cleanups.length) await cleanups.pop()!();
});

async function started(env: Record<string, string> = {}): Promise<TestApp> {
  t = buildTestApp(env, { start: true });
  await registerClient(t);
  await registerClient(t, { stage: 'test' });
  return t;
}

async function status(app: TestApp, reqID: string, stage = 'prod') {
  return (await webhook(app, statusBody(reqID), stage)).body;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduler with the recording dialer', () => {
  it('when a request is due now, then every contact is recorded once (prod without a platform: docs/http.md §8) and the request is done', async () => {
    const app = await started();
    const created = await webhook(app, createBody({ contactNumbers: numbers(25) }));
    const s = await eventually(async () => {
      const body = await status(app, created.body.obdReqID);
      expect(body.status).toBe('done');
      return body;
    });
    expect(s.contacts).toHaveLength(25);
    for (const c of s.contacts) expect(c).toMatchObject({ status: 'recorded', attempts: 1, lastError: null });
    const metrics = await supertest(app.http).get('/metrics');
    expect(metrics.text).toMatch(/outbound_dispatches_total\{stage="prod",result="recorded"\} 25/);
    expect(metrics.text).toMatch(/outbound_scheduled_total\{stage="prod"\} 25/);
    expect(metrics.text).toMatch(/outbound_dispatch_lag_seconds_count 25/);
  });

  it('when delayMinutes is set, then nothing goes out before scheduledAt and it goes out once the clock reaches it', async () => {
    const app = await started();
    const created = await webhook(app, createBody({ contactNumbers: numbers(3), delayMinutes: 5 }));
    await sleep(500);
    app.clock.advance(5 * 60_000 - 1);
    await sleep(500);
    expect((await status(app, created.body.obdReqID)).status).toBe('scheduled');
    app.clock.advance(1);
    await eventually(async () => expect((await status(app, created.body.obdReqID)).status).toBe('done'));
  });

  it('when a request is cancelled before it is due, then nothing is dispatched even after scheduledAt', async () => {
    const app = await started();
    const created = await webhook(app, createBody({ contactNumbers: numbers(3), delayMinutes: 1 }));
    await webhook(app, statusBody(created.body.obdReqID, 'cancelOutbound'));
    app.clock.advance(2 * 60_000);
    await sleep(500);
    const s = await status(app, created.body.obdReqID);
    expect(s.status).toBe('cancelled');
    expect(s.contacts.every((c: { status: string; attempts: number }) => c.status === 'cancelled' && c.attempts === 0)).toBe(true);
  });

  it('when a request is cancelled after it was recorded, then the contacts stay recorded and it stays done', async () => {
    const app = await started();
    const created = await webhook(app, createBody({ contactNumbers: numbers(2) }));
    await eventually(async () => expect((await status(app, created.body.obdReqID)).status).toBe('done'));
    const cancelled = await webhook(app, statusBody(created.body.obdReqID, 'cancelOutbound'));
    expect(cancelled.body.status).toBe('done');
    expect(cancelled.body.contacts.map((c: { status: string }) => c.status)).toEqual(['recorded', 'recorded']);
  });

  it('when DIALER_URL is set, then the test stage still only records and never dials out', async () => {
    const platform = await startPlatform();
    cleanups.push(platform.close);
    const app = await started({ DIALER_URL: platform.url });
    const created = await webhook(app, createBody({ contactNumbers: numbers(3) }), 'test');
    await eventually(async () => expect((await status(app, created.body.obdReqID, 'test')).status).toBe('done'));
    expect(platform.received).toHaveLength(0);
  });
});

describe('calling window', () => {
  const WINDOW = { CALLING_WINDOW: '09:00-21:00', CALLING_TZ: 'Asia/Kolkata' };

  it('when a request arrives inside the window, then scheduledAt is now', async () => {
    const app = await started(WINDOW); // 10:00Z is 15:30 in Kolkata
    const res = await webhook(app, createBody());
    expect(res.body.scheduledAt).toBe('2026-01-15T10:00:00.000Z');
  });

  it('when a request arrives after the window closed, then scheduledAt is the next opening and nothing goes out before it', async () => {
    const app = await started(WINDOW);
    app.clock.set('2026-01-15T16:00:00.000Z'); // 21:30 in Kolkata
    const created = await webhook(app, createBody({ contactNumbers: numbers(2) }));
    expect(created.body.scheduledAt).toBe('2026-01-16T03:30:00.000Z'); // 09:00 next morning
    app.clock.set('2026-01-16T03:29:59.999Z');
    await sleep(500);
    expect((await status(app, created.body.obdReqID)).status).toBe('scheduled');
    app.clock.set('2026-01-16T03:30:00.000Z');
    await eventually(async () => expect((await status(app, created.body.obdReqID)).status).toBe('done'));
  });

  it('when a delay ends outside the window, then scheduledAt moves to the next opening', async () => {
    const app = await started(WINDOW);
    app.clock.set('2026-01-15T15:00:00.000Z'); // 20:30 in Kolkata; +60 min = 21:30
    const created = await webhook(app, createBody({ delayMinutes: 60 }));
    expect(created.body.scheduledAt).toBe('2026-01-16T03:30:00.000Z');
  });

  it('when the window wraps midnight, then calls wait for its evening start', async () => {
    const app = await started({ CALLING_WINDOW: '21:00-06:00', CALLING_TZ: 'Asia/Kolkata' });
    const created = await webhook(app, createBody()); // 15:30 in Kolkata
    expect(created.body.scheduledAt).toBe('2026-01-15T15:30:00.000Z');
    app.clock.set('2026-01-15T21:00:00.000Z'); // 02:30 in Kolkata, inside
    expect((await webhook(app, createBody())).body.scheduledAt).toBe('2026-01-15T21:00:00.000Z');
  });

  it('when the window closes while contacts are still due, then they wait for the next opening', async () => {
    const app = await started(WINDOW);
    const created = await webhook(app, createBody({ delayMinutes: 1 }));
    app.clock.set('2026-01-15T16:00:00.000Z'); // due since 10:01Z, but the window is closed now
    await sleep(500);
    expect((await status(app, created.body.obdReqID)).status).toBe('scheduled');
    app.clock.set('2026-01-16T03:30:00.000Z');
    await eventually(async () => expect((await status(app, created.body.obdReqID)).status).toBe('done'));
  });
});
