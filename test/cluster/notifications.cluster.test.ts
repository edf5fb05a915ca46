import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { createCluster, call, sleep, type Instance } from './instances.js';
import { startSignedReceiver, type Got } from './signedReceiver.js';
import { waitFor } from './stream.js';

/**
 * docs/http.md §11: each change notification (EVENTS_WEBHOOK_URL) is delivered once per event,
 * with retries, not once per instance. Three real instances on one PostgreSQL database send to
 * one receiver on 127.0.0.1 that checks each signature (README, Change notifications) and counts
 * attempts and acceptances per `X-Central-Event-Id`. Only HTTP is looked at: the changes made,
 * the event log read back through the admin API, and what the receiver got.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const SECRET = 'whsec_cluster_3f9a1c';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Answers 503 to the first `failFirst` attempts of each event id, then 200. */
async function startReceiver(failFirst: number) {
  const receiver = await startSignedReceiver(SECRET, failFirst);
  cleanups.push(receiver.close);
  return receiver;
}

const AGENTS = Array.from({ length: 6 }, (_, i) => `+9198799${String(65000 + i)}`);

/** `rounds` pause changes per agent, spread over the instances, all at once per round. */
async function makeChanges(instances: Instance[], rounds: number): Promise<number> {
  for (const [i, cli] of AGENTS.entries()) {
    expect((await call(instances[i % instances.length]!, 'PUT', `/admin/test/agents/${encodeURIComponent(cli)}`, { name: `Agent ${i}` })).status).toBe(201);
  }
  let changes = 0;
  for (let round = 0; round < rounds; round++) {
    const replies = await Promise.all(
      AGENTS.map((cli, i) =>
        call(instances[(i + round) % instances.length]!, 'POST', '/centraloutboundwebhook-v1/test/', {
          method: 'updatePauseStatusForCLI',
          cli,
          pause: round % 2 === 0,
          ...(round % 2 === 0 ? { reason: round % 4 ? 'tea' : 'lunch' } : {}),
        }),
      ),
    );
    for (const r of replies) expect(r.body.changed).toBe(true);
    changes += replies.length;
  }
  return changes;
}

/** The event log through the admin API, as the notifications would describe each change. */
async function changeLog(inst: Instance) {
  const log = await call(inst, 'GET', '/admin/test/events?limit=10000');
  expect(log.status).toBe(200);
  return (log.body as unknown as { at: string; cli: string; pause: boolean; reason: string | null; source: string }[])
    .map((e) => `${e.cli} ${e.at} ${e.pause} ${e.reason} ${e.source}`)
    .sort();
}

const described = (b: Record<string, unknown>) => `${b.cli} ${b.at} ${b.pause} ${b.reason} ${b.source}`;

async function runCluster(failFirst: number) {
  const receiver = await startReceiver(failFirst);
  const cluster = await createCluster({ PAUSE_CHANGES_PER_MINUTE: '0', EVENTS_WEBHOOK_URL: receiver.url, EVENTS_WEBHOOK_SECRET: SECRET });
  cleanups.push(cluster.close);
  const instances = await Promise.all(['a', 'b', 'c'].map((n) => cluster.start(n)));
  return { receiver, instances };
}

/** Every event accepted once: waits (bounded) for all of them, then a little longer for repeats. */
async function acceptedOnce(got: Got[], expected: number) {
  const accepted = () => got.filter((g) => g.status === 200);
  await waitFor(() => (new Set(accepted().map((g) => g.id)).size >= expected ? true : undefined), 60_000);
  // Time for a duplicate to show: every instance's sender polls the outbox each second.
  await sleep(3_000);
  const ids = accepted().map((g) => g.id);
  expect(new Set(ids).size).toBe(expected);
  expect(ids).toHaveLength(expected);
  return accepted();
}

describe.skipIf(!TEST_DATABASE_URL)('several instances: change notifications (PostgreSQL only)', () => {
  it('when many changes are made through three instances, then the receiver gets every event exactly once, and nothing else', async () => {
    const { receiver, instances } = await runCluster(0);
    const changes = await makeChanges(instances, 8);
    const accepted = await acceptedOnce(receiver.got, changes);
    expect(receiver.got).toHaveLength(changes);
    // Exactly the changes in the log: none lost, none made up.
    expect(accepted.map((g) => described(g.body)).sort()).toEqual(await changeLog(instances[2]!));
    for (const g of accepted) expect(g.body.id).toBe(g.id);
  }, 180_000);

  it('when the receiver answers 503 to the first two attempts of each event, then each is retried with the same id and accepted exactly once', async () => {
    const { receiver, instances } = await runCluster(2);
    const changes = await makeChanges(instances, 4);
    const accepted = await acceptedOnce(receiver.got, changes);
    expect(accepted.map((g) => described(g.body)).sort()).toEqual(await changeLog(instances[0]!));
    // Two refused attempts and one accepted per event: retried, never sent by two instances.
    const perId = new Map<string, number[]>();
    for (const g of receiver.got) perId.set(g.id, [...(perId.get(g.id) ?? []), g.status]);
    expect(perId.size).toBe(changes);
    for (const statuses of perId.values()) expect(statuses).toEqual([503, 503, 200]);
  }, 180_000);
});
