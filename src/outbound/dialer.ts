import type { Logger } from '../observability/logger.js';

/** createOutbound's `category` (docs/http.md §9), kept with the request and passed to the dialer. */
export type Category = 'transactional' | 'service' | 'promotional';
export const CATEGORIES: readonly Category[] = ['transactional', 'service', 'promotional'];

/** What the dialer receives for one contact (the JSON body of the HTTP dialer's POST). */
export interface DialRequest {
  obdReqID: string;
  obdPhononUUID: string;
  clientID: string;
  flowID: string;
  number: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The same for every attempt of one contact, so the platform can de-duplicate. */
  idempotencyKey: string;
  /** The contact's keys (docs/http.md §9): Studio `Parameters`, Exotel `CustomField`, answer-URL query. */
  keys: Record<string, string>;
  category: Category;
  /** The flow's platform target from the client record: a Studio Flow SID, an answer URL or an Exotel app id. */
  target?: string;
  /** The client's caller ID (the number the customer sees). */
  callerId?: string;
  /** Where the platform posts this call's final status (PUBLIC_BASE_URL + /outbound/{stage}/status/{key}). */
  statusCallbackUrl?: string;
}

/**
 * `dispatched`: the dialer confirmed the call; `callId` is the platform's id for it, and `awaits`
 * says how its outcome comes back (a status callback, or polling the Studio Execution). `throttled`:
 * the platform said "too many requests" (HTTP 429, Plivo 5030): try again after `retryAfterMs`,
 * which is not a failed attempt. `retry`: it may not have happened (5xx, timeout, connection
 * error) and may be tried again. `failed`: the dialer refused it for good (4xx).
 */
export type DialOutcome =
  | { kind: 'dispatched'; callId?: string; awaits?: 'callback' | 'poll' }
  /** The recording dialer: nothing was dialled (docs/http.md §8: `recorded` on prod). */
  | { kind: 'recorded' }
  | { kind: 'throttled'; retryAfterMs: number; error: string }
  | { kind: 'retry'; error: string }
  | { kind: 'failed'; error: string };

/** A call's final outcome as the platform reports it (docs/http.md §9). */
export type CallOutcome = 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
export const CALL_OUTCOMES: readonly CallOutcome[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

/** What polling a call that has no status callback (a Twilio Studio Execution) found. */
export type PollResult = { kind: 'ended'; outcome: CallOutcome } | { kind: 'active' } | { kind: 'retry'; error: string };

/** One attempt to hand a contact to the telephony platform; retries are the scheduler's job. */
export interface Dialer {
  /** `signal` aborts the attempt when the service must stop before the dialer answers. */
  dial(request: DialRequest, signal?: AbortSignal): Promise<DialOutcome>;
  /** For calls dispatched with `awaits: 'poll'`: read the platform's record of the call once. */
  poll?(target: string, callId: string, signal?: AbortSignal): Promise<PollResult>;
}

/** The built-in dialer (DIALER=record, and always on the `test` stage): confirms at once. */
export class RecordingDialer implements Dialer {
  constructor(private readonly logger: Logger) {}

  async dial(request: DialRequest): Promise<DialOutcome> {
    this.logger.debug({ obdReqID: request.obdReqID, attempt: request.attempt }, 'outbound contact recorded');
    return { kind: 'recorded' };
  }
}
