import { verifiesSignature } from '../helpers/signedDelivery.js';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { OutboxSender, type SenderOptions } from '../../src/delivery/sender.js';
import { openTestStores, type TestStores } from '../helpers/testStores.js';
import { signNotification, signatureHeaders } from '../../src/delivery/signature.js';
import type { PauseChangeEvent } from '../../src/events/bus.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { buildTestApp, FakeClock } from '../helpers/buildTestApp.js';
import { startReceiver, until, type Receiver } from '../breaks/receiver.js';

const SECRET = 'whsec_5f2b8c1e9d';

const change = (over: Partial<PauseChangeEvent> = {}): PauseChangeEvent => ({
  stage: 'test',
  at: '2026-01-15T10:00:00.000Z',
  cli: '+919879964805',
  name: 'Asha',
  pause: true,
  reason: 'lunch',
  source: 'webhook',
  callId: null,
  ...over,
});

/** What a receiver following the README does (test/helpers/signedDelivery.ts). */
function verifies(r: { headers: Record<string, string | string[] | undefined>; body: string }, secret = SECRET): boolean {
  return verifiesSignature(secret, r.headers, r.body);
}

const receivers: Receiver[] = [];
const notifiers: OutboxSender[] = [];
const opened: TestStores[] = [];
afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await Promise.all(opened.splice(0).map((o) => o.dispose()));
});

/** A sender on a fresh outbox; `queue` commits a pause change that queues its notification. */
function notifier(url: string, over: Partial<SenderOptions> = {}, on?: TestStores) {
  const logs: string[] = [];
  const metrics = createMetrics();
  const logger = createLogger('info', new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }));
  const t = on ?? openTestStores();
  if (!on) opened.push(t);
  const { stores } = t;
  const n = new OutboxSender({ store: stores.outbox, eventsUrl: url, secret: SECRET, clock: new FakeClock(), logger, metrics, baseDelayMs: 20, maxDelayMs: 100, ...over });
  notifiers.push(n);
  n.start();
  const count = async (result: string) =>
    (await metrics.eventsWebhookDeliveries.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  let at = Date.parse('2026-01-15T10:00:00.000Z');
  const queue = async (c: PauseChangeEvent = change()) => {
    await stores.pause.saveAgent(c.stage, c.cli, { name: c.name }, at);
    const r = await stores.pause.applyPauseChange(c.stage, c.cli, () => ({ pause: c.pause, reason: c.reason }), {
      at: at++,
      source: c.source,
      callId: c.callId,
      notify: true,
    });
    expect(r).toMatchObject({ kind: 'applied', changed: true });
    n.wake();
  };
  return { n, logs, count, queue, stores: t };
}

describe('change notification signature', () => {
  it('when a body is signed, then the HMAC-SHA256 over "timestamp.body" matches the known answer', () => {
    const body = '{"id":"evt-1","type":"pause.changed","cli":"+919879964805","pause":true}';
    // Computed independently: printf '%s' "1700000000.$body" | openssl dgst -sha256 -hmac whsec_5f2b8c1e9d
    const want = 'b09ac18bd63b60ef1329cb607e83a6f2603fcb61695debddf86abf08803aeba7';
    expect(signNotification(SECRET, 1700000000, body)).toBe(want);
    expect(signatureHeaders(SECRET, 1700000000, body)).toEqual({
      'X-Central-Timestamp': '1700000000',
      'X-Central-Signature': `t=1700000000,v1=${want}`,
    });
    expect(signNotification(SECRET, 1700000001, body)).not.toBe(want);
    expect(signNotification('other', 1700000000, body)).not.toBe(want);
  });
});

