import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { configFrom } from '../../src/config.js';
import { migrate, openDatabase } from '../../src/db/open.js';
import { memoryLimiters } from '../../src/http/limits.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { Dialer, DialOutcome } from '../../src/outbound/dialer.js';
import { RecordingDialer } from '../../src/outbound/dialer.js';
import { DEFAULT_CLIENT_SETTINGS } from '../../src/outbound/outbound.store.js';
import { SqliteOutboundStore } from '../../src/outbound/outbound.store.sqlite.js';
import { CallPacer } from '../../src/outbound/pacing.js';
import { CLIENTS_PER_TURN, OutboundScheduler } from '../../src/outbound/scheduler.js';

/**
 * Issue 13: on SQLite every store call resolves without I/O, so a drain tick that only awaited
 * would claim for every client due before the event loop could answer one request (a status
 * callback, /healthz). The paced drain gives the loop a turn between every CLIENTS_PER_TURN
 * clients. Counted in event-loop turns, not in time.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A platform that confirms every call and reports its outcome later (the call stays in flight). */
const placing: Dialer = { dial: async (): Promise<DialOutcome> => ({ kind: 'dispatched', callId: 'CA1', awaits: 'callback' }) };

describe('paced drain and the event loop', () => {
  it('when 100 clients have contacts due, then the scheduler claims for at most CLIENTS_PER_TURN of them between two turns of the event loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-turns-'));
    const db = openDatabase(join(dir, 'turns.db'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => {
      db.close();
    });
    migrate(db);
    const store = new SqliteOutboundStore(db);
    const now = systemClock.now();
    for (let c = 0; c < 100; c++) {
      const clientID = `client${String(c).padStart(3, '0')}`;
      await store.putClient('prod', clientID, 'h'.repeat(64), ['FLOW0001'], now, { ...DEFAULT_CLIENT_SETTINGS, maxConcurrent: 10, callsPerSecond: 5 });
      const numbers = [0, 1].map((i) => `+9198${String(c * 10 + i).padStart(8, '0')}`);
      await store.createRequest(
        { stage: 'prod', reqID: `req${c}`, clientID, flowID: 'FLOW0001', phononUUID: crypto.randomUUID(), scheduledAt: now, createdAt: now, numbers },
        undefined,
        { status: 200, body: {} },
      );
    }
    let turn = 0;
    let spinning = true;
    const spin = () => {
      turn += 1;
      if (spinning) setImmediate(spin);
    };
    cleanups.push(() => void (spinning = false));
    // Each paced claim notes how many clients it claimed for in the turn it ran in, and what it took.
    const claimsInTurn = new Map<number, number>();
    let claimed = 0;
    const claimForClients = store.claimForClients.bind(store);
    store.claimForClients = async (...args) => {
      claimsInTurn.set(turn, (claimsInTurn.get(turn) ?? 0) + args[4].length);
      const got = await claimForClients(...args);
      claimed += got.length;
      return got;
    };
    const config = configFrom({ DATABASE_PATH: join(dir, 'turns.db'), DIALER: 'http', DIALER_URL: 'http://127.0.0.1:9/dial', CALLING_WINDOW: 'off' });
    const logger = createLogger('silent');
    const scheduler = new OutboundScheduler({ clock: systemClock, config, logger, metrics: createMetrics() }, store, { prod: placing, test: new RecordingDialer(logger) }, undefined, {
      maxInFlight: 1_000,
      pacer: new CallPacer(memoryLimiters),
    });
    cleanups.push(() => scheduler.stop());
    setImmediate(spin);
    scheduler.start();
    const deadline = Date.now() + 15_000;
    while (claimed < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    expect(claimed).toBe(200);
    expect(Math.max(...claimsInTurn.values())).toBeLessThanOrEqual(CLIENTS_PER_TURN);
    // Every client got its two calls (one start at a time): the turns given away cost no contact.
    await scheduler.stop();
    const dialled = db.prepare("SELECT count(*) AS n FROM outbound_contacts WHERE status = 'dispatched'").get() as { n: number };
    expect(dialled.n).toBe(200);
  });
});
