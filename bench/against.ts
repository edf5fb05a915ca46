import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { context, ROOT, startChild, type Child } from './children.js';
import { load, round } from './load.js';
import type { AgainstRow, Round } from './report.js';
import type { Scenario } from './scenario.js';

/**
 * `--against <rev>`: this checkout's service and an older revision's, measured alternately under
 * the same load in one run (issue 12: SQLite must stay as fast as before the async stores).
 * The revision's tree is exported with `git archive` into a temporary directory (the repository
 * and its worktrees are not touched); its `node_modules` is a symlink to this checkout's when
 * every package its lockfile installs for running is here at the same version, else `npm ci` there.
 */

export interface Revision {
  /** The full commit id. */
  commit: string;
  /** Short id for tables. */
  label: string;
  dir: string;
  remove(): void;
}

export interface LockedPackage {
  version: string;
  /** An optional dependency (a platform's binary, for instance) may be absent. */
  optional: boolean;
}

/** Packages (path → version) of a lockfile v2/v3 that a production install puts in place. */
export function lockedPackages(lockText: string): Map<string, LockedPackage> {
  const lock = JSON.parse(lockText) as { packages?: Record<string, { version?: string; dev?: boolean; optional?: boolean; link?: boolean }> };
  if (!lock.packages) throw new Error('package-lock.json has no "packages" (lockfile v1 is not read)');
  const out = new Map<string, LockedPackage>();
  for (const [path, p] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || p.dev || p.link || !p.version) continue;
    out.set(path, { version: p.version, optional: p.optional === true });
  }
  return out;
}

/** The packages of `locked` absent from `root` (unless optional) or installed there at another version. */
export function missingPackages(locked: Map<string, LockedPackage>, root: string): string[] {
  const out: string[] = [];
  for (const [path, { version, optional }] of locked) {
    const file = join(root, path, 'package.json');
    if (!existsSync(file)) {
      if (!optional) out.push(`${path.slice('node_modules/'.length)}@${version} (absent)`);
      continue;
    }
    const have = (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
    if (have !== version) out.push(`${path.slice('node_modules/'.length)}@${version} (${have} here)`);
  }
  return out;
}

export function checkoutRevision(rev: string, log: (m: string) => void): Revision {
  const git = (...a: string[]) => execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim();
  let commit: string;
  try {
    commit = git('rev-parse', '--verify', '--quiet', `${rev}^{commit}`);
  } catch {
    throw new Error(`--against: no commit "${rev}" in this repository`);
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'cw-bench-rev-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    execFileSync('sh', ['-c', 'git archive --format=tar "$1" | tar -x -C "$2"', 'sh', commit, dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const missing = missingPackages(lockedPackages(readFileSync(join(dir, 'package-lock.json'), 'utf8')), ROOT);
    if (missing.length === 0) {
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      log(`${commit.slice(0, 7)} in ${dir}, node_modules shared (every package its lockfile installs is here)`);
    } else {
      log(`${commit.slice(0, 7)} in ${dir}: ${missing.length} packages differ (${missing.slice(0, 3).join(', ')}…): npm ci there`);
      execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--omit=dev'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    }
  } catch (e) {
    remove();
    throw e;
  }
  return { commit, label: commit.slice(0, 7), dir, remove };
}

/**
 * For each scenario: a fresh service from each checkout (own temporary SQLite file, same
 * settings), the scenario's setup on each, a warm-up of each, then `rounds` pairs of runs
 * alternating which goes first (this, old; old, this; …) so neither always runs on the warmer or
 * quieter machine; each run `seconds` s of autocannon with each process's CPU time read around it.
 * Only one service is under load at a time; the idle one costs ~1 % of a core.
 */
export async function measureAgainst(opts: {
  revision: Revision;
  scenarios: Scenario[];
  env: (name: string) => NodeJS.ProcessEnv;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections?: number;
  /** Extra node flags per process (`--cpu-prof`), by name: `<scenario>-current` or `<scenario>-<rev>`. */
  nodeFlags?: (name: string) => string[];
  started: (c: Child) => void;
  stopped: (c: Child) => void;
  log: (msg: string) => void;
}): Promise<AgainstRow[]> {
  const rows: AgainstRow[] = [];
  for (const s of opts.scenarios) {
    const names = [`${s.name}-current`, `${s.name}-${opts.revision.label}`];
    const flags = names.map((n) => opts.nodeFlags?.(n) ?? []);
    const current = await startChild('service', 'src/server.ts', opts.env(names[0]!), '/healthz', flags[0]);
    opts.started(current);
    const old = await startChild(`service at ${opts.revision.label}`, 'src/server.ts', opts.env(names[1]!), '/healthz', flags[1], opts.revision.dir);
    opts.started(old);
    try {
      opts.log(`${s.name}: this code on ${current.url}, ${opts.revision.label} on ${old.url}: setup`);
      const both = [current, old];
      for (const c of both) await s.setup?.(context(c.url));
      const shapes = both.map((c) => s.request(context(c.url)));
      for (const [i, c] of both.entries()) await load(c.url, shapes[i]!, s, opts.warmupSeconds, opts.connections);
      const runs: Round[][] = [[], []];
      for (let i = 0; i < opts.rounds; i++) {
        const order = i % 2 === 0 ? [0, 1] : [1, 0];
        opts.log(`${s.name}: round ${i + 1}/${opts.rounds}: ${order.map((k) => (k === 0 ? 'this code' : opts.revision.label)).join(', then ')}, ${opts.seconds} s each`);
        for (const k of order) runs[k]!.push(await round(both[k]!, shapes[k]!, s, opts.seconds, s.expectStatus, opts.connections));
      }
      rows.push({ scenario: s.name, current: runs[0]!, old: runs[1]! });
    } finally {
      for (const c of [current, old]) {
        await c.stop();
        opts.stopped(c);
      }
    }
  }
  return rows;
}