describe('change notifier', () => {
  it('when the receiver fails twice with 500, then the third attempt delivers the same signed event', async () => {
    const rx = await startReceiver([500, 503, 200]);
    receivers.push(rx);
    const { n, count, queue } = notifier(rx.url);
    await queue();
    await until(async () => rx.received.length === 3 && (await n.pending()) === 0);
    const bodies = rx.received.map((r) => JSON.parse(r.body));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(rx.received.map((r) => r.headers['x-central-event-id'])).toEqual(bodies.map((b) => b.id));
    expect(bodies[2]).toEqual({
      id: bodies[0].id,
      type: 'pause.changed',
      stage: 'test',
      at: '2026-01-15T10:00:00.000Z',
      cli: '+919879964805',
      name: 'Asha',
      pause: true,
      reason: 'lunch',
      source: 'webhook',
      callId: null,
    });
    for (const r of rx.received) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-central-timestamp']).toBe(String(Date.parse('2026-01-15T10:00:00.000Z') / 1000));
      expect(verifies(r)).toBe(true);
      expect(verifies(r, 'wrong-secret')).toBe(false);
    }
    expect(await count('retry')).toBe(2);
    expect(await count('delivered')).toBe(1);
  });

  it('when attempts are retried, then the waits grow exponentially with jitter, capped', () => {
    const { n } = notifier('http://127.0.0.1:9/', { baseDelayMs: 100, maxDelayMs: 1_000 });
    for (let i = 0; i < 50; i++) {
      const d1 = n.backoff(1);
      const d3 = n.backoff(3);
      const d9 = n.backoff(9);
      expect(d1).toBeGreaterThanOrEqual(50);
      expect(d1).toBeLessThanOrEqual(100);
      expect(d3).toBeGreaterThanOrEqual(200);
      expect(d3).toBeLessThanOrEqual(400);
      expect(d9).toBeGreaterThanOrEqual(500);
      expect(d9).toBeLessThanOrEqual(1_000);
    }
  });

  it('when the receiver refuses with 400, then that notification is not retried and the next still goes out, in order', async () => {
    const rx = await startReceiver([400, 200]);
    receivers.push(rx);
    const { n, count, queue } = notifier(rx.url);
    await queue(change({ pause: true }));
    await queue(change({ pause: false, reason: null }));
    await until(async () => rx.received.length === 2 && (await n.pending()) === 0);
    expect(rx.received.map((r) => JSON.parse(r.body).pause)).toEqual([true, false]);
    expect(await count('failed')).toBe(1);
    expect(await count('retry')).toBe(0);
  });

  it('when the receiver hangs past the timeout, then the attempt is abandoned and retried', async () => {
    const rx = await startReceiver(['hang', 200]);
    receivers.push(rx);
    const { n, queue } = notifier(rx.url, { timeoutMs: 200 });
    await queue();
    await until(async () => rx.received.length === 2 && (await n.pending()) === 0);
    expect(JSON.parse(rx.received[0]!.body).id).toBe(JSON.parse(rx.received[1]!.body).id);
  });

  it('when nothing listens at the URL, then it gives up after the last attempt and logs neither secret nor path', async () => {
    const rx = await startReceiver([]);
    const url = rx.url;
    await rx.close();
    const { n, logs, count, queue } = notifier(url, { maxAttempts: 3 });
    await queue();
    await until(async () => (await n.pending()) === 0);
    expect(await count('retry')).toBe(2);
    expect(await count('failed')).toBe(1);
    const text = logs.join('');
    expect(text).toContain('giving up');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('/hooks/breaks');
  });

  it('when two senders share one outbox (two instances), then every notification is delivered exactly once', async () => {
    const rx = await startReceiver([]);
    receivers.push(rx);
    const first = notifier(rx.url, { batch: 2 });
    const second = notifier(rx.url, { batch: 2 }, first.stores);
    for (let i = 0; i < 12; i++) await (i % 2 ? first : second).queue(change({ cli: `+9190000000${String(i).padStart(2, '0')}` }));
    await until(async () => rx.received.length >= 12 && (await first.n.pending()) === 0);
    await new Promise((r) => setTimeout(r, 100));
    const ids = rx.received.map((r) => JSON.parse(r.body).id as string);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
    expect((await first.count('delivered')) + (await second.count('delivered'))).toBe(12);
  });

  it('when stopped with notifications queued, then they are delivered before stop resolves', async () => {
    const rx = await startReceiver([]);
    receivers.push(rx);
    // A drain time far above what five deliveries take, so a loaded machine cannot cut the drain
    // short (that case is the next test's).
    const { n, queue } = notifier(rx.url, { drainMs: 60_000 });
    for (let i = 0; i < 5; i++) await queue(change({ pause: i % 2 === 0, reason: i % 2 === 0 ? 'lunch' : null }));
    await n.stop();
    expect(rx.received.map((r) => JSON.parse(r.body).pause)).toEqual([true, false, true, false, true]);
    expect(await n.pending()).toBe(0);
  });

  it('when stopped while the receiver hangs, then stop gives up after the drain time and the next start delivers what was left, same ids', async () => {
    const rx = await startReceiver(['hang'], 'hang');
    receivers.push(rx);
    const { n, logs, queue, stores } = notifier(rx.url, { drainMs: 200, timeoutMs: 10_000 });
    await queue();
    await queue(change({ pause: false, reason: null }));
    await until(() => rx.received.length === 1);
    await n.stop();
    expect(await n.pending()).toBe(2);
    expect(logs.join('')).toMatch(/"undelivered":2/);
    const rx2 = await startReceiver([]);
    receivers.push(rx2);
    const next = notifier(rx2.url, {}, stores);
    await until(async () => rx2.received.length === 2 && (await next.n.pending()) === 0);
    expect(rx2.received.map((r) => JSON.parse(r.body).id)).toEqual([JSON.parse(rx.received[0]!.body).id, expect.stringMatching(/^test-\d+$/)]);
    expect(rx2.received.map((r) => JSON.parse(r.body).pause)).toEqual([true, false]);
  });
});

