import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueryConfig } from 'pg';
import type { PgPool } from '../../src/db/pg.js';
import { PgIvrStepsStore } from '../../src/ivr/ivr.steps.store.pg.js';
import { PgPauseStore } from '../../src/pause/pause.store.pg.js';
import type { AgentRecord, PauseTarget } from '../../src/pause/pause.store.js';
import { openPgTestStores, TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { pauseStoreContract } from '../stores/pause.store.contract.js';

/**
 * The PostgreSQL pause store's own paths (src/pause/pause.store.pg.ts, docs/http.md §11): a
 * change is a read and one compare-and-set statement, no transaction block; a change that loses
 * the race to another one is decided again on the state that one left; an IVR step answered
 * meanwhile writes nothing and gives that answer; and the row-locking fallback keeps the whole
 * store contract. PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass
 * requires it to run).
 */

const T0 = Date.parse('2026-01-15T10:00:00.000Z');
const CLI = '+919879964805';
const toggle = (cur: AgentRecord): PauseTarget => ({ pause: !cur.pause, reason: null });

/** The pool, with every statement sent through it noted and, once, something run just before the first write. */
/** The agent is still available, no event was written, and the call's last words are still `said`. */
async function expectNothingWritten(store: PgPauseStore, steps: PgIvrStepsStore, said: string): Promise<void> {
  expect(await store.getAgent('test', CLI)).toMatchObject({ pause: false, since: null });
  expect(await store.events({ stage: 'test', limit: 10 })).toEqual([]);
  expect(await steps.lastSaid('test', 'CA1')).toBe(said);
}

function watched(pool: PgPool) {
  const sent: string[] = [];
  let beforeWrite: (() => Promise<unknown>) | undefined;
  const proxy = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== 'query') {
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      }
      return async (q: string | QueryConfig, values?: unknown[]) => {
        const name = typeof q === 'string' ? q : (q.name ?? q.text);
        sent.push(name);
        if (name.startsWith('pause.write') && beforeWrite) {
          const run = beforeWrite;
          beforeWrite = undefined;
          await run();
        }
        return target.query(q as string, values);
      };
    },
  });
  return { pool: proxy, sent, before: (f: () => Promise<unknown>) => void (beforeWrite = f) };
}

