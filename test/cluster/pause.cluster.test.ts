import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { createCluster, call } from './instances.js';

/**
 * docs/http.md §11: pause changes for one agent serialise across instances (the agent's row lock).
 * Three real instances on one PostgreSQL database change one agent at once; the event log must be
 * one chain in which each change starts from the state the previous one left.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const CLI = '+919879964805';

describe.skipIf(!TEST_DATABASE_URL)('several instances: pause changes (PostgreSQL only)', () => {
  it('when three instances change one agent at once, then the changes serialise: each event starts from the state the previous one left, and the agent ends in the last one', async () => {
    const cluster = await createCluster({ PAUSE_CHANGES_PER_MINUTE: '0' });
    cleanups.push(cluster.close);
    const instances = await Promise.all(['a', 'b', 'c'].map((n) => cluster.start(n)));
    expect((await call(instances[0]!, 'PUT', `/admin/test/agents/${encodeURIComponent(CLI)}`, { name: 'Asha' })).status).toBe(201);

    // 60 changes: pause with one of two reasons, or available, spread over the instances.
    const wants = Array.from({ length: 60 }, (_, i) => (i % 3 === 2 ? { pause: false } : { pause: true, reason: i % 2 ? 'lunch' : 'tea' }));
    const replies = await Promise.all(
      wants.map((w, i) =>
        call(instances[i % 3]!, 'POST', '/centraloutboundwebhook-v1/test/', { method: 'updatePauseStatusForCLI', cli: CLI, ...w }),
      ),
    );
    for (const r of replies) expect(r.status).toBe(200);
    const changed = replies.filter((r) => r.body.changed === true).length;

    const log = await call(instances[1]!, 'GET', `/admin/test/events?cli=${encodeURIComponent(CLI)}&limit=1000`);
    expect(log.status).toBe(200);
    const events = (Array.isArray(log.body) ? log.body : (log.body.items ?? log.body.events)) as { pause: boolean; reason: string | null }[];
    // One event per reply that said it changed something, none for the others.
    expect(events).toHaveLength(changed);
    expect(changed).toBeGreaterThan(1);
    // A chain: no event repeats the state before it (a lost update would show as a repeat).
    let state = { pause: false, reason: null as string | null };
    for (const e of events) {
      expect(e.pause === state.pause && (e.reason === state.reason || !e.pause)).toBe(false);
      state = { pause: e.pause, reason: e.pause ? e.reason : null };
    }
    const agent = await call(instances[2]!, 'GET', `/admin/test/agents/${encodeURIComponent(CLI)}`);
    expect(agent.body).toMatchObject(state);
  }, 120_000);
});