/**
 * A statusCallbackUrl delivery in the outbox, the way the outbound store writes one: a contact on
 * its client's suppression list ends (`suppressed`) as its request is stored (docs/http.md §9.6).
 */
async function queueCallback(t: TestStores, url: string, reqID = 'req1') {
  const at = Date.parse('2026-01-15T10:00:00.000Z');
  await t.stores.outbound.suppress('test', 'acme', ['+919800000001'], at);
  const stored = { status: 200, body: { obdReqID: reqID } };
  await t.stores.outbound.createRequest(
    { stage: 'test', reqID, clientID: 'acme', flowID: 'FLOW0001', phononUUID: '00000000-0000-4000-8000-000000000001', scheduledAt: at, createdAt: at, numbers: ['+919800000001'], statusCallbackUrl: url },
    undefined,
    stored,
  );
}

describe('statusCallbackUrl deliveries through the same sender', () => {
  it('when a callback and a change notification are queued, then each goes to its own URL, signed, with its own id', async () => {
    const events = await startReceiver([]);
    const crm = await startReceiver([]);
    receivers.push(events, crm);
    const { n, queue, stores } = notifier(events.url);
    await queueCallback(stores, `${crm.url}?token=crm-t0k3n`);
    await queue();
    await until(async () => events.received.length === 1 && crm.received.length === 1 && (await n.pending()) === 0);
    const cb = JSON.parse(crm.received[0]!.body);
    expect(cb).toEqual({
      id: crm.received[0]!.headers['x-central-event-id'],
      type: 'outbound.contact',
      stage: 'test',
      obdReqID: 'req1',
      number: '+919800000001',
      status: 'suppressed',
      outcome: null,
      durationSeconds: null,
      at: '2026-01-15T10:00:00.000Z',
    });
    expect(verifies(crm.received[0]!)).toBe(true);
    expect(JSON.parse(events.received[0]!.body)).toMatchObject({ type: 'pause.changed', cli: '+919879964805' });
    expect(verifies(events.received[0]!)).toBe(true);
  });

  it('when a statusCallbackUrl refuses connections, then the sender gives up after the last attempt and logs its host only, never its path, query or the secret', async () => {
    const gone = await startReceiver([]);
    const url = `${gone.url}?token=crm-t0k3n`;
    await gone.close();
    const { n, logs, count, stores } = notifier('http://127.0.0.1:9/unused', { maxAttempts: 3 });
    await queueCallback(stores, url);
    n.wake();
    await until(async () => (await n.pending()) === 0);
    expect(await count('retry')).toBe(2);
    expect(await count('failed')).toBe(1);
    const text = logs.join('');
    expect(text).toContain('giving up');
    expect(text).toContain(`"host":"${new URL(url).host}"`);
    for (const secret of [SECRET, 'crm-t0k3n', '/hooks/breaks']) expect(text).not.toContain(secret);
  });

  it('when EVENTS_WEBHOOK_URL is no longer set, then a change notification left in the outbox is dropped with a warning and callbacks still go out', async () => {
    const crm = await startReceiver([]);
    receivers.push(crm);
    const { n, logs, count, queue, stores } = notifier('http://127.0.0.1:9/unused', { eventsUrl: undefined });
    await queue();
    await queueCallback(stores, crm.url);
    n.wake();
    await until(async () => crm.received.length === 1 && (await n.pending()) === 0);
    expect(JSON.parse(crm.received[0]!.body).type).toBe('outbound.contact');
    expect(await count('failed')).toBe(1);
    expect(logs.join('')).toContain('change notification dropped: EVENTS_WEBHOOK_URL is not set');
  });
});

