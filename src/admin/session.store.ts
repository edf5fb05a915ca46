/**
 * Storage of ended supervisor sessions (docs/http.md §8.2): the id inside a signed session cookie,
 * recorded by POST /admin/logout, so every instance refuses that cookie from then on.
 * Engines: session.store.sqlite.ts, session.store.pg.ts.
 */
export interface SessionStore {
  /**
   * Record the session `id` as ended until `expiresAt` (epoch ms, the cookie's own expiry), and
   * delete the records whose expiry is at or before `now` (their cookies are refused anyway).
   * Revoking an id twice is fine.
   */
  revoke(id: string, expiresAt: number, now: number): Promise<void>;
  /** Whether the session `id` was ended: one primary-key lookup. */
  isRevoked(id: string): Promise<boolean>;
}
