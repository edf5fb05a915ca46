import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../../src/db/stores.js';
import type { OutboxStore, QueuedCallback, QueuedDelivery } from '../../src/delivery/outbox.store.js';
import type { ClaimedContact, NewRequest, OutboundStore } from '../../src/outbound/outbound.store.js';
import type { OpenStores } from './engines.js';
import { newRequest, ok, T0 } from './outboundFixtures.js';

/**
 * What the outbox must do for createOutbound's statusCallbackUrl (src/delivery/outbox.store.ts,
 * docs/http.md §9.6), whatever the engine: the outbound store writes each contact's end and the
 * request's completion in the transactions that record them; the outbox hands one request's
 * deliveries out one at a time, in order, each to one claimer. (Change notifications:
 * pause.store.contract.ts.)
 */
export function outboxStoreContract(open: OpenStores): void {
  describe('OutboxStore: statusCallbackUrl deliveries', () => {
    let opened: { stores: Stores; dispose(): Promise<void> };
    let outbound: OutboundStore;
    let outbox: OutboxStore;
    beforeEach(async () => {
      opened = await open();
      outbound = opened.stores.outbound;
      outbox = opened.stores.outbox;
    });
    afterEach(async () => opened.dispose());

    const NOW = 1_000_000; // the outbox's own (real) time
    const URL = 'https://crm.example.com/hooks/outbound?token=t0k3n';
    const request = (over: Partial<NewRequest> = {}) => newRequest({ numbers: ['+919800000000', '+919800000001', '+919800000002'], statusCallbackUrl: URL, ...over });
    const callback = (q: QueuedDelivery): QueuedCallback & { json: Record<string, unknown> } => {
      expect(q.type).not.toBe('pause.changed');
      const c = q as QueuedCallback;
      return { ...c, json: JSON.parse(c.body) as Record<string, unknown> };
    };
    /** Claim, deliver and settle everything claimable now, oldest first; what was claimed. */
    async function drain(owner = 'sender') {
      const out: ReturnType<typeof callback>[] = [];
      for (;;) {
        const batch = await outbox.claim(owner, NOW, NOW + 10_000, 10);
        if (batch.length === 0) return out;
        for (const q of batch) {
          out.push(callback(q));
          await outbox.settle(owner, { kind: 'done', rowId: q.rowId, attempts: q.attempts });
        }
      }
    }
    const claimAll = async (now = T0) => (await outbound.claim('me', now, now + 10_000, 10)).sort((a, b) => a.seq - b.seq);

    it('when dial attempts end contacts, then each ended contact of a request with a statusCallbackUrl has its delivery, and nothing else does', async () => {
      await outbound.createRequest(request(), undefined, ok('req1'));
      await outbound.createRequest(request({ reqID: 'plain', numbers: ['+919800000009'], statusCallbackUrl: null }), undefined, ok('plain'));
      const claimed = await claimAll();
      const of = (reqID: string, seq: number) => claimed.find((c) => c.reqID === reqID && c.seq === seq)!;
      await outbound.complete('me', [
        { kind: 'failed', contact: of('req1', 0), error: 'dialer refused with HTTP 400', at: T0 + 1 },
        { kind: 'retry', contact: of('req1', 1), error: 'dialer answered HTTP 503', at: T0 + 1, dueAt: T0 + 2_000 },
        { kind: 'dispatched', contact: of('req1', 2), at: T0 + 2, awaits: 'callback', awaitingUntil: T0 + 3_600_000 },
        { kind: 'dispatched', contact: of('plain', 0), at: T0 + 3 },
      ]);
      // A lost claim (someone else's) ends nothing.
      const [retried] = await outbound.claim('me', T0 + 2_000, T0 + 20_000, 10);
      await outbound.complete('intruder', [{ kind: 'recorded', contact: retried!, at: T0 + 2_001 }]);
      expect(await outbox.count()).toBe(1);
      const [failed] = await drain();
      expect(failed!.type).toBe('outbound.contact');
      expect(failed!.url).toBe(URL);
      expect(failed!.json).toEqual({
        id: failed!.id,
        type: 'outbound.contact',
        stage: 'prod',
        obdReqID: 'req1',
        number: '+919800000000',
        status: 'failed',
        outcome: null,
        durationSeconds: null,
        at: '2026-01-15T10:00:00.001Z',
      });
      expect(failed!.id).toMatch(/^[0-9a-f-]{36}$/);

      // The retried contact is recorded by its own claim; the awaited call's outcome comes by callback.
      await outbound.complete('me', [{ kind: 'recorded', contact: retried!, at: T0 + 2_002 }]);
      expect(await outbound.recordOutcome('prod', of('req1', 2).callbackKey, { outcome: 'completed', durationSeconds: 42, at: T0 + 3_000 })).toMatchObject({ final: true });
      // The platform's repeat: the key is spent, nothing more is written.
      expect(await outbound.recordOutcome('prod', of('req1', 2).callbackKey, { outcome: 'completed', durationSeconds: 42, at: T0 + 3_001 })).toEqual({ kind: 'unknown' });
      const later = await drain();
      expect(later.map((d) => [d.json.number, d.json.status, d.json.outcome, d.json.durationSeconds, d.json.at])).toEqual([
        ['+919800000001', 'recorded', null, null, '2026-01-15T10:00:02.002Z'],
        ['+919800000002', 'dispatched', 'completed', 42, '2026-01-15T10:00:03.000Z'],
      ]);
      expect(new Set([failed!.id, ...later.map((d) => d.id)]).size).toBe(3);
    });

    it('when a busy call is redialled, then only its final outcome is delivered', async () => {
      await outbound.createRequest(request({ numbers: ['+919800000000'] }), undefined, ok('req1'));
      const [c] = await claimAll();
      await outbound.complete('me', [{ kind: 'dispatched', contact: c!, at: T0, awaits: 'callback', awaitingUntil: T0 + 3_600_000 }]);
      const redial = { maxRedials: 1, dueAt: T0 + 600_000 };
      expect(await outbound.recordOutcome('prod', c!.callbackKey, { outcome: 'busy', durationSeconds: 0, at: T0 + 10, redial })).toMatchObject({ final: false });
      expect(await outbox.count()).toBe(0);
      const [again] = await claimAll(T0 + 600_000);
      await outbound.complete('me', [{ kind: 'dispatched', contact: again!, at: T0 + 600_001, awaits: 'callback', awaitingUntil: T0 + 4_000_000 }]);
      await outbound.recordOutcome('prod', again!.callbackKey, { outcome: 'no-answer', durationSeconds: 0, at: T0 + 600_050, redial });
      const [last] = await drain();
      expect(last!.json).toMatchObject({ number: '+919800000000', status: 'dispatched', outcome: 'no-answer', durationSeconds: 0 });
      expect(await outbox.count()).toBe(0);
    });

    it('when a request completes, then its completion is written with the mark, after its contacts, once even when two ask at once', async () => {
      await outbound.createRequest(request({ numbers: ['+919800000000', '+919800000001'] }), undefined, ok('req1'));
      const claimed = await claimAll();
      await outbound.complete('me', claimed.map((c: ClaimedContact) => ({ kind: 'dispatched' as const, contact: c, at: T0 + 1 })));
      const [a, b] = await Promise.all([outbound.completeRequests(T0 + 5, 10), outbound.completeRequests(T0 + 5, 10)]);
      expect([...a!, ...b!]).toHaveLength(1);
      expect(await outbound.completeRequests(T0 + 6, 10)).toEqual([]);
      const sent = await drain();
      expect(sent.map((d) => d.type)).toEqual(['outbound.contact', 'outbound.contact', 'outbound.completed']);
      expect(sent[2]!.json).toEqual({
        id: sent[2]!.id,
        type: 'outbound.completed',
        stage: 'prod',
        obdReqID: 'req1',
        status: 'done',
        contacts: [
          { number: '+919800000000', status: 'dispatched', outcome: null, durationSeconds: null },
          { number: '+919800000001', status: 'dispatched', outcome: null, durationSeconds: null },
        ],
        at: '2026-01-15T10:00:00.005Z',
      });
    });

    it('when contacts end without a call (suppressed at creation or at the claim, expired, cancelled), then each has one delivery with that status', async () => {
      await outbound.suppress('prod', 'acme', ['+919800000001'], T0);
      await outbound.createRequest(request({ expiresAt: T0 + 60_000 }), undefined, ok('req1'));
      const atCreate = await drain();
      expect(atCreate.map((d) => [d.json.number, d.json.status, d.json.at])).toEqual([['+919800000001', 'suppressed', '2026-01-15T10:00:00.000Z']]);
      // Suppressed after the request was made: it ends at the claim.
      await outbound.suppress('prod', 'acme', ['+919800000002'], T0 + 1);
      const [claimed] = await claimAll(T0 + 2);
      expect(claimed!.number).toBe('+919800000000');
      expect((await drain()).map((d) => [d.json.number, d.json.status])).toEqual([['+919800000002', 'suppressed']]);
      await outbound.complete('me', [{ kind: 'retry', contact: claimed!, error: 'dialer answered HTTP 503', at: T0 + 3, dueAt: T0 + 120_000 }]);
      expect(await outbound.expire(T0 + 60_000)).toBe(1);
      const expired = await drain();
      expect(expired.map((d) => [d.json.number, d.json.status, d.json.at])).toEqual([['+919800000000', 'expired', '2026-01-15T10:01:00.000Z']]);
      expect(await outbound.expire(T0 + 60_001)).toBe(0);

      // Cancelled: the contacts waiting end at once; the one being dialled ends with its dial.
      await outbound.createRequest(request({ reqID: 'req2', numbers: ['+919800000005', '+919800000006', '+919800000007'] }), undefined, ok('req2'));
      const [dialling, dispatching] = await outbound.claim('me', T0, T0 + 10_000, 2);
      await outbound.cancelRequest('prod', 'req2', 'acme', T0 + 5);
      const atCancel = await drain();
      expect(atCancel.map((d) => [d.json.obdReqID, d.json.status])).toEqual([['req2', 'cancelled']]);
      expect(atCancel[0]!.json.number).not.toBe(dialling!.number);
      expect(atCancel[0]!.json.number).not.toBe(dispatching!.number);
      await outbound.complete('me', [
        { kind: 'failed', contact: dialling!, error: 'dialer refused with HTTP 400', at: T0 + 6 },
        { kind: 'dispatched', contact: dispatching!, at: T0 + 6 },
      ]);
      const afterDial = await drain();
      expect(afterDial.map((d) => [d.json.number, d.json.status])).toEqual([
        [dialling!.number, 'cancelled'],
        [dispatching!.number, 'dispatched'],
      ]);
      // Every contact of both requests had exactly one delivery.
      const numbersSeen = [...atCreate, ...expired, ...atCancel, ...afterDial].map((d) => d.json.number);
      expect(numbersSeen.length).toBe(new Set(numbersSeen).size);
    });

    it('when a contact cancelled while it is dialled gets a retry, then it ends cancelled, once', async () => {
      await outbound.createRequest(request({ numbers: ['+919800000000'] }), undefined, ok('req1'));
      const [c] = await claimAll();
      await outbound.cancelRequest('prod', 'req1', 'acme', T0 + 1);
      expect(await outbox.count()).toBe(0);
      await outbound.complete('me', [{ kind: 'retry', contact: c!, error: 'timeout', at: T0 + 2, dueAt: T0 + 3 }]);
      expect((await drain()).map((d) => [d.json.number, d.json.status])).toEqual([['+919800000000', 'cancelled']]);
      expect(await outbound.claim('me', T0 + 10, T0 + 20, 10)).toEqual([]);
    });

    it("when a request's delivery is being retried, then its later ones wait for it, other requests' go out, and two claimers never share one", async () => {
      await outbound.createRequest(request({ reqID: 'r1' }), undefined, ok('r1'));
      await outbound.createRequest(request({ reqID: 'r2', numbers: ['+919800000005', '+919800000006'] }), undefined, ok('r2'));
      const claimed = await claimAll();
      await outbound.complete('me', claimed.map((c) => ({ kind: 'dispatched' as const, contact: c, at: T0 + 1 })));
      expect(await outbox.count()).toBe(5);
      // Only the head of each request is claimable: two claimers at once get one each, or both to one.
      const [x, y] = await Promise.all([outbox.claim('s1', NOW, NOW + 100, 10), outbox.claim('s2', NOW, NOW + 100, 10)]);
      const heads = [...x!, ...y!].map(callback);
      expect(heads.map((h) => [h.json.obdReqID, h.json.number]).sort()).toEqual([
        ['r1', '+919800000000'],
        ['r2', '+919800000005'],
      ]);
      expect(await outbox.claim('s3', NOW + 50, NOW + 150, 10)).toEqual([]);
      const owner = (q: QueuedDelivery) => (x!.some((d) => d.rowId === q.rowId) ? 's1' : 's2');
      const r1 = heads.find((h) => h.json.obdReqID === 'r1')!;
      const r2 = heads.find((h) => h.json.obdReqID === 'r2')!;
      // r1's head fails and is due again later; r2's is delivered.
      await outbox.settle(owner(r1), { kind: 'retry', rowId: r1.rowId, attempts: 1, dueAt: NOW + 500 });
      await outbox.settle(owner(r2), { kind: 'done', rowId: r2.rowId, attempts: 1 });
      const next = (await outbox.claim('s3', NOW + 100, NOW + 200, 10)).map(callback);
      expect(next.map((d) => [d.json.obdReqID, d.json.number])).toEqual([['r2', '+919800000006']]);
      await outbox.settle('s3', { kind: 'done', rowId: next[0]!.rowId, attempts: 1 });
      // r1's second contact waits behind its head, even when due.
      expect(await outbox.claim('s3', NOW + 499, NOW + 600, 10)).toEqual([]);
      const retried = (await outbox.claim('s3', NOW + 500, NOW + 600, 10)).map(callback);
      expect(retried.map((d) => [d.id, d.attempts])).toEqual([[r1.id, 2]]);
      await outbox.settle('s3', { kind: 'done', rowId: retried[0]!.rowId, attempts: 2 });
      const rest = (await outbox.claim('s3', NOW + 600, NOW + 700, 10)).map(callback);
      expect(rest.map((d) => d.json.number)).toEqual(['+919800000001']);
    });
  });
}
