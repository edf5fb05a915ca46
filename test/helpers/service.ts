import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The service as a real process (`node --import tsx src/server.ts`, what `npm start` execs), for
 * tests of start-up, signals and anything only a whole process shows. Output is collected so a
 * test can read the JSON log lines; `stop()` kills it if it is still running.
 */

export const ROOT = resolve(import.meta.dirname, '../..');
/** `--import` of tsx by file URL, so the process may run in any working directory. */
export const TSX_IMPORT = ['--import', pathToFileURL(resolve(ROOT, 'node_modules/tsx/dist/loader.mjs')).href];

export interface ServiceProcess {
  child: ChildProcess;
  /** The URL from the `listening` line (rejects when the process exits first). */
  ready: Promise<string>;
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Parsed JSON log lines so far. */
  logLines(): Record<string, unknown>[];
  /** Wait until a log line matches (the log is written asynchronously). */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): void;
}

export function startServiceProcess(env: Record<string, string>, opts: { cwd?: string; inheritEnv?: boolean; timeoutMs?: number } = {}): ServiceProcess {
  const base = opts.inheritEnv === false ? { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } : process.env;
  const child = spawn(process.execPath, [...TSX_IMPORT, resolve(ROOT, 'src/server.ts')], {
    cwd: opts.cwd ?? ROOT,
    env: { ...base, LOG_LEVEL: 'info', RATE_LIMIT_PER_IP: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const ready = new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`service did not start: ${err.slice(0, 500)}`)), opts.timeoutMs ?? 30_000);
    const look = () => {
      const m = /"url":"(https?:\/\/[^"]+)"[^\n]*"msg":"listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    };
    child.stdout!.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`service exited with ${code}: ${err.slice(0, 500)}`));
    });
  });
  ready.catch(() => {});
  const logLines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    ready,
    exited,
    stdout: () => out,
    stderr: () => err,
    logLines,
    async waitForLine(match, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const found = logLines().find(match);
        if (found) return found;
        if (Date.now() > end) throw new Error(`no matching log line in: ${out.slice(-1000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
