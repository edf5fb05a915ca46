import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './scenario.js';

/** The processes the bench measures, started as children, and requests to them during setup. */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Child {
  proc: ChildProcess;
  /** The node process itself (spawned directly, so its CPU time is the program's own). */
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/**
 * Start `node --import tsx <file>` in its own process group and wait until `readyPath` answers
 * 200. The child is node itself (no npx or tsx wrapper process), so /proc/<pid>/stat is its CPU.
 * `cwd` is the checkout it runs from (this one unless told: `--against` runs an older revision's).
 */
export async function startChild(
  label: string,
  file: string,
  env: NodeJS.ProcessEnv,
  readyPath: string,
  nodeFlags: string[] = [],
  cwd: string = ROOT,
  /** A child that must know its own URL before it starts (PUBLIC_BASE_URL) is given its port. */
  port?: number,
): Promise<Child> {
  port ??= await freePort();
  const proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', file], {
    cwd,
    env: { ...env, PORT: String(port), HOST },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const url = `http://${HOST}:${port}`;
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (proc.pid) process.kill(-proc.pid, sig);
    } catch {
      /* already gone */
    }
  };
  const stop = async () => {
    if (exited) return;
    signal('SIGTERM');
    const killer = setTimeout(() => signal('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killer);
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${label} exited during start-up: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    try {
      const r = await fetch(url + readyPath, { signal: AbortSignal.timeout(1_000) });
      if (r.ok) return { proc, pid: proc.pid!, url, stop };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`${label} did not answer ${readyPath} within 60 s`);
}

export function context(baseUrl: string): BenchContext {
  return {
    baseUrl,
    async call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers }, signal: AbortSignal.timeout(30_000) };
      if (body !== undefined) {
        if (typeof body === 'string') init.body = body;
        else {
          init.body = JSON.stringify(body);
          (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
        }
      }
      const r = await fetch(baseUrl + path, init);
      const text = await r.text();
      if (r.status >= 500) throw new Error(`setup ${method} ${path} → ${r.status}: ${text.slice(0, 200)}`);
      return (r.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
    },
  };
}

