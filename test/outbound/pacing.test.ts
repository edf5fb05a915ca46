import { afterEach, describe, expect, it } from 'vitest';
import { openPgPool } from '../../src/db/pg.js';
import { memoryLimiters, pgLimiters } from '../../src/http/limits.js';
import { CallPacer, SLOT_MARGIN_MS } from '../../src/outbound/pacing.js';
import { createPgTestSchema, TEST_DATABASE_URL } from '../helpers/pgTestDb.js';

/**
 * docs/http.md §9.5: a client with callsPerSecond n has n start slots, each used at most once a
 * second, so no rolling second holds more than n starts — on one instance (memory limiters) and
 * across instances (the shared rate_limits table on PostgreSQL).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('call pacer', () => {
  it('when a client may make 5 calls a second, then 5 starts are allowed at once and the 6th waits for the second to pass', async () => {
    const pacer = new CallPacer(memoryLimiters);
    const first = await pacer.take('prod', 'acme', 5, 10);
    expect(first.slots.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(first.waitMs).toBeGreaterThan(900);
    expect(first.waitMs).toBeLessThanOrEqual(1_000 + SLOT_MARGIN_MS);
    const sixth = await pacer.take('prod', 'acme', 5, 1);
    expect(sixth.slots).toEqual([]);
    expect(pacer.readyIn('prod', 'acme')).toBeGreaterThan(900);
    // Another client, and the same client on the other stage, have slots of their own.
    expect((await pacer.take('prod', 'beta', 5, 2)).slots).toHaveLength(2);
    expect((await pacer.take('test', 'acme', 5, 5)).slots).toHaveLength(5);
  });

  it('when slots taken are given back unused, then they can be taken again at once, and only they', async () => {
    const pacer = new CallPacer(memoryLimiters);
    const taken = await pacer.take('prod', 'acme', 3, 3);
    await pacer.giveBack('prod', 'acme', 3, taken.slots.slice(1));
    expect(pacer.readyIn('prod', 'acme')).toBe(0);
    const again = await pacer.take('prod', 'acme', 3, 3);
    expect(again.slots.sort()).toEqual(taken.slots.slice(1).sort());
  });

  it('when the rate is fractional (0.5 a second), then one call starts and the next waits two seconds', async () => {
    const pacer = new CallPacer(memoryLimiters);
    const taken = await pacer.take('prod', 'acme', 0.5, 3);
    expect(taken.slots).toEqual([0]);
    expect(taken.waitMs).toBeGreaterThan(1_900);
    expect(taken.waitMs).toBeLessThanOrEqual(2_000 + SLOT_MARGIN_MS);
  });

  it('when a pacer takes slots for 1.2 s, then no rolling second holds more than callsPerSecond starts', async () => {
    const pacer = new CallPacer(memoryLimiters);
    const starts: number[] = [];
    const until = Date.now() + 1_200;
    while (Date.now() < until) {
      const wait = pacer.readyIn('prod', 'acme');
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const taken = await pacer.take('prod', 'acme', 4, 4);
      for (const _ of taken.slots) starts.push(Date.now());
    }
    expect(starts.length).toBeGreaterThanOrEqual(4);
    for (const s of starts) expect(starts.filter((x) => x >= s && x < s + 1_000).length).toBeLessThanOrEqual(4);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('call pacer across instances (PostgreSQL only)', () => {
  it('when two instances take slots for one client at once, then together they get callsPerSecond of them', async () => {
    const s = createPgTestSchema(TEST_DATABASE_URL, { migrate: true, max: 4 });
    cleanups.push(() => s.drop());
    await s.pool.query('SELECT 1');
    const b = openPgPool(TEST_DATABASE_URL!, { schema: s.schema, max: 4 });
    cleanups.push(() => b.end());
    const onA = new CallPacer(pgLimiters(s.pool));
    const onB = new CallPacer(pgLimiters(b));
    const [x, y] = await Promise.all([onA.take('prod', 'acme', 5, 5), onB.take('prod', 'acme', 5, 5)]);
    expect(x.slots.length + y.slots.length).toBe(5);
    // Each instance now knows its missing slots are held elsewhere: neither gets another.
    const [x2, y2] = await Promise.all([onA.take('prod', 'acme', 5, 5), onB.take('prod', 'acme', 5, 5)]);
    expect(x2.slots.length + y2.slots.length).toBe(0);
    // Slots one instance gives back unused are free for another instance, and only they.
    const taken = await onA.take('prod', 'beta', 4, 4);
    await onA.giveBack('prod', 'beta', 4, taken.slots.slice(0, 2));
    expect((await onB.take('prod', 'beta', 4, 4)).slots.sort()).toEqual(taken.slots.slice(0, 2).sort());
  });
});
