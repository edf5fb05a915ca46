import type { Stage } from '../http/routing.js';

/**
 * The outbound feature's storage (docs/http.md §2.3, §2.4, §6 clients): clients, requests, their
 * contacts and the idempotency records of createOutbound. Every method is one whole state change
 * (or one read) run as one transaction inside the store, so services never open transactions and
 * each engine (outbound.store.sqlite.ts, outbound.store.pg.ts) keeps its own SQL.
 */

import type { CallOutcome, Category } from './dialer.js';

/**
 * docs/http.md §9 added (migrations 070_outbound_platforms.sql; PostgreSQL twin in
 * migrations-pg/070): client settings (callerId, maxConcurrent, callsPerSecond, flow targets),
 * suppression lists, request category / statusCallbackUrl / expiresAt / pause, per-contact keys,
 * the call's outcome and duration, busy/no-answer redials, and the platform call in progress
 * (callback key, call id, awaiting callback|poll). The methods below marked §9 are new.
 */
export type ContactStatus = 'scheduled' | 'dispatched' | 'recorded' | 'failed' | 'cancelled' | 'suppressed' | 'expired';

/** A client's outbound settings (docs/http.md §9); the defaults are 10 in flight, 1 call a second. */
export interface ClientSettings {
  callerId: string | null;
  maxConcurrent: number;
  callsPerSecond: number;
  /** flowID → platform target (Studio Flow SID, answer URL or Exotel app id). */
  targets: Record<string, string>;
}

export const DEFAULT_CLIENT_SETTINGS: ClientSettings = { callerId: null, maxConcurrent: 10, callsPerSecond: 1, targets: {} };

export interface OutboundClient {
  stage: Stage;
  clientID: string;
  /** SHA-256 of the securityID (docs/http.md §7.4); the securityID itself is never stored. */
  securityIdHash: string;
  flows: string[];
  createdAt: number;
  updatedAt: number;
  settings: ClientSettings;
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
  /** Per-contact keys, in the order of `numbers` (docs/http.md §9); none when absent. */
  keys?: Record<string, string>[];
  category?: Category;
  statusCallbackUrl?: string | null;
  /** A contact not dialled by then is `expired`. */
  expiresAt?: number | null;
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
  category: Category;
  statusCallbackUrl: string | null;
  expiresAt: number | null;
  pausedAt: number | null;
}

export interface ContactView {
  number: string;
  status: ContactStatus;
  attempts: number;
  lastError: string | null;
  outcome: CallOutcome | null;
  durationSeconds: number | null;
  /** A call was placed and its outcome is awaited until then (null: nothing awaited). */
  awaitingUntil: number | null;
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
  clientID: string;
  keys: Record<string, string>;
  /** This attempt's secret for POST /outbound/{stage}/status/{key} (docs/http.md §9). */
  callbackKey: string;
}

/** What a dispatch attempt came to, applied only while the claim is still this attempt's. */
export type Completion =
  /** With `awaits`, the platform reports the outcome later: by callback, or by polling from `pollAt`, until `awaitingUntil`. */
  | { kind: 'dispatched'; contact: ClaimedContact; at: number; callId?: string; awaits?: 'callback' | 'poll'; awaitingUntil?: number; pollAt?: number }
  /** The recording dialer on prod: nothing was dialled (docs/http.md §8). */
  | { kind: 'recorded'; contact: ClaimedContact; at: number }
  /** `uncounted`: a platform's "too many requests", which does not use up an attempt (docs/http.md §9). */
  | { kind: 'retry'; contact: ClaimedContact; error: string; at: number; dueAt: number; uncounted?: boolean }
  | { kind: 'failed'; contact: ClaimedContact; error: string; at: number };

/** What `claim` may take from: one stage's contacts (per-client claims are `claimForClients`). */
export interface ClaimScope {
  stage: Stage;
}

/** Due work of one client, for per-client pacing (docs/http.md §9). */
export interface DueClient {
  stage: Stage;
  clientID: string;
  settings: ClientSettings;
  /** Calls of this client in flight now (being dialled, or placed and awaiting their outcome). */
  inFlight: number;
}

/** A call's final status as the platform reported it. */
export interface OutcomeReport {
  outcome: CallOutcome;
  durationSeconds: number | null;
  at: number;
  /** For busy/no-answer: redial at this time when redials are left (docs/http.md §9); else final. */
  redial?: { maxRedials: number; dueAt: number };
}

/** What recording an outcome did; `final` is the contact's last word (notify the client). */
export type OutcomeResult =
  | { kind: 'unknown' }
  | { kind: 'recorded'; final: boolean; stage: Stage; reqID: string; number: string; outcome: CallOutcome; durationSeconds: number | null };

