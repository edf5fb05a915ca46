import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { createCluster, call } from './instances.js';

/**
 * docs/http.md §11: the per-agent pause limit (PAUSE_CHANGES_PER_MINUTE) holds across instances:
 * two real instances on one PostgreSQL database count one agent's changes together.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const CLI = '+919879964805';
const change = (pause: boolean) => ({ method: 'updatePauseStatusForCLI', cli: CLI, pause, ...(pause ? { reason: 'tea' } : {}) });

describe.skipIf(!TEST_DATABASE_URL)('several instances: shared rate limits (PostgreSQL only)', () => {
  it('when an agent makes its 4 allowed pause changes alternately on two instances, then the 5th is refused with 429 on either', async () => {
    const cluster = await createCluster({ PAUSE_CHANGES_PER_MINUTE: '4' });
    cleanups.push(cluster.close);
    const [a, b] = await Promise.all(['a', 'b'].map((n) => cluster.start(n)));
    expect((await call(a!, 'PUT', `/admin/test/agents/${encodeURIComponent(CLI)}`, { name: 'Asha' })).status).toBe(201);

    for (let i = 0; i < 4; i++) {
      const r = await call(i % 2 ? b! : a!, 'POST', '/centraloutboundwebhook-v1/test/', change(i % 2 === 0));
      expect(r.status).toBe(200);
      expect(r.body.changed).toBe(true);
    }
    for (const inst of [a!, b!]) {
      const r = await call(inst, 'POST', '/centraloutboundwebhook-v1/test/', change(true));
      expect(r.status).toBe(429);
      expect(r.body).toMatchObject({ cli_pause_update: false, error: { code: 'RATE_LIMITED' } });
    }
    // Refused changes changed nothing: the agent is still available after the 4th change.
    const agent = await call(b!, 'GET', `/admin/test/agents/${encodeURIComponent(CLI)}`);
    expect(agent.body.pause).toBe(false);
  });
});
