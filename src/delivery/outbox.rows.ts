import { toPauseEvent, type PauseEventRow } from '../pause/pause.rows.js';
import type { CallbackType, QueuedDelivery } from './outbox.store.js';

/**
 * A claimed `outbox` row as both engines return it (migration 085), joined to its pause event for
 * a change notification (the event's columns are NULL for a statusCallbackUrl delivery), and its
 * mapping to a QueuedDelivery. The event's row is read as the pause stores read it (pause.rows.ts).
 */
export type ClaimedRow = {
  row_id: number;
  type: 'pause.changed' | CallbackType;
  attempts: number;
  name: string | null;
  url: string | null;
  delivery_id: string | null;
  body: string | null;
} & { [K in keyof PauseEventRow]: PauseEventRow[K] | null };

/** The outbox row's own columns of a claim, from table alias `o` (`row_id`: the event has an `id` too). */
export const OUTBOX_COLUMNS = 'o.id AS row_id, o.type, o.attempts, o.name, o.url, o.delivery_id, o.body, o.event_id';

export function toQueued(r: ClaimedRow): QueuedDelivery {
  const claim = { rowId: r.row_id, attempts: r.attempts };
  if (r.type !== 'pause.changed') return { ...claim, type: r.type, url: r.url!, id: r.delivery_id!, body: r.body! };
  return { ...claim, type: 'pause.changed', name: r.name, event: toPauseEvent(r as PauseEventRow) };
}
