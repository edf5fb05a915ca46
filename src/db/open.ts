import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { hashSecurityId } from '../outbound/securityId.js';

export type Db = Database.Database;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Open the database with the pragmas the service relies on. better-sqlite3 is synchronous, so a
 * statement or a `db.transaction()` runs to completion before any other request's code: each
 * state change is atomic without a JavaScript lock. WAL + synchronous=NORMAL keeps every
 * committed transaction across a process crash or SIGKILL (only an OS crash/power loss can
 * roll back the last commits). The service checkpoints from a worker thread rather than in
 * SQLite's auto-checkpoint inside a commit (src/db/walCheckpointer.ts, docs/http.md §8.6).
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  // For migration 055 (security IDs stored as their hash), docs/http.md §7.4.
  db.function('sha256_hex', { deterministic: true }, (text: unknown) => hashSecurityId(String(text)));
  return db;
}

/** Apply `src/db/migrations/NNN_name.sql` in order, each once, each in its own transaction. */
export function migrate(db: Db, dir = MIGRATIONS_DIR): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  )`);
  const files = readdirSync(dir).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as string[]);
  const done: string[] = [];
  for (const file of files) {
    if (applied.has(file)) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    // IMMEDIATE: two processes starting at once cannot both apply the same migration.
    db.transaction(() => {
      const again = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(file);
      if (again) return;
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version) VALUES (?)').run(file);
      done.push(file);
    }).immediate();
  }
  return done;
}