/** A contact placed as a Studio Execution whose outcome is due to be read back. */
export interface PollDue {
  stage: Stage;
  callbackKey: string;
  callId: string;
  flowID: string;
  clientID: string;
}

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

  /**
   * Create or replace a client; `created` when it is new. `securityIdHash` from hashSecurityId().
   * `settings` (§9) default to DEFAULT_CLIENT_SETTINGS.
   */
  putClient(
    stage: Stage,
    clientID: string,
    securityIdHash: string,
    flows: string[],
    now: number,
    settings?: ClientSettings,
  ): Promise<{ created: boolean; client: OutboundClient }>;

  /** §9: add numbers to a client's suppression list; how many were not on it yet. */
  suppress(stage: Stage, clientID: string, numbers: string[], now: number): Promise<number>;
  /** §9: take a number off the list; false when it was not on it. */
  unsuppress(stage: Stage, clientID: string, number: string): Promise<boolean>;
  /** §9: which of these numbers are on the client's list. */
  suppressedAmong(stage: Stage, clientID: string, numbers: string[]): Promise<Set<string>>;

  /** The first response stored under this key within 24 h of `now`, if any. */
  replay(stage: Stage, idem: IdempotencyKey, now: number): Promise<StoredResponse | undefined>;

  /**
   * Store the request, its contacts (each due at `scheduledAt`, its idempotency key
   * `{reqID}-{seq}`) and, with a key, the response, atomically. When a live record for the key
   * exists (another call won the race), nothing is stored and that call's response is returned;
   * the caller compares identity with `response` to know which happened.
   */
  createRequest(req: NewRequest, idem: IdempotencyKey | undefined, response: StoredResponse): Promise<StoredResponse>;
  // §9: contacts whose number is on the client's suppression list are stored `suppressed` (never
  // claimed); with a statusCallbackUrl, each one's end is written to the outbox in the same transaction.

  getRequest(stage: Stage, reqID: string): Promise<OutboundRequest | undefined>;

  /** The request and its contacts, read together. */
  requestState(stage: Stage, reqID: string): Promise<RequestState | undefined>;

  /**
   * Cancel what is still scheduled of this client's request, and read it back, in one transaction.
   * undefined when there is no such request or it is another client's (nothing changes). A
   * request with nothing left to cancel keeps its status; contacts in flight are cancelled too.
   * §9: with a statusCallbackUrl, each contact cancelled here that is not being dialled has its
   * end written to the outbox in the same transaction; one being dialled ends with its dispatch's
   * outcome (`complete`: `dispatched` if the call went out, else `cancelled`).
   */
  cancelRequest(stage: Stage, reqID: string, clientID: string, now: number): Promise<RequestState | undefined>;

  /** §9: pause or resume this client's request and read it back; undefined as for cancelRequest. */
  setPaused(stage: Stage, reqID: string, clientID: string, paused: boolean, now: number): Promise<RequestState | undefined>;

  /**
   * Claim up to `limit` due contacts (status scheduled, due, lease free or run out, not already
   * this owner's) under a lease until `leaseUntil`, counting an attempt each, oldest due first.
   * Concurrent claims never return the same contact. §9: contacts of paused requests are not
   * claimed; contacts whose number is now suppressed become `suppressed` instead; each claimed
   * contact gets a fresh random `callbackKey`. A contact suppressed here ends: with a
   * statusCallbackUrl, its delivery is written in the claim's transaction. With `scope.stage`, only that stage's contacts.
   */
  claim(owner: string, now: number, leaseUntil: number, limit: number, scope?: ClaimScope): Promise<ClaimedContact[]>;

  /**
   * The paced claim of one scheduler pass (docs/http.md §9.5): for each of these clients of
   * `stage`, up to `perClient` of its due contacts, taken as `claim` takes them (suppressed
   * numbers marked, paused requests passed over) and never more than its maxConcurrent minus its
   * calls in flight (checked inside the transaction, so instances claiming at once never exceed
   * it together), all in one transaction. A client whose contacts another
   * claim is taking at this very moment (another instance) is passed over this time rather than
   * waited for, so instances claiming together never wait for each other.
   */
  claimForClients(owner: string, now: number, leaseUntil: number, stage: Stage, clientIDs: string[], perClient: number): Promise<ClaimedContact[]>;

  /**
   * §9: scheduled contacts whose request's expiresAt has passed become `expired`; how many. With a
   * statusCallbackUrl, each one's end is written to the outbox in the same transaction.
   */
  expire(now: number): Promise<number>;

  /** §9: clients with contacts due now (not paused), with their settings and calls in flight. */
  dueClients(now: number, stages: Stage[]): Promise<DueClient[]>;

  /**
   * Apply dispatch outcomes in one transaction; an outcome whose claim was lost changes nothing.
   * An outcome that ends its contact (failed, recorded, dispatched with nothing awaited, or any
   * outcome of a contact cancelled while it was dialled that did not dispatch it) of a request
   * with a statusCallbackUrl writes that contact's delivery to the outbox in the same transaction
   * (docs/http.md §9.6).
   */
  complete(owner: string, done: Completion[]): Promise<void>;

  /**
   * §9: record a platform's final status for the attempt whose callback key this is, once:
   * busy/no-answer with `redial` and redials left → scheduled again at `redial.dueAt`; otherwise
   * final. The attempt's key is spent, so a repeated or late callback is `unknown` and changes
   * nothing. Applies whether or not the dispatch's own completion has been written yet. A final
   * outcome of a request with a statusCallbackUrl writes the contact's delivery to the outbox in
   * the same transaction (docs/http.md §9.6).
   */
  recordOutcome(stage: Stage, callbackKey: string, report: OutcomeReport): Promise<OutcomeResult>;

  /**
   * §9: requests with a statusCallbackUrl that have just finished (no contact waiting to be
   * dialled, no call awaiting its outcome) are marked completed and returned with their contacts,
   * each exactly once whichever instance asks; the completion's delivery is written to the outbox
   * in the same transaction (docs/http.md §9.6).
   */
  completeRequests(now: number, limit: number): Promise<RequestState[]>;

  /** §9: Studio Executions due to be polled (poll_at passed), each put off to `nextPollAt` so one instance polls it. */
  claimPolls(now: number, nextPollAt: number, limit: number): Promise<PollDue[]>;
}
