import { mkdtempSync, rmSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createApp } from '../app.js';
import type { Clock } from '../clock.js';
import { configFrom } from '../config.js';
import { migrate, openDatabase } from '../db/open.js';
import { createSqliteStores } from '../db/stores.sqlite.js';
import { EventBus } from '../events/bus.js';
import { createMetrics } from '../observability/metrics.js';
import { startExotelDouble } from '../../test/outbound/doubles/exotel.js';
import { startPlivoDouble } from '../../test/outbound/doubles/plivo.js';
import { startTwilioDouble } from '../../test/outbound/doubles/twilio.js';
import type { CallOutcome } from './dialer.js';

/**
 * `npm run outbound -- --platform twilio [--contacts 3] [--outcomes completed,busy,no-answer]
 * [--max-concurrent 10] [--calls-per-second 5]` — play a campaign against a local double of the
 * platform (test/outbound/doubles/*, on 127.0.0.1: nothing leaves the machine) and print each
 * contact's journey (docs/http.md §9). The real service runs in this process on a temporary
 * database with a clock the simulator moves forward, so 10-minute redials take a moment. Each
 * contact's first call ends with the next of `--outcomes` (cycled); redials complete.
 */

const PLATFORMS = ['twilio', 'twilio-studio', 'plivo', 'exotel'] as const;
type Platform = (typeof PLATFORMS)[number];
const OUTCOMES: CallOutcome[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];
const USAGE =
  'usage: npm run outbound -- --platform twilio|twilio-studio|plivo|exotel [--contacts 3] [--outcomes completed,busy,no-answer] [--max-concurrent 10] [--calls-per-second 5]';

const ACCOUNT_SID = `AC${'0f'.repeat(16)}`;
const FLOW_SID = `FW${'5e'.repeat(16)}`;
const SECURITY_ID = 'sim'.repeat(21) + 's';
const CALLER_ID = '+918030752400';
const CALL_SECONDS = 35;

class SimClock implements Clock {
  t = Date.parse('2026-01-15T05:30:00.000Z'); // 11:00 IST, inside the calling window
  now(): number {
    return this.t;
  }
}

