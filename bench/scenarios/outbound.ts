import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFrom } from '../../src/config.js';
import { migrate, openDatabase } from '../../src/db/open.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { systemClock } from '../../src/clock.js';
import { RecordingDialer } from '../../src/outbound/dialer.js';
import { SqliteOutboundStore } from '../../src/outbound/outbound.store.sqlite.js';
import { OutboundScheduler } from '../../src/outbound/scheduler.js';
import { CallPacer } from '../../src/outbound/pacing.js';
import { memoryLimiters } from '../../src/http/limits.js';
import type { Measurement, Scenario } from '../scenario.js';

/** Issue 4: createOutbound with 100 numbers per request, and the scheduler draining 100,000 contacts. */

const SECURITY_ID = 'b'.repeat(64);
const FLOW_ID = 'BENCHFLW';
const CLIENT_ID = 'bench-client';
const NUMBERS_PER_REQUEST = 100;

const hundredNumbers = Array.from({ length: NUMBERS_PER_REQUEST }, (_, i) => `98${String(10_000 + i).padStart(8, '0')}`);

export const outboundScenarios: Scenario[] = [
  {
    // Every request stores 100 contacts (contacts/s = requests/s × 100) that the service's own
    // scheduler then drains into the recording dialer while the load runs.
    name: 'create-outbound-100',
    async setup(ctx) {
      await ctx.call('PUT', `/admin/test/clients/${CLIENT_ID}`, { securityID: SECURITY_ID, flows: [FLOW_ID] });
    },
    request: () => ({
      method: 'POST',
      path: '/centraloutboundwebhook-v1/test/',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        method: 'createOutbound',
        apiVersion: '1.0',
        clientID: CLIENT_ID,
        securityID: SECURITY_ID,
        flowID: FLOW_ID,
        contactNumbers: hundredNumbers,
      }),
    }),
  },
];

const DRAIN_CONTACTS = 100_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const outboundMeasurements: Measurement[] = [
  {
    name: 'outbound-drain-100k',
    async run() {
      const dir = mkdtempSync(join(tmpdir(), 'cw-bench-drain-'));
      const dbPath = join(dir, 'drain.db');
      const db = openDatabase(dbPath);
      try {
        migrate(db);
        const config = configFrom({ DATABASE_PATH: dbPath });
        const logger = createLogger('warn');
        const metrics = createMetrics();
        const store = new SqliteOutboundStore(db);
        const dueAt = systemClock.now();
        for (let r = 0; r < DRAIN_CONTACTS / 1000; r++) {
          const reqID = `drain${r}`;
          const numbers = Array.from({ length: 1000 }, (_, i) => `+9198${String(r * 1000 + i).padStart(8, '0')}`);
          const body = { obdReqID: reqID };
          await store.createRequest(
            { stage: 'prod', reqID, clientID: CLIENT_ID, flowID: FLOW_ID, phononUUID: crypto.randomUUID(), scheduledAt: dueAt, createdAt: dueAt, numbers },
            undefined,
            { status: 200, body },
          );
        }
        const recording = new RecordingDialer(logger);
        const scheduler = new OutboundScheduler({ clock: systemClock, config, logger, metrics }, store, { prod: recording, test: recording }, undefined, {
          maxInFlight: 1000,
          pacer: new CallPacer(memoryLimiters),
        });
        const remaining = db.prepare("SELECT count(*) FROM outbound_contacts WHERE status = 'scheduled'").pluck();
        // Every contact falls due the moment the drain starts, so lag = time from start to dispatch.
        db.prepare('UPDATE outbound_contacts SET due_at = ?').run(systemClock.now());
        const started = performance.now();
        scheduler.start();
        while ((remaining.get() as number) > 0) await new Promise((r) => setTimeout(r, 20));
        const seconds = (performance.now() - started) / 1000;
        await scheduler.stop();
        const lags = (db.prepare('SELECT dispatched_at - due_at FROM outbound_contacts').pluck().all() as number[]).sort((a, b) => a - b);
        const dispatched = db.prepare("SELECT count(*) FROM outbound_contacts WHERE status = 'dispatched'").pluck().get() as number;
        return {
          contacts: dispatched,
          seconds: Number(seconds.toFixed(2)),
          'contacts/s': Math.round(dispatched / seconds),
          target: '≥ 5000 contacts/s',
          'lag p50 ms': percentile(lags, 50),
          'lag p99 ms': percentile(lags, 99),
        };
      } finally {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