describe.skipIf(!TEST_DATABASE_URL)('the PostgreSQL pause store (TEST_DATABASE_URL)', () => {
  let opened: ReturnType<typeof openPgTestStores>;
  beforeEach(() => {
    opened = openPgTestStores();
  });
  afterEach(async () => opened.dispose());

  it('when a pause change is made, then it is two statements, the read and one write, and no BEGIN or COMMIT', async () => {
    const w = watched(opened.pool);
    const store = new PgPauseStore(w.pool, 'instance-a');
    await store.saveAgent('test', CLI, { name: 'Asha' }, T0);
    w.sent.length = 0;
    const r = await store.applyPauseChange('test', CLI, toggle, { at: T0 + 1, source: 'webhook', notify: true });
    expect(r).toMatchObject({ kind: 'applied', changed: true, agent: { pause: true, since: T0 + 1 } });
    expect(w.sent).toEqual(['pause.agent', 'pause.write.cn--']);
    // The one write also queued the notification, with the agent's name.
    const ob = await opened.pool.query('SELECT type, event_id, name FROM outbox');
    expect(ob.rows).toEqual([{ type: 'pause.changed', event_id: r.kind === 'applied' ? r.event!.id : -1, name: 'Asha' }]);
  });

  it('when another change commits between the read and the write, then nothing of the first try is written and the change is decided again on the new state', async () => {
    const w = watched(opened.pool);
    const store = new PgPauseStore(w.pool, 'instance-a');
    const other = new PgPauseStore(opened.pool, 'instance-b');
    await store.saveAgent('test', CLI, {}, T0);
    const decided: boolean[] = [];
    w.before(() => other.applyPauseChange('test', CLI, () => ({ pause: true, reason: 'lunch' }), { at: T0 + 5, source: 'admin' }));
    const r = await store.applyPauseChange(
      'test',
      CLI,
      (cur) => {
        decided.push(cur.pause);
        return toggle(cur);
      },
      { at: T0 + 1, source: 'webhook' },
    );
    // First decided on "available" (lost), then on the break the other change opened.
    expect(decided).toEqual([false, true]);
    expect(r).toMatchObject({ kind: 'applied', changed: true, agent: { pause: false, reason: null, since: T0 + 5 } });
    const events = await store.events({ stage: 'test', limit: 10 });
    expect(events.map((e) => [e.source, e.prevPause, e.pause, e.at - T0])).toEqual([
      ['admin', false, true, 5],
      ['webhook', true, false, 5],
    ]);
  });

  it('when a retry of the same IVR step stores its reply between the read and the write, then the change writes nothing and that reply is given', async () => {
    const w = watched(opened.pool);
    const store = new PgPauseStore(w.pool, 'instance-a');
    const steps = new PgIvrStepsStore(opened.pool);
    await store.saveAgent('test', CLI, {}, T0);
    const step = { stage: 'test' as const, callId: 'CA1', step: '/ivr/test/inbound?|1|' };
    w.before(() => steps.keep(step, { reply: 'the first answer', said: 'first' }, T0));
    const r = await store.applyPauseChange('test', CLI, toggle, {
      at: T0 + 1,
      source: 'ivr',
      callId: 'CA1',
      alsoKeep: { ...step, reply: () => ({ reply: 'a second answer', said: 'second' }) },
    });
    expect(r).toEqual({ kind: 'replayed', reply: 'the first answer' });
    await expectNothingWritten(store, steps, 'first');
  });

  it('when the caller passes the agent it read (known), then an IVR toggle is that read and one write: the change, the step and the call record', async () => {
    const w = watched(opened.pool);
    const store = new PgPauseStore(w.pool, 'instance-a');
    const steps = new PgIvrStepsStore(opened.pool);
    await store.saveAgent('test', CLI, { name: 'Asha' }, T0);
    w.sent.length = 0;
    const known = (await store.getAgent('test', CLI))!;
    const step = { stage: 'test' as const, callId: 'CA1', step: '/ivr/test/inbound?|', refuseSeenBefore: T0 - 60_000 };
    const r = await store.applyPauseChange('test', CLI, toggle, {
      at: T0 + 1,
      source: 'ivr',
      callId: 'CA1',
      known,
      alsoKeep: { ...step, reply: (o) => ({ reply: `paused=${o.agent.pause}`, said: 'on break' }) },
    });
    expect(r).toMatchObject({ kind: 'applied', changed: true, reply: 'paused=true', agent: { pause: true, since: T0 + 1 } });
    expect(w.sent).toEqual(['pause.agent', 'pause.write.c-ke']);
    expect(await steps.lastSaid('test', 'CA1')).toBe('on break');
    // The platform's retry of the step, with the agent read again, gets the stored reply and changes nothing.
    const again = await store.applyPauseChange('test', CLI, toggle, {
      at: T0 + 2,
      source: 'ivr',
      callId: 'CA1',
      known: (await store.getAgent('test', CLI))!,
      alsoKeep: { ...step, reply: () => ({ reply: 'second' }) },
    });
    expect(again).toEqual({ kind: 'replayed', reply: 'paused=true' });
    expect(await store.events({ stage: 'test', limit: 10 })).toHaveLength(1);
    expect(await store.getAgent('test', CLI)).toMatchObject({ pause: true, since: T0 + 1 });
  });

  it('when the known agent is out of date, then the change is decided on the agent as stored', async () => {
    const store = new PgPauseStore(opened.pool, 'instance-a');
    await store.saveAgent('test', CLI, {}, T0);
    const known = (await store.getAgent('test', CLI))!;
    await store.applyPauseChange('test', CLI, () => ({ pause: true, reason: 'lunch' }), { at: T0 + 5, source: 'admin' });
    const decided: boolean[] = [];
    const r = await store.applyPauseChange(
      'test',
      CLI,
      (cur) => {
        decided.push(cur.pause);
        return toggle(cur);
      },
      { at: T0 + 6, source: 'webhook', known },
    );
    expect(decided).toEqual([false, true]);
    expect(r).toMatchObject({ kind: 'applied', changed: true, agent: { pause: false, since: T0 + 6 } });
    expect((await store.events({ stage: 'test', limit: 10 })).map((e) => [e.prevPause, e.pause])).toEqual([
      [false, true],
      [true, false],
    ]);
  });

  it('when the known agent belongs to a call first seen too long ago, then the change is expired and nothing is written', async () => {
    const store = new PgPauseStore(opened.pool, 'instance-a');
    const steps = new PgIvrStepsStore(opened.pool);
    await store.saveAgent('test', CLI, {}, T0);
    expect(await steps.keep({ stage: 'test', callId: 'CA1', step: 'menu' }, { reply: 'menu', said: 'Press 1' }, T0)).toMatchObject({ kind: 'kept' });
    const r = await store.applyPauseChange('test', CLI, toggle, {
      at: T0 + 10_000,
      source: 'ivr',
      callId: 'CA1',
      known: (await store.getAgent('test', CLI))!,
      alsoKeep: { stage: 'test', callId: 'CA1', step: 'menu|1', refuseSeenBefore: T0 + 1, reply: () => ({ reply: 'late', said: 'late' }) },
    });
    expect(r).toEqual({ kind: 'expired' });
    await expectNothingWritten(store, steps, 'Press 1');
  });

  it('when an IVR step keeps its reply without a change, then the reply is stored only while the agent is as read', async () => {
    const w = watched(opened.pool);
    const store = new PgPauseStore(w.pool, 'instance-a');
    const other = new PgPauseStore(opened.pool, 'instance-b');
    await store.saveAgent('test', CLI, {}, T0);
    const seen: boolean[] = [];
    w.before(() => other.applyPauseChange('test', CLI, () => ({ pause: true, reason: null }), { at: T0 + 2, source: 'webhook' }));
    const r = await store.applyPauseChange('test', CLI, () => null, {
      at: T0 + 3,
      source: 'ivr',
      callId: 'CA2',
      alsoKeep: {
        stage: 'test',
        callId: 'CA2',
        step: 'status',
        reply: (o) => {
          seen.push(o.agent.pause);
          return { reply: `on break: ${o.agent.pause}` };
        },
      },
    });
    // The reply built on "available" was not stored once the agent went on break; the one stored says so.
    expect(seen).toEqual([false, true]);
    expect(r).toMatchObject({ kind: 'applied', changed: false, reply: 'on break: true' });
    expect(await new PgIvrStepsStore(opened.pool).keep({ stage: 'test', callId: 'CA2', step: 'status' }, { reply: 'x' }, T0 + 4)).toEqual({
      kind: 'replayed',
      reply: 'on break: true',
    });
  });
});

describe.skipIf(!TEST_DATABASE_URL)('the PostgreSQL pause store on its row-locking path (TEST_DATABASE_URL)', () => {
  // No optimistic attempt: every change takes the agent's row lock in a transaction, as after
  // repeated lost races; the whole contract holds there too.
  pauseStoreContract(async () => {
    const s = openPgTestStores();
    return { stores: { ...s.stores, pause: new PgPauseStore(s.pool, undefined, 0) }, dispose: s.dispose };
  });
});
