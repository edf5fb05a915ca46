import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';

/**
 * Storage of outbound requests and contacts. Every state change is one statement or one
 * better-sqlite3 transaction, so it is atomic and durable once the call returns (WAL).
 */

export type ContactStatus = 'scheduled' | 'dispatched' | 'failed' | 'cancelled';

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

export interface RequestRow {
  stage: Stage;
  req_id: string;
  client_id: string;
  flow_id: string;
  phonon_uuid: string;
  scheduled_at: number;
  created_at: number;
  cancelled_at: number | null;
}

export interface ContactView {
  number: string;
  status: ContactStatus;
  attempts: number;
  lastError: string | null;
}

/** A contact claimed by the scheduler; `attempts` already counts this attempt. */
export interface ClaimedContact {
  id: number;
  stage: Stage;
  reqID: string;
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

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export class OutboundRepo {
  private readonly insertRequest;
  private readonly insertContact;
  private readonly findKey;
  private readonly putKey;
  private readonly purgeKeys;
  private readonly getRequestStmt;
  private readonly contactsStmt;
  private readonly cancelRequestStmt;
  private readonly cancelContactsStmt;
  private readonly claimStmt;
  private readonly dispatchedStmt;
  private readonly retryStmt;
  private readonly failedStmt;
  private readonly createTx;
  private readonly cancelTx;
  private readonly completeTx;

  constructor(db: Db) {
    this.insertRequest = db.prepare(
      `INSERT INTO outbound_requests (stage, req_id, client_id, flow_id, phonon_uuid, scheduled_at, created_at)
       VALUES (@stage, @reqID, @clientID, @flowID, @phononUUID, @scheduledAt, @createdAt)`,
    );
    this.insertContact = db.prepare(
      `INSERT INTO outbound_contacts (stage, req_id, seq, number, due_at, idempotency_key)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.findKey = db.prepare<[Stage, string, string, number], { status: number; response: string }>(
      'SELECT status, response FROM idempotency_keys WHERE stage = ? AND scope = ? AND key = ? AND created_at > ?',
    );
    // Reached only when no live record exists, so a conflict is an expired one being replaced.
    this.putKey = db.prepare(
      `INSERT INTO idempotency_keys (stage, scope, key, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (stage, scope, key) DO UPDATE SET status = excluded.status, response = excluded.response,
         created_at = excluded.created_at`,
    );
    // Records live 24 h (001_service.sql); expired ones go as new ones come, through the created_at index.
    this.purgeKeys = db.prepare('DELETE FROM idempotency_keys WHERE created_at <= ?');
    this.getRequestStmt = db.prepare<[Stage, string], RequestRow>('SELECT * FROM outbound_requests WHERE stage = ? AND req_id = ?');
    this.contactsStmt = db.prepare<[Stage, string], { number: string; status: ContactStatus; attempts: number; last_error: string | null }>(
      'SELECT number, status, attempts, last_error FROM outbound_contacts WHERE stage = ? AND req_id = ? ORDER BY seq',
    );
    this.cancelRequestStmt = db.prepare(
      'UPDATE outbound_requests SET cancelled_at = coalesce(cancelled_at, ?) WHERE stage = ? AND req_id = ?',
    );
    // In-flight contacts are cancelled too: if their dispatch is confirmed anyway they become
    // 'dispatched' (the call went out); if it fails they stay cancelled and are never retried.
    this.cancelContactsStmt = db.prepare(
      "UPDATE outbound_contacts SET status = 'cancelled' WHERE stage = ? AND req_id = ? AND status = 'scheduled'",
    );
    // A scheduler never takes over its own leases: those contacts are still in its hands, even if
    // the clock jumped past their lease end.
    this.claimStmt = db.prepare<{ owner: string; now: number; leaseUntil: number; limit: number }, ClaimedContact>(
      `UPDATE outbound_contacts SET lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1
       WHERE rowid IN (
         SELECT rowid FROM outbound_contacts
         WHERE status = 'scheduled' AND due_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
           AND (lease_owner IS NULL OR lease_owner <> @owner)
         ORDER BY due_at LIMIT @limit)
       RETURNING rowid AS id, stage, req_id AS reqID, number, attempts, due_at AS dueAt,
         idempotency_key AS idempotencyKey`,
    );
    const owned = 'WHERE rowid = @id AND lease_owner = @owner AND attempts = @attempts';
    this.dispatchedStmt = db.prepare(
      `UPDATE outbound_contacts SET status = 'dispatched', dispatched_at = @at, lease_owner = NULL, lease_until = NULL ${owned}`,
    );
    this.retryStmt = db.prepare(
      `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'scheduled' END,
         due_at = @dueAt, last_error = @error, lease_owner = NULL, lease_until = NULL ${owned}`,
    );
    this.failedStmt = db.prepare(
      `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'failed' END,
         last_error = @error, lease_owner = NULL, lease_until = NULL ${owned}`,
    );

    this.createTx = db.transaction(
      (req: NewRequest, idem: { scope: string; key: string } | undefined, response: StoredResponse): StoredResponse => {
        if (idem) {
          const first = this.findKey.get(req.stage, idem.scope, idem.key, req.createdAt - IDEMPOTENCY_TTL_MS);
          if (first) return { status: first.status, body: JSON.parse(first.response) as Record<string, unknown> };
        }
        this.insertRequest.run(req);
        req.numbers.forEach((n, i) => {
          this.insertContact.run(req.stage, req.reqID, i, n, req.scheduledAt, `${req.reqID}-${i}`);
        });
        if (idem) {
          this.purgeKeys.run(req.createdAt - IDEMPOTENCY_TTL_MS);
          this.putKey.run(req.stage, idem.scope, idem.key, response.status, JSON.stringify(response.body), req.createdAt);
        }
        return response;
      },
    );
    // A request with nothing left to cancel (all dispatched or failed) keeps its status.
    this.cancelTx = db.transaction((stage: Stage, reqID: string, now: number) => {
      if (this.cancelContactsStmt.run(stage, reqID).changes > 0) this.cancelRequestStmt.run(now, stage, reqID);
    });
    this.completeTx = db.transaction((owner: string, done: Completion[]) => {
      for (const c of done) {
        const key = { id: c.contact.id, owner, attempts: c.contact.attempts };
        if (c.kind === 'dispatched') this.dispatchedStmt.run({ ...key, at: c.at });
        else if (c.kind === 'retry') this.retryStmt.run({ ...key, dueAt: c.dueAt, error: c.error });
        else this.failedStmt.run({ ...key, error: c.error });
      }
    });
  }

  /** The first response stored under this key within 24 h, if any. */
  replay(stage: Stage, scope: string, key: string, now: number): StoredResponse | undefined {
    const first = this.findKey.get(stage, scope, key, now - IDEMPOTENCY_TTL_MS);
    return first && { status: first.status, body: JSON.parse(first.response) as Record<string, unknown> };
  }

  /**
   * Store the request, its contacts and (with a key) the response, atomically. When another call
   * with the same key won the race, nothing is stored and that call's response is returned.
   */
  create(req: NewRequest, idem: { scope: string; key: string } | undefined, response: StoredResponse): StoredResponse {
    return this.createTx.immediate(req, idem, response);
  }

  getRequest(stage: Stage, reqID: string): RequestRow | undefined {
    return this.getRequestStmt.get(stage, reqID);
  }

  contacts(stage: Stage, reqID: string): ContactView[] {
    return this.contactsStmt.all(stage, reqID).map((r) => ({
      number: r.number,
      status: r.status,
      attempts: r.attempts,
      lastError: r.last_error,
    }));
  }

  cancel(stage: Stage, reqID: string, now: number): void {
    this.cancelTx.immediate(stage, reqID, now);
  }

  /** Claim up to `limit` due contacts under a lease, in one statement. */
  claim(owner: string, now: number, leaseUntil: number, limit: number): ClaimedContact[] {
    return this.claimStmt.all({ owner, now, leaseUntil, limit });
  }

  /** Apply dispatch outcomes; an outcome whose claim was lost (lease taken over) changes nothing. */
  complete(owner: string, done: Completion[]): void {
    if (done.length > 0) this.completeTx.immediate(owner, done);
  }
}
