import { randomUUID } from 'node:crypto';
import { iso } from '../clock.js';
import type { NewDelivery } from '../delivery/outbox.store.js';
import type { Stage } from '../http/routing.js';
import type { CallOutcome } from './dialer.js';
import type { ContactStatus, RequestState } from './outbound.store.js';

/**
 * createOutbound's `statusCallbackUrl` deliveries (docs/http.md §9.6): each contact's end, then
 * the request's completion, as the JSON bodies POSTed. The outbound stores write them to the
 * outbox (src/delivery/outbox.store.ts) in the very transaction that records the contact's final
 * state or marks the request completed; the one sender (src/delivery/sender.ts) signs and
 * delivers them. The id is drawn once here, so every attempt, on any instance and after any
 * restart, carries the same `X-Central-Event-Id`. One request's deliveries share an order key:
 * they go out one at a time, in the order they were written.
 */
export interface ContactEnd {
  number: string;
  status: ContactStatus;
  outcome: CallOutcome | null;
  durationSeconds: number | null;
}

const orderKey = (stage: Stage, reqID: string) => `${stage}/${reqID}`;

function delivery(type: NewDelivery['type'], url: string, stage: Stage, reqID: string, payload: Record<string, unknown>, at: number): NewDelivery {
  const id = randomUUID();
  return { type, url, id, orderKey: orderKey(stage, reqID), body: JSON.stringify({ id, type, stage, obdReqID: reqID, ...payload, at: iso(at) }) };
}

/** A contact's end: its final call outcome, a failed dial, `recorded`, or a dispatch with nothing awaited. */
export function contactEnded(stage: Stage, reqID: string, url: string, c: ContactEnd, at: number): NewDelivery {
  return delivery('outbound.contact', url, stage, reqID, { number: c.number, status: c.status, outcome: c.outcome, durationSeconds: c.durationSeconds }, at);
}

/** The request is done (docs/http.md §9.3): its status and every contact. */
export function requestCompleted({ request, contacts }: RequestState, at: number): NewDelivery {
  return delivery(
    'outbound.completed',
    request.statusCallbackUrl!,
    request.stage,
    request.reqID,
    {
      status: request.cancelledAt !== null ? 'cancelled' : 'done',
      contacts: contacts.map((c) => ({ number: c.number, status: c.status, outcome: c.outcome, durationSeconds: c.durationSeconds })),
    },
    at,
  );
}
