import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/listen.js';

describe('shutdown with a board open', () => {
  it('when SIGTERM arrives while a board streams events, then the stream is ended and the service exits 0 promptly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-board-e2e-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, PORT: String(port), DATABASE_PATH: join(dir, 'central.db'), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
        } catch {
          if (Date.now() > deadline) throw new Error('service did not start');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const stream = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`http://127.0.0.1:${port}/admin/test/events/stream`, resolve).on('error', reject),
      );
      expect(stream.statusCode).toBe(200);
      const ended = new Promise<string>((resolve) => {
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (text += c));
        stream.on('end', () => resolve(text));
      });
      const signalled = Date.now();
      child.kill('SIGTERM');
      // The shutdown deadline is 9 s; without ending streams the open board would hold it that long.
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 8_000))]);
      expect(code).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(8_000);
      expect(await ended).toContain(': connected');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
