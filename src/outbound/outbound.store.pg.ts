import type { Stage } from '../http/routing.js';
import { withTransaction, type PgPool } from '../db/pg.js';
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

const CLIENT_COLUMNS = 'stage, client_id, security_id_sha256, flows, created_at, updated_at';
const REQUEST_COLUMNS = 'stage, req_id, client_id, flow_id, phonon_uuid, scheduled_at, created_at, cancelled_at';
const CONTACTS_OF = 'SELECT number, status, attempts, last_error FROM outbound_contacts WHERE stage = $1 AND req_id = $2 ORDER BY seq';

/**
 * The outbound store on PostgreSQL (docs/http.md §11), shared by any number of instances. Each
 * write is one transaction on one pooled connection. Concurrency comes from the database, never
 * from the process: the idempotency record is taken first with INSERT … ON CONFLICT (a racing call
 * with the same key waits on that row and then reads the winner's response); the scheduler's claim
 * is `FOR UPDATE SKIP LOCKED`, so instances claiming at once get disjoint contacts, and a lease
 * bounds how long a claim of a dead instance holds its contacts.
 */
export class PgOutboundStore implements OutboundStore {
  constructor(private readonly pool: PgPool) {}

  async getClient(stage: Stage, clientID: string): Promise<OutboundClient | undefined> {
    const r = await this.pool.query<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM outbound_clients WHERE stage = $1 AND client_id = $2`, [
      stage,
      clientID,
    ]);
    return r.rows[0] && toClient(r.rows[0]);
  }

  async listClients(stage: Stage): Promise<OutboundClient[]> {
    const r = await this.pool.query<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM outbound_clients WHERE stage = $1 ORDER BY client_id`, [stage]);
    return r.rows.map(toClient);
  }

  async deleteClient(stage: Stage, clientID: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM outbound_clients WHERE stage = $1 AND client_id = $2', [stage, clientID]);
    return r.rowCount === 1;
  }

  async putClient(stage: Stage, clientID: string, securityIdHash: string, flows: string[], now: number) {
    // One statement: xmax = 0 tells an inserted row from an updated one.
    const r = await this.pool.query<ClientRow & { inserted: boolean }>(
      `INSERT INTO outbound_clients (stage, client_id, security_id_sha256, flows, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (stage, client_id) DO UPDATE SET security_id_sha256 = excluded.security_id_sha256,
         flows = excluded.flows, updated_at = excluded.updated_at
       RETURNING ${CLIENT_COLUMNS}, (xmax = 0) AS inserted`,
      [stage, clientID, securityIdHash, JSON.stringify(flows), now],
    );
    const row = r.rows[0]!;
    return { created: row.inserted, client: toClient(row) };
  }

  async replay(stage: Stage, idem: IdempotencyKey, now: number): Promise<StoredResponse | undefined> {
    const r = await this.pool.query<{ status: number; response: string }>(
      'SELECT status, response FROM idempotency_keys WHERE stage = $1 AND scope = $2 AND key = $3 AND created_at > $4',
      [stage, idem.scope, idem.key, now - IDEMPOTENCY_TTL_MS],
    );
    return r.rows[0] && toResponse(r.rows[0]);
  }

  async createRequest(req: NewRequest, idem: IdempotencyKey | undefined, response: StoredResponse): Promise<StoredResponse> {
    const cutoff = req.createdAt - IDEMPOTENCY_TTL_MS;
    return withTransaction(this.pool, async (c) => {
      if (idem) {
        // Take the key first. A live record of another call (committed, or committing: this
        // statement waits for it) leaves the row alone and returns nothing; an expired one is
        // replaced, a missing one inserted.
        const taken = await c.query(
          `INSERT INTO idempotency_keys (stage, scope, key, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (stage, scope, key) DO UPDATE SET status = excluded.status, response = excluded.response,
             created_at = excluded.created_at
           WHERE idempotency_keys.created_at <= $7
           RETURNING 1`,
          [req.stage, idem.scope, idem.key, response.status, JSON.stringify(response.body), req.createdAt, cutoff],
        );
        if (taken.rowCount === 0) {
          const first = await c.query<{ status: number; response: string }>(
            'SELECT status, response FROM idempotency_keys WHERE stage = $1 AND scope = $2 AND key = $3',
            [req.stage, idem.scope, idem.key],
          );
          return toResponse(first.rows[0]!);
        }
        await c.query('DELETE FROM idempotency_keys WHERE created_at <= $1', [cutoff]);
      }
      await c.query(
        `INSERT INTO outbound_requests (stage, req_id, client_id, flow_id, phonon_uuid, scheduled_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [req.stage, req.reqID, req.clientID, req.flowID, req.phononUUID, req.scheduledAt, req.createdAt],
      );
      // All contacts in one statement: their positions come from the array's ordinality.
      await c.query(
        `INSERT INTO outbound_contacts (stage, req_id, seq, number, due_at, idempotency_key)
         SELECT $1, $2, n.ord - 1, n.number, $3, $2 || '-' || (n.ord - 1)
         FROM unnest($4::text[]) WITH ORDINALITY AS n(number, ord)`,
        [req.stage, req.reqID, req.scheduledAt, req.numbers],
      );
      return response;
    });
  }

  async getRequest(stage: Stage, reqID: string): Promise<OutboundRequest | undefined> {
    const r = await this.pool.query<RequestRow>(`SELECT ${REQUEST_COLUMNS} FROM outbound_requests WHERE stage = $1 AND req_id = $2`, [
      stage,
      reqID,
    ]);
    return r.rows[0] && toRequest(r.rows[0]);
  }

  async requestState(stage: Stage, reqID: string): Promise<RequestState | undefined> {
    // REPEATABLE READ: the request and its contacts come from one snapshot.
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const req = await client.query<RequestRow>(`SELECT ${REQUEST_COLUMNS} FROM outbound_requests WHERE stage = $1 AND req_id = $2`, [
        stage,
        reqID,
      ]);
      const contacts = req.rows[0] ? await client.query<ContactRow>(CONTACTS_OF, [stage, reqID]) : undefined;
      await client.query('COMMIT');
      return req.rows[0] && { request: toRequest(req.rows[0]), contacts: contacts!.rows.map(toContact) };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async cancelRequest(stage: Stage, reqID: string, clientID: string, now: number): Promise<RequestState | undefined> {
    return withTransaction(this.pool, async (c) => {
      // The request row lock orders concurrent cancels of one request.
      const req = await c.query<RequestRow>(
        `SELECT ${REQUEST_COLUMNS} FROM outbound_requests WHERE stage = $1 AND req_id = $2 FOR UPDATE`,
        [stage, reqID],
      );
      const row = req.rows[0];
      if (!row || row.client_id !== clientID) return undefined;
      // In-flight contacts are cancelled too (see the SQLite store): a confirmed dispatch still
      // becomes 'dispatched', a failure stays cancelled.
      const cancelled = await c.query(
        "UPDATE outbound_contacts SET status = 'cancelled' WHERE stage = $1 AND req_id = $2 AND status = 'scheduled'",
        [stage, reqID],
      );
      if ((cancelled.rowCount ?? 0) > 0 && row.cancelled_at === null) {
        await c.query('UPDATE outbound_requests SET cancelled_at = $1 WHERE stage = $2 AND req_id = $3', [now, stage, reqID]);
        row.cancelled_at = now;
      }
      const contacts = await c.query<ContactRow>(CONTACTS_OF, [stage, reqID]);
      return { request: toRequest(row), contacts: contacts.rows.map(toContact) };
    });
  }

  async claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedContact[]> {
    // SKIP LOCKED: rows another instance is claiming right now are passed over, not waited for,
    // so concurrent claims are disjoint. An instance never takes over its own leases (those
    // contacts are still in its hands even if its clock jumped past their lease end).
    const r = await this.pool.query<ClaimedContact>(
      `UPDATE outbound_contacts c SET lease_owner = $1, lease_until = $3, attempts = c.attempts + 1
       FROM (
         SELECT stage, req_id, seq FROM outbound_contacts
         WHERE status = 'scheduled' AND due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
           AND (lease_owner IS NULL OR lease_owner <> $1)
         ORDER BY due_at LIMIT $4
         FOR UPDATE SKIP LOCKED
       ) due
       WHERE c.stage = due.stage AND c.req_id = due.req_id AND c.seq = due.seq
       RETURNING c.stage, c.req_id AS "reqID", c.seq, c.number, c.attempts, c.due_at AS "dueAt",
         c.idempotency_key AS "idempotencyKey"`,
      [owner, now, leaseUntil, limit],
    );
    return r.rows.sort((a, b) => a.dueAt - b.dueAt);
  }

  async complete(owner: string, done: Completion[]): Promise<void> {
    if (done.length === 0) return;
    // An outcome applies only while the claim is still this attempt's (same owner, same attempt).
    const owned = 'WHERE stage = $1 AND req_id = $2 AND seq = $3 AND lease_owner = $4 AND attempts = $5';
    await withTransaction(this.pool, async (c) => {
      for (const d of done) {
        const { stage, reqID, seq, attempts } = d.contact;
        const key = [stage, reqID, seq, owner, attempts];
        if (d.kind === 'dispatched') {
          await c.query(
            `UPDATE outbound_contacts SET status = 'dispatched', dispatched_at = $6, lease_owner = NULL, lease_until = NULL ${owned}`,
            [...key, d.at],
          );
        } else if (d.kind === 'retry') {
          await c.query(
            `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'scheduled' END,
               due_at = $6, last_error = $7, lease_owner = NULL, lease_until = NULL ${owned}`,
            [...key, d.dueAt, d.error],
          );
        } else {
          await c.query(
            `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'failed' END,
               last_error = $6, lease_owner = NULL, lease_until = NULL ${owned}`,
            [...key, d.error],
          );
        }
      }
    });
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
