import type { PauseEventRecord } from '../pause/pause.store.js';

/**
 * The outbox of change notifications (docs/http.md §11, table event_outbox). A pause change
 * queues its notification in its own transaction (`PauseChange.notify`); senders on any instance
 * claim due ones under a lease, so each event goes out from one sender at a time, and settle each
 * attempt. Times here are real time (ms since the epoch).
 * Engines: notifications.store.sqlite.ts, notifications.store.pg.ts.
 */

export interface QueuedNotification {
  event: PauseEventRecord;
  /** The agent's name at the change. */
  name: string | null;
  /** Attempts so far, this claim's included. */
  attempts: number;
}

export type Settlement =
  /** Delivered, refused for good or given up: the notification leaves the outbox. */
  | { kind: 'done'; eventId: number; attempts: number }
  /** Try again at `dueAt`. */
  | { kind: 'retry'; eventId: number; attempts: number; dueAt: number };

export interface NotificationStore {
  /**
   * Claim up to `limit` due notifications (lease free or run out), earliest due first and oldest
   * event first among those due together (new ones are due at 0), returned oldest event first, leased to
   * `owner` until `leaseUntil`, counting an attempt each. Concurrent claims never share one.
   */
  claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<QueuedNotification[]>;
  /** Apply an attempt's outcome, only while the claim (owner and attempt) is still this one. */
  settle(owner: string, s: Settlement): Promise<void>;
  /** Notifications in the outbox (due or not, claimed or not). */
  count(): Promise<number>;
}
