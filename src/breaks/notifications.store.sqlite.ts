import type { Db } from '../db/open.js';
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
  pause: number;
  reason: string | null;
  source: PauseSource;
  call_id: string | null;
  prev_pause: number;
  prev_reason: string | null;
  prev_since: number | null;
}

/** The notification outbox on SQLite (migration 070). */
export class SqliteNotificationStore implements NotificationStore {
  private readonly claimTx;
  private readonly doneStmt;
  private readonly retryStmt;
  private readonly countStmt;

  constructor(db: Db) {
    const claimStmt = db.prepare<{ owner: string; now: number; leaseUntil: number; limit: number }, { event_id: number; name: string | null; attempts: number }>(
      `UPDATE event_outbox SET lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1
       WHERE event_id IN (
         SELECT event_id FROM event_outbox
         WHERE due_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
         ORDER BY due_at, event_id LIMIT @limit)
       RETURNING event_id, name, attempts`,
    );
    const eventStmt = db.prepare<[number], Omit<Row, 'event_id' | 'name' | 'attempts'>>(
      'SELECT stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since FROM pause_events WHERE id = ?',
    );
    this.claimTx = db.transaction((args: { owner: string; now: number; leaseUntil: number; limit: number }): Row[] =>
      claimStmt
        .all(args)
        .sort((a, b) => a.event_id - b.event_id)
        .map((c) => ({ ...c, ...eventStmt.get(c.event_id)! })),
    );
    const owned = 'WHERE event_id = @eventId AND lease_owner = @owner AND attempts = @attempts';
    this.doneStmt = db.prepare(`DELETE FROM event_outbox ${owned}`);
    this.retryStmt = db.prepare(`UPDATE event_outbox SET due_at = @dueAt, lease_owner = NULL, lease_until = NULL ${owned}`);
    this.countStmt = db.prepare('SELECT count(*) FROM event_outbox').pluck();
  }

  async claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<QueuedNotification[]> {
    return this.claimTx.immediate({ owner, now, leaseUntil, limit }).map((r) => ({
      name: r.name,
      attempts: r.attempts,
      event: {
        id: r.event_id,
        stage: r.stage,
        at: r.at,
        cli: r.cli,
        pause: r.pause === 1,
        reason: r.reason,
        source: r.source,
        callId: r.call_id,
        prevPause: r.prev_pause === 1,
        prevReason: r.prev_reason,
        prevSince: r.prev_since,
      },
    }));
  }

  async settle(owner: string, s: Settlement): Promise<void> {
    if (s.kind === 'done') this.doneStmt.run({ owner, eventId: s.eventId, attempts: s.attempts });
    else this.retryStmt.run({ owner, eventId: s.eventId, attempts: s.attempts, dueAt: s.dueAt });
  }

  async count(): Promise<number> {
    return this.countStmt.get() as number;
  }
}
