import type { Db } from '../db/open.js';
import { pauseEventColumns } from '../pause/pause.rows.js';
import { OUTBOX_COLUMNS, toQueued, type ClaimedRow } from './outbox.rows.js';
import type { NewDelivery, OutboxStore, QueuedDelivery, Settlement } from './outbox.store.js';

/** Claimable at @now: due, lease free or run out, and no earlier row of its order key left. */
const CLAIMABLE = `o.due_at <= @now AND (o.lease_until IS NULL OR o.lease_until <= @now)
  AND (o.order_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.order_key = o.order_key AND p.id < o.id))`;

/** The outbox on SQLite (migration 085). */
export class SqliteOutboxStore implements OutboxStore {
  private readonly claimTx;
  private readonly doneStmt;
  private readonly retryStmt;
  private readonly countStmt;

  constructor(db: Db) {
    const claimStmt = db.prepare<{ owner: string; now: number; leaseUntil: number; limit: number }, { id: number }>(
      `UPDATE outbox SET lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1
       WHERE id IN (SELECT o.id FROM outbox o WHERE ${CLAIMABLE} ORDER BY o.due_at, o.id LIMIT @limit)
       RETURNING id`,
    );
    const rowStmt = db.prepare<[number], ClaimedRow>(
      `SELECT ${OUTBOX_COLUMNS}, ${pauseEventColumns('e')}
       FROM outbox o LEFT JOIN pause_events e ON e.id = o.event_id WHERE o.id = ?`,
    );
    this.claimTx = db.transaction((args: { owner: string; now: number; leaseUntil: number; limit: number }): ClaimedRow[] =>
      claimStmt
        .all(args)
        .map((c) => c.id)
        .sort((a, b) => a - b)
        .map((id) => rowStmt.get(id)!),
    );
    const owned = 'WHERE id = @rowId AND lease_owner = @owner AND attempts = @attempts';
    this.doneStmt = db.prepare(`DELETE FROM outbox ${owned}`);
    this.retryStmt = db.prepare(`UPDATE outbox SET due_at = @dueAt, lease_owner = NULL, lease_until = NULL ${owned}`);
    this.countStmt = db.prepare('SELECT count(*) FROM outbox').pluck();
  }

  async claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<QueuedDelivery[]> {
    return this.claimTx.immediate({ owner, now, leaseUntil, limit }).map(toQueued);
  }

  async settle(owner: string, s: Settlement): Promise<void> {
    if (s.kind === 'done') this.doneStmt.run({ owner, rowId: s.rowId, attempts: s.attempts });
    else this.retryStmt.run({ owner, rowId: s.rowId, attempts: s.attempts, dueAt: s.dueAt });
  }

  async count(): Promise<number> {
    return this.countStmt.get() as number;
  }
}

/**
 * Writes statusCallbackUrl deliveries, for the outbound store to call inside its own
 * transactions (docs/http.md §9.6): the delivery commits or rolls back with the change it reports.
 */
export function prepareQueueDelivery(db: Db): (d: NewDelivery) => void {
  const stmt = db.prepare('INSERT INTO outbox (type, url, delivery_id, body, order_key) VALUES (@type, @url, @id, @body, @orderKey)');
  return (d) => void stmt.run(d);
}
