import type { Stage } from '../http/routing.js';
import { withTransaction, type PgClient, type PgPool } from '../db/pg.js';
import { queueDelivery } from '../delivery/outbox.store.pg.js';
import {
  DEFAULT_CLIENT_SETTINGS,
  IDEMPOTENCY_TTL_MS,
  type ClaimedContact,
  type ClaimScope,
  type ClientSettings,
  type Completion,
  type ContactStatus,
  type DueClient,
  type IdempotencyKey,
  type NewRequest,
  type OutboundClient,
  type OutboundRequest,
  type OutboundStore,
  type OutcomeReport,
  type OutcomeResult,
  type PollDue,
  type RequestState,
  type StoredResponse,
} from './outbound.store.js';
import {
  CLIENT_COLUMNS,
  CONTACT_COLUMNS,
  ENDED_COLUMNS,
  REQUEST_COLUMNS,
  toClient,
  toContact,
  toEnd,
  toRequest,
  toResponse,
  toSettings,
  type ClientRow,
  type ContactRow,
  type EndedRow,
  type RequestRow,
} from './outbound.rows.js';
import { contactEnded, requestCompleted } from './statusCallbacks.js';

const CONTACTS_OF = `SELECT ${CONTACT_COLUMNS}
  FROM outbound_contacts WHERE stage = $1 AND req_id = $2 ORDER BY seq`;
const CLAIMED_COLUMNS = `c.stage, c.req_id AS "reqID", c.seq, c.number, c.attempts, c.due_at AS "dueAt",
  c.idempotency_key AS "idempotencyKey", c.client_id AS "clientID", c.keys, c.callback_key AS "callbackKey"`;
/** Calls of a client (stage, client id and time as SQL expressions) in flight then: being dialled (leased) or placed and awaiting their outcome. */
const inFlight = (stage: string, clientID: string, now: string) =>
  `(SELECT count(*) FROM outbound_contacts f WHERE f.stage = ${stage} AND f.client_id = ${clientID} AND f.status = 'scheduled' AND f.lease_until > ${now})
  + (SELECT count(*) FROM outbound_contacts f WHERE f.stage = ${stage} AND f.client_id = ${clientID} AND f.awaiting IS NOT NULL AND f.awaiting_until > ${now})`;
/**
 * The transaction-scoped advisory lock that serialises the paced claims of one client across
 * instances (stage and client id as SQL expressions), so its calls in flight and the claim that
 * follows cannot interleave with another instance's (docs/http.md §9.5).
 */
/** The contact of alias `c` is on its client's suppression list. */
const onList = (c: string) =>
  `EXISTS (SELECT 1 FROM outbound_suppressions s WHERE s.stage = ${c}.stage AND s.client_id = ${c}.client_id AND s.number = ${c}.number)`;
const CLAIM_LOCK = (stage: string, clientID: string) => `hashtextextended('outbound-claim:' || ${stage} || ':' || ${clientID}, 0)`;
const DUE = `c.status = 'scheduled' AND c.due_at <= $1 AND (c.lease_until IS NULL OR c.lease_until <= $1)`;
const SPENT = 'callback_key = NULL, awaiting = NULL, awaiting_until = NULL, poll_at = NULL, lease_owner = NULL, lease_until = NULL';
/**
 * A platform's final status for the attempt whose callback key ($2 stage $1) this is, once (the
 * key is spent; a repeated callback waits on the row lock, then no longer finds the key):
 * busy/no-answer with redials left ($6 asked, $7 most redials) is scheduled again at $8, anything
 * else is final, `dispatched` with its outcome ($3, $4 seconds, at $5) even if its request was
 * cancelled meanwhile (the call went out). The SET expressions read the row as it was.
 */
const REDIAL = "($6::boolean AND c.status <> 'cancelled' AND c.redials < $7)";
const RECORD_OUTCOME = `UPDATE outbound_contacts c SET status = CASE WHEN ${REDIAL} THEN 'scheduled' ELSE 'dispatched' END,
    due_at = CASE WHEN ${REDIAL} THEN $8 ELSE c.due_at END, redials = c.redials + CASE WHEN ${REDIAL} THEN 1 ELSE 0 END,
    outcome = $3, duration_seconds = $4, dispatched_at = coalesce(c.dispatched_at, $5), ${SPENT}
  WHERE c.stage = $1 AND c.callback_key = $2 AND c.status IN ('scheduled', 'dispatched', 'cancelled')`;
