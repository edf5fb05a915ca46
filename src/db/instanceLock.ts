import Database from 'better-sqlite3';

/**
 * One service process per SQLite file (docs/http.md §8.1). A second process on the same file
 * would serve stale boards (the event bus lives in each process) and race the first one's
 * timers, so it must stop at start-up. The lock is SQLite's own: a small side database
 * `<DATABASE_PATH>.lock` opened in exclusive locking mode and written once, which keeps an
 * exclusive file lock for as long as the connection is open. The operating system drops that
 * lock when the process ends in any way (exit, crash, SIGKILL), so nothing stale is left behind:
 * the file may remain, the lock never does.
 */
export class InstanceLockedError extends Error {}

export interface InstanceLock {
  release(): void;
}

export function holdInstanceLock(databasePath: string): InstanceLock {
  if (databasePath === ':memory:') return { release() {} };
  const lockPath = `${databasePath}.lock`;
  const lock = new Database(lockPath, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.pragma('journal_mode = DELETE');
    lock.exec('CREATE TABLE IF NOT EXISTS instance (started_at TEXT NOT NULL)');
    lock.prepare('INSERT INTO instance (started_at) VALUES (?)').run(new Date().toISOString());
    // Keep one row: the table only exists to be written, which takes the exclusive lock.
    lock.exec('DELETE FROM instance WHERE rowid < (SELECT max(rowid) FROM instance)');
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY') || (e as { code?: string }).code?.startsWith('SQLITE_LOCKED')) {
      throw new InstanceLockedError(`another process is already serving DATABASE_PATH=${databasePath}; stop it first (lock: ${lockPath})`);
    }
    throw e;
  }
  return { release: () => lock.close() };
}
