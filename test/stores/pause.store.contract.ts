import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../../src/db/stores.js';
import type { AgentRecord, PauseStore, PauseTarget } from '../../src/pause/pause.store.js';
import type { QueuedChange, QueuedDelivery } from '../../src/delivery/outbox.store.js';
import type { OpenStores } from './engines.js';

/** A claimed change notification: the only kind of delivery a pause change writes. */
function change(q: QueuedDelivery): QueuedChange {
  expect(q.type).toBe('pause.changed');
  return q as QueuedChange;
}

/**
 * What every PauseStore, BreaksStore and IvrStepsStore must do, whatever the engine
 * (src/pause/pause.store.ts, src/breaks/breaks.store.ts, src/ivr/ivr.steps.store.ts).
 */
export function pauseStoreContract(open: OpenStores): void {
  const T0 = Date.parse('2026-01-15T10:00:00.000Z');
  const CLI = '+919879964805';
  const pauseOn = (reason: string | null) => (): PauseTarget => ({ pause: true, reason });
  const available = (): PauseTarget => ({ pause: false, reason: null });

  let opened: { stores: Stores; dispose(): Promise<void> };
  let store: PauseStore;
  beforeEach(async () => {
    opened = await open();
    store = opened.stores.pause;
  });
  afterEach(async () => opened.dispose());

  describe('PauseStore', () => {
    it('when an agent is saved and saved again, then it is created available and its profile merged field by field', async () => {
      const first = await store.saveAgent('test', CLI, { name: 'Asha', language: 'hi' }, T0);
      const created: AgentRecord = { stage: 'test', cli: CLI, name: 'Asha', accountId: null, language: 'hi', pause: false, reason: null, since: null };
      expect(first).toEqual({ created: true, agent: created });
      const second = await store.saveAgent('test', CLI, { accountId: 'ACC1', language: null }, T0 + 1);
      expect(second).toEqual({ created: false, agent: { ...created, accountId: 'ACC1', language: null } });
      expect(await store.getAgent('test', CLI)).toEqual(second.agent);
      expect(await store.getAgent('prod', CLI)).toBeUndefined();
    });

    it('when agents are imported, then new ones count as imported and known ones as updated; the list is ordered by cli', async () => {
      await store.saveAgent('test', '+919800000002', { name: 'B' }, T0);
      const counts = await store.importAgents('test', [
        { cli: '+919800000003', profile: { name: 'C' } },
        { cli: '+919800000002', profile: { name: 'B2' } },
        { cli: '+919800000001', profile: {} },
      ], T0);
      expect(counts).toEqual({ imported: 2, updated: 1 });
      expect((await store.listAgents('test')).map((a) => [a.cli, a.name])).toEqual([
        ['+919800000001', null],
        ['+919800000002', 'B2'],
        ['+919800000003', 'C'],
      ]);
      expect(await store.listAgents('prod')).toEqual([]);
      expect(await store.importAgents('test', [], T0)).toEqual({ imported: 0, updated: 0 });
    });

    it('when a pause change is applied, then the agent and one event change together, the event holding the state it ended', async () => {
      await store.saveAgent('test', CLI, { name: 'Asha' }, T0);
      const r = await store.applyPauseChange('test', CLI, pauseOn('lunch'), { at: T0 + 10, source: 'webhook' });
      expect(r).toMatchObject({ kind: 'applied', changed: true, agent: { pause: true, reason: 'lunch', since: T0 + 10, name: 'Asha' } });
      const r2 = await store.applyPauseChange('test', CLI, available, { at: T0 + 20, source: 'ivr', callId: 'CA1' });
      expect(r2).toMatchObject({ kind: 'applied', changed: true, agent: { pause: false, reason: null, since: T0 + 20 } });
      expect(await store.getAgent('test', CLI)).toMatchObject({ pause: false, reason: null, since: T0 + 20 });
      const events = await store.events({ stage: 'test', limit: 10 });
      expect(events.map(({ id: _id, ...e }) => e)).toEqual([
        { stage: 'test', at: T0 + 10, cli: CLI, pause: true, reason: 'lunch', source: 'webhook', callId: null, prevPause: false, prevReason: null, prevSince: null },
        { stage: 'test', at: T0 + 20, cli: CLI, pause: false, reason: null, source: 'ivr', callId: 'CA1', prevPause: true, prevReason: 'lunch', prevSince: T0 + 10 },
      ]);
      expect(r.kind === 'applied' && r.event?.id).toBe(events[0]!.id);
      expect(events[1]!.id).toBeGreaterThan(events[0]!.id);
    });

    it('when decide returns null, then nothing is written and the outcome is unchanged', async () => {
      await store.saveAgent('test', CLI, {}, T0);
      const r = await store.applyPauseChange('test', CLI, () => null, { at: T0 + 10, source: 'admin' });
      expect(r).toMatchObject({ kind: 'applied', changed: false, event: null, agent: { pause: false, since: null } });
      expect(await store.events({ stage: 'test', limit: 10 })).toEqual([]);
    });

    it('when the agent does not exist, then the change is notFound and nothing is written', async () => {
      expect(await store.applyPauseChange('test', CLI, pauseOn(null), { at: T0, source: 'webhook' })).toEqual({ kind: 'notFound' });
      expect(await store.events({ stage: 'test', limit: 10 })).toEqual([]);
    });

    it('when onlyIf fails on the state read inside the change, then it is skipped and nothing is written', async () => {
      await store.saveAgent('test', CLI, {}, T0);
      await store.applyPauseChange('test', CLI, pauseOn('lunch'), { at: T0 + 1, source: 'webhook' });
      const r = await store.applyPauseChange('test', CLI, available, { at: T0 + 2, source: 'auto', onlyIf: (a) => a.reason === 'tea' });
      expect(r).toMatchObject({ kind: 'skipped', agent: { pause: true, reason: 'lunch' } });
      expect(await store.getAgent('test', CLI)).toMatchObject({ pause: true, reason: 'lunch', since: T0 + 1 });
      const ok = await store.applyPauseChange('test', CLI, available, { at: T0 + 3, source: 'auto', onlyIf: (a) => a.since === T0 + 1 });
      expect(ok).toMatchObject({ kind: 'applied', changed: true });
      expect(await store.events({ stage: 'test', limit: 10 })).toHaveLength(2);
    });

    it('when toggles for one agent run at once, then they serialise: each sees the state the previous one left', async () => {
      await store.saveAgent('test', CLI, {}, T0);
      const toggle = (cur: AgentRecord): PauseTarget => ({ pause: !cur.pause, reason: null });
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => store.applyPauseChange('test', CLI, toggle, { at: T0 + 1 + i, source: 'webhook' })),
      );
      expect(results.every((r) => r.kind === 'applied' && r.changed)).toBe(true);
      // In the order the changes took the agent (event ids), which on PostgreSQL need not be the
      // order of their `at` times.
      const events = (await store.events({ stage: 'test', limit: 10 })).sort((a, b) => a.id - b.id);
      expect(events).toHaveLength(6);
      for (let i = 1; i < events.length; i++) expect(events[i]!.prevPause).toBe(events[i - 1]!.pause);
      expect((await store.getAgent('test', CLI))!.pause).toBe(false);
    });

    it('when alsoKeep is given, then the reply and the call record are stored with the change; a second change for the same step is replayed and changes nothing', async () => {
      await store.saveAgent('test', CLI, {}, T0);
      const steps = opened.stores.ivrSteps;
      const step = { stage: 'test' as const, callId: 'CA1', step: '/ivr/test/inbound?step=menu|1', refuseSeenBefore: T0 - 60_000 };
      const first = await store.applyPauseChange('test', CLI, pauseOn(null), {
        at: T0 + 1,
        source: 'ivr',
        callId: 'CA1',
        alsoKeep: { ...step, reply: (o) => ({ reply: `<Say>paused=${o.agent.pause} changed=${o.changed}</Say>`, said: `paused=${o.agent.pause}` }) },
      });
      expect(first).toMatchObject({ kind: 'applied', changed: true, reply: '<Say>paused=true changed=true</Say>' });
      expect(await steps.lastSaid('test', 'CA1')).toBe('paused=true');
      const retry = await store.applyPauseChange('test', CLI, available, {
        at: T0 + 2,
        source: 'ivr',
        callId: 'CA1',
        alsoKeep: { ...step, reply: () => ({ reply: 'second', said: 'second' }) },
      });
      expect(retry).toEqual({ kind: 'replayed', reply: '<Say>paused=true changed=true</Say>' });
      // The same step through the steps store is the same stored reply.
      expect(await steps.keep(step, { reply: 'third' }, T0 + 3)).toEqual({ kind: 'replayed', reply: '<Say>paused=true changed=true</Say>' });
      expect(await store.getAgent('test', CLI)).toMatchObject({ pause: true });
      expect(await store.events({ stage: 'test', limit: 10 })).toHaveLength(1);
      expect(await steps.lastSaid('test', 'CA1')).toBe('paused=true');
    });

    it('when alsoKeep names a call first seen before refuseSeenBefore, then the change is expired and nothing is written', async () => {
      await store.saveAgent('test', CLI, {}, T0);
      const steps = opened.stores.ivrSteps;
      expect(await steps.keep({ stage: 'test', callId: 'CA1', step: 'menu' }, { reply: 'menu', said: 'Press 1' }, T0)).toEqual({ kind: 'kept', reply: 'menu' });
      const late = await store.applyPauseChange('test', CLI, pauseOn(null), {
        at: T0 + 10_000,
        source: 'ivr',
        callId: 'CA1',
        alsoKeep: { stage: 'test', callId: 'CA1', step: 'menu|1', refuseSeenBefore: T0 + 1, reply: () => ({ reply: 'late', said: 'late' }) },
      });
      expect(late).toEqual({ kind: 'expired' });
      expect(await store.getAgent('test', CLI)).toMatchObject({ pause: false, since: null });
      expect(await store.events({ stage: 'test', limit: 10 })).toEqual([]);
      expect(await steps.lastSaid('test', 'CA1')).toBe('Press 1');
      // Within the limit (first seen at T0, not before it) the same step is applied.
      const inTime = await store.applyPauseChange('test', CLI, pauseOn(null), {
        at: T0 + 10_000,
        source: 'ivr',
        callId: 'CA1',
        alsoKeep: { stage: 'test', callId: 'CA1', step: 'menu|1', refuseSeenBefore: T0, reply: () => ({ reply: 'in time' }) },
      });
      expect(inTime).toMatchObject({ kind: 'applied', changed: true, reply: 'in time' });
      // A reply that speaks nothing new leaves the call's last words.
      expect(await steps.lastSaid('test', 'CA1')).toBe('Press 1');
    });

    it('when an agent is deleted, then it is gone and its events stay; deleting again is false', async () => {
      await store.saveAgent('test', CLI, {}, T0);
      await store.applyPauseChange('test', CLI, pauseOn(null), { at: T0 + 1, source: 'webhook' });
      expect(await store.deleteAgent('test', CLI)).toBe(true);
      expect(await store.getAgent('test', CLI)).toBeUndefined();
      expect(await store.deleteAgent('test', CLI)).toBe(false);
      expect(await store.events({ stage: 'test', cli: CLI, limit: 10 })).toHaveLength(1);
    });

    it('when events are queried, then stage, cli, [from, to) and limit select them, oldest first', async () => {
      const other = '+919800000001';
      await store.saveAgent('test', CLI, {}, T0);
      await store.saveAgent('test', other, {}, T0);
      await store.saveAgent('prod', CLI, {}, T0);
      for (let i = 0; i < 4; i++) await store.applyPauseChange('test', CLI, (a) => ({ pause: !a.pause, reason: null }), { at: T0 + i * 10, source: 'webhook' });
      await store.applyPauseChange('test', other, pauseOn(null), { at: T0 + 15, source: 'webhook' });
      await store.applyPauseChange('prod', CLI, pauseOn(null), { at: T0 + 15, source: 'webhook' });
      const ats = async (q: Parameters<PauseStore['events']>[0]) => (await store.events(q)).map((e) => [e.cli, e.at - T0]);
      expect(await ats({ stage: 'test', limit: 100 })).toEqual([[CLI, 0], [CLI, 10], [other, 15], [CLI, 20], [CLI, 30]]);
      expect(await ats({ stage: 'test', cli: CLI, from: T0 + 10, to: T0 + 30, limit: 100 })).toEqual([[CLI, 10], [CLI, 20]]);
      expect(await ats({ stage: 'test', limit: 2 })).toEqual([[CLI, 0], [CLI, 10]]);
      expect(await ats({ stage: 'prod', limit: 100 })).toEqual([[CLI, 15]]);
    });
  });

  describe('BreaksStore', () => {
    it('when breaks ended inside, straddle the end of, or are still open at the window, then each is read once with its reason', async () => {
      const breaks = opened.stores.breaks;
      const A = '+919800000001';
      const B = '+919800000002';
      const C = '+919800000003';
      for (const cli of [A, B, C]) await store.saveAgent('test', cli, { name: cli.slice(-1) }, T0);
      const set = (cli: string, pause: boolean, reason: string | null, at: number) =>
        store.applyPauseChange('test', cli, () => ({ pause, reason }), { at: T0 + at, source: 'webhook' });
      await set(A, true, 'lunch', 10); // ended inside [100, 200): no; ends at 20, before the window
      await set(A, false, null, 20);
      await set(A, true, 'tea', 110); // ended inside
      await set(A, true, 'lunch', 150); // reason change: tea ends, lunch opens
      await set(A, false, null, 160);
      await set(B, true, null, 190); // straddles the end: ends at 250
      await set(B, false, null, 250);
      await set(C, true, 'meeting', 50); // still open
      const got = await breaks.breaks('test', T0 + 100, T0 + 200);
      expect(got.map((b) => [b.cli, b.start - T0, b.end === null ? null : b.end - T0, b.reason])).toEqual([
        [C, 50, null, 'meeting'],
        [A, 110, 150, 'tea'],
        [A, 150, 160, 'lunch'],
        [B, 190, 250, null],
      ]);
      expect((await breaks.breaks('test', T0 + 100, T0 + 200, A)).map((b) => b.reason)).toEqual(['tea', 'lunch']);
      expect(await breaks.breaks('prod', T0, T0 + 1000)).toEqual([]);
      expect(await breaks.agents('test')).toEqual([
        { cli: A, name: '1', pause: false, reason: null, since: T0 + 160 },
        { cli: B, name: '2', pause: false, reason: null, since: T0 + 250 },
        { cli: C, name: '3', pause: true, reason: 'meeting', since: T0 + 50 },
      ]);
      expect(await breaks.agents('test', B)).toHaveLength(1);
      await store.saveAgent('prod', A, {}, T0);
      await store.applyPauseChange('prod', A, pauseOn(null), { at: T0 + 5, source: 'webhook' });
      expect((await breaks.paused()).map((p) => [p.stage, p.cli, p.since - T0]).sort()).toEqual([
        ['prod', A, 5],
        ['test', C, 50],
      ]);
    });
  });

  describe('IvrStepsStore', () => {
    it('when a reply is kept twice for one step, then the first wins and only it notes what the call heard; pruning removes only older replies', async () => {
      const steps = opened.stores.ivrSteps;
      const s1 = { stage: 'test' as const, callId: 'CA1', step: 's1' };
      expect(await steps.keep(s1, { reply: 'first', said: 'one' }, T0)).toEqual({ kind: 'kept', reply: 'first' });
      expect(await steps.keep(s1, { reply: 'second', said: 'two' }, T0 + 1)).toEqual({ kind: 'replayed', reply: 'first' });
      expect(await steps.lastSaid('test', 'CA1')).toBe('one');
      expect(await steps.keep({ ...s1, step: 's2' }, { reply: 'other step' }, T0 + 10)).toEqual({ kind: 'kept', reply: 'other step' });
      expect(await steps.keep({ ...s1, stage: 'prod' }, { reply: 'prod' }, T0 + 10)).toEqual({ kind: 'kept', reply: 'prod' });
      expect(await steps.prune(T0 + 10)).toBe(1);
      expect(await steps.keep(s1, { reply: 'after prune' }, T0 + 20)).toEqual({ kind: 'kept', reply: 'after prune' });
      expect(await steps.keep({ ...s1, step: 's2' }, { reply: 'again' }, T0 + 20)).toEqual({ kind: 'replayed', reply: 'other step' });
    });

    it('when a call id is seen again, then its first time stays; pruning forgets only calls first seen before', async () => {
      const steps = opened.stores.ivrSteps;
      const at = (stage: 'test' | 'prod', callId: string, step: string, refuseSeenBefore: number, now: number) =>
        steps.keep({ stage, callId, step, refuseSeenBefore }, { reply: step }, now);
      expect(await at('test', 'CA1', 'a', T0 - 1000, T0)).toMatchObject({ kind: 'kept' });
      expect(await at('test', 'CA1', 'b', T0, T0 + 500)).toMatchObject({ kind: 'kept' });
      expect(await at('test', 'CA1', 'c', T0 + 1, T0 + 500)).toEqual({ kind: 'expired' });
      expect(await at('prod', 'CA1', 'c', T0 + 1, T0 + 500)).toMatchObject({ kind: 'kept' });
      expect(await at('test', 'CA2', 'a', T0, T0 + 100)).toMatchObject({ kind: 'kept' });
      expect(await steps.pruneCalls(T0 + 100)).toBe(1);
      // CA1 is forgotten and seen anew; CA2 (first seen at T0 + 100) stays.
      expect(await at('test', 'CA1', 'd', T0 + 1, T0 + 900)).toMatchObject({ kind: 'kept' });
      expect(await at('test', 'CA1', 'e', T0 + 900, T0 + 950)).toMatchObject({ kind: 'kept' });
      expect(await at('test', 'CA2', 'b', T0 + 101, T0 + 900)).toEqual({ kind: 'expired' });
    });

    it('when a call’s replies speak, then the latest is what it last heard, per stage and call', async () => {
      const steps = opened.stores.ivrSteps;
      expect(await steps.lastSaid('test', 'CA1')).toBeUndefined();
      await steps.keep({ stage: 'test', callId: 'CA1', step: 'a' }, { reply: 'a', said: 'You are now on break.' }, T0);
      await steps.keep({ stage: 'test', callId: 'CA1', step: 'b' }, { reply: 'b', said: 'नमस्ते। अब आप उपलब्ध हैं।' }, T0 + 1);
      expect(await steps.lastSaid('test', 'CA1')).toBe('नमस्ते। अब आप उपलब्ध हैं।');
      expect(await steps.lastSaid('prod', 'CA1')).toBeUndefined();
      expect(await steps.lastSaid('test', 'CA2')).toBeUndefined();
    });
  });

  describe('OutboxStore: change notifications', () => {
    it('when changes queue notifications, then they are claimed oldest first, once, with the agent name, and settle per attempt', async () => {
      const out = opened.stores.outbox;
      await store.saveAgent('test', CLI, { name: 'Asha' }, T0);
      await store.applyPauseChange('test', CLI, pauseOn('lunch'), { at: T0 + 1, source: 'webhook', notify: true });
      // No notification: not asked for, or nothing changed.
      await store.applyPauseChange('test', CLI, pauseOn('tea'), { at: T0 + 2, source: 'webhook' });
      await store.applyPauseChange('test', CLI, () => null, { at: T0 + 3, source: 'webhook', notify: true });
      await store.saveAgent('test', CLI, { name: 'Asha R' }, T0 + 4);
      await store.applyPauseChange('test', CLI, available, { at: T0 + 5, source: 'ivr', callId: 'CA9', notify: true });
      expect(await out.count()).toBe(2);

      const NOW = 1_000_000;
      const [a, b] = await Promise.all([out.claim('s1', NOW, NOW + 100, 1), out.claim('s2', NOW, NOW + 100, 5)]);
      const claimed = [...a!, ...b!].map(change).sort((x, y) => x.event.id - y.event.id);
      expect(claimed.map((q) => [q.event.reason, q.event.source, q.event.callId, q.name, q.attempts])).toEqual([
        ['lunch', 'webhook', null, 'Asha', 1],
        [null, 'ivr', 'CA9', 'Asha R', 1],
      ]);
      expect(claimed[0]!.event).toMatchObject({ stage: 'test', cli: CLI, at: T0 + 1, pause: true, prevPause: false });
      expect(await out.claim('s3', NOW + 50, NOW + 150, 5)).toEqual([]);

      const owner = (q: QueuedChange) => (a!.includes(q) ? 's1' : 's2');
      const [first, second] = claimed;
      // A settlement from someone else's claim changes nothing.
      await out.settle('intruder', { kind: 'done', rowId: first!.rowId, attempts: 1 });
      await out.settle(owner(first!), { kind: 'done', rowId: first!.rowId, attempts: 1 });
      await out.settle(owner(second!), { kind: 'retry', rowId: second!.rowId, attempts: 1, dueAt: NOW + 500 });
      expect(await out.count()).toBe(1);
      expect(await out.claim('s3', NOW + 499, NOW + 1000, 5)).toEqual([]);
      const again = await out.claim('s3', NOW + 500, NOW + 1000, 5);
      expect(again.map((q) => [change(q).event.id, q.attempts])).toEqual([[second!.event.id, 2]]);
      // A lease that ran out is taken over; the old claim's settlement is stale.
      const taken = await out.claim('s4', NOW + 1000, NOW + 2000, 5);
      expect(taken.map((q) => q.attempts)).toEqual([3]);
      await out.settle('s3', { kind: 'done', rowId: second!.rowId, attempts: 2 });
      expect(await out.count()).toBe(1);
      await out.settle('s4', { kind: 'done', rowId: second!.rowId, attempts: 3 });
      expect(await out.count()).toBe(0);
    });
  });
}
