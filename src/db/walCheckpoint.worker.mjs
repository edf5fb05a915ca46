// The WAL checkpointer's thread (src/db/walCheckpointer.ts; docs/http.md §8.6). Plain JavaScript,
// so that it runs the same under `node --import tsx`, vitest and plain node: it is started with
// no loader of its own.
//
// Its own connection to the service's SQLite file runs `PRAGMA wal_checkpoint(PASSIVE)` every
// `everyMs`: PASSIVE takes no writer lock and never waits, so the serving connection's
// transactions go on beside it; the copying of pages into the database file and its fsyncs happen
// on this thread, not on the service's event loop. A passive checkpoint cannot start the WAL over
// while the service keeps writing (checkpoint starvation), so when the WAL has reached
// `restartFrames` frames this thread stops and asks the service's thread for one RESTART (which
// only the serving connection can run without making a transaction of its fail with SQLITE_BUSY),
// and goes on once it is told `restarted`.
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

const Database = createRequire(import.meta.url)('better-sqlite3');
const { path, everyMs, restartFrames } = workerData;

const db = new Database(path, { fileMustExist: true });
// The same durability as the serving connection: a checkpoint fsyncs the WAL before it copies
// and the database file after (docs/http.md §8.6).
db.pragma('synchronous = NORMAL');
// This connection never writes; no checkpoint of SQLite's own here either.
db.pragma('wal_autocheckpoint = 0');

let timer;
let stopped = false;
/** Failed passes in a row: the next waits everyMs × 2^failures (at most a minute), so a lasting error is not reported ten times a second. */
let failures = 0;

/** One passive checkpoint; `id` when the service asked for it (`{ now: id }`), echoed back. */
function pass(id) {
  timer = undefined;
  if (stopped) return;
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    const restart = r.log >= restartFrames;
    failures = 0;
    parentPort.postMessage({ type: 'passive', id, log: r.log, checkpointed: r.checkpointed, restart });
    // With a restart asked for, the next pass waits for `restarted` (or `stop`).
    if (restart) return;
  } catch (e) {
    failures += 1;
    parentPort.postMessage({ type: 'error', id, message: String(e && e.message ? e.message : e) });
  }
  schedule();
}

function schedule() {
  if (!stopped && timer === undefined) timer = setTimeout(pass, Math.min(everyMs * 2 ** failures, 60_000));
}

parentPort.on('message', (m) => {
  if (m === 'restarted') return schedule();
  if (typeof m === 'object' && m !== null && 'now' in m) {
    if (timer !== undefined) clearTimeout(timer);
    return pass(m.now);
  }
  if (m === 'stop') {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    db.close();
    parentPort.close();
  }
});

schedule();
parentPort.postMessage({ type: 'ready' });
