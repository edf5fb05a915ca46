import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPgTestDatabase } from '../helpers/pgTestDb.js';

/**
 * Several real instances of the service on one PostgreSQL database (docs/http.md §11): each a
 * child process running what `npm start` execs (`node --import tsx src/server.ts`, without npm
 * as its parent so that SIGKILL reaches the service itself), on its own port, all with the same
 * DATABASE_URL. Used only when TEST_DATABASE_URL is set.
 */

const ROOT = resolve(import.meta.dirname, '../..');

export interface Instance {
  name: string;
  url: string;
  child: ChildProcess;
  /** Exit code (null after a signal). */
  exited: Promise<number | null>;
  /** Everything it wrote to stdout (JSON log lines). */
  logs: string[];
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no chance to finish anything. */
  kill(): Promise<void>;
}

export interface Cluster {
  databaseUrl: string;
  instances: Instance[];
  /** Start one more instance on the same database. */
  start(name: string, env?: Record<string, string>): Promise<Instance>;
  /** Kill what still runs and drop the database. */
  close(): Promise<void>;
}

export async function createCluster(env: Record<string, string> = {}): Promise<Cluster> {
  const db = await createPgTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'cw-cluster-'));
  const instances: Instance[] = [];
  return {
    databaseUrl: db.url,
    instances,
    async start(name, extra = {}) {
      const inst = await startInstance(name, {
        DATABASE_URL: db.url,
        // Never opened on PostgreSQL; a file of its own per instance all the same.
        DATABASE_PATH: join(dir, `${name}.db`),
        ...env,
        ...extra,
      });
      instances.push(inst);
      return inst;
    },
    async close() {
      for (const i of instances) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
      await Promise.all(instances.map((i) => i.exited));
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_IP: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`instance ${name} did not start: ${err.slice(0, 500)}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      out += text;
      logs.push(text);
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`instance ${name} exited with ${code}: ${err.slice(0, 500)}`));
    });
  });
  return {
    name,
    url,
    child,
    exited,
    logs,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** JSON over HTTP to one instance. */
export async function call(inst: Instance, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${inst.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    // not JSON (a redirect, a stream)
  }
  return { status: res.status, headers: res.headers, body: json, text };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
