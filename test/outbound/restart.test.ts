import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SECURITY_ID, createBody, eventually, numbers, statusBody, CLIENT_ID, FLOW_ID } from './outboundHelpers.js';
import { startPlatform } from './testPlatform.js';
import { createPgTestDatabase, TEST_DATABASE_URL } from '../helpers/pgTestDb.js';

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
