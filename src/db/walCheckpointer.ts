import { Worker } from 'node:worker_threads';
import type { Db } from './open.js';

/**
 * Checkpoints of the service's SQLite file off its event loop (docs/http.md §8.6).
 *
 * SQLite's own auto-checkpoint runs inside the commit that leaves the WAL 1000 pages long, on the
 * connection that committed: better-sqlite3 is synchronous, so the service's event loop stood
 * still while the pages were copied into the database file and both files were fsynced (tens to
 * hundreds of ms, several times a second in a drain of outbound calls). Here the serving
 * connection keeps none of its own (`wal_autocheckpoint = 0`) and a worker thread with its own
 * connection runs PASSIVE checkpoints (src/db/walCheckpoint.worker.mjs), which take no writer
 * lock and never wait. Under writes that never pause, a passive checkpoint cannot start the WAL
 * over (checkpoint starvation, better-sqlite3's docs/performance.md), so once the WAL holds
 * `restartFrames` frames the worker asks for one `wal_checkpoint(RESTART)` on the serving
 * connection: it is the only writer, so it waits for nothing, it copies only the frames written
 * since the worker's pass, and the next write starts the WAL from its beginning. (A RESTART on
 * the worker's connection would hold the writer lock, and a deferred transaction of the service
 * that had read and then wanted to write would fail with SQLITE_BUSY at once.) Left on the
 * serving connection: with synchronous=NORMAL the first commit into a reused WAL fsyncs its
 * header, one small fsync each time the WAL starts over. The worker's CPU is the process's CPU.
 */

export interface CheckpointerOptions {
  /** Between two passive checkpoints. */
  everyMs?: number;
  /** The WAL's length in frames (pages) at which the serving connection restarts it. */
  restartFrames?: number;
  /** A failed checkpoint, or the worker gone (the serving connection then checkpoints on its own again). */
  onError?: (message: string) => void;
}

export interface CheckpointerStats {
  /** Passive checkpoints the worker ran. */
  passive: number;
  /** RESTART checkpoints the serving connection ran when the worker asked. */
  restarts: number;
  /** RESTARTs that could not finish at once because another connection was reading (not waited for). */
  restartsBusy: number;
  /** The WAL's length in frames at the worker's last pass, and the most it held at a pass. */
  lastLogFrames: number;
  maxLogFrames: number;
  /** Of those, the frames copied into the database file at the last pass. */
  lastCheckpointedFrames: number;
}

export interface WalCheckpointer {
  readonly stats: CheckpointerStats;
  /** Resolves once the worker's connection is open (its first pass is `everyMs` later). */
  readonly ready: Promise<void>;
  /** Run a pass now; resolves once it is done, a RESTART it asked for included. */
  passNow(): Promise<void>;
  /** Stop the worker and close its connection; resolves once its thread has ended. Call before `db.close()`. */
  stop(): Promise<void>;
}

export const CHECKPOINT_EVERY_MS = 100;
/** 16,384 frames of 4 KiB pages: at most about 64 MiB of WAL between two restarts. */
export const RESTART_FRAMES = 16_384;
/** SQLite's default, put back if the worker is gone, so that the WAL stays bounded without it. */
const SQLITE_AUTOCHECKPOINT = 1000;

type FromWorker =
  | { type: 'ready' }
  | { type: 'passive'; id?: number; log: number; checkpointed: number; restart: boolean }
  | { type: 'error'; id?: number; message: string };

/** Start checkpointing `db` (a file in WAL mode) from a worker thread. */
export function startWalCheckpointer(db: Db, opts: CheckpointerOptions = {}): WalCheckpointer {
  if (db.memory) throw new Error('an in-memory database has no WAL to checkpoint');
  const restartFrames = opts.restartFrames ?? RESTART_FRAMES;
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(new URL('./walCheckpoint.worker.mjs', import.meta.url), {
    workerData: { path: db.name, everyMs: opts.everyMs ?? CHECKPOINT_EVERY_MS, restartFrames },
    // Plain JavaScript: no loader, and none of the main thread's flags (--cpu-prof…).
    execArgv: [],
  });
  const stats: CheckpointerStats = { passive: 0, restarts: 0, restartsBusy: 0, lastLogFrames: 0, maxLogFrames: 0, lastCheckpointedFrames: 0 };
  let stopping = false;
  let nextId = 1;
  const waiting = new Map<number, () => void>();
  const done = (id: number | undefined) => {
    if (id === undefined) return;
    waiting.get(id)?.();
    waiting.delete(id);
  };
  const gone = (message: string) => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT}`);
    opts.onError?.(message);
  };
  let isReady!: () => void;
  const ready = new Promise<void>((resolve) => (isReady = resolve));
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'ready') return isReady();
    if (m.type === 'error') {
      opts.onError?.(`WAL checkpoint failed: ${m.message}`);
      return done(m.id);
    }
    if (m.type !== 'passive') return;
    stats.passive += 1;
    stats.lastLogFrames = m.log;
    stats.lastCheckpointedFrames = m.checkpointed;
    stats.maxLogFrames = Math.max(stats.maxLogFrames, m.log);
    if (m.restart && !stopping && db.open) {
      // Never wait on the event loop: a reader of another process (an operator's sqlite3 shell,
      // a backup) may hold the WAL; then this RESTART says busy and the next one tries again.
      const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
      db.pragma('busy_timeout = 0');
      try {
        const [r] = db.pragma('wal_checkpoint(RESTART)') as { busy: number }[];
        if (r?.busy) stats.restartsBusy += 1;
        else stats.restarts += 1;
      } catch (e) {
        opts.onError?.(`WAL restart failed: ${(e as Error).message}`);
      } finally {
        db.pragma(`busy_timeout = ${busyTimeout}`);
      }
      worker.postMessage('restarted');
    }
    done(m.id);
  });
  let crash = 'it exited';
  worker.on('error', (e) => (crash = e.message));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      if (!stopping) gone(`WAL checkpointer stopped (${crash}); SQLite checkpoints on its own again`);
      for (const id of [...waiting.keys()]) done(id);
      isReady();
      resolve();
    }),
  );
  return {
    stats,
    ready,
    passNow() {
      if (stopping) return Promise.resolve();
      const id = nextId++;
      return new Promise<void>((resolve) => {
        waiting.set(id, resolve);
        worker.postMessage({ now: id });
      });
    },
    async stop() {
      if (!stopping) {
        stopping = true;
        worker.postMessage('stop');
      }
      await exited;
    },
  };
}
