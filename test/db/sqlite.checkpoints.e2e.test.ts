import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, startServiceProcess, type ServiceProcess } from '../helpers/service.js';

/**
 * The service process and its SQLite file while the checkpointer thread runs (docs/http.md §8.6):
 * a SIGKILL loses no acknowledged change, and a SIGTERM stops the thread before the file closes,
 * so the serving connection checkpoints the rest and removes the WAL.
 */

const started: ServiceProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of started.splice(0)) s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serviceOnFile(): Promise<{ s: ServiceProcess; url: string; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cw-ckpt-e2e-'));
  dirs.push(dir);
  const path = join(dir, 'central.db');
  const s = startServiceProcess({ PORT: '0', DATABASE_PATH: path, IVR_DIR: resolve(ROOT, 'ivr') }, { inheritEnv: false });
  started.push(s);
  return { s, url: await s.ready, path };
}

/** Register `n` agents one after the other; each PUT is acknowledged (201) before the next. */
async function registerAgents(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/admin/test/agents/98${String(10_000_000 + i)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Agent ${i}`, accountID: 'acme-01', language: 'en' }),
    });
    expect(res.status).toBe(201);
    await res.arrayBuffer();
  }
}

function agentsIn(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT count(*) FROM agents WHERE stage = 'test'").pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('the SQLite file under the checkpointer (8.6)', () => {
  it('when the process is killed with SIGKILL after changes were acknowledged, then every one of them is in the file', async () => {
    const { s, url, path } = await serviceOnFile();
    await registerAgents(url, 300);
    s.child.kill('SIGKILL');
    await s.exited;
    // The WAL is left behind (nothing closed the file); opening it recovers every commit.
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(agentsIn(path)).toBe(300);
  }, 90_000);

  it('when the process is stopped with SIGTERM, then it exits 0 with every change checkpointed into the file and no WAL left', async () => {
    const { s, url, path } = await serviceOnFile();
    await registerAgents(url, 200);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(agentsIn(path)).toBe(200);
  }, 90_000);
});
