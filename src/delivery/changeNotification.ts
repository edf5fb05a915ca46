import { iso } from '../clock.js';
import type { PauseChangeEvent } from '../events/bus.js';
import type { QueuedChange } from './outbox.store.js';

/**
 * The change notification of a committed pause change, as POSTed to EVENTS_WEBHOOK_URL
 * (docs/http.md §11): built when it is sent from the pause event its outbox row names. Its `id`
 * (`{stage}-{event id}`) is the same for every attempt.
 */
export interface ChangeNotification extends PauseChangeEvent {
  id: string;
  type: 'pause.changed';
}

export function notificationOf(q: QueuedChange): ChangeNotification {
  const e = q.event;
  return {
    id: `${e.stage}-${e.id}`,
    type: 'pause.changed',
    stage: e.stage,
    at: iso(e.at),
    cli: e.cli,
    name: q.name,
    pause: e.pause,
    reason: e.reason,
    source: e.source,
    callId: e.callId,
  };
}
