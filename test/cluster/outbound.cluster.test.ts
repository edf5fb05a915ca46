import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { createCluster, call, sleep, type Cluster, type Instance } from './instances.js';
import { startDialerCounter } from './dialerCounter.js';
import { CLIENT_ID, FLOW_ID, SECURITY_ID, createBody, eventually, statusBody } from '../outbound/outboundHelpers.js';

/**
 * docs/http.md §11: each outbound contact is dispatched exactly once while instances start, stop
 * and die (SIGKILL) mid-dispatch. Real instances on one PostgreSQL database; the HTTP dialer
 * points at a local test dialer that counts every POST per idempotency key.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const WEBHOOK = '/centraloutboundwebhook-v1/prod/';

function numbersFrom(start: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `98${String(start + i).padStart(8, '0')}`);
}

async function create(inst: Instance, numbers: string[]): Promise<string> {
  const r = await call(inst, 'POST', WEBHOOK, createBody({ contactNumbers: numbers }));
  expect(r.status).toBe(200);
  return r.body.obdReqID as string;
}

describe.skipIf(!TEST_DATABASE_URL)('several instances: outbound exactly once (PostgreSQL only)', () => {
  it('when instances start, stop (SIGTERM) and are killed (SIGKILL) mid-dispatch, then every contact is confirmed by the dialer exactly once, and only the killed instance\'s unanswered calls go out again, with the same key', async () => {
    const dialer = await startDialerCounter(400);
    cleanups.push(dialer.close);
    const cluster: Cluster = await createCluster({ DIALER_TIMEOUT_MS: '2000', CALLING_WINDOW: 'off' });
    cleanups.push(cluster.close);
    // Each instance dials its own URL, so every call is recorded with the instance that made it.
    const start = (name: string) => cluster.start(name, { DIALER_URL: dialer.urlFor(name) });

    const [a, b] = await Promise.all([start('a'), start('b')]);
    // callsPerSecond is one limit for the whole cluster (docs/http.md §11): high enough that each
    // instance has calls in flight when one is killed; maxConcurrent above every contact, so calls
    // the dialer holds never stop others being made.
    const put = await call(a!, 'PUT', `/admin/prod/clients/${CLIENT_ID}`, { securityID: SECURITY_ID, flows: [FLOW_ID], callsPerSecond: 50, maxConcurrent: 200 });
    expect(put.status).toBe(201);

    const reqIDs: string[] = [];
    let next = 0;
    const batch = (n: number) => {
      const nums = numbersFrom(next, n);
      next += n;
      return nums;
    };
    // Requests arrive at both instances while a third starts.
    for (let i = 0; i < 4; i++) {
      reqIDs.push(await create(i % 2 ? b! : a!, batch(6)));
      await sleep(150);
    }
    const c = await start('c');
    reqIDs.push(await create(c, batch(6)));

    // Kill `a` while its own calls are in flight. From here the dialer answers nothing, so no call
    // made now is confirmed to anyone. Any instance may claim a contact, so contacts are created
    // at `a` until `a` itself has made one of the held calls.
    dialer.hold();
    const heldFrom = dialer.deliveries.length;
    const madeByA = () => dialer.deliveries.slice(heldFrom).filter((x) => x.from === 'a').length;
    for (let round = 0; round < 5 && madeByA() === 0; round++) {
      reqIDs.push(await create(a!, batch(8)));
      await eventually(() => expect(dialer.byKey().size).toBe(next), 15_000);
    }
    expect(madeByA()).toBeGreaterThan(0);
    // Answers that reached `a` before the hold have had time to be recorded.
    await sleep(300);
    await a!.kill();
    dialer.release();

    // More work while `b` shuts down gracefully (it finishes its calls in flight first).
    reqIDs.push(await create(c, batch(6)));
    reqIDs.push(await create(b!, batch(6)));
    expect(await b!.stop()).toBe(0);
    reqIDs.push(await create(c, batch(6)));
    const d = await start('d');
    reqIDs.push(await create(d, batch(6)));

    // Everything ends dispatched, as seen from any instance still running.
    await eventually(
      async () => {
        for (const id of reqIDs) {
          const s = await call(d, 'POST', WEBHOOK, statusBody(id));
          expect((s.body.contacts as { status: string }[]).every((x) => x.status === 'dispatched')).toBe(true);
        }
      },
      60_000,
      250,
    );

    const byKey = dialer.byKey();
    expect(byKey.size).toBe(next); // every contact reached the dialer
    let resent = 0;
    for (const [key, ds] of byKey) {
      // Confirmed exactly once.
      expect(ds.filter((x) => x.answered), key).toHaveLength(1);
      // Never the same attempt twice: two instances never held one claim at once.
      expect(new Set(ds.map((x) => x.attempt)).size, key).toBe(ds.length);
      if (ds.length > 1) {
        // Sent again only because the killed instance never had its answer.
        expect(ds, key).toHaveLength(2);
        expect(ds[0]!.answered, key).toBe(false);
        expect(ds[0]!.from, key).toBe('a');
        expect(ds[1]!.attempt, key).toBeGreaterThan(ds[0]!.attempt);
        resent++;
      }
    }
    // The kill really hit calls in flight (else this test would prove less than it says).
    expect(resent).toBeGreaterThan(0);
  }, 180_000);
});
