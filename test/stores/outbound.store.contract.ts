import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../../src/db/stores.js';
import type { OutboundStore } from '../../src/outbound/outbound.store.js';
import { DEFAULT_CLIENT_SETTINGS, IDEMPOTENCY_TTL_MS } from '../../src/outbound/outbound.store.js';
import type { OpenStores } from './engines.js';
import { newRequest, ok, T0 } from './outboundFixtures.js';

/** What every OutboundStore must do, whatever the engine (src/outbound/outbound.store.ts). */
export function outboundStoreContract(open: OpenStores): void {
  describe('OutboundStore', () => {
    let opened: { stores: Stores; dispose(): Promise<void> };
    let store: OutboundStore;
    beforeEach(async () => {
      opened = await open();
      store = opened.stores.outbound;
    });
    afterEach(async () => opened.dispose());

    const request = newRequest;
    const noOutcome = { outcome: null, durationSeconds: null, awaitingUntil: null };

    it('when a client is put twice, then the first is created and the second replaces it', async () => {
      const first = await store.putClient('prod', 'acme', 'a'.repeat(64), ['FLOW0001'], T0);
      expect(first.created).toBe(true);
      expect(first.client).toEqual({ stage: 'prod', clientID: 'acme', securityIdHash: 'a'.repeat(64), flows: ['FLOW0001'], createdAt: T0, updatedAt: T0, settings: DEFAULT_CLIENT_SETTINGS });
      const second = await store.putClient('prod', 'acme', 'b'.repeat(64), ['FLOW0002', 'FLOW0003'], T0 + 5);
      expect(second.created).toBe(false);
      expect(second.client).toMatchObject({ securityIdHash: 'b'.repeat(64), flows: ['FLOW0002', 'FLOW0003'], createdAt: T0, updatedAt: T0 + 5 });
      expect(await store.getClient('prod', 'acme')).toEqual(second.client);
      // Stages are separate worlds.
      expect(await store.getClient('test', 'acme')).toBeUndefined();
    });

    it('when clients are listed and deleted, then the list is ordered by clientID per stage and a deleted client is gone', async () => {
      await store.putClient('prod', 'beta', 'b'.repeat(64), ['FLOW0002'], T0);
      await store.putClient('prod', 'acme', 'a'.repeat(64), ['FLOW0001'], T0);
      await store.putClient('test', 'gamma', 'c'.repeat(64), ['FLOW0003'], T0);
      expect((await store.listClients('prod')).map((c) => c.clientID)).toEqual(['acme', 'beta']);
      expect(await store.deleteClient('prod', 'acme')).toBe(true);
      expect(await store.deleteClient('prod', 'acme')).toBe(false);
      expect(await store.getClient('prod', 'acme')).toBeUndefined();
      expect((await store.listClients('prod')).map((c) => c.clientID)).toEqual(['beta']);
      // Stages are separate worlds.
      expect(await store.deleteClient('test', 'beta')).toBe(false);
      expect((await store.listClients('test')).map((c) => c.clientID)).toEqual(['gamma']);
    });

    it('when a request is created, then it and its contacts read back in order, all scheduled', async () => {
      const response = ok('req1');
      expect(await store.createRequest(request(), undefined, response)).toBe(response);
      expect(await store.getRequest('prod', 'req1')).toEqual({
        stage: 'prod', reqID: 'req1', clientID: 'acme', flowID: 'FLOW0001', phononUUID: '00000000-0000-4000-8000-000000000001',
        scheduledAt: T0, createdAt: T0, cancelledAt: null,
        category: 'transactional', statusCallbackUrl: null, expiresAt: null, pausedAt: null,
      });
      const state = await store.requestState('prod', 'req1');
      expect(state?.contacts).toEqual([
        { number: '+919800000000', status: 'scheduled', attempts: 0, lastError: null, ...noOutcome },
        { number: '+919800000001', status: 'scheduled', attempts: 0, lastError: null, ...noOutcome },
      ]);
      expect(await store.requestState('test', 'req1')).toBeUndefined();
      expect(await store.getRequest('prod', 'nope')).toBeUndefined();
    });

    it('when two creates race with one idempotency key, then one request is stored and both get its response', async () => {
      const idem = { scope: 'createOutbound:acme', key: 'k1' };
      const a = ok('reqA');
      const b = ok('reqB');
      const [ra, rb] = await Promise.all([
        store.createRequest(request({ reqID: 'reqA' }), idem, a),
        store.createRequest(request({ reqID: 'reqB' }), idem, b),
      ]);
      expect(ra).toEqual(rb);
      expect([ra === a, rb === b].filter(Boolean)).toHaveLength(1);
      const winner = ra === a ? 'reqA' : 'reqB';
      const loser = winner === 'reqA' ? 'reqB' : 'reqA';
      expect(await store.getRequest('prod', winner)).toBeDefined();
      expect(await store.getRequest('prod', loser)).toBeUndefined();
      expect(await store.replay('prod', idem, T0 + 1000)).toEqual(ra);
      // Another scope, another stage: not the same key.
      expect(await store.replay('prod', { scope: 'createOutbound:other', key: 'k1' }, T0)).toBeUndefined();
      expect(await store.replay('test', idem, T0)).toBeUndefined();
    });

    it('when an idempotency record is 24 h old, then it no longer replays and the key can be used again', async () => {
      const idem = { scope: 'createOutbound:acme', key: 'k1' };
      await store.createRequest(request({ reqID: 'old' }), idem, ok('old'));
      expect(await store.replay('prod', idem, T0 + IDEMPOTENCY_TTL_MS - 1)).toEqual(ok('old'));
      expect(await store.replay('prod', idem, T0 + IDEMPOTENCY_TTL_MS)).toBeUndefined();
      const later = T0 + IDEMPOTENCY_TTL_MS;
      const fresh = ok('new');
      expect(await store.createRequest(request({ reqID: 'new', createdAt: later, scheduledAt: later }), idem, fresh)).toBe(fresh);
      expect(await store.replay('prod', idem, later + 1)).toEqual(fresh);
    });

    it('when contacts are claimed, then only due ones are leased, each attempt counted, and a second claim gets none of them', async () => {
      await store.createRequest(request({ reqID: 'due' }), undefined, ok('due'));
      await store.createRequest(request({ reqID: 'later', scheduledAt: T0 + 60_000, numbers: ['+919800000009'] }), undefined, ok('later'));
      const claimed = await store.claim('owner-a', T0, T0 + 10_000, 10);
      expect(claimed.map((c) => [c.reqID, c.seq, c.number, c.attempts, c.idempotencyKey]).sort()).toEqual([
        ['due', 0, '+919800000000', 1, 'due-0'],
        ['due', 1, '+919800000001', 1, 'due-1'],
      ]);
      expect(claimed[0]).toMatchObject({ stage: 'prod', dueAt: T0 });
      expect(await store.claim('owner-b', T0 + 1, T0 + 10_000, 10)).toEqual([]);
      // The owner never takes over its own leases, even once they ran out.
      expect(await store.claim('owner-a', T0 + 20_000, T0 + 30_000, 10)).toEqual([]);
      // Another owner does, after the lease ran out: the same key, a second attempt.
      const again = await store.claim('owner-b', T0 + 20_000, T0 + 30_000, 1);
      expect(again).toHaveLength(1);
      expect(again[0]!.attempts).toBe(2);
      expect(again[0]!.idempotencyKey).toMatch(/^due-[01]$/);
    });

    it('when claims run at once, then no contact is handed out twice and the limit holds', async () => {
      await store.createRequest(request({ numbers: Array.from({ length: 30 }, (_, i) => `+9198000001${String(i).padStart(2, '0')}`) }), undefined, ok('req1'));
      const batches = await Promise.all(['a', 'b', 'c'].map((o) => store.claim(o, T0, T0 + 10_000, 12)));
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(12);
      const keys = batches.flat().map((c) => c.idempotencyKey);
      expect(keys).toHaveLength(30);
      expect(new Set(keys).size).toBe(30);
    });

    it('when outcomes are completed, then dispatched, retry and failed land; a lost claim changes nothing', async () => {
      await store.createRequest(request({ numbers: ['+919800000000', '+919800000001', '+919800000002', '+919800000003'] }), undefined, ok('req1'));
      const [c0, c1, c2, c3] = (await store.claim('me', T0, T0 + 10_000, 10)).sort((a, b) => a.seq - b.seq);
      await store.complete('me', [
        { kind: 'dispatched', contact: c0!, at: T0 + 5 },
        { kind: 'retry', contact: c1!, error: 'dialer answered HTTP 503', at: T0 + 1, dueAt: T0 + 2_000 },
        { kind: 'failed', contact: c2!, error: 'dialer refused with HTTP 400', at: T0 + 5 },
      ]);
      // Not this owner's claim: ignored.
      await store.complete('someone-else', [{ kind: 'dispatched', contact: c3!, at: T0 + 5 }]);
      const state = await store.requestState('prod', 'req1');
      expect(state!.contacts).toEqual([
        { number: '+919800000000', status: 'dispatched', attempts: 1, lastError: null, ...noOutcome },
        { number: '+919800000001', status: 'scheduled', attempts: 1, lastError: 'dialer answered HTTP 503', ...noOutcome },
        { number: '+919800000002', status: 'failed', attempts: 1, lastError: 'dialer refused with HTTP 400', ...noOutcome },
        { number: '+919800000003', status: 'scheduled', attempts: 1, lastError: null, ...noOutcome },
      ]);
      // The retry is due at its backoff, not before.
      expect(await store.claim('me', T0 + 1_999, T0 + 20_000, 10)).toEqual([]);
      const retried = await store.claim('me', T0 + 2_000, T0 + 20_000, 10);
      expect(retried.map((c) => [c.seq, c.attempts])).toEqual([[1, 2]]);
      // An outcome for an older attempt of a contact claimed again is stale: ignored.
      await store.complete('me', [{ kind: 'failed', contact: c1!, error: 'stale', at: T0 + 6 }]);
      expect((await store.requestState('prod', 'req1'))!.contacts[1]).toMatchObject({ status: 'scheduled', attempts: 2 });
    });

    it("when a request is cancelled, then what was scheduled is cancelled, in-flight outcomes keep it cancelled unless dispatched, and another client's request is unknown", async () => {
      await store.createRequest(request({ numbers: ['+919800000000', '+919800000001', '+919800000002'] }), undefined, ok('req1'));
      const inFlight = (await store.claim('me', T0, T0 + 10_000, 2)).sort((a, b) => a.seq - b.seq);
      expect(await store.cancelRequest('prod', 'req1', 'other-client', T0 + 1)).toBeUndefined();
      expect((await store.requestState('prod', 'req1'))!.request.cancelledAt).toBeNull();
      expect(await store.cancelRequest('prod', 'nope', 'acme', T0 + 1)).toBeUndefined();

      const cancelled = await store.cancelRequest('prod', 'req1', 'acme', T0 + 1);
      expect(cancelled!.request.cancelledAt).toBe(T0 + 1);
      expect(cancelled!.contacts.map((c) => c.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
      await store.complete('me', [
        { kind: 'dispatched', contact: inFlight[0]!, at: T0 + 2 },
        { kind: 'retry', contact: inFlight[1]!, error: 'timeout', at: T0 + 1, dueAt: T0 + 3 },
      ]);
      expect((await store.requestState('prod', 'req1'))!.contacts.map((c) => c.status)).toEqual(['dispatched', 'cancelled', 'cancelled']);
      expect(await store.claim('other', T0 + 60_000, T0 + 70_000, 10)).toEqual([]);
      // Cancelling again changes nothing, not even the time.
      expect((await store.cancelRequest('prod', 'req1', 'acme', T0 + 9))!.request.cancelledAt).toBe(T0 + 1);
    });

    it('when a request has nothing left to cancel, then cancelling keeps it uncancelled', async () => {
      await store.createRequest(request({ numbers: ['+919800000000'] }), undefined, ok('req1'));
      const [c] = await store.claim('me', T0, T0 + 10_000, 1);
      await store.complete('me', [{ kind: 'dispatched', contact: c!, at: T0 + 1 }]);
      const state = await store.cancelRequest('prod', 'req1', 'acme', T0 + 2);
      expect(state!.request.cancelledAt).toBeNull();
      expect(state!.contacts.map((x) => x.status)).toEqual(['dispatched']);
    });

    // docs/http.md §9
    const settings = { callerId: '+918030752400', maxConcurrent: 2, callsPerSecond: 5, targets: { FLOW0001: 'https://flows.example.com/a' } };

    it('when a client is put with settings, then they read back, and a client without them has the defaults', async () => {
      const { client } = await store.putClient('prod', 'acme', 'a'.repeat(64), ['FLOW0001'], T0, settings);
      expect(client.settings).toEqual(settings);
      expect((await store.getClient('prod', 'acme'))!.settings).toEqual(settings);
      await store.putClient('prod', 'plain', 'a'.repeat(64), ['FLOW0001'], T0);
      expect((await store.getClient('prod', 'plain'))!.settings).toEqual(DEFAULT_CLIENT_SETTINGS);
    });

    it('when numbers are suppressed, then new contacts with them are suppressed, later suppressions are honoured at claim, and unsuppress lifts it', async () => {
      expect(await store.suppress('prod', 'acme', ['+919800000000', '+919800000000', '+919800000005'], T0)).toBe(2);
      expect(await store.suppress('prod', 'acme', ['+919800000005'], T0)).toBe(0);
      expect([...(await store.suppressedAmong('prod', 'acme', ['+919800000000', '+919800000001']))]).toEqual(['+919800000000']);
      expect((await store.suppressedAmong('test', 'acme', ['+919800000000'])).size).toBe(0);
      await store.createRequest(request({ numbers: ['+919800000000', '+919800000001', '+919800000002'] }), undefined, ok('req1'));
      expect((await store.requestState('prod', 'req1'))!.contacts.map((c) => c.status)).toEqual(['suppressed', 'scheduled', 'scheduled']);
      await store.suppress('prod', 'acme', ['+919800000002'], T0);
      const claimed = await store.claim('me', T0, T0 + 10_000, 10);
      expect(claimed.map((c) => c.number)).toEqual(['+919800000001']);
      expect((await store.requestState('prod', 'req1'))!.contacts.map((c) => c.status)).toEqual(['suppressed', 'scheduled', 'suppressed']);
      expect(await store.unsuppress('prod', 'acme', '+919800000005')).toBe(true);
      expect(await store.unsuppress('prod', 'acme', '+919800000005')).toBe(false);
    });

    it('when claimed for a client, then never more than its maxConcurrent are in flight, counting calls awaiting their outcome', async () => {
      await store.putClient('prod', 'acme', 'a'.repeat(64), ['FLOW0001'], T0, settings);
      await store.createRequest(request({ numbers: ['+919800000000', '+919800000001', '+919800000002', '+919800000003'], keys: [{ a: '1' }] }), undefined, ok('req1'));
      expect(await store.dueClients(T0, ['prod'])).toEqual([{ stage: 'prod', clientID: 'acme', settings, inFlight: 0 }]);
      expect(await store.dueClients(T0, ['test'])).toEqual([]);
      const claimAcme = (owner: string, now: number) => store.claimForClients(owner, now, T0 + 10_000, 'prod', ['acme'], 10);
      const [a, b] = await Promise.all([claimAcme('x', T0), claimAcme('y', T0)]);
      expect(a!.length + b!.length).toBe(2);
      const first = [...a!, ...b!].sort((p, q) => p.seq - q.seq)[0]!;
      if (first.seq === 0) expect(first.keys).toEqual({ a: '1' });
      expect(first.callbackKey).toMatch(/^[0-9a-f]{32}$/);
      expect(first.clientID).toBe('acme');
      // One call placed and awaiting its callback still holds its slot.
      const owner = a!.some((c) => c.seq === first.seq) ? 'x' : 'y';
      await store.complete(owner, [{ kind: 'dispatched', contact: first, at: T0, callId: 'CA1', awaits: 'callback', awaitingUntil: T0 + 3_600_000 }]);
      expect(await claimAcme('z', T0 + 1)).toEqual([]);
      expect((await store.dueClients(T0 + 1, ['prod']))[0]!.inFlight).toBe(2);
      // Its outcome frees the slot.
      const done = await store.recordOutcome('prod', first.callbackKey, { outcome: 'completed', durationSeconds: 31, at: T0 + 2 });
      expect(done).toMatchObject({ kind: 'recorded', final: true, reqID: 'req1', outcome: 'completed', durationSeconds: 31 });
      expect(await claimAcme('z', T0 + 3)).toHaveLength(1);
      const contact = (await store.requestState('prod', 'req1'))!.contacts[first.seq]!;
      expect(contact).toMatchObject({ status: 'dispatched', outcome: 'completed', durationSeconds: 31, awaitingUntil: null });
    });

    it('when claimed for several clients at once, then each gets up to its room in due order, suppressed and paused contacts are not taken, and racing claims stay within maxConcurrent', async () => {
      await store.putClient('prod', 'acme', 'a'.repeat(64), ['FLOW0001'], T0, settings);
      await store.putClient('prod', 'beta', 'b'.repeat(64), ['FLOW0001'], T0, { ...settings, maxConcurrent: 3 });
      const numbers = (from: number) => Array.from({ length: 5 }, (_, i) => `+9198000000${String(from + i).padStart(2, '0')}`);
      await store.createRequest(request({ reqID: 'a1', numbers: numbers(0), scheduledAt: T0 - 10 }), undefined, ok('a1'));
      await store.createRequest(request({ reqID: 'b1', clientID: 'beta', numbers: numbers(10), scheduledAt: T0 - 5 }), undefined, ok('b1'));
      await store.createRequest(request({ reqID: 'b2', clientID: 'beta', numbers: numbers(20) }), undefined, ok('b2'));
      // A contact of another stage, another client and a paused request are never taken.
      await store.createRequest(request({ stage: 'test', reqID: 't1', numbers: numbers(30) }), undefined, ok('t1'));
      await store.createRequest(request({ reqID: 'g1', clientID: 'gamma', numbers: numbers(40) }), undefined, ok('g1'));
      await store.setPaused('prod', 'b2', 'beta', true, T0);
      await store.suppress('prod', 'beta', ['+919800000010'], T0);
      const first = await store.claimForClients('me', T0, T0 + 10_000, 'prod', ['acme', 'beta'], 1);
      expect(first.map((c) => [c.clientID, c.reqID])).toEqual([
        ['acme', 'a1'],
        ['beta', 'b1'],
      ]);
      expect(first[1]!.number).not.toBe('+919800000010');
      expect(first.every((c) => c.attempts === 1 && /^[0-9a-f]{32}$/.test(c.callbackKey))).toBe(true);
      expect((await store.requestState('prod', 'b1'))!.contacts.map((c) => c.status)).toEqual(['suppressed', 'scheduled', 'scheduled', 'scheduled', 'scheduled']);
      // Two owners racing for more than the room: acme has 1 of 2 in flight, beta 1 of 3.
      const [x, y] = await Promise.all([
        store.claimForClients('x', T0 + 1, T0 + 10_000, 'prod', ['acme', 'beta'], 5),
        store.claimForClients('y', T0 + 1, T0 + 10_000, 'prod', ['beta', 'acme'], 5),
      ]);
      const raced = [...x!, ...y!];
      expect(new Set(raced.map((c) => `${c.reqID}/${c.seq}`)).size).toBe(raced.length);
      expect(raced.filter((c) => c.clientID === 'acme').length).toBeLessThanOrEqual(1);
      expect(raced.filter((c) => c.clientID === 'beta').length).toBeLessThanOrEqual(2);
      expect(raced.every((c) => c.reqID !== 'b2')).toBe(true);
      // Whatever the race passed over is taken by the next claim, up to the room and no further.
      const rest = await store.claimForClients('z', T0 + 2, T0 + 10_000, 'prod', ['acme', 'beta'], 5);
      expect([...raced, ...rest].filter((c) => c.clientID === 'acme')).toHaveLength(1);
      expect([...raced, ...rest].filter((c) => c.clientID === 'beta')).toHaveLength(2);
      expect((await store.dueClients(T0 + 2, ['prod'])).map((d) => [d.clientID, d.inFlight])).toEqual([
        ['acme', 2],
        ['beta', 3],
        ['gamma', 0],
      ]);
      expect(await store.claimForClients('z', T0 + 3, T0 + 10_000, 'prod', ['acme', 'beta'], 5)).toEqual([]);
      // The leases run out: the client has room again, and its contacts are due again.
      const again = await store.claimForClients('w', T0 + 10_000, T0 + 20_000, 'prod', ['acme'], 5);
      expect(again.map((c) => c.reqID)).toEqual(['a1', 'a1']);
    });

    it('when a busy outcome comes with redials left, then the contact is due again; at the last redial it is final; a spent key is unknown', async () => {
      await store.createRequest(request({ numbers: ['+919800000000'] }), undefined, ok('req1'));
      const redial = (dueAt: number) => ({ maxRedials: 1, dueAt });
      const [c1] = await store.claim('me', T0, T0 + 10_000, 1);
      // The callback may come before the dispatch's own completion is written.
      const r1 = await store.recordOutcome('prod', c1!.callbackKey, { outcome: 'busy', durationSeconds: 0, at: T0 + 1, redial: redial(T0 + 600_000) });
      expect(r1).toMatchObject({ kind: 'recorded', final: false });
      await store.complete('me', [{ kind: 'dispatched', contact: c1!, at: T0 + 1, awaits: 'callback', awaitingUntil: T0 + 3_600_000 }]);
      expect((await store.requestState('prod', 'req1'))!.contacts[0]).toMatchObject({ status: 'scheduled', outcome: 'busy', awaitingUntil: null });
      expect(await store.recordOutcome('prod', c1!.callbackKey, { outcome: 'busy', durationSeconds: 0, at: T0 + 2 })).toEqual({ kind: 'unknown' });
      expect(await store.claim('me', T0 + 599_999, T0 + 700_000, 1)).toEqual([]);
      const [c2] = await store.claim('me', T0 + 600_000, T0 + 700_000, 1);
      expect(c2!.callbackKey).not.toBe(c1!.callbackKey);
      const r2 = await store.recordOutcome('prod', c2!.callbackKey, { outcome: 'no-answer', durationSeconds: 0, at: T0 + 600_001, redial: redial(T0 + 1_200_000) });
      expect(r2).toMatchObject({ kind: 'recorded', final: true, outcome: 'no-answer' });
      expect((await store.requestState('prod', 'req1'))!.contacts[0]).toMatchObject({ status: 'dispatched', outcome: 'no-answer', attempts: 2 });
      expect(await store.recordOutcome('test', c2!.callbackKey, { outcome: 'completed', durationSeconds: 1, at: T0 })).toEqual({ kind: 'unknown' });
    });

    it('when the same status callback arrives twice at once, then one records the outcome and the other finds the key spent', async () => {
      await store.createRequest(request({ numbers: ['+919800000000'] }), undefined, ok('req1'));
      const [c] = await store.claim('me', T0, T0 + 10_000, 1);
      await store.complete('me', [{ kind: 'dispatched', contact: c!, at: T0, callId: 'CA1', awaits: 'callback', awaitingUntil: T0 + 3_600_000 }]);
      const report = { outcome: 'no-answer' as const, durationSeconds: 0, at: T0 + 1, redial: { maxRedials: 3, dueAt: T0 + 60_000 } };
      const both = await Promise.all([store.recordOutcome('prod', c!.callbackKey, report), store.recordOutcome('prod', c!.callbackKey, report)]);
      expect(both.map((r) => r.kind).sort()).toEqual(['recorded', 'unknown']);
      expect(both.find((r) => r.kind === 'recorded')).toMatchObject({ final: false, number: '+919800000000', outcome: 'no-answer' });
      // Scheduled again for its redial, once.
      const state = (await store.requestState('prod', 'req1'))!.contacts[0]!;
      expect(state).toMatchObject({ status: 'scheduled', outcome: 'no-answer', awaitingUntil: null });
      const [again] = await store.claim('me', T0 + 60_000, T0 + 70_000, 1);
      expect(again!.attempts).toBe(2);
    });

    it('when a request is paused, then nothing of it is claimed until it is resumed; another client cannot pause it', async () => {
      await store.createRequest(request({ numbers: ['+919800000000'] }), undefined, ok('req1'));
      expect(await store.setPaused('prod', 'req1', 'other', true, T0)).toBeUndefined();
      expect((await store.setPaused('prod', 'req1', 'acme', true, T0))!.request.pausedAt).toBe(T0);
      expect((await store.setPaused('prod', 'req1', 'acme', true, T0 + 5))!.request.pausedAt).toBe(T0);
      expect(await store.claim('me', T0 + 1, T0 + 10_000, 10)).toEqual([]);
      expect(await store.dueClients(T0 + 1, ['prod'])).toEqual([]);
      expect((await store.setPaused('prod', 'req1', 'acme', false, T0 + 2))!.request.pausedAt).toBeNull();
      expect(await store.claim('me', T0 + 3, T0 + 10_000, 10)).toHaveLength(1);
    });

    it('when expiresAt passes, then contacts not dialled are expired and a contact in flight is left alone', async () => {
      await store.createRequest(request({ numbers: ['+919800000000', '+919800000001'], expiresAt: T0 + 60_000 }), undefined, ok('req1'));
      const [c] = await store.claim('me', T0, T0 + 120_000, 1);
      expect(await store.expire(T0 + 59_999)).toBe(0);
      expect(await store.expire(T0 + 60_000)).toBe(1);
      const contacts = (await store.requestState('prod', 'req1'))!.contacts;
      expect(contacts[c!.seq]!.status).toBe('scheduled');
      expect(contacts[1 - c!.seq]!.status).toBe('expired');
    });

    it('when a Studio Execution awaits polling, then it is handed to one poller at a time, and recorded; a recorded dial is recorded', async () => {
      await store.createRequest(request({ numbers: ['+919800000000', '+919800000001'] }), undefined, ok('req1'));
      const [c0, c1] = (await store.claim('me', T0, T0 + 10_000, 2)).sort((a, b) => a.seq - b.seq);
      await store.complete('me', [
        { kind: 'dispatched', contact: c0!, at: T0, callId: 'FN1', awaits: 'poll', awaitingUntil: T0 + 3_600_000, pollAt: T0 + 5_000 },
        { kind: 'recorded', contact: c1!, at: T0 },
      ]);
      expect(await store.claimPolls(T0 + 4_999, T0 + 10_000, 10)).toEqual([]);
      const polls = await store.claimPolls(T0 + 5_000, T0 + 10_000, 10);
      expect(polls).toEqual([{ stage: 'prod', callbackKey: c0!.callbackKey, callId: 'FN1', flowID: 'FLOW0001', clientID: 'acme' }]);
      expect(await store.claimPolls(T0 + 5_001, T0 + 10_000, 10)).toEqual([]);
      await store.recordOutcome('prod', polls[0]!.callbackKey, { outcome: 'completed', durationSeconds: null, at: T0 + 6_000 });
      expect(await store.claimPolls(T0 + 20_000, T0 + 30_000, 10)).toEqual([]);
      expect((await store.requestState('prod', 'req1'))!.contacts.map((x) => [x.status, x.outcome])).toEqual([['dispatched', 'completed'], ['recorded', null]]);
    });

    it('when a throttled attempt is put back uncounted, then its attempt does not count', async () => {
      await store.createRequest(request({ numbers: ['+919800000000'] }), undefined, ok('req1'));
      const [c] = await store.claim('me', T0, T0 + 10_000, 1);
      await store.complete('me', [{ kind: 'retry', contact: c!, error: 'plivo answered HTTP 429', at: T0 + 1, dueAt: T0 + 2_000, uncounted: true }]);
      expect((await store.requestState('prod', 'req1'))!.contacts[0]).toMatchObject({ status: 'scheduled', attempts: 0, lastError: 'plivo answered HTTP 429' });
    });

    it('when a request with a statusCallbackUrl finishes, then completeRequests hands it out once, with its contacts; one without a URL never', async () => {
      await store.createRequest(request({ reqID: 'cb', numbers: ['+919800000000'], statusCallbackUrl: 'https://crm.example.com/h' }), undefined, ok('cb'));
      await store.createRequest(request({ reqID: 'plain', numbers: ['+919800000001'] }), undefined, ok('plain'));
      expect(await store.completeRequests(T0, 10)).toEqual([]);
      const claimed = await store.claim('me', T0, T0 + 10_000, 10);
      await store.complete('me', claimed.map((c) => ({ kind: 'dispatched' as const, contact: c, at: T0, awaits: 'callback' as const, awaitingUntil: T0 + 3_600_000 })));
      expect(await store.completeRequests(T0 + 1, 10)).toEqual([]);
      const cb = claimed.find((c) => c.reqID === 'cb')!;
      await store.recordOutcome('prod', cb.callbackKey, { outcome: 'completed', durationSeconds: 4, at: T0 + 2 });
      const [first, second] = await Promise.all([store.completeRequests(T0 + 3, 10), store.completeRequests(T0 + 3, 10)]);
      const done = [...first!, ...second!];
      expect(done).toHaveLength(1);
      expect(done[0]!.request).toMatchObject({ reqID: 'cb', statusCallbackUrl: 'https://crm.example.com/h' });
      expect(done[0]!.contacts).toEqual([{ number: '+919800000000', status: 'dispatched', attempts: 1, lastError: null, outcome: 'completed', durationSeconds: 4, awaitingUntil: null }]);
      expect(await store.completeRequests(T0 + 4, 10)).toEqual([]);
    });
  });
}
