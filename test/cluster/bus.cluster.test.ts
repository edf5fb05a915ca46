import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { createCluster, call, type Instance } from './instances.js';

/**
 * docs/http.md §11: a board's event stream open on one instance sees changes made through any
 * other within 1 s (LISTEN/NOTIFY). Two real instances on one PostgreSQL database; the deadline
 * below is the contract's 1 s plus slack for a loaded machine, not a speed goal.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const CLI = '+919879964806';
const DEADLINE_MS = 3_000;

/** The SSE stream of one instance, its frames collected as { event, data }. */
async function openStream(inst: Instance) {
  const abort = new AbortController();
  const res = await fetch(`${inst.url}/admin/test/events/stream`, { signal: abort.signal });
  expect(res.status).toBe(200);
  const frames: { event: string; data: any }[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) frames.push({ event, data: JSON.parse(data) });
      }
    }
  })().catch(() => undefined);
  cleanups.push(async () => {
    abort.abort();
    await pump;
  });
  return frames;
}

async function waitFor<T>(find: () => T | undefined, ms: number): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!TEST_DATABASE_URL)('several instances: the board stream (PostgreSQL only)', () => {
  it('when an agent is added and paused through instance B, then the stream open on instance A shows both changes, once each, within the deadline', async () => {
    const cluster = await createCluster({ PAUSE_CHANGES_PER_MINUTE: '0' });
    cleanups.push(cluster.close);
    const [a, b] = await Promise.all([cluster.start('a'), cluster.start('b')]);
    const onA = await openStream(a);
    const onB = await openStream(b);

    expect((await call(b, 'PUT', `/admin/test/agents/${encodeURIComponent(CLI)}`, { name: 'Asha' })).status).toBe(201);
    const added = await waitFor(() => onA.find((f) => f.event === 'agentChange' && f.data.cli === CLI), DEADLINE_MS);
    expect(added?.data).toEqual({ stage: 'test', cli: CLI, change: 'saved' });

    const r = await call(b, 'POST', '/centraloutboundwebhook-v1/test/', { method: 'updatePauseStatusForCLI', cli: CLI, pause: true, reason: 'lunch' });
    expect(r.status).toBe(200);
    expect(r.body.changed).toBe(true);
    const paused = await waitFor(() => onA.find((f) => f.event === 'pauseChange' && f.data.cli === CLI), DEADLINE_MS);
    expect(paused?.data).toMatchObject({ stage: 'test', cli: CLI, name: 'Asha', pause: true, reason: 'lunch', source: 'webhook', callId: null });

    // The instance that made the change delivers it to its own stream exactly once (its own
    // notification is skipped), and A does not repeat it either.
    await waitFor(() => onB.find((f) => f.event === 'pauseChange'), DEADLINE_MS);
    await new Promise((r) => setTimeout(r, 500));
    expect(onB.filter((f) => f.event === 'pauseChange')).toHaveLength(1);
    expect(onB.filter((f) => f.event === 'agentChange')).toHaveLength(1);
    expect(onA.filter((f) => f.event === 'pauseChange')).toHaveLength(1);
    expect(onA.filter((f) => f.event === 'agentChange')).toHaveLength(1);
  }, 120_000);
});
