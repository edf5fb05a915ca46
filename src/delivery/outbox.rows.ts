import type { Stage } from '../http/routing.js';
import type { PauseSource } from '../pause/pause.store.js';
import type { CallbackType, QueuedDelivery } from './outbox.store.js';

/**
 * A claimed `outbox` row as both engines return it (migration 085), with the pause event's
 * columns for a change notification (NULL for a statusCallbackUrl delivery), and its mapping to
 * a QueuedDelivery. The engines differ only in booleans: SQLite returns 0/1, PostgreSQL true/false.
 */
export interface ClaimedRow {
  id: number;
  type: 'pause.changed' | CallbackType;
  attempts: number;
  name: string | null;
  url: string | null;
  delivery_id: string | null;
  body: string | null;
  event_id: number | null;
  stage: Stage | null;
  at: number | null;
  cli: string | null;
  pause: number | boolean | null;
  reason: string | null;
  source: PauseSource | null;
  call_id: string | null;
  prev_pause: number | boolean | null;
  prev_reason: string | null;
  prev_since: number | null;
}

/** What the claim returns of the outbox row itself. */
export const OUTBOX_COLUMNS = 'id, type, attempts, name, url, delivery_id, body, event_id';
/** The pause event's columns read with a change notification (table alias `e`). */
export const EVENT_COLUMNS = 'e.stage, e.at, e.cli, e.pause, e.reason, e.source, e.call_id, e.prev_pause, e.prev_reason, e.prev_since';

const isSet = (v: number | boolean | null): boolean => v === true || v === 1;

export function toQueued(r: ClaimedRow): QueuedDelivery {
  const claim = { rowId: r.id, attempts: r.attempts };
  if (r.type !== 'pause.changed') return { ...claim, type: r.type, url: r.url!, id: r.delivery_id!, body: r.body! };
  return {
    ...claim,
    type: 'pause.changed',
    name: r.name,
    event: {
      id: r.event_id!,
      stage: r.stage!,
      at: r.at!,
      cli: r.cli!,
      pause: isSet(r.pause),
      reason: r.reason,
      source: r.source!,
      callId: r.call_id,
      prevPause: isSet(r.prev_pause),
      prevReason: r.prev_reason,
      prevSince: r.prev_since,
    },
  };
}