const OUTCOME_RETURNING = `RETURNING c.stage, c.req_id, c.number, c.status, c.outcome, c.duration_seconds,
  (SELECT r.status_callback_url FROM outbound_requests r WHERE r.stage = c.stage AND r.req_id = c.req_id) AS url`;
/** What a statement that may end a contact returns of it, with its request's statusCallbackUrl (docs/http.md §9.6). */
const ended = (table = 'outbound_contacts') => `RETURNING ${ENDED_COLUMNS},
  (SELECT r.status_callback_url FROM outbound_requests r WHERE r.stage = ${table}.stage AND r.req_id = ${table}.req_id) AS url`;
const ENDED = ended();
type EndedWithUrl = EndedRow & { url: string | null };

/**
 * Write the statusCallbackUrl delivery of each contact these rows just ended, for the requests
 * that have a URL, on the connection of the transaction that ended them (docs/http.md §9.6).
 */
async function queueEnds(c: PgClient, rows: EndedWithUrl[], at: number): Promise<void> {
  for (const row of rows) if (row.url) await queueDelivery(c, contactEnded(row.stage, row.req_id, row.url, toEnd(row), at));
}

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

  async putClient(stage: Stage, clientID: string, securityIdHash: string, flows: string[], now: number, settings: ClientSettings = DEFAULT_CLIENT_SETTINGS) {
    // One statement: xmax = 0 tells an inserted row from an updated one.
    const r = await this.pool.query<ClientRow & { inserted: boolean }>(
      `INSERT INTO outbound_clients (stage, client_id, security_id_sha256, flows, created_at, updated_at,
         caller_id, max_concurrent, calls_per_second, flow_targets)
       VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)
       ON CONFLICT (stage, client_id) DO UPDATE SET security_id_sha256 = excluded.security_id_sha256,
         flows = excluded.flows, updated_at = excluded.updated_at, caller_id = excluded.caller_id,
         max_concurrent = excluded.max_concurrent, calls_per_second = excluded.calls_per_second,
         flow_targets = excluded.flow_targets
       RETURNING ${CLIENT_COLUMNS}, (xmax = 0) AS inserted`,
      [stage, clientID, securityIdHash, JSON.stringify(flows), now, settings.callerId, settings.maxConcurrent, settings.callsPerSecond, JSON.stringify(settings.targets)],
    );
    const row = r.rows[0]!;
    return { created: row.inserted, client: toClient(row) };
  }

  async suppress(stage: Stage, clientID: string, numbers: string[], now: number): Promise<number> {
    const r = await this.pool.query(
      `INSERT INTO outbound_suppressions (stage, client_id, number, created_at)
       SELECT $1, $2, n, $4 FROM unnest($3::text[]) AS n ON CONFLICT DO NOTHING`,
      [stage, clientID, [...new Set(numbers)], now],
    );
    return r.rowCount ?? 0;
  }

  async unsuppress(stage: Stage, clientID: string, number: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM outbound_suppressions WHERE stage = $1 AND client_id = $2 AND number = $3', [stage, clientID, number]);
    return r.rowCount === 1;
  }

  async suppressedAmong(stage: Stage, clientID: string, numbers: string[]): Promise<Set<string>> {
    const r = await this.pool.query<{ number: string }>(
      'SELECT number FROM outbound_suppressions WHERE stage = $1 AND client_id = $2 AND number = ANY($3::text[])',
      [stage, clientID, numbers],
    );
    return new Set(r.rows.map((x) => x.number));
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
        `INSERT INTO outbound_requests (stage, req_id, client_id, flow_id, phonon_uuid, scheduled_at, created_at,
           category, status_callback_url, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [req.stage, req.reqID, req.clientID, req.flowID, req.phononUUID, req.scheduledAt, req.createdAt,
          req.category ?? 'transactional', req.statusCallbackUrl ?? null, req.expiresAt ?? null],
      );
      // All contacts in one statement: their positions come from the array's ordinality. A number
      // on the client's suppression list is stored `suppressed` and never claimed (docs/http.md §9).
      await c.query(
        `INSERT INTO outbound_contacts (stage, req_id, seq, client_id, number, keys, due_at, expires_at, idempotency_key, status)
         SELECT $1, $2, n.ord - 1, $5, n.number, coalesce(k.keys, '{}'), $3, $7, $2 || '-' || (n.ord - 1),
           CASE WHEN EXISTS (SELECT 1 FROM outbound_suppressions s WHERE s.stage = $1 AND s.client_id = $5 AND s.number = n.number)
             THEN 'suppressed' ELSE 'scheduled' END
         FROM unnest($4::text[]) WITH ORDINALITY AS n(number, ord)
         LEFT JOIN unnest($6::text[]) WITH ORDINALITY AS k(keys, ord) ON k.ord = n.ord`,
        [req.stage, req.reqID, req.scheduledAt, req.numbers, req.clientID, req.numbers.map((_, i) => JSON.stringify(req.keys?.[i] ?? {})), req.expiresAt ?? null],
      );
      // Contacts suppressed from the start end now (docs/http.md §9.6).
      if (req.statusCallbackUrl) {
        const suppressed = await c.query<EndedRow>(
          `SELECT ${ENDED_COLUMNS} FROM outbound_contacts WHERE stage = $1 AND req_id = $2 AND status = 'suppressed' ORDER BY seq`,
          [req.stage, req.reqID],
        );
        await queueEnds(c, suppressed.rows.map((r) => ({ ...r, url: req.statusCallbackUrl! })), req.createdAt);
      }
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
      const cancelled = await c.query<EndedWithUrl & { lease_until: number | null }>(
        `UPDATE outbound_contacts SET status = 'cancelled' WHERE stage = $1 AND req_id = $2 AND status = 'scheduled' ${ENDED}, lease_until`,
        [stage, reqID],
      );
      if (cancelled.rows.length > 0 && row.cancelled_at === null) {
        await c.query('UPDATE outbound_requests SET cancelled_at = $1 WHERE stage = $2 AND req_id = $3', [now, stage, reqID]);
        row.cancelled_at = now;
      }
      // A contact being dialled now ends with its dispatch's outcome (complete), the others here.
      await queueEnds(c, cancelled.rows.filter((x) => x.lease_until === null || x.lease_until <= now), now);
      const contacts = await c.query<ContactRow>(CONTACTS_OF, [stage, reqID]);
      return { request: toRequest(row), contacts: contacts.rows.map(toContact) };
    });
  }

  async setPaused(stage: Stage, reqID: string, clientID: string, paused: boolean, now: number): Promise<RequestState | undefined> {
    return withTransaction(this.pool, async (c) => {
      const req = await c.query<RequestRow>(
        `UPDATE outbound_requests SET paused_at = CASE WHEN $4 THEN coalesce(paused_at, $5) ELSE NULL END
         WHERE stage = $1 AND req_id = $2 AND client_id = $3 RETURNING ${REQUEST_COLUMNS}`,
        [stage, reqID, clientID, paused, now],
      );
      if (!req.rows[0]) return undefined;
      const contacts = await c.query<ContactRow>(CONTACTS_OF, [stage, reqID]);
      return { request: toRequest(req.rows[0]), contacts: contacts.rows.map(toContact) };
    });
  }

  async claim(owner: string, now: number, leaseUntil: number, limit: number, client?: ClaimScope): Promise<ClaimedContact[]> {
    if (limit <= 0) return [];
    return withTransaction(this.pool, async (c) => {
      // docs/http.md §9.5: the claim reads only the rows it may take, through the index of its
      // scope (outbound_contacts_stage_due for one stage), so its cost does not grow with the
      // contacts waiting.
      const scope = client ? 'AND c.stage = $4' : '';
      const args: unknown[] = [now, owner, limit, ...(client ? [client.stage] : [])];
      const candidates = (extra: string) =>
        `SELECT c.stage, c.req_id, c.seq FROM outbound_contacts c
         JOIN outbound_requests r ON r.stage = c.stage AND r.req_id = c.req_id
         WHERE ${DUE} AND (c.lease_owner IS NULL OR c.lease_owner <> $2) AND r.paused_at IS NULL ${scope} ${extra}
         ORDER BY c.due_at LIMIT $3
         FOR UPDATE OF c SKIP LOCKED`;
      // A number suppressed after its request was made is still never dialled: the claim passes it
      // over, and the contacts this claim would have taken first are marked `suppressed`.
      const suppressed = await c.query<EndedWithUrl>(
        `UPDATE outbound_contacts u SET status = 'suppressed'
         WHERE (u.stage, u.req_id, u.seq) IN (${candidates('')}) AND ${onList('u')}
         ${ended('u')}`,
        args,
      );
      await queueEnds(c, suppressed.rows, now);
      // SKIP LOCKED: rows another instance is claiming right now are passed over, not waited for,
      // so concurrent claims are disjoint. An instance never takes over its own leases (those
      // contacts are still in its hands even if its clock jumped past their lease end).
      const r = await c.query<ClaimedContact & { keys: string }>(
        `UPDATE outbound_contacts c SET lease_owner = $2, lease_until = $${args.length + 1}, attempts = c.attempts + 1,
           callback_key = replace(gen_random_uuid()::text, '-', '')
         FROM (${candidates(`AND NOT ${onList('c')}`)}) due
         WHERE c.stage = due.stage AND c.req_id = due.req_id AND c.seq = due.seq
         RETURNING ${CLAIMED_COLUMNS}`,
        [...args, leaseUntil],
      );
      return r.rows.map((x) => ({ ...x, keys: JSON.parse(x.keys) as Record<string, string> })).sort((a, b) => a.dueAt - b.dueAt);
    });
  }

  async claimForClients(owner: string, now: number, leaseUntil: number, stage: Stage, clientIDs: string[], perClient: number): Promise<ClaimedContact[]> {
    if (clientIDs.length === 0 || perClient <= 0) return [];
    return withTransaction(this.pool, async (c) => {
      // The clients no other claim holds right now; the others are passed over, not waited for.
      const free = await c.query<{ id: string }>(
        `SELECT id FROM unnest($2::text[]) AS id WHERE pg_try_advisory_xact_lock(${CLAIM_LOCK('$1', 'id')})`,
        [stage, clientIDs],
      );
      if (free.rows.length === 0) return [];
      return this.claimLocked(c, owner, now, leaseUntil, stage, free.rows.map((r) => r.id), perClient);
    });
  }

  /**
   * The per-client claim in one statement, for clients whose claim lock (CLAIM_LOCK) this
   * transaction holds: the lock was taken by an earlier statement, so this one's snapshot sees
   * every claim of these clients committed before it, and their calls in flight are counted
   * right (maxConcurrent holds across instances, docs/http.md §9.5). Each client's due contacts
   * are read in due order through outbound_contacts_client_due, up to its room; the numbers on its
   * suppression list among them become `suppressed` (their ends queued here), the rest are claimed.
   */
  private async claimLocked(c: PgClient, owner: string, now: number, leaseUntil: number, stage: Stage, clientIDs: string[], perClient: number) {
    // Each client's first contacts due, up to its room (`room.n`), through outbound_contacts_client_due.
    // One a client (the scheduler's claim) is a constant LIMIT: the planner then expects as many
    // rows as clients and updates them through the primary key; with `LIMIT room.n` it guessed ten
    // a client and hashed the whole table to update them (a scan of every contact per claim).
    const limit = perClient === 1 ? '1' : 'room.n';
    const firstDue = (extra: string) => `SELECT x.* FROM room CROSS JOIN LATERAL (
         SELECT c.stage, c.req_id, c.seq, ${onList('c')} AS on_list
         FROM outbound_contacts c JOIN outbound_requests r ON r.stage = c.stage AND r.req_id = c.req_id
         WHERE ${DUE} AND (c.lease_owner IS NULL OR c.lease_owner <> $2) AND r.paused_at IS NULL
           AND c.stage = $4 AND c.client_id = room.id ${extra}
         ORDER BY c.due_at LIMIT ${limit}
         FOR UPDATE OF c SKIP LOCKED) x WHERE room.n > 0`;
    const r = await c.query<ClaimedContact & { keys: string; kind: 'claimed' | 'suppressed'; status: ContactStatus; outcome: null; duration_seconds: null; url: string | null }>(
      `WITH room AS (
         SELECT k.id, LEAST($6::int, coalesce(cl.max_concurrent, $7::int) - (${inFlight('$4', 'k.id', '$1')})) AS n
         FROM unnest($5::text[]) AS k(id)
         LEFT JOIN outbound_clients cl ON cl.stage = $4 AND cl.client_id = k.id
       ),
       -- The first contacts due of each client up to its room: those not on its list are claimed,
       -- and those on it among the first are marked suppressed (as claim does).
       claim AS (${firstDue(`AND NOT ${onList('c')}`)}),
       mark AS (SELECT * FROM (${firstDue('')}) m WHERE m.on_list),
       suppressed AS (
         UPDATE outbound_contacts u SET status = 'suppressed' FROM mark
         WHERE u.stage = mark.stage AND u.req_id = mark.req_id AND u.seq = mark.seq
         RETURNING u.stage, u.req_id, u.seq, u.number, u.status, u.outcome, u.duration_seconds
       ),
       claimed AS (
         UPDATE outbound_contacts c SET lease_owner = $2, lease_until = $3, attempts = c.attempts + 1,
           callback_key = replace(gen_random_uuid()::text, '-', '')
         FROM claim WHERE c.stage = claim.stage AND c.req_id = claim.req_id AND c.seq = claim.seq
         RETURNING ${CLAIMED_COLUMNS}
       )
       SELECT 'claimed' AS kind, claimed.*, NULL::text AS status, NULL::text AS outcome, NULL::int AS duration_seconds, NULL::text AS url FROM claimed
       UNION ALL
       SELECT 'suppressed', s.stage, s.req_id, s.seq, s.number, NULL, NULL, NULL, NULL, NULL, NULL, s.status, s.outcome, s.duration_seconds,
         (SELECT r.status_callback_url FROM outbound_requests r WHERE r.stage = s.stage AND r.req_id = s.req_id)
       FROM suppressed s`,
      [now, owner, leaseUntil, stage, clientIDs, perClient, DEFAULT_CLIENT_SETTINGS.maxConcurrent],
    );
    const claimed: ClaimedContact[] = [];
    const ends: EndedWithUrl[] = [];
    for (const row of r.rows) {
      if (row.kind === 'suppressed') {
        ends.push({ stage: row.stage, req_id: row.reqID, number: row.number, status: row.status, outcome: row.outcome, duration_seconds: row.duration_seconds, url: row.url });
      } else {
        const { kind: _k, status: _s, outcome: _o, duration_seconds: _d, url: _u, ...contact } = row;
        claimed.push({ ...contact, keys: JSON.parse(row.keys) as Record<string, string> });
      }
    }
    await queueEnds(c, ends, now);
    return claimed.sort((a, b) => a.dueAt - b.dueAt);
  }

  async expire(now: number): Promise<number> {
    return withTransaction(this.pool, async (c) => {
      const r = await c.query<EndedWithUrl>(
        `UPDATE outbound_contacts SET status = 'expired'
         WHERE status = 'scheduled' AND expires_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) ${ENDED}`,
        [now],
      );
      await queueEnds(c, r.rows, now);
      return r.rows.length;
    });
  }

  async dueClients(now: number, stages: Stage[]): Promise<DueClient[]> {
    const out: DueClient[] = [];
    for (const stage of stages) {
      // The clients with contacts waiting are found one index seek each (a skip scan of
      // outbound_contacts_client_due), never by reading every contact waiting.
      const r = await this.pool.query<Partial<ClientRow> & { client_id: string; in_flight: number }>(
        `WITH RECURSIVE k AS (
           SELECT (SELECT min(client_id) FROM outbound_contacts WHERE stage = $2 AND status = 'scheduled') AS client_id
           UNION ALL
           SELECT (SELECT min(x.client_id) FROM outbound_contacts x WHERE x.stage = $2 AND x.status = 'scheduled' AND x.client_id > k.client_id)
           FROM k WHERE k.client_id IS NOT NULL)
         SELECT k.client_id, cl.caller_id, cl.max_concurrent, cl.calls_per_second, cl.flow_targets,
           ${inFlight('$2', 'k.client_id', '$1')} AS in_flight
         FROM k LEFT JOIN outbound_clients cl ON cl.stage = $2 AND cl.client_id = k.client_id
         WHERE k.client_id IS NOT NULL AND EXISTS (
           SELECT 1 FROM outbound_contacts c JOIN outbound_requests r ON r.stage = c.stage AND r.req_id = c.req_id
           WHERE c.stage = $2 AND c.client_id = k.client_id AND ${DUE} AND r.paused_at IS NULL)`,
        [now, stage],
      );
      for (const x of r.rows) out.push({ stage, clientID: x.client_id, settings: toSettings(x), inFlight: Number(x.in_flight) });
    }
    return out;
  }

  async complete(owner: string, done: Completion[]): Promise<void> {
    if (done.length === 0) return;
    // Calls placed whose outcome is awaited end nothing (no delivery to write), so they are one
    // statement for the whole batch, on its own when the batch is only those (the usual flush).
    const placed = done.filter((d): d is Extract<Completion, { kind: 'dispatched' }> => d.kind === 'dispatched' && d.awaits !== undefined);
    const rest = done.filter((d) => !(d.kind === 'dispatched' && d.awaits !== undefined));
    const placeAll = (q: PgPool | PgClient) =>
      q.query(
        `UPDATE outbound_contacts c SET status = 'dispatched', dispatched_at = d.at, lease_owner = NULL, lease_until = NULL,
           call_id = d.call_id, awaiting = d.awaits, awaiting_until = d.awaiting_until, poll_at = d.poll_at
         FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::bigint[])
           AS d(stage, req_id, seq, attempts, at, call_id, awaits, awaiting_until, poll_at)
         WHERE c.stage = d.stage AND c.req_id = d.req_id AND c.seq = d.seq AND c.lease_owner = $1 AND c.attempts = d.attempts`,
        [
          owner,
          placed.map((d) => d.contact.stage),
          placed.map((d) => d.contact.reqID),
          placed.map((d) => d.contact.seq),
          placed.map((d) => d.contact.attempts),
          placed.map((d) => d.at),
          placed.map((d) => d.callId ?? null),
          placed.map((d) => d.awaits),
          placed.map((d) => d.awaitingUntil ?? null),
          placed.map((d) => (d.awaits === 'poll' ? (d.pollAt ?? d.at) : null)),
        ],
      );
    if (rest.length === 0) {
      await placeAll(this.pool);
      return;
    }
    // An outcome applies only while the claim is still this attempt's (same owner, same attempt).
    const owned = 'WHERE stage = $1 AND req_id = $2 AND seq = $3 AND lease_owner = $4 AND attempts = $5';
    await withTransaction(this.pool, async (c) => {
      if (placed.length > 0) await placeAll(c);
      for (const d of rest) {
        const { stage, reqID, seq, attempts } = d.contact;
        const key = [stage, reqID, seq, owner, attempts];
        if (d.kind === 'dispatched') {
          // Nothing awaited (those are `placed`): the contact ends here.
          const r = await c.query<EndedWithUrl>(
            `UPDATE outbound_contacts SET status = 'dispatched', dispatched_at = $6, lease_owner = NULL, lease_until = NULL,
               call_id = $7, awaiting = NULL, awaiting_until = NULL, poll_at = NULL, callback_key = NULL ${owned} ${ENDED}`,
            [...key, d.at, d.callId ?? null],
          );
          await queueEnds(c, r.rows, d.at);
        } else if (d.kind === 'recorded') {
          const r = await c.query<EndedWithUrl>(
            `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'recorded' END,
               dispatched_at = $6, lease_owner = NULL, lease_until = NULL, callback_key = NULL ${owned} ${ENDED}`,
            [...key, d.at],
          );
          await queueEnds(c, r.rows, d.at);
        } else if (d.kind === 'retry') {
          const r = await c.query<EndedWithUrl>(
            `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'scheduled' END,
               due_at = $6, last_error = $7, lease_owner = NULL, lease_until = NULL, callback_key = NULL,
               attempts = attempts - $8 ${owned} ${ENDED}`,
            [...key, d.dueAt, d.error, d.uncounted ? 1 : 0],
          );
          // Cancelled while it was being dialled: not retried, it ends here.
          await queueEnds(c, r.rows.filter((x) => x.status === 'cancelled'), d.at);
        } else {
          const r = await c.query<EndedWithUrl>(
            `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'failed' END,
               last_error = $6, lease_owner = NULL, lease_until = NULL, callback_key = NULL ${owned} ${ENDED}`,
            [...key, d.error],
          );
          await queueEnds(c, r.rows, d.at);
        }
      }
    });
  }

  async recordOutcome(stage: Stage, callbackKey: string, report: OutcomeReport): Promise<OutcomeResult> {
    const asked = report.redial !== undefined && (report.outcome === 'busy' || report.outcome === 'no-answer');
    const args = [stage, callbackKey, report.outcome, report.durationSeconds, report.at, asked, report.redial?.maxRedials ?? 0, report.redial?.dueAt ?? null];
    const result = (row: EndedWithUrl): OutcomeResult => ({
      kind: 'recorded', final: row.status !== 'scheduled', stage, reqID: row.req_id, number: row.number, outcome: report.outcome, durationSeconds: report.durationSeconds,
    });
    // The common case in one statement: a request without a statusCallbackUrl has no delivery to
    // write with the outcome (docs/http.md §9.6), so the outcome needs no transaction of its own.
    const plain = await this.pool.query<EndedWithUrl>(
      `${RECORD_OUTCOME} AND NOT EXISTS (SELECT 1 FROM outbound_requests r
         WHERE r.stage = c.stage AND r.req_id = c.req_id AND r.status_callback_url IS NOT NULL) ${OUTCOME_RETURNING}`,
      args,
    );
    if (plain.rows[0]) return result(plain.rows[0]);
    // A request with a statusCallbackUrl (or a key that is unknown or spent): the outcome and the
    // final outcome's delivery in one transaction.
    return withTransaction(this.pool, async (c) => {
      const r = await c.query<EndedWithUrl>(`${RECORD_OUTCOME} ${OUTCOME_RETURNING}`, args);
      const row = r.rows[0];
      if (!row) return { kind: 'unknown' };
      if (row.status !== 'scheduled') await queueEnds(c, [row], report.at);
      return result(row);
    });
  }

  async completeRequests(now: number, limit: number): Promise<RequestState[]> {
    return withTransaction(this.pool, async (c) => {
      // SKIP LOCKED and the completed_at mark: each finished request is handed to one instance once.
      const r = await c.query<RequestRow>(
        `UPDATE outbound_requests u SET completed_at = $1
         FROM (
           SELECT r.stage, r.req_id FROM outbound_requests r
           WHERE r.status_callback_url IS NOT NULL AND r.completed_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM outbound_contacts c WHERE c.stage = r.stage AND c.req_id = r.req_id
               AND (c.status = 'scheduled' OR (c.awaiting IS NOT NULL AND c.awaiting_until > $1)))
           ORDER BY r.created_at LIMIT $2
           FOR UPDATE SKIP LOCKED
         ) done
         WHERE u.stage = done.stage AND u.req_id = done.req_id
         RETURNING ${REQUEST_COLUMNS.split(', ').map((col) => `u.${col}`).join(', ')}`,
        [now, limit],
      );
      const out: RequestState[] = [];
      for (const row of r.rows) {
        const contacts = await c.query<ContactRow>(CONTACTS_OF, [row.stage, row.req_id]);
        const state = { request: toRequest(row), contacts: contacts.rows.map(toContact) };
        // The completion's delivery is written with the completed_at mark (docs/http.md §9.6).
        await queueDelivery(c, requestCompleted(state, now));
        out.push(state);
      }
      return out;
    });
  }

  async claimPolls(now: number, nextPollAt: number, limit: number): Promise<PollDue[]> {
    const r = await this.pool.query<PollDue>(
      `UPDATE outbound_contacts c SET poll_at = $2
       FROM (
         SELECT stage, req_id, seq FROM outbound_contacts
         WHERE awaiting = 'poll' AND poll_at <= $1 AND call_id IS NOT NULL
         ORDER BY poll_at LIMIT $3 FOR UPDATE SKIP LOCKED
       ) due, outbound_requests r
       WHERE c.stage = due.stage AND c.req_id = due.req_id AND c.seq = due.seq AND r.stage = c.stage AND r.req_id = c.req_id
       RETURNING c.stage, c.callback_key AS "callbackKey", c.call_id AS "callId", r.flow_id AS "flowID", c.client_id AS "clientID"`,
      [now, nextPollAt, limit],
    );
    return r.rows;
  }
}

