import { withTransaction, type PgPool } from '../db/pg.js';
import type { SessionStore } from './session.store.js';

/** Ended sessions on PostgreSQL (table revoked_sessions, migration 080); shared by every instance (docs/http.md §11). */
export class PgSessionStore implements SessionStore {
  constructor(private readonly pool: PgPool) {}

  async revoke(id: string, expiresAt: number, now: number): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await c.query('DELETE FROM revoked_sessions WHERE expires_at <= $1', [now]);
      await c.query('INSERT INTO revoked_sessions (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, expiresAt]);
    });
  }

  async isRevoked(id: string): Promise<boolean> {
    const r = await this.pool.query('SELECT 1 FROM revoked_sessions WHERE id = $1', [id]);
    return r.rowCount !== null && r.rowCount > 0;
  }
}
