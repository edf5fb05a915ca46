import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/listen.js';

describe('visit counts across a graceful shutdown (3, 0)', () => {
  it('when 1,000 redirects are served and the service gets SIGTERM, then exactly 1,000 visits are on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-shorturl-e2e-'));
    const dbPath = join(dir, 'central.db');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // node directly (as `npm start` execs it), so SIGTERM reaches the service itself.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, PORT: String(port), DATABASE_PATH: dbPath, LOG_LEVEL: 'info', RATE_LIMIT_PER_IP: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Output is kept for failure messages; "listening" proves this child (not a stranger that took
    // the port) is the one answering.
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-3000);
    };
    child.stderr.on('data', keep);
    const listening = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        keep(d);
        if (d.toString().includes('"listening"')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const started = await Promise.race([listening.then(() => true), exited.then(() => false), new Promise((r) => setTimeout(() => r(false), 30_000))]);
      expect(started, output).toBe(true);
      const created = await fetch(`${base}/UrlShortner/phonon/shortUrl`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ custToken: 'abcd1234', longUrl: 'https://example.com/e2e' }),
      });
      expect(created.status, output).toBe(200);
      const code = ((await created.json()) as { shortUrl: string }).shortUrl.split('/').pop()!;

      for (let sent = 0; sent < 1000; sent += 50) {
        const replies = await Promise.all(Array.from({ length: 50 }, () => fetch(`${base}/${code}`, { redirect: 'manual' })));
        for (const r of replies) {
          expect(r.status).toBe(302);
          await r.arrayBuffer();
        }
      }
      const heads = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/${code}`, { method: 'HEAD', redirect: 'manual' })));
      expect(heads.every((r) => r.status === 302)).toBe(true);

      child.kill('SIGTERM');
      const exitCode = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      expect(exitCode, output).toBe(0);
      const db = new Database(dbPath, { readonly: true });
      try {
        expect(db.prepare('SELECT visits FROM short_urls WHERE code = ?').pluck().get(code)).toBe(1000);
      } finally {
        db.close();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
