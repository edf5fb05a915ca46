import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';
import {
  IDEMPOTENCY_TTL_MS,
  type ClaimedContact,
  type Completion,
  type ContactStatus,
  type ContactView,
  type IdempotencyKey,
  type NewRequest,
  type OutboundClient,
  type OutboundRequest,
  type OutboundStore,
  type RequestState,
  type StoredResponse,
} from './outbound.store.js';

interface ClientRow {
  stage: Stage;
  client_id: string;
  security_id_sha256: string;
  flows: string;
  created_at: number;
  updated_at: number;
}

interface RequestRow {
  stage: Stage;
  req_id: string;
  client_id: string;
  flow_id: string;
  phonon_uuid: string;
  scheduled_at: number;
  created_at: number;
  cancelled_at: number | null;
}

interface ContactRow {
  number: string;
  status: ContactStatus;
  attempts: number;
  last_error: string | null;
}

/**
 * The outbound store on SQLite. better-sqlite3 is synchronous: each method runs its statements
 * (or one `db.transaction`, IMMEDIATE for writes) to completion before any other code, then
 * resolves, so nothing interleaves inside a state change and no await sits inside a transaction.
 */
export class SqliteOutboundStore implements OutboundStore {
  private readonly getClientStmt;
  private readonly insertClientStmt;
  private readonly updateClientStmt;
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
  private readonly putClientTx;
  private readonly listClientsStmt;
  private readonly deleteClientStmt;
  private readonly createTx;
  private readonly stateTx;
  private readonly cancelTx;
  private readonly completeTx;

