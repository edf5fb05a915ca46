import type { Db } from '../db/open.js';
import type { SessionStore } from './session.store.js';

/** Ended sessions on SQLite (table revoked_sessions, migration 080). */
export class SqliteSessionStore implements SessionStore {
  private readonly revokeTx;
  private readonly lookup;

  constructor(db: Db) {
    const prune = db.prepare('DELETE FROM revoked_sessions WHERE expires_at <= ?');
    const insert = db.prepare('INSERT INTO revoked_sessions (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING');
    this.lookup = db.prepare('SELECT 1 FROM revoked_sessions WHERE id = ?').pluck();
    this.revokeTx = db.transaction((id: string, expiresAt: number, now: number) => {
      prune.run(now);
      insert.run(id, expiresAt);
    });
  }

  async revoke(id: string, expiresAt: number, now: number): Promise<void> {
    this.revokeTx.immediate(id, expiresAt, now);
  }

  async isRevoked(id: string): Promise<boolean> {
    return this.lookup.get(id) !== undefined;
  }
}
