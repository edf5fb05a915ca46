import { afterEach, describe, expect, it } from 'vitest';
import { openPgPool } from '../../src/db/pg.js';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { memoryLimiters, pgLimiters, type Limiters } from '../../src/http/limits.js';
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
  it('when a client may make 5 calls a second, then one call starts now and the next not before 100 ms', async () => {
    // The pacer's clock held still: on a busy machine real milliseconds pass between the calls below.
    const at = Date.now();
    const pacer = new CallPacer(memoryLimiters, () => at);
    const first = await pacer.take('prod', 'acme', 5);
    expect(first.slots).toHaveLength(1);
    expect(first.waitMs).toBeGreaterThan(90);
    expect(first.waitMs).toBeLessThanOrEqual(100);
    expect((await pacer.take('prod', 'acme', 5)).slots).toEqual([]);
    expect(pacer.readyIn('prod', 'acme')).toBeGreaterThan(90);
    // Another client, and the same client on the other stage, are paced on their own.
    expect((await pacer.take('prod', 'beta', 5)).slots).toHaveLength(1);
    expect((await pacer.take('test', 'acme', 5)).slots).toHaveLength(1);
  });

  it('when a slot taken is given back unused, then the next call may start at once, with that slot', async () => {
    const pacer = new CallPacer(memoryLimiters);
    const taken = await pacer.take('prod', 'acme', 1);
    expect(taken.slots).toEqual([0]);
    expect(pacer.readyIn('prod', 'acme')).toBeGreaterThan(900);
    await pacer.giveBack('prod', 'acme', 1, taken.slots);
    expect(pacer.readyIn('prod', 'acme')).toBe(0);
    expect((await pacer.take('prod', 'acme', 1)).slots).toEqual([0]);
  });

  it('when the rate is fractional (0.5 a second), then one call starts and the next waits two seconds', async () => {
    const pacer = new CallPacer(memoryLimiters);
    const taken = await pacer.take('prod', 'acme', 0.5);
    expect(taken.slots).toEqual([0]);
    expect(taken.waitMs).toBeGreaterThan(1_900);
    expect(taken.waitMs).toBeLessThanOrEqual(2_000 + SLOT_MARGIN_MS);
  });

  it('when a slot comes back late and its call is sent then, then its second starts again at the send, for every instance', async () => {
    // A shared limiter whose answers take 300 ms (a PostgreSQL limiter waiting for a pooled
    // connection): it stamps the slot's second when asked, 300 ms before the call goes out.
    const shared = new Map<string, RateLimiterAbstract>();
    const slow: Limiters = (spec) => {
      let l = shared.get(spec.name);
      if (!l) {
        l = memoryLimiters(spec);
        const consume = l.consume.bind(l);
        l.consume = async (...args) => {
          const res = await consume(...args);
          await new Promise((r) => setTimeout(r, 300));
          return res;
        };
        shared.set(spec.name, l);
      }
      return l;
    };
    const here = new CallPacer(slow);
    const asked = Date.now();
    const taken = await here.take('prod', 'acme', 1);
    expect(taken.slots).toEqual([0]);
    expect(Date.now() - taken.at).toBeGreaterThanOrEqual(290);
    // The platform answers the call at once.
    await here.sent('prod', 'acme', 1, 0, taken.at);
    // Just past a second after the take was asked, another instance (no hints of its own) finds
    // the slot still held: its second began again when the call was sent, 300 ms later.
    await new Promise((r) => setTimeout(r, Math.max(0, asked + 1_000 + SLOT_MARGIN_MS + 10 - Date.now())));
    const there = new CallPacer(slow);
    expect((await there.take('prod', 'acme', 1)).slots).toEqual([]);
    expect(here.readyIn('prod', 'acme')).toBeGreaterThan(0);
  });

  it('when a call reaches the platform late (the service stalled after the take), then the slot is not free again until a second after the platform answered', async () => {
    let at = 1_000_000;
    const pacer = new CallPacer(memoryLimiters, () => at);
    const taken = await pacer.take('prod', 'acme', 1);
    expect(taken.slots).toEqual([0]);
    // While the call is on its way the slot is not free here, however long that takes.
    at += 1_500;
    expect((await pacer.take('prod', 'acme', 1)).slots).toEqual([]);
    // The platform answered 1.5 s after the take: the call may have arrived just now.
    await pacer.sent('prod', 'acme', 1, 0, taken.at);
    expect(pacer.readyIn('prod', 'acme')).toBe(1_000 + SLOT_MARGIN_MS);
  });

  it('when the platform answers within the slot margin, then the slot frees a second after the take, with no second limiter write', async () => {
    let at = 1_000_000;
    let blocks = 0;
    const counting: Limiters = (spec) => {
      const l = memoryLimiters(spec);
      const block = l.block.bind(l);
      l.block = (...args) => {
        blocks++;
        return block(...args);
      };
      return l;
    };
    const pacer = new CallPacer(counting, () => at);
    const taken = await pacer.take('prod', 'acme', 1);
    at += SLOT_MARGIN_MS;
    await pacer.sent('prod', 'acme', 1, 0, taken.at);
    expect(blocks).toBe(0);
    expect(pacer.readyIn('prod', 'acme')).toBe(1_000);
  });

  it('when a pacer is asked as often as it allows for 2.2 s, then no rolling second holds more than callsPerSecond starts and starts are half an interval apart', async () => {
    const pacer = new CallPacer(memoryLimiters);
    const starts: number[] = [];
    const until = Date.now() + 2_200;
    while (Date.now() < until) {
      const wait = pacer.readyIn('prod', 'acme');
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const taken = await pacer.take('prod', 'acme', 4);
      if (taken.slots.length > 0) {
        starts.push(Date.now());
        // The platform answers at once.
        await pacer.sent('prod', 'acme', 4, taken.slots[0]!, taken.at);
      }
    }
    expect(starts.length).toBeGreaterThanOrEqual(8);
    for (const s of starts) expect(starts.filter((x) => x >= s && x < s + 1_000).length).toBeLessThanOrEqual(4);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(120);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('call pacer across instances (PostgreSQL only)', () => {
  it('when ten instances start calls for one client at once, then together they get callsPerSecond starts, and a slot given back is free for another', async () => {
    const s = createPgTestSchema(TEST_DATABASE_URL, { migrate: true, max: 4 });
    cleanups.push(() => s.drop());
    await s.pool.query('SELECT 1');
    const b = openPgPool(TEST_DATABASE_URL!, { schema: s.schema, max: 4 });
    cleanups.push(() => b.end());
    const pacers = Array.from({ length: 10 }, (_, i) => new CallPacer(pgLimiters(i % 2 ? b : s.pool)));
    const taken = await Promise.all(pacers.map((p) => p.take('prod', 'acme', 5)));
    const holders = taken.flatMap((t, i) => (t.slots.length ? [{ pacer: pacers[i]!, slots: t.slots }] : []));
    expect(holders).toHaveLength(5);
    expect(new Set(holders.flatMap((h) => h.slots)).size).toBe(5);
    // A new instance finds every slot held.
    expect((await new CallPacer(pgLimiters(b)).take('prod', 'acme', 5)).slots).toEqual([]);
    // A slot given back unused is free for another instance. (A slot another instance asked for
    // while it was held stays held to the end of its second: the limiter counts refused asks too.)
    const onA = new CallPacer(pgLimiters(s.pool));
    const first = await onA.take('prod', 'beta', 1);
    expect(first.slots).toEqual([0]);
    await onA.giveBack('prod', 'beta', 1, first.slots);
    expect((await new CallPacer(pgLimiters(b)).take('prod', 'beta', 1)).slots).toEqual([0]);
  });
});
