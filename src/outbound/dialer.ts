import type { Logger } from '../observability/logger.js';

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
}

/**
 * `dispatched`: the dialer confirmed the call. `retry`: it may not have happened (5xx, timeout,
 * connection error) and may be tried again. `failed`: the dialer refused it for good (4xx).
 */
export type DialOutcome = { kind: 'dispatched' } | { kind: 'retry'; error: string } | { kind: 'failed'; error: string };

/** One attempt to hand a contact to the telephony platform; retries are the scheduler's job. */
export interface Dialer {
  /** `signal` aborts the attempt when the service must stop before the dialer answers. */
  dial(request: DialRequest, signal?: AbortSignal): Promise<DialOutcome>;
}

/** The built-in dialer (no DIALER_URL, and always on the `test` stage): confirms at once. */
export class RecordingDialer implements Dialer {
  constructor(private readonly logger: Logger) {}

  async dial(request: DialRequest): Promise<DialOutcome> {
    this.logger.debug({ obdReqID: request.obdReqID, attempt: request.attempt }, 'outbound contact recorded');
    return { kind: 'dispatched' };
  }
}
