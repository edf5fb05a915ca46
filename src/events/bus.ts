import { EventEmitter } from 'node:events';
import type { Stage } from '../http/routing.js';

/**
 * In-process notifications of committed state changes, for listeners that must never slow down
 * or fail the change itself (the supervisor board's SSE stream, the events webhook). Emitted
 * after the database commit; a listener's error is logged by the emitter's owner, not thrown.
 */
export interface PauseChangeEvent {
  stage: Stage;
  /** ISO-8601 time of the change (also the new `since`). */
  at: string;
  cli: string;
  name: string | null;
  pause: boolean;
  reason: string | null;
  source: 'ivr' | 'webhook' | 'admin' | 'auto';
  callId: string | null;
}

/** An agent was registered, renamed (any profile change) or removed; the board reloads its data. */
export interface AgentChangeEvent {
  stage: Stage;
  /** The agent, or null when an import changed several at once. */
  cli: string | null;
  change: 'saved' | 'deleted' | 'imported';
}

interface BusEvents {
  pauseChange: [PauseChangeEvent];
  agentChange: [AgentChangeEvent];
  /**
   * A committed change on this instance may have written a delivery to the outbox: a pause change's
   * notification or a statusCallbackUrl delivery (docs/http.md §9.6). Other instances' senders find
   * their rows by polling, so peers' changes are not re-emitted as this.
   */
  deliveryQueued: [];
}

export class EventBus extends EventEmitter<BusEvents> {}
