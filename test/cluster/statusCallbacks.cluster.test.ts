import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { CLIENT_ID, FLOW_ID, SECURITY_ID, createBody, numbers, statusBody } from '../outbound/outboundHelpers.js';
import { startDialerCounter } from './dialerCounter.js';
import { createCluster, call, sleep, type Instance } from './instances.js';
import { startSignedReceiver, type Got } from './signedReceiver.js';
import { waitFor } from './stream.js';

/**
 * docs/http.md §9.6, §11: createOutbound's statusCallbackUrl is delivered once per event across
 * instances, not once per instance. Two real instances on one PostgreSQL database dial through the
 * HTTP dialer (a local counter); requests are made through both; the receiver checks every
 * signature and answers 503 to the first attempt of each id, so every delivery is retried, by
 * whichever instance claims it. Only HTTP is looked at.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const SECRET = 'whsec_cluster_callbacks_52e1';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const WEBHOOK = '/centraloutboundwebhook-v1/prod/';
const PER_REQUEST = 10;

describe.skipIf(!TEST_DATABASE_URL)('several instances: statusCallbackUrl (PostgreSQL only)', () => {
  it("when contacts end on two instances, then the receiver accepts each contact's callback and each request's completion exactly once, the completion last, each retried with its id", async () => {
    const receiver = await startSignedReceiver(SECRET, 1);
    cleanups.push(receiver.close);
    const dialer = await startDialerCounter(100);
    cleanups.push(dialer.close);
    const cluster = await createCluster({ DIALER_URL: dialer.url, CALLING_WINDOW: 'off', EVENTS_WEBHOOK_SECRET: SECRET });
    cleanups.push(cluster.close);
    const instances: Instance[] = await Promise.all([cluster.start('a'), cluster.start('b')]);
    const put = await call(instances[0]!, 'PUT', `/admin/prod/clients/${CLIENT_ID}`, { securityID: SECURITY_ID, flows: [FLOW_ID], maxConcurrent: 20, callsPerSecond: 50 });
    expect(put.status).toBe(201);

    const reqIDs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await call(instances[i % 2]!, 'POST', WEBHOOK, createBody({ contactNumbers: numbers(PER_REQUEST, i * PER_REQUEST), statusCallbackUrl: receiver.url }));
      expect(r.status).toBe(200);
      reqIDs.push(r.body.obdReqID as string);
    }
    const expected = reqIDs.length * (PER_REQUEST + 1);
    const accepted = () => receiver.got.filter((g) => g.status === 200);
    await waitFor(() => (new Set(accepted().map((g) => g.id)).size >= expected ? true : undefined), 90_000);
    // Time for a duplicate to show: every instance's sender polls the outbox each second.
    await sleep(3_000);

    const ok = accepted();
    expect(ok.map((g) => g.id)).toHaveLength(expected);
    expect(new Set(ok.map((g) => g.id)).size).toBe(expected);
    for (const g of ok) expect(g.body.id).toBe(g.id);
    // Every attempt was signed; each id refused once, then accepted once: retried, never sent by both.
    const perId = new Map<string, number[]>();
    for (const g of receiver.got) perId.set(g.id, [...(perId.get(g.id) ?? []), g.status]);
    for (const statuses of perId.values()) expect(statuses).toEqual([503, 200]);

    for (const [i, reqID] of reqIDs.entries()) {
      const mine = ok.filter((g: Got) => g.body.obdReqID === reqID);
      // One callback per contact (by number, not per instance), then the completion.
      expect(mine.map((g) => g.body.type)).toEqual([...Array(PER_REQUEST).fill('outbound.contact'), 'outbound.completed']);
      const wanted = numbers(PER_REQUEST, i * PER_REQUEST).map((n) => `+91${n}`).sort();
      expect(mine.slice(0, PER_REQUEST).map((g) => g.body.number).sort()).toEqual(wanted);
      expect(mine.slice(0, PER_REQUEST).every((g) => g.body.status === 'dispatched')).toBe(true);
      const completion = mine[PER_REQUEST]!.body as { status: string; contacts: { number: string; status: string }[] };
      expect(completion.status).toBe('done');
      expect(completion.contacts.map((c) => c.number).sort()).toEqual(wanted);
      // What getOutboundStatus says through the other instance agrees.
      const status = await call(instances[(i + 1) % 2]!, 'POST', WEBHOOK, statusBody(reqID));
      expect(status.body.status).toBe('done');
    }
    // Each contact was dialled once, by one instance or the other.
    expect(new Set(dialer.deliveries.map((d) => d.key)).size).toBe(reqIDs.length * PER_REQUEST);
    expect(dialer.deliveries).toHaveLength(reqIDs.length * PER_REQUEST);
  }, 180_000);
});