interface Call {
  id: string;
  to: string;
  finish(outcome: CallOutcome): Promise<unknown>;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        platform: { type: 'string' },
        contacts: { type: 'string', default: '3' },
        outcomes: { type: 'string', default: 'completed,busy,no-answer' },
        'max-concurrent': { type: 'string', default: '10' },
        'calls-per-second': { type: 'string', default: '5' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const platform = PLATFORMS.find((p) => p === args.platform);
  const contacts = Number(args.contacts);
  const outcomes = (args.outcomes ?? '').split(',').map((o) => o.trim()) as CallOutcome[];
  if (args.help || !platform || !Number.isInteger(contacts) || contacts < 1 || contacts > 100 || outcomes.some((o) => !OUTCOMES.includes(o))) {
    process.stderr.write(`${USAGE}\n`);
    return args.help ? 0 : 2;
  }

  const dir = mkdtempSync(join(tmpdir(), 'cw-outbound-sim-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    const { env, apiUrl, calls, target } = await platformDouble(platform, cleanups);
    const server = await new Promise<Server>((resolve) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (server.address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}`;
    const config = configFrom({ ...env, PUBLIC_BASE_URL: base, DATABASE_PATH: join(dir, 'sim.db'), RATE_LIMIT_PER_IP: '0', LOG_LEVEL: 'silent' });
    const db = openDatabase(config.DATABASE_PATH);
    migrate(db);
    const stores = createSqliteStores(db);
    const clock = new SimClock();
    const app = createApp({ stores, config, logger: pino({ level: 'silent' }), clock, metrics: createMetrics(), bus: new EventBus() });
    server.on('request', app.http);
    app.start();
    cleanups.push(async () => {
      await app.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await stores.close();
    });

    const api = (path: string, body: unknown, method = 'POST') =>
      fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));
    const put = await api('/admin/prod/clients/sim', {
      securityID: SECURITY_ID,
      callerId: CALLER_ID,
      maxConcurrent: Number(args['max-concurrent']),
      callsPerSecond: Number(args['calls-per-second']),
      flows: [{ flowID: 'SIMFLOW1', target }],
    }, 'PUT');
    if (put.status !== 201) throw new Error(`client not registered: ${JSON.stringify(put.body.error)}`);
    const numbers = Array.from({ length: contacts }, (_, i) => `+9198${String(i).padStart(8, '0')}`);
    const created = await api('/centraloutboundwebhook-v1/prod/', {
      method: 'createOutbound',
      apiVersion: '1.0',
      clientID: 'sim',
      securityID: SECURITY_ID,
      flowID: 'SIMFLOW1',
      contacts: numbers.map((number, i) => ({ number, keys: { name: `Customer ${i + 1}` } })),
    });
    if (created.status !== 200) throw new Error(`createOutbound refused: ${JSON.stringify(created.body.error)}`);
    const reqID = created.body.obdReqID as string;
    process.stdout.write(`${platform}: campaign ${reqID} with ${contacts} contact(s), service on ${base}, platform double on ${apiUrl}\n`);

    const journeys = new Map<string, string[]>(numbers.map((n) => [n, []]));
    const firstCall = new Set<string>();
    let seen = 0;
    let next = 0;
    const status = () =>
      api('/centraloutboundwebhook-v1/prod/', { method: 'getOutboundStatus', clientID: 'sim', securityID: SECURITY_ID, obdReqID: reqID }).then((r) => r.body);
    for (let rounds = 0; rounds < 2_000; rounds++) {
      const placed = calls();
      while (seen < placed.length) {
        const call = placed[seen++]!;
        const j = journeys.get(call.to)!;
        j.push(`dialled (${call.id.slice(0, 6)}…)`);
        if (platform === 'twilio-studio') {
          // A Studio Execution has no busy or no-answer: the flow runs to its end (docs/http.md §9.4).
          await call.finish('completed');
          j.push('execution ended');
          continue;
        }
        const outcome = firstCall.has(call.to) ? 'completed' : outcomes[next++ % outcomes.length]!;
        firstCall.add(call.to);
        await call.finish(outcome);
        j.push(outcome === 'completed' ? `completed ${CALL_SECONDS} s` : outcome);
      }
      const s = await status();
      if (s.status === 'done') {
        for (const c of s.contacts as { number: string; status: string; outcome: string | null; attempts: number }[]) {
          const j = journeys.get(c.number)!;
          if (c.status !== 'dispatched') j.push(c.status);
          process.stdout.write(`  ${c.number}  ${j.join(' → ')}  (attempts ${c.attempts}, outcome ${c.outcome ?? '—'})\n`);
        }
        return 0;
      }
      // Nothing going on now: move the clock to what is due next (a redial, a Studio poll).
      await new Promise((r) => setTimeout(r, 100));
      if (seen === calls().length) {
        const waiting = (s.contacts as { status: string; outcome: string | null }[]).some((c) => c.status === 'scheduled' && c.outcome);
        if (waiting) {
          for (const [n, j] of journeys) if ((s.contacts as { number: string; status: string }[]).find((c) => c.number === n)?.status === 'scheduled' && !j.at(-1)?.startsWith('redial')) j.push('redial in 10 min');
          clock.t += 10 * 60_000;
        } else clock.t += 5_000;
      }
    }
    process.stderr.write('the campaign did not finish\n');
    return 1;
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

/** The platform's double, the settings that point the service at it, and the calls placed so far. */
async function platformDouble(
  platform: Platform,
  cleanups: (() => Promise<void> | void)[],
): Promise<{ env: Record<string, string>; apiUrl: string; calls: () => Call[]; target: string }> {
  const answerUrl = 'https://flows.example.com/answer';
  const ring = (o: CallOutcome) => (o === 'completed' ? CALL_SECONDS : 0);
  if (platform === 'twilio' || platform === 'twilio-studio') {
    const token = 'sim-twilio-token';
    const double = await startTwilioDouble({ accountSid: ACCOUNT_SID, authToken: token });
    cleanups.push(double.close);
    const calls = (): Call[] =>
      platform === 'twilio'
        ? double.calls.map((c) => ({ id: c.sid, to: c.to, finish: (o) => double.finish(c, o, ring(o)) }))
        : double.executions.map((e) => ({ id: e.sid, to: e.to, finish: async () => double.end(e) }));
    return {
      env: { DIALER: 'twilio', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: token, TWILIO_API_URL: double.url },
      apiUrl: double.url,
      calls,
      target: platform === 'twilio' ? answerUrl : FLOW_SID,
    };
  }
  if (platform === 'plivo') {
    const authId = 'MASIMULATORAUTHID001';
    const token = 'sim-plivo-token';
    const double = await startPlivoDouble({ authId, authToken: token });
    cleanups.push(double.close);
    const calls = (): Call[] =>
      double.calls.map((c) => ({ id: c.requestUuid, to: `+${c.to}`, finish: (o) => double.finish(c, o === 'canceled' ? 'cancel' : o, ring(o)) }));
    return { env: { DIALER: 'plivo', PLIVO_AUTH_ID: authId, PLIVO_AUTH_TOKEN: token, PLIVO_API_URL: double.url }, apiUrl: double.url, calls, target: answerUrl };
  }
  const sid = 'simulator1';
  const double = await startExotelDouble({ accountSid: sid, apiKey: 'sim-key', apiToken: 'sim-token' });
  cleanups.push(double.close);
  const calls = (): Call[] => double.calls.map((c) => ({ id: c.sid, to: c.from, finish: (o) => double.finish(c, o, ring(o)) }));
  return {
    env: { DIALER: 'exotel', EXOTEL_ACCOUNT_SID: sid, EXOTEL_API_KEY: 'sim-key', EXOTEL_API_TOKEN: 'sim-token', EXOTEL_API_URL: double.url },
    apiUrl: double.url,
    calls,
    target: '445566',
  };
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error)?.message ?? 'failed'}\n`);
    process.exit(1);
  },
);
