import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/listen.js';
import { SECURITY_ID, createBody, eventually, numbers, statusBody, CLIENT_ID, FLOW_ID } from './outboundHelpers.js';
import { startPlatform } from './testPlatform.js';
import { createPgTestDatabase, TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { verifiesSignature } from '../helpers/signedDelivery.js';

/**
 * The service as a real process (`node --import tsx src/server.ts`, the command `npm start` execs,
 * started without npm as its parent so that SIGKILL reaches the service itself) on a temp database, dialing
 * a test platform on 127.0.0.1. Each contact must reach the platform exactly once across a
 * graceful stop or a crash, counted by idempotency key.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  while (cleanups.length) await cleanups.pop()!();
});

interface Service {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

async function startService(env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', LOG_LEVEL: 'info', RATE_LIMIT_PER_IP: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`service did not start: ${err.slice(0, 500)}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    child.on('exit', (code) => fail(new Error(`service exited with ${code}: ${err.slice(0, 500)}`)));
  });
  return { url, child, exited };
}

async function call(svc: Service, method: string, path: string, body: unknown) {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function setUp(env: Record<string, string>, contacts: number) {
  const dir = mkdtempSync(join(tmpdir(), 'cw-restart-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // Real time: the prod calling window (docs/http.md §9) would park the calls outside 09:00-21:00 IST.
  const fullEnv: Record<string, string> = { DATABASE_PATH: join(dir, 'central.db'), CALLING_WINDOW: 'off', ...env };
  if (TEST_DATABASE_URL) {
    // The PostgreSQL pass: the restarted service finds its contacts in the same database.
    const pg = await createPgTestDatabase();
    cleanups.push(pg.drop);
    fullEnv.DATABASE_URL = pg.url;
  }
  const svc = await startService(fullEnv);
  // Pacing (docs/http.md §9): 20 calls in flight at most, fast enough that the test is not about the rate.
  const put = await call(svc, 'PUT', `/admin/prod/clients/${CLIENT_ID}`, { securityID: SECURITY_ID, flows: [FLOW_ID], maxConcurrent: 20, callsPerSecond: 100 });
  expect(put.status).toBe(201);
  const created = await call(svc, 'POST', '/centraloutboundwebhook-v1/prod/', createBody({ contactNumbers: numbers(contacts) }));
  expect(created.status).toBe(200);
  return { svc, env: fullEnv, reqID: created.body.obdReqID as string };
}

async function contactsOf(svc: Service, reqID: string) {
  const res = await call(svc, 'POST', '/centraloutboundwebhook-v1/prod/', statusBody(reqID));
  return res.body.contacts as { number: string; status: string; attempts: number }[];
}

describe('outbound across restarts', () => {
  it('when the service is stopped with SIGTERM mid-dispatch, then it waits for the calls in flight and after a restart every contact was dialled exactly once', async () => {
    let answered = 0;
    const platform = await startPlatform(() => new Promise((r) => setTimeout(() => r(200), 800)).then(() => (answered++, 200)));
    cleanups.push(platform.close);
    const { svc, env, reqID } = await setUp({ DIALER_URL: platform.url, DIALER_TIMEOUT_MS: '5000' }, 50);

    await eventually(() => expect(platform.received.length).toBeGreaterThan(0), 15_000);
    expect(answered).toBe(0); // the calls are still in flight
    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
    const beforeRestart = platform.received.length;
    expect(answered).toBe(beforeRestart); // every call in flight was answered before the exit
    expect(beforeRestart).toBeLessThan(50); // some were never claimed: they go out after the restart

    const again = await startService(env);
    await eventually(async () => expect((await contactsOf(again, reqID)).every((c) => c.status === 'dispatched')).toBe(true), 20_000, 200);
    const counts = platform.countsByKey();
    expect(counts.size).toBe(50);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect((await contactsOf(again, reqID)).every((c) => c.attempts === 1)).toBe(true);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 90_000);

  it('when the service is killed with SIGKILL mid-dispatch, then after a restart only the calls the dialer never confirmed are sent again, with the same key', async () => {
    let phase = 1;
    const platform = await startPlatform((_r, i) => (phase === 1 && i >= 4 ? 'hang' : 200));
    cleanups.push(platform.close);
    const { svc, env, reqID } = await setUp({ DIALER_URL: platform.url, DIALER_TIMEOUT_MS: '8000' }, 10);

    await eventually(async () => {
      expect(platform.received).toHaveLength(10);
      expect((await contactsOf(svc, reqID)).filter((c) => c.status === 'dispatched')).toHaveLength(4);
    }, 15_000, 50);
    svc.child.kill('SIGKILL');
    await svc.exited;
    const confirmed = platform.received.slice(0, 4).map((r) => r.body.idempotencyKey);
    const unconfirmed = platform.received.slice(4).map((r) => r.body.idempotencyKey);
    phase = 2;

    const again = await startService(env);
    await eventually(async () => expect((await contactsOf(again, reqID)).every((c) => c.status === 'dispatched')).toBe(true), 30_000, 200);
    const counts = platform.countsByKey();
    expect(counts.size).toBe(10);
    for (const key of confirmed) expect(counts.get(key)).toBe(1);
    for (const key of unconfirmed) expect(counts.get(key)).toBe(2);
    const retried = platform.received.slice(10);
    expect(retried.map((r) => r.body.attempt)).toEqual(Array(6).fill(2));
    expect(new Set(retried.map((r) => r.body.idempotencyKey))).toEqual(new Set(unconfirmed));
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 90_000);
});

describe('statusCallbackUrl across restarts (docs/http.md §9.6)', () => {
  const SECRET = 'whsec_restart_7d1e';

  /** The outbox rows as the database holds them (SQLite file or PostgreSQL), oldest first. */
  async function outbox(env: Record<string, string>): Promise<{ delivery_id: string; type: string; attempts: number }[]> {
    const sql = "SELECT delivery_id, type, attempts FROM outbox WHERE type LIKE 'outbound.%' ORDER BY id";
    if (env.DATABASE_URL) {
      const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 1 });
      try {
        return (await pool.query(sql)).rows;
      } finally {
        await pool.end();
      }
    }
    const db = new Database(env.DATABASE_PATH!, { readonly: true });
    try {
      return db.prepare(sql).all() as { delivery_id: string; type: string; attempts: number }[];
    } finally {
      db.close();
    }
  }

  /** A receiver on a fixed port, from the moment it is started: accepts every signed POST, records it. */
  async function startReceiverOn(port: number) {
    const got: { id: string; body: Record<string, unknown>; signed: boolean }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const signed = verifiesSignature(SECRET, req.headers, raw);
        got.push({ id: String(req.headers['x-central-event-id']), body: JSON.parse(raw) as Record<string, unknown>, signed });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    return got;
  }

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'when contacts end while the receiver refuses connections and the service is stopped (%s), then a new service on the same database delivers each callback and the completion once, with the same ids',
    async (signal) => {
      const port = await freePort(); // nothing listens there yet: connection refused
      const dir = mkdtempSync(join(tmpdir(), 'cw-callbacks-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const env: Record<string, string> = { DATABASE_PATH: join(dir, 'central.db'), EVENTS_WEBHOOK_SECRET: SECRET };
      if (TEST_DATABASE_URL) {
        const db = await createPgTestDatabase();
        cleanups.push(db.drop);
        env.DATABASE_URL = db.url;
      }
      const svc = await startService(env);
      // The test stage records every contact at once: each contact ends, then the request completes.
      expect((await call(svc, 'PUT', `/admin/test/clients/${CLIENT_ID}`, { securityID: SECURITY_ID, flows: [FLOW_ID] })).status).toBe(201);
      const created = await call(svc, 'POST', '/centraloutboundwebhook-v1/test/', createBody({ contactNumbers: numbers(3), statusCallbackUrl: `http://127.0.0.1:${port}/hooks/outbound` }));
      expect(created.status).toBe(200);
      const reqID = created.body.obdReqID as string;
      // Recorded while the receiver is down: every delivery is in the outbox, each tried at least once.
      const before = await eventually(async () => {
        const rows = await outbox(env);
        expect(rows.map((r) => r.type)).toEqual(['outbound.contact', 'outbound.contact', 'outbound.contact', 'outbound.completed']);
        expect(rows[0]!.attempts).toBeGreaterThanOrEqual(1);
        return rows;
      }, 20_000, 100);
      svc.child.kill(signal);
      await svc.exited;
      const kept = await outbox(env);
      expect(kept.map((r) => r.delivery_id)).toEqual(before.map((r) => r.delivery_id));

      const got = await startReceiverOn(port);
      const again = await startService(env);
      await eventually(() => expect(got).toHaveLength(4), 30_000, 100);
      // Time for a second delivery to show, were there one (the sender polls the outbox each second).
      await new Promise((r) => setTimeout(r, 2_500));
      expect(got.map((g) => g.id)).toEqual(kept.map((r) => r.delivery_id));
      expect(got.every((g) => g.signed && g.body.id === g.id && g.body.obdReqID === reqID)).toBe(true);
      expect(got.map((g) => g.body.type)).toEqual(['outbound.contact', 'outbound.contact', 'outbound.contact', 'outbound.completed']);
      expect(got.slice(0, 3).map((g) => [g.body.number, g.body.status]).sort()).toEqual([
        ['+919800000000', 'dispatched'],
        ['+919800000001', 'dispatched'],
        ['+919800000002', 'dispatched'],
      ]);
      expect(got[3]!.body).toMatchObject({ status: 'done' });
      expect(await outbox(env)).toEqual([]);
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    },
    90_000,
  );
});