describe('events webhook feature', () => {
  it('when EVENTS_WEBHOOK_URL is set and a change is committed, then the receiver gets it and shutdown waits for it', async () => {
    const rx = await startReceiver([]);
    receivers.push(rx);
    const t = buildTestApp({ EVENTS_WEBHOOK_URL: rx.url, EVENTS_WEBHOOK_SECRET: SECRET, PAUSE_CHANGES_PER_MINUTE: '0' }, { start: true });
    await supertest(t.http).put('/admin/test/agents/9811112222').send({ name: 'Ravi' }).expect(201);
    await supertest(t.http).post('/admin/test/agents/9811112222/pause').send({ pause: true }).expect(200);
    await t.close();
    expect(rx.received).toHaveLength(1);
    expect(JSON.parse(rx.received[0]!.body).cli).toBe('+919811112222');
    expect(verifies(rx.received[0]!)).toBe(true);
  });

  it('when a pause changes over the webhook while the receiver is down, then the change still succeeds at once', async () => {
    const rx = await startReceiver([]);
    await rx.close();
    const t = buildTestApp({ EVENTS_WEBHOOK_URL: rx.url, EVENTS_WEBHOOK_SECRET: SECRET, PAUSE_CHANGES_PER_MINUTE: '0' }, { start: true });
    try {
      await supertest(t.http).put('/admin/test/agents/9879964805').send({ name: 'Asha' }).expect(201);
      const r = await supertest(t.http)
        .post('/centraloutboundwebhook-v1/test/')
        .send({ method: 'updatePauseStatusForCLI', cli: '9879964805', pause: true, reason: 'lunch' });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ cli_pause_update: true, changed: true });
      const status = await supertest(t.http).get('/admin/test/agents/9879964805').expect(200);
      expect(status.body).toMatchObject({ pause: true, reason: 'lunch' });
    } finally {
      await t.close();
    }
  });

  it('when a pause changes over the webhook, then the receiver gets that change, signed', async () => {
    const rx = await startReceiver([]);
    receivers.push(rx);
    const t = buildTestApp({ EVENTS_WEBHOOK_URL: rx.url, EVENTS_WEBHOOK_SECRET: SECRET, PAUSE_CHANGES_PER_MINUTE: '0' }, { start: true });
    try {
      await supertest(t.http).put('/admin/test/agents/9879964805').send({ name: 'Asha' }).expect(201);
      await supertest(t.http)
        .post('/centraloutboundwebhook-v1/test/')
        .send({ method: 'updatePauseStatusForCLI', cli: '9879964805', pause: true, reason: 'lunch' })
        .expect(200);
      await until(() => rx.received.length === 1);
      expect(verifies(rx.received[0]!)).toBe(true);
      expect(JSON.parse(rx.received[0]!.body)).toMatchObject({
        type: 'pause.changed',
        stage: 'test',
        at: '2026-01-15T10:00:00.000Z',
        cli: '+919879964805',
        name: 'Asha',
        pause: true,
        reason: 'lunch',
        source: 'webhook',
      });
    } finally {
      await t.close();
    }
  });
});
