import type { PauseEventRecord } from '../pause/pause.store.js';

/**
 * The outbox of every signed delivery (docs/http.md §9.6, §11; table `outbox`, migration 085).
 * A state change writes its delivery in its own transaction: a pause change its change
 * notification (`PauseChange.notify`), an outbound contact's end and a request's completion their
 * statusCallbackUrl deliveries (the outbound stores, with `NewDelivery`). Senders on any instance
 * claim due deliveries under a lease, so each goes out from one sender at a time, and settle each
 * attempt. Deliveries of one order key (an outbound request) are claimed one at a time, in the
 * order they were written. Times here are real time (ms since the epoch).
 * Engines: outbox.store.sqlite.ts, outbox.store.pg.ts; shared rows: outbox.rows.ts.
 */

interface Claim {
  /** The outbox row, the handle of `settle`. */
  rowId: number;
  /** Attempts so far, this claim's included. */
  attempts: number;
}

/** A change notification: its body is built from the pause event when it is sent (changeNotification.ts). */
export interface QueuedChange extends Claim {
  type: 'pause.changed';
  event: PauseEventRecord;
  /** The agent's name at the change. */
  name: string | null;
}

/** A statusCallbackUrl delivery, its body fixed when it was written (src/outbound/statusCallbacks.ts). */
export interface QueuedCallback extends Claim {
  type: CallbackType;
  url: string;
  /** `X-Central-Event-Id`, the body's `id`. */
  id: string;
  body: string;
}

export type CallbackType = 'outbound.contact' | 'outbound.completed';

export type QueuedDelivery = QueuedChange | QueuedCallback;

/** A statusCallbackUrl delivery to write in the transaction of the change it reports. */
export interface NewDelivery {
  type: CallbackType;
  url: string;
  id: string;
  body: string;
  /** Deliveries with one key go out one at a time, in the order they were written. */
  orderKey: string;
}

export type Settlement =
  /** Delivered, refused for good or given up: the delivery leaves the outbox. */
  | { kind: 'done'; rowId: number; attempts: number }
  /** Try again at `dueAt`. */
  | { kind: 'retry'; rowId: number; attempts: number; dueAt: number };

export interface OutboxStore {
  /**
   * Claim up to `limit` due deliveries (lease free or run out, and no earlier delivery of the same
   * order key still in the outbox), earliest due first and oldest first among those due together
   * (new ones are due at 0), returned oldest first, leased to `owner` until `leaseUntil`, counting
   * an attempt each. Concurrent claims never share one.
   */
  claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<QueuedDelivery[]>;
  /** Apply an attempt's outcome, only while the claim (owner and attempt) is still this one. */
  settle(owner: string, s: Settlement): Promise<void>;
  /** Deliveries in the outbox (due or not, claimed or not). */
  count(): Promise<number>;
}