  constructor(db: Db) {
    this.getClientStmt = db.prepare<[Stage, string], ClientRow>('SELECT * FROM outbound_clients WHERE stage = ? AND client_id = ?');
    this.listClientsStmt = db.prepare<[Stage], ClientRow>('SELECT * FROM outbound_clients WHERE stage = ? ORDER BY client_id');
    this.deleteClientStmt = db.prepare<[Stage, string]>('DELETE FROM outbound_clients WHERE stage = ? AND client_id = ?');
    this.insertClientStmt = db.prepare(
      `INSERT INTO outbound_clients (stage, client_id, security_id_sha256, flows, created_at, updated_at)
       VALUES (@stage, @clientID, @securityIdHash, @flows, @now, @now)`,
    );
    this.updateClientStmt = db.prepare(
      `UPDATE outbound_clients SET security_id_sha256 = @securityIdHash, flows = @flows, updated_at = @now
       WHERE stage = @stage AND client_id = @clientID`,
    );
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
    // Records live 24 h; expired ones go as new ones come, through the created_at index.
    this.purgeKeys = db.prepare('DELETE FROM idempotency_keys WHERE created_at <= ?');
    this.getRequestStmt = db.prepare<[Stage, string], RequestRow>('SELECT * FROM outbound_requests WHERE stage = ? AND req_id = ?');
    this.contactsStmt = db.prepare<[Stage, string], ContactRow>(
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
    // One statement claims the batch (rowid: SQLite's cheapest row handle). A scheduler never
    // takes over its own leases: those contacts are still in its hands, even if the clock
    // jumped past their lease end.
    this.claimStmt = db.prepare<{ owner: string; now: number; leaseUntil: number; limit: number }, ClaimedContact>(
      `UPDATE outbound_contacts SET lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1
       WHERE rowid IN (
         SELECT rowid FROM outbound_contacts
         WHERE status = 'scheduled' AND due_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
           AND (lease_owner IS NULL OR lease_owner <> @owner)
         ORDER BY due_at LIMIT @limit)
       RETURNING stage, req_id AS reqID, seq, number, attempts, due_at AS dueAt, idempotency_key AS idempotencyKey`,
    );
    const owned = 'WHERE stage = @stage AND req_id = @reqID AND seq = @seq AND lease_owner = @owner AND attempts = @attempts';
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

    this.putClientTx = db.transaction(
      (args: { stage: Stage; clientID: string; securityIdHash: string; flows: string; now: number }) => {
        const created = this.updateClientStmt.run(args).changes === 0;
        if (created) this.insertClientStmt.run(args);
        return { created, client: toClient(this.getClientStmt.get(args.stage, args.clientID)!) };
      },
    );
    this.createTx = db.transaction(
      (req: NewRequest, idem: IdempotencyKey | undefined, response: StoredResponse): StoredResponse => {
        if (idem) {
          const first = this.findKey.get(req.stage, idem.scope, idem.key, req.createdAt - IDEMPOTENCY_TTL_MS);
          if (first) return toResponse(first);
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
    // A deferred transaction: the request and its contacts come from one snapshot.
    this.stateTx = db.transaction((stage: Stage, reqID: string): RequestState | undefined => {
      const row = this.getRequestStmt.get(stage, reqID);
      return row && { request: toRequest(row), contacts: this.contactsStmt.all(stage, reqID).map(toContact) };
    });
    this.cancelTx = db.transaction((stage: Stage, reqID: string, clientID: string, now: number): RequestState | undefined => {
      const row = this.getRequestStmt.get(stage, reqID);
      if (!row || row.client_id !== clientID) return undefined;
      if (this.cancelContactsStmt.run(stage, reqID).changes > 0 && row.cancelled_at === null) {
        this.cancelRequestStmt.run(now, stage, reqID);
        row.cancelled_at = now;
      }
      return { request: toRequest(row), contacts: this.contactsStmt.all(stage, reqID).map(toContact) };
    });
    this.completeTx = db.transaction((owner: string, done: Completion[]) => {
      for (const c of done) {
        const { stage, reqID, seq, attempts } = c.contact;
        const key = { stage, reqID, seq, attempts, owner };
        if (c.kind === 'dispatched') this.dispatchedStmt.run({ ...key, at: c.at });
        else if (c.kind === 'retry') this.retryStmt.run({ ...key, dueAt: c.dueAt, error: c.error });
        else this.failedStmt.run({ ...key, error: c.error });
      }
    });
  }

  async getClient(stage: Stage, clientID: string): Promise<OutboundClient | undefined> {
    const row = this.getClientStmt.get(stage, clientID);
    return row && toClient(row);
  }

  async listClients(stage: Stage): Promise<OutboundClient[]> {
    return this.listClientsStmt.all(stage).map(toClient);
  }

  async deleteClient(stage: Stage, clientID: string): Promise<boolean> {
    return this.deleteClientStmt.run(stage, clientID).changes === 1;
  }

  async putClient(stage: Stage, clientID: string, securityIdHash: string, flows: string[], now: number) {
    return this.putClientTx.immediate({ stage, clientID, securityIdHash, flows: JSON.stringify(flows), now });
  }

  async replay(stage: Stage, idem: IdempotencyKey, now: number): Promise<StoredResponse | undefined> {
    const first = this.findKey.get(stage, idem.scope, idem.key, now - IDEMPOTENCY_TTL_MS);
    return first && toResponse(first);
  }

  async createRequest(req: NewRequest, idem: IdempotencyKey | undefined, response: StoredResponse): Promise<StoredResponse> {
    return this.createTx.immediate(req, idem, response);
  }

  async getRequest(stage: Stage, reqID: string): Promise<OutboundRequest | undefined> {
    const row = this.getRequestStmt.get(stage, reqID);
    return row && toRequest(row);
  }

  async requestState(stage: Stage, reqID: string): Promise<RequestState | undefined> {
    return this.stateTx(stage, reqID);
  }

  async cancelRequest(stage: Stage, reqID: string, clientID: string, now: number): Promise<RequestState | undefined> {
    return this.cancelTx.immediate(stage, reqID, clientID, now);
  }

  async claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedContact[]> {
    return this.claimStmt.all({ owner, now, leaseUntil, limit });
  }

  async complete(owner: string, done: Completion[]): Promise<void> {
    if (done.length > 0) this.completeTx.immediate(owner, done);
  }
}

function toClient(row: ClientRow): OutboundClient {
  return {
    stage: row.stage,
    clientID: row.client_id,
    securityIdHash: row.security_id_sha256,
    flows: JSON.parse(row.flows) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRequest(row: RequestRow): OutboundRequest {
  return {
    stage: row.stage,
    reqID: row.req_id,
    clientID: row.client_id,
    flowID: row.flow_id,
    phononUUID: row.phonon_uuid,
    scheduledAt: row.scheduled_at,
    createdAt: row.created_at,
    cancelledAt: row.cancelled_at,
  };
}

function toContact(r: ContactRow): ContactView {
  return { number: r.number, status: r.status, attempts: r.attempts, lastError: r.last_error };
}

function toResponse(row: { status: number; response: string }): StoredResponse {
  return { status: row.status, body: JSON.parse(row.response) as Record<string, unknown> };
}
