import type { PgClient, PgPool } from '../db/pg.js';
import { pauseEventColumns } from '../pause/pause.rows.js';
import { OUTBOX_COLUMNS, toQueued, type ClaimedRow } from './outbox.rows.js';
import type { NewDelivery, OutboxStore, QueuedDelivery, Settlement } from './outbox.store.js';

/**
 * The outbox on PostgreSQL (migrations-pg/085; docs/http.md §11). The claim is one statement with
 * `FOR UPDATE SKIP LOCKED`, so senders on several instances claiming at once get disjoint
 * deliveries, and a lease bounds how long a dead sender's claim holds them: each delivery is sent
 * once per attempt, not once per instance. A row whose earlier sibling (same order key) is still
 * in the outbox, leased or not, is not claimable, so one request's deliveries keep their order.
 */
export class PgOutboxStore implements OutboxStore {
  constructor(private readonly pool: PgPool) {}

  async claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<QueuedDelivery[]> {
    const r = await this.pool.query<ClaimedRow>(
      `WITH claimed AS (
         UPDATE outbox o SET lease_owner = $1, lease_until = $3, attempts = o.attempts + 1
           FROM (SELECT d.id FROM outbox d
                  WHERE d.due_at <= $2 AND (d.lease_until IS NULL OR d.lease_until <= $2)
                    AND (d.order_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.order_key = d.order_key AND p.id < d.id))
                  ORDER BY d.due_at, d.id LIMIT $4
                  FOR UPDATE SKIP LOCKED) due
          WHERE o.id = due.id
          RETURNING ${OUTBOX_COLUMNS})
       SELECT c.*, ${pauseEventColumns('e')}
         FROM claimed c LEFT JOIN pause_events e ON e.id = c.event_id
        ORDER BY c.row_id`,
      [owner, now, leaseUntil, limit],
    );
    return r.rows.map(toQueued);
  }

  async settle(owner: string, s: Settlement): Promise<void> {
    const owned = 'WHERE id = $1 AND lease_owner = $2 AND attempts = $3';
    if (s.kind === 'done') await this.pool.query(`DELETE FROM outbox ${owned}`, [s.rowId, owner, s.attempts]);
    else
      await this.pool.query(`UPDATE outbox SET due_at = $4, lease_owner = NULL, lease_until = NULL ${owned}`, [
        s.rowId,
        owner,
        s.attempts,
        Math.ceil(s.dueAt), // BIGINT: a backoff may carry a fraction of a millisecond
      ]);
  }

  async count(): Promise<number> {
    const r = await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM outbox');
    return r.rows[0]!.n;
  }
}

/**
 * Writes a statusCallbackUrl delivery on the outbound store's transaction connection
 * (docs/http.md §9.6): it commits or rolls back with the change it reports.
 */
export async function queueDelivery(c: PgClient, d: NewDelivery): Promise<void> {
  await c.query('INSERT INTO outbox (type, url, delivery_id, body, order_key) VALUES ($1, $2, $3, $4, $5)', [d.type, d.url, d.id, d.body, d.orderKey]);
}
