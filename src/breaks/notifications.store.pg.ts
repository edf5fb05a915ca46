import type { PgPool } from '../db/pg.js';
import type { Stage } from '../http/routing.js';
import type { PauseSource } from '../pause/pause.store.js';
import type { NotificationStore, QueuedNotification, Settlement } from './notifications.store.js';

interface Row {
  event_id: number;
  name: string | null;
  attempts: number;
  stage: Stage;
  at: number;
  cli: string;
  pause: boolean;
  reason: string | null;
  source: PauseSource;
  call_id: string | null;
  prev_pause: boolean;
  prev_reason: string | null;
  prev_since: number | null;
}

/**
 * The notification outbox on PostgreSQL (migrations-pg/070; docs/http.md §11). The claim is one
 * statement with `FOR UPDATE SKIP LOCKED`, so senders on several instances claiming at once get
 * disjoint notifications, and a lease bounds how long a dead sender's claim holds them: each
 * event is sent once per attempt, not once per instance.
 */
export class PgNotificationStore implements NotificationStore {
  constructor(private readonly pool: PgPool) {}

  async claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<QueuedNotification[]> {
    const r = await this.pool.query<Row>(
      `WITH claimed AS (
         UPDATE event_outbox o SET lease_owner = $1, lease_until = $3, attempts = o.attempts + 1
           FROM (SELECT event_id FROM event_outbox
                  WHERE due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                  ORDER BY due_at, event_id LIMIT $4
                  FOR UPDATE SKIP LOCKED) due
          WHERE o.event_id = due.event_id
          RETURNING o.event_id, o.name, o.attempts)
       SELECT c.event_id, c.name, c.attempts, e.stage, e.at, e.cli, e.pause, e.reason, e.source, e.call_id,
              e.prev_pause, e.prev_reason, e.prev_since
         FROM claimed c JOIN pause_events e ON e.id = c.event_id
        ORDER BY c.event_id`,
      [owner, now, leaseUntil, limit],
    );
    return r.rows.map((row) => ({
      name: row.name,
      attempts: row.attempts,
      event: {
        id: row.event_id,
        stage: row.stage,
        at: row.at,
        cli: row.cli,
        pause: row.pause,
        reason: row.reason,
        source: row.source,
        callId: row.call_id,
        prevPause: row.prev_pause,
        prevReason: row.prev_reason,
        prevSince: row.prev_since,
      },
    }));
  }

  async settle(owner: string, s: Settlement): Promise<void> {
    const owned = 'WHERE event_id = $1 AND lease_owner = $2 AND attempts = $3';
    if (s.kind === 'done') await this.pool.query(`DELETE FROM event_outbox ${owned}`, [s.eventId, owner, s.attempts]);
    else
      await this.pool.query(`UPDATE event_outbox SET due_at = $4, lease_owner = NULL, lease_until = NULL ${owned}`, [
        s.eventId,
        owner,
        s.attempts,
        Math.ceil(s.dueAt), // BIGINT: a backoff may carry a fraction of a millisecond
      ]);
  }

  async count(): Promise<number> {
    const r = await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM event_outbox');
    return r.rows[0]!.n;
  }
}
