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
import type { Dialer, DialOutcome, DialRequest } from '../../src/outbound/dialer.js';
import { RecordingDialer } from '../../src/outbound/dialer.js';
import { DEFAULT_CLIENT_SETTINGS } from '../../src/outbound/outbound.store.js';
import { SqliteOutboundStore } from '../../src/outbound/outbound.store.sqlite.js';
import { CallPacer } from '../../src/outbound/pacing.js';
import { OutboundScheduler } from '../../src/outbound/scheduler.js';

/**
 * docs/http.md §9.5: a client's start slot is taken immediately before the platform request, with
 * nothing awaited in between, so a stall before it (here: reading the request, 300 ms of blocked
 * event loop) delays the call but cannot bunch its starts: each slot's second begins
 * when its call is sent, and no rolling second holds more than callsPerSecond sends.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const block = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('start slots taken at the send', () => {
  it('when the event loop stalls between a claim and its dial, then every dial follows its slot in the same turn and no rolling second holds more than callsPerSecond dials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-slot-'));
    const db = openDatabase(join(dir, 'slot.db'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => void db.close());
    migrate(db);
    const store = new SqliteOutboundStore(db);
    const now = systemClock.now();
    const cps = 3;
    await store.putClient('prod', 'acme', 'h'.repeat(64), ['FLOW0001'], now, { ...DEFAULT_CLIENT_SETTINGS, maxConcurrent: 10, callsPerSecond: cps });
    const numbers = Array.from({ length: 12 }, (_, i) => `+9198${String(i).padStart(8, '0')}`);
    await store.createRequest(
      { stage: 'prod', reqID: 'req1', clientID: 'acme', flowID: 'FLOW0001', phononUUID: crypto.randomUUID(), scheduledAt: now, createdAt: now, numbers },
      undefined,
      { status: 200, body: {} },
    );
    // A stall after the first claim, before its dial (the request read blocks the loop 300 ms):
    // a slot taken before it would hold a second that began 300 ms before its call was sent.
    const getRequest = store.getRequest.bind(store);
    let reads = 0;
    store.getRequest = async (...args) => {
      if (reads++ === 0) block(300);
      return getRequest(...args);
    };

    // A slot got marks a turn as open until the next macrotask; the dial must come before it.
    const pacer = new CallPacer(memoryLimiters);
    let slotOpen = false;
    let dialsAfterATurn = 0;
    const take = pacer.take.bind(pacer);
    pacer.take = async (...args) => {
      const taken = await take(...args);
      if (taken.slots.length > 0) {
        slotOpen = true;
        setImmediate(() => {
          if (slotOpen) dialsAfterATurn += 1;
          slotOpen = false;
        });
      }
      return taken;
    };
    const sent: number[] = [];
    const dialer: Dialer = {
      dial: async (_r: DialRequest): Promise<DialOutcome> => {
        sent.push(performance.now());
        slotOpen = false;
        return { kind: 'dispatched', callId: `CA${sent.length}`, awaits: 'callback' };
      },
    };

    const config = configFrom({ DATABASE_PATH: join(dir, 'slot.db'), DIALER: 'http', DIALER_URL: 'http://127.0.0.1:9/dial', CALLING_WINDOW: 'off' });
    const logger = createLogger('silent');
    const scheduler = new OutboundScheduler({ clock: systemClock, config, logger, metrics: createMetrics() }, store, { prod: dialer, test: new RecordingDialer(logger) }, undefined, { pacer });
    cleanups.push(() => scheduler.stop());
    scheduler.start();
    const deadline = Date.now() + 20_000;
    while (sent.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await scheduler.stop();

    expect(sent.length).toBe(10); // maxConcurrent: the calls stay up (awaiting their callback)
    expect(dialsAfterATurn).toBe(0);
    for (let i = cps; i < sent.length; i++) expect(sent[i]! - sent[i - cps]!).toBeGreaterThanOrEqual(1000);
  }, 30_000);
});
