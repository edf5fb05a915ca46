import { afterEach, describe, expect, it } from 'vitest';
import { HttpDialer } from '../../src/outbound/httpDialer.js';
import { createOutboundFeature } from '../../src/outbound/outbound.feature.js';
import type { DialRequest } from '../../src/outbound/dialer.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { createBody, eventually, registerClient, statusBody, webhook, CLIENT_ID, FLOW_ID } from './outboundHelpers.js';
import { closedPort, startPlatform } from './testPlatform.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function platform(respond: Parameters<typeof startPlatform>[0]) {
  const p = await startPlatform(respond);
  cleanups.push(p.close);
  return p;
}

const REQUEST: DialRequest = {
  obdReqID: 'req1',
  obdPhononUUID: '4b0c8f3e-5d5e-4e8a-9f53-2f1d3c9a7b10',
  clientID: 'acme',
  flowID: 'FLOW0001',
  number: '+919879964805',
  attempt: 1,
  idempotencyKey: 'req1-0',
  keys: { city: 'Pune' },
  category: 'transactional',
};

describe('HttpDialer against a real HTTP server', () => {
  it('when the platform answers 2xx, then the contact is dispatched and the POST carries every field and the key header', async () => {
    const p = await platform(() => 202);
    expect(await new HttpDialer(p.url, 1000).dial(REQUEST)).toEqual({ kind: 'dispatched' });
    expect(p.received[0]).toEqual({ body: REQUEST, headerKey: 'req1-0' });
  });

  it('when the platform answers 5xx, then the attempt may be retried', async () => {
    const p = await platform(() => 503);
    expect(await new HttpDialer(p.url, 1000).dial(REQUEST)).toEqual({ kind: 'retry', error: 'dialer answered HTTP 503' });
  });

  it('when the platform answers 4xx, then the contact has failed for good', async () => {
    const p = await platform(() => 422);
    expect(await new HttpDialer(p.url, 1000).dial(REQUEST)).toEqual({ kind: 'failed', error: 'dialer refused with HTTP 422' });
  });

  it('when the platform hangs past the timeout, then the attempt ends at the timeout and may be retried', async () => {
    const p = await platform(() => 'hang');
    const started = Date.now();
    const outcome = await new HttpDialer(p.url, 300).dial(REQUEST);
    expect(outcome).toEqual({ kind: 'retry', error: 'dialer did not answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('when nothing listens, then the refused connection may be retried', async () => {
    const port = await closedPort();
    expect(await new HttpDialer(`http://127.0.0.1:${port}/dial`, 1000).dial(REQUEST)).toEqual({
      kind: 'retry',
      error: 'dialer connection failed (ECONNREFUSED)',
    });
  });

  it('when the URL carries credentials, then they go as Basic auth and never into an error', async () => {
    const port = await closedPort();
    const outcome = await new HttpDialer(`http://user:s3cret@127.0.0.1:${port}/dial`, 1000).dial(REQUEST);
    expect(JSON.stringify(outcome)).not.toContain('s3cret');
  });
});

describe('dispatch through DIALER_URL with retries', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function schedule(url: string, env: Record<string, string> = {}) {
    t = buildTestApp({ DIALER_URL: url, DIALER_TIMEOUT_MS: '300', DIALER_MAX_ATTEMPTS: '3', ...env }, { start: true });
    await registerClient(t);
    const created = await webhook(t, createBody({ contactNumbers: ['9879964805'] }));
    return { app: t, reqID: created.body.obdReqID as string, created: created.body };
  }

  /** Move the fake clock past any backoff until the contact settles. */
  async function settle(app: TestApp, reqID: string, expected: string) {
    return eventually(async () => {
      app.clock.advance(10 * 60_000);
      const body = (await webhook(app, statusBody(reqID))).body;
      expect(body.contacts[0].status).toBe(expected);
      return body.contacts[0];
    }, 10_000, 100);
  }

  it('when the platform fails twice with 500 and then accepts, then the contact is dispatched after 3 attempts with one idempotency key', async () => {
    const p = await platform((_r, i) => (i < 2 ? 500 : 200));
    const { app, reqID, created } = await schedule(p.url);
    const contact = await settle(app, reqID, 'dispatched');
    expect(contact).toMatchObject({ attempts: 3, lastError: 'dialer answered HTTP 500' });
    expect(p.received.map((r) => r.body.attempt)).toEqual([1, 2, 3]);
    expect(new Set(p.received.map((r) => r.body.idempotencyKey)).size).toBe(1);
    expect(p.received[0]!.body).toMatchObject({
      obdReqID: reqID,
      obdPhononUUID: created.obdPhononUUID,
      clientID: CLIENT_ID,
      flowID: FLOW_ID,
      number: '+919879964805',
    });
  });

  it('when the platform keeps answering 500, then the contact fails after DIALER_MAX_ATTEMPTS', async () => {
    const p = await platform(() => 500);
    const { app, reqID } = await schedule(p.url);
    const contact = await settle(app, reqID, 'failed');
    expect(contact.attempts).toBe(3);
    expect(contact.lastError).toContain('HTTP 500');
    expect(p.received).toHaveLength(3);
    expect((await webhook(app, statusBody(reqID))).body.status).toBe('done');
    const failedLog = app.logs.find((l) => l.includes('outbound contact failed'));
    expect(failedLog).toContain(reqID);
    expect(app.logs.join('')).not.toContain('9879964805');
  });

  it('when the platform answers 4xx, then the contact fails at once without a retry', async () => {
    const p = await platform(() => 400);
    const { app, reqID } = await schedule(p.url);
    const contact = await settle(app, reqID, 'failed');
    expect(contact).toMatchObject({ attempts: 1, lastError: 'dialer refused with HTTP 400' });
    expect(p.received).toHaveLength(1);
  });

  it('when the platform hangs, then each attempt times out and the contact fails with the timeout as its last error', async () => {
    const p = await platform(() => 'hang');
    const { app, reqID } = await schedule(p.url);
    const contact = await settle(app, reqID, 'failed');
    expect(contact.attempts).toBe(3);
    expect(contact.lastError).toContain('did not answer within 300 ms');
  });

  it('when the connection is refused, then it is retried and fails after the last attempt', async () => {
    const port = await closedPort();
    const { app, reqID } = await schedule(`http://127.0.0.1:${port}/dial`, { DIALER_MAX_ATTEMPTS: '2' });
    const contact = await settle(app, reqID, 'failed');
    expect(contact.attempts).toBe(2);
    expect(contact.lastError).toContain('ECONNREFUSED');
  });

  it('when a request is cancelled while its call is in flight and the dialer then confirms, then the contact reports dispatched', async () => {
    let release!: (status: number) => void;
    const p = await platform(() => new Promise<number>((r) => (release = r)));
    const { app, reqID } = await schedule(p.url, { DIALER_TIMEOUT_MS: '10000' });
    await eventually(() => expect(p.received).toHaveLength(1));
    const cancelled = await webhook(app, statusBody(reqID, 'cancelOutbound'));
    expect(cancelled.body).toMatchObject({ status: 'cancelled', contacts: [{ status: 'cancelled' }] });
    release(200);
    await eventually(async () => expect((await webhook(app, statusBody(reqID))).body.contacts[0].status).toBe('dispatched'));
  });

  it('when a request is cancelled while its call is in flight and the dialer then fails, then it stays cancelled and is never retried', async () => {
    let release!: (status: number) => void;
    const p = await platform(() => new Promise<number>((r) => (release = r)));
    const { app, reqID } = await schedule(p.url, { DIALER_TIMEOUT_MS: '10000' });
    await eventually(() => expect(p.received).toHaveLength(1));
    await webhook(app, statusBody(reqID, 'cancelOutbound'));
    release(503);
    await eventually(async () => expect((await webhook(app, statusBody(reqID))).body.contacts[0].lastError).toContain('503'));
    app.clock.advance(60 * 60_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(p.received).toHaveLength(1);
    expect((await webhook(app, statusBody(reqID))).body).toMatchObject({ status: 'cancelled', contacts: [{ status: 'cancelled', attempts: 1 }] });
  });

  it('when a retry is waiting for its backoff, then it does not go out before the backoff has passed', async () => {
    const p = await platform((_r, i) => (i === 0 ? 500 : 200));
    const { app, reqID } = await schedule(p.url);
    await eventually(() => expect(p.received).toHaveLength(1));
    await eventually(async () => expect((await webhook(app, statusBody(reqID))).body.contacts[0].lastError).not.toBeNull());
    await new Promise((r) => setTimeout(r, 500));
    expect(p.received).toHaveLength(1); // the fake clock has not moved: the backoff (≥ 0.5 s) is not over
    app.clock.advance(1_000);
    await eventually(() => expect(p.received).toHaveLength(2));
  });
});

describe('graceful stop with a dialer that does not answer', () => {
  it('when the service stops while the dialer hangs, then the attempt is interrupted after the stop wait and left to retry', async () => {
    const p = await platform(() => 'hang');
    const t = buildTestApp(
      { DIALER_URL: p.url, DIALER_TIMEOUT_MS: '60000' },
      { start: true, features: (deps) => [createOutboundFeature(deps, { stopWaitMs: 300 })] },
    );
    let closed = false;
    try {
      await registerClient(t);
      const created = await webhook(t, createBody({ contactNumbers: ['9879964805'] }));
      await eventually(() => expect(p.received).toHaveLength(1));
      const started = Date.now();
      await t.app.stop();
      expect(Date.now() - started).toBeLessThan(5_000);
      const [row] = await t.query('SELECT status, attempts, last_error AS "lastError", lease_owner AS owner FROM outbound_contacts WHERE req_id = ?', [
        created.body.obdReqID,
      ]);
      expect(row).toEqual({ status: 'scheduled', attempts: 1, lastError: 'dispatch interrupted by shutdown before the dialer answered', owner: null });
      await t.close();
      closed = true;
    } finally {
      if (!closed) await t.close();
    }
  });
});
