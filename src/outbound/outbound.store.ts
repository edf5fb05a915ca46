import type { Stage } from '../http/routing.js';

/**
 * The outbound feature's storage (docs/http.md §2.3, §2.4, §6 clients): clients, requests, their
 * contacts and the idempotency records of createOutbound. Every method is one whole state change
 * (or one read) run as one transaction inside the store, so services never open transactions and
 * each engine (outbound.store.sqlite.ts, outbound.store.pg.ts) keeps its own SQL.
 */

export type ContactStatus = 'scheduled' | 'dispatched' | 'failed' | 'cancelled';

export interface OutboundClient {
  stage: Stage;
  clientID: string;
  /** SHA-256 of the securityID (docs/http.md §7.4); the securityID itself is never stored. */
  securityIdHash: string;
  flows: string[];
  createdAt: number;
  updatedAt: number;
}

export interface NewRequest {
  stage: Stage;
  reqID: string;
  clientID: string;
  flowID: string;
  phononUUID: string;
  scheduledAt: number;
  createdAt: number;
  numbers: string[];
}

export interface OutboundRequest {
  stage: Stage;
  reqID: string;
  clientID: string;
  flowID: string;
  phononUUID: string;
  scheduledAt: number;
  createdAt: number;
  cancelledAt: number | null;
}

export interface ContactView {
  number: string;
  status: ContactStatus;
  attempts: number;
  lastError: string | null;
}

/** A request as its client sees it: the request and its contacts in order. */
export interface RequestState {
  request: OutboundRequest;
  contacts: ContactView[];
}

/** A contact claimed by the scheduler; `attempts` already counts this attempt. */
export interface ClaimedContact {
  stage: Stage;
  reqID: string;
  /** The contact's position in its request (with stage and reqID, its identity). */
  seq: number;
  number: string;
  attempts: number;
  dueAt: number;
  idempotencyKey: string;
}

/** What a dispatch attempt came to, applied only while the claim is still this attempt's. */
export type Completion =
  | { kind: 'dispatched'; contact: ClaimedContact; at: number }
  | { kind: 'retry'; contact: ClaimedContact; error: string; dueAt: number }
  | { kind: 'failed'; contact: ClaimedContact; error: string };

export interface StoredResponse {
  status: number;
  body: Record<string, unknown>;
}

/** An Idempotency-Key under its scope (one client's createOutbound calls). */
export interface IdempotencyKey {
  scope: string;
  key: string;
}

/** Idempotency records live 24 h (docs/http.md §2.3). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface OutboundStore {
  getClient(stage: Stage, clientID: string): Promise<OutboundClient | undefined>;

  /** The stage's clients ordered by clientID (docs/http.md §8.4). */
  listClients(stage: Stage): Promise<OutboundClient[]>;

  /** Delete a client; false when there was none. Its requests are kept (docs/http.md §8.4). */
  deleteClient(stage: Stage, clientID: string): Promise<boolean>;

  /** Create or replace a client; `created` when it is new. `securityIdHash` from hashSecurityId(). */
  putClient(
    stage: Stage,
    clientID: string,
    securityIdHash: string,
    flows: string[],
    now: number,
  ): Promise<{ created: boolean; client: OutboundClient }>;

  /** The first response stored under this key within 24 h of `now`, if any. */
  replay(stage: Stage, idem: IdempotencyKey, now: number): Promise<StoredResponse | undefined>;

  /**
   * Store the request, its contacts (each due at `scheduledAt`, its idempotency key
   * `{reqID}-{seq}`) and, with a key, the response, atomically. When a live record for the key
   * exists (another call won the race), nothing is stored and that call's response is returned;
   * the caller compares identity with `response` to know which happened.
   */
  createRequest(req: NewRequest, idem: IdempotencyKey | undefined, response: StoredResponse): Promise<StoredResponse>;

  getRequest(stage: Stage, reqID: string): Promise<OutboundRequest | undefined>;

  /** The request and its contacts, read together. */
  requestState(stage: Stage, reqID: string): Promise<RequestState | undefined>;

  /**
   * Cancel what is still scheduled of this client's request, and read it back, in one transaction.
   * undefined when there is no such request or it is another client's (nothing changes). A
   * request with nothing left to cancel keeps its status; contacts in flight are cancelled too.
   */
  cancelRequest(stage: Stage, reqID: string, clientID: string, now: number): Promise<RequestState | undefined>;

  /**
   * Claim up to `limit` due contacts (status scheduled, due, lease free or run out, not already
   * this owner's) under a lease until `leaseUntil`, counting an attempt each, oldest due first.
   * Concurrent claims never return the same contact.
   */
  claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedContact[]>;

  /** Apply dispatch outcomes in one transaction; an outcome whose claim was lost changes nothing. */
  complete(owner: string, done: Completion[]): Promise<void>;
}
