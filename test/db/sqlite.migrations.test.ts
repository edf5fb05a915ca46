import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/db/open.js';

/** SQLite migrations that rebuild a table keep every row (src/db/migrations). */
const MIGRATIONS = join(import.meta.dirname, '../../src/db/migrations');

let dir: string | undefined;
let db: Db | undefined;
afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  db = dir = undefined;
});

/** A database migrated up to and including `last`, then the rest from the real directory. */
function migratedUpTo(last: string): { db: Db; rest: () => string[] } {
  dir = mkdtempSync(join(os.tmpdir(), 'cw-migrations-'));
  const before = join(dir, 'before');
  for (const f of readdirSync(MIGRATIONS).filter((f) => f <= last)) cpSync(join(MIGRATIONS, f), join(before, f));
  db = openDatabase(join(dir, 'db.sqlite'));
  migrate(db, before);
  return { db, rest: () => migrate(db!, MIGRATIONS) };
}

describe('migration 090: pause_events without AUTOINCREMENT', () => {
  it('when a database with events and queued notifications is migrated, then every event keeps its id, the notifications stay, and new ids follow the last', () => {
    const { db, rest } = migratedUpTo('085_outbox.sql');
    const event = db.prepare(
      `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
       VALUES ('test', ?, '+919879964805', ?, ?, 'webhook', NULL, ?, NULL, NULL)`,
    );
    for (let i = 0; i < 5; i++) event.run(1000 + i, i % 2 === 0 ? 1 : 0, i % 2 === 0 ? 'lunch' : null, i % 2 === 0 ? 0 : 1);
    db.prepare("INSERT INTO outbox (type, event_id, name, attempts, due_at) VALUES ('pause.changed', 2, 'Asha', 1, 7)").run();
    db.prepare("INSERT INTO outbox (type, event_id, name) VALUES ('pause.changed', 4, NULL)").run();
    db.prepare("INSERT INTO outbox (type, url, delivery_id, body, order_key) VALUES ('outbound.contact', 'https://example.com/cb', 'd1', '{}', 'r1')").run();
    const events = db.prepare('SELECT * FROM pause_events ORDER BY id').all();
    const outbox = db.prepare('SELECT * FROM outbox ORDER BY id').all();

    expect(rest()).toContain('090_pause_events_rowid.sql');
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'pause_events'").pluck().get()).not.toMatch(/AUTOINCREMENT/i);
    expect(db.prepare('SELECT * FROM pause_events ORDER BY id').all()).toEqual(events);
    expect(db.prepare('SELECT * FROM outbox ORDER BY id').all()).toEqual(outbox);
    // 091 then merged pause_events_stage_at and pause_events_break_ends into pause_events_by_time.
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'pause_events' ORDER BY name").pluck().all()).toEqual([
      'pause_events_by_time',
      'pause_events_stage_cli_at',
    ]);
    // The log is append-only: the next id follows the last one.
    expect(Number(event.run(2000, 1, null, 0).lastInsertRowid)).toBe(6);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // The outbox still refers to the events table: a notification of no event is refused.
    expect(() => db.prepare("INSERT INTO outbox (type, event_id) VALUES ('pause.changed', 999)").run()).toThrow(/FOREIGN KEY/);
  });
});
