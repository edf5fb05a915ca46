import { existsSync, mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/open.js';
import { startWalCheckpointer, type WalCheckpointer } from '../../src/db/walCheckpointer.js';

/**
 * The service's SQLite checkpoints (docs/http.md §8.6): the serving connection keeps no
 * auto-checkpoint of its own, a worker thread checkpoints beside it, the WAL is started over when
 * it has grown to its bound, and the worker is gone before the file closes.
 */

const PAGE = 4096;
/** A WAL frame is a 24-byte header and a page; the file has a 32-byte header. */
const walFrames = (path: string) => (existsSync(`${path}-wal`) ? Math.floor((statSync(`${path}-wal`).size - 32) / (PAGE + 24)) : 0);

const dirs: string[] = [];
const open: { db: Db; cp?: WalCheckpointer }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.cp?.stop();
    if (o.db.open) o.db.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function database(): { db: Db; path: string; write(rows: number): void; writeFrames(frames: number): number } {
  const dir = mkdtempSync(join(tmpdir(), 'cw-ckpt-'));
  dirs.push(dir);
  const path = join(dir, 'service.db');
  const db = openDatabase(path);
  open.push({ db });
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
  // One commit per row, each row most of a page of its own: a few WAL frames each.
  const write = (rows: number) => {
    for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(3_000, i % 251));
  };
  /** Rows until the WAL file has grown by `frames` (while nothing restarts it); returns the rows. */
  const writeFrames = (frames: number) => {
    const until = walFrames(path) + frames;
    let rows = 0;
    while (walFrames(path) < until) {
      write(1);
      rows += 1;
      // A row is a few frames: a WAL that stopped growing was started over by a checkpoint.
      if (rows > frames) throw new Error(`the WAL stopped growing at ${walFrames(path)} frames: something checkpointed it`);
    }
    return rows;
  };
  return { db, path, write, writeFrames };
}

function checkpointer(db: Db, opts: Parameters<typeof startWalCheckpointer>[1]): WalCheckpointer {
  const cp = startWalCheckpointer(db, opts);
  open.find((o) => o.db === db)!.cp = cp;
  return cp;
}

/** Frames in the WAL now, as another connection sees it (its own PASSIVE checkpoint reports them). */
function framesInWal(path: string): number {
  const other = new Database(path);
  try {
    const [r] = other.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    return r!.log;
  } finally {
    other.close();
  }
}

describe('SQLite checkpoints (8.6)', () => {
  it('when the service writes past SQLite’s 1000-page auto-checkpoint, then its own connection runs no checkpoint: the WAL keeps every frame until the worker copies them', async () => {
    const { db, path, writeFrames } = database();
    const cp = checkpointer(db, { everyMs: 3_600_000 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    writeFrames(3_000);
    // With SQLite's own auto-checkpoint the WAL would have started over at about 1,000 frames.
    expect(walFrames(path)).toBeGreaterThanOrEqual(3_000);
    await cp.passNow();
    expect(cp.stats.passive).toBe(1);
    expect(cp.stats.lastLogFrames).toBeGreaterThanOrEqual(3_000);
    expect(cp.stats.lastCheckpointedFrames).toBe(cp.stats.lastLogFrames);
    expect(cp.stats.restarts).toBe(0);
  });

  it('when the WAL has reached its bound, then the serving connection restarts it once and the next writes start it from its beginning', async () => {
    const { db, path, write, writeFrames } = database();
    const cp = checkpointer(db, { everyMs: 3_600_000, restartFrames: 2_000 });
    let rows = writeFrames(1_500);
    await cp.passNow();
    expect(cp.stats.restarts).toBe(0);
    rows += writeFrames(1_000);
    await cp.passNow();
    expect(cp.stats.restarts).toBe(1);
    write(10);
    // Without the restart the WAL would hold its 2,500 frames and these rows' few dozen.
    expect(framesInWal(path)).toBeLessThan(100);
    expect(db.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(rows + 10);
  });

  it('when another connection is reading as a restart falls due, then the serving connection does not wait for it: the restart is counted busy and retried later', async () => {
    const { db, path, writeFrames } = database();
    // A wait would be this long: the test would time out.
    db.pragma('busy_timeout = 120000');
    const cp = checkpointer(db, { everyMs: 3_600_000, restartFrames: 1_000 });
    writeFrames(600);
    const reader = new Database(path, { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM filler').get();
      writeFrames(600);
      await cp.passNow();
      expect(cp.stats.restarts).toBe(0);
      expect(cp.stats.restartsBusy).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(120_000);
      reader.exec('COMMIT');
    } finally {
      reader.close();
    }
    await cp.passNow();
    expect(cp.stats.restarts).toBe(1);
  }, 20_000);

  it('when the service writes without pause, then the worker keeps the WAL bounded on its own, reusing the file', async () => {
    const { db, path, write } = database();
    const restartFrames = 1_000;
    const cp = checkpointer(db, { everyMs: 5, restartFrames });
    await cp.ready;
    let written = 0;
    // Writes in rounds, yielding to the event loop between them as a service does, until the
    // worker's own timer has had the WAL restarted six times (or far more than that was written).
    while (cp.stats.restarts < 6 && written < 100 * restartFrames) {
      write(20);
      written += 20;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(cp.stats.restarts).toBeGreaterThanOrEqual(6);
    expect(db.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(written);
    // The same rows into a file that is never checkpointed: every frame those commits wrote.
    const reference = database();
    reference.db.pragma('wal_autocheckpoint = 0');
    reference.write(written);
    const allFrames = walFrames(reference.path);
    // Frames compared with frames, so the test does not depend on how fast the worker keeps up.
    // Started over from its beginning at each restart, the file is only as long as the longest
    // stretch between two restarts; each restart ended a stretch of restartFrames or more, so the
    // file holds at least that many frames fewer for every restart but one. A file appended to
    // for ever would hold them all.
    expect(walFrames(path)).toBeLessThanOrEqual(allFrames - (cp.stats.restarts - 1) * restartFrames);
  });

  it('when the checkpointer is stopped before the file closes, then the serving connection is the last one: it checkpoints the rest and removes the WAL', async () => {
    const { db, path, write } = database();
    const cp = checkpointer(db, { everyMs: 10 });
    write(1_000);
    await cp.passNow();
    write(500);
    await cp.stop();
    const passes = cp.stats.passive;
    await new Promise((r) => setTimeout(r, 50));
    expect(cp.stats.passive).toBe(passes);
    expect(existsSync(`${path}-wal`)).toBe(true);
    db.close();
    // A connection still open in the worker would have kept the WAL in place.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const again = new Database(path, { readonly: true });
    try {
      expect(again.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(1_500);
    } finally {
      again.close();
    }
  });

  it('when the worker cannot run, then it is reported and the serving connection checkpoints on its own again', async () => {
    const { db, path } = database();
    // The worker opens the file by name (it must exist): gone, so its thread ends at once.
    unlinkSync(path);
    const reported = new Promise<string>((resolve) => checkpointer(db, { onError: resolve }));
    expect(await reported).toMatch(/WAL checkpointer stopped/);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it('when asked for an in-memory database, then it refuses (there is no WAL)', () => {
    const db = new Database(':memory:');
    try {
      expect(() => startWalCheckpointer(db)).toThrow(/in-memory/);
    } finally {
      db.close();
    }
  });
});
