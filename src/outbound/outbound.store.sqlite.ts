import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';
import { prepareQueueDelivery } from '../delivery/outbox.store.sqlite.js';
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
  CONTACT_COLUMNS,
  ENDED_COLUMNS,
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

interface ClaimedRow extends Omit<ClaimedContact, 'keys'> {
  keys: string;
}

/** Calls of one client in flight at @now: being dialled (leased) or placed and awaiting their outcome. */
const IN_FLIGHT = `(SELECT count(*) FROM outbound_contacts f
    WHERE f.stage = @stage AND f.client_id = @clientID AND f.status = 'scheduled' AND f.lease_until > @now)
  + (SELECT count(*) FROM outbound_contacts f
    WHERE f.stage = @stage AND f.client_id = @clientID AND f.awaiting IS NOT NULL AND f.awaiting_until > @now)`;

/** What a statement that may end a contact returns of it (for its statusCallbackUrl delivery). */
const ENDED = `RETURNING ${ENDED_COLUMNS}`;

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
  private readonly pauseStmt;
  private readonly claimStmts;
  private readonly inFlightStmt;
  private readonly expireStmt;
  private readonly dueClientsStmt;
  private readonly dispatchedStmt;
  private readonly recordedStmt;
  private readonly retryStmt;
  private readonly failedStmt;
  private readonly byCallbackKeyStmt;
  private readonly redialStmt;
  private readonly finalOutcomeStmt;
  private readonly pollsDueStmt;
  private readonly pollLaterStmt;
  private readonly suppressStmt;
  private readonly unsuppressStmt;
  private readonly suppressedAmongStmt;
  private readonly putClientTx;
  private readonly listClientsStmt;
  private readonly deleteClientStmt;
  private readonly createTx;
  private readonly stateTx;
  private readonly cancelTx;
  private readonly pauseTx;
  private readonly claimTx;
  private readonly claimClientsTx;
  private readonly completeTx;
  private readonly outcomeTx;
  private readonly pollsTx;
  private readonly suppressTx;
  private readonly toCompleteStmt;
  private readonly completeRequestsTx;
  private readonly callbackUrlStmt;
  private readonly queueDelivery;
  private readonly suppressedOfStmt;
  private readonly expireTx;

  constructor(db: Db) {
    // statusCallbackUrl deliveries are written inside the transactions below (docs/http.md §9.6).
    this.queueDelivery = prepareQueueDelivery(db);
    this.callbackUrlStmt = db.prepare<[Stage, string], string | null>('SELECT status_callback_url FROM outbound_requests WHERE stage = ? AND req_id = ?').pluck();
    this.getClientStmt = db.prepare<[Stage, string], ClientRow>('SELECT * FROM outbound_clients WHERE stage = ? AND client_id = ?');
    this.listClientsStmt = db.prepare<[Stage], ClientRow>('SELECT * FROM outbound_clients WHERE stage = ? ORDER BY client_id');
    this.deleteClientStmt = db.prepare<[Stage, string]>('DELETE FROM outbound_clients WHERE stage = ? AND client_id = ?');
    this.insertClientStmt = db.prepare(
      `INSERT INTO outbound_clients (stage, client_id, security_id_sha256, flows, created_at, updated_at,
         caller_id, max_concurrent, calls_per_second, flow_targets)
       VALUES (@stage, @clientID, @securityIdHash, @flows, @now, @now, @callerId, @maxConcurrent, @callsPerSecond, @targets)`,
    );
    this.updateClientStmt = db.prepare(
      `UPDATE outbound_clients SET security_id_sha256 = @securityIdHash, flows = @flows, updated_at = @now,
         caller_id = @callerId, max_concurrent = @maxConcurrent, calls_per_second = @callsPerSecond, flow_targets = @targets
       WHERE stage = @stage AND client_id = @clientID`,
    );
    this.insertRequest = db.prepare(
      `INSERT INTO outbound_requests (stage, req_id, client_id, flow_id, phonon_uuid, scheduled_at, created_at,
         category, status_callback_url, expires_at)
       VALUES (@stage, @reqID, @clientID, @flowID, @phononUUID, @scheduledAt, @createdAt, @category, @statusCallbackUrl, @expiresAt)`,
    );
    // A number on the client's suppression list is stored `suppressed` and never claimed.
    this.insertContact = db.prepare(
      `INSERT INTO outbound_contacts (stage, req_id, seq, client_id, number, keys, due_at, expires_at, idempotency_key, status)
       VALUES (@stage, @reqID, @seq, @clientID, @number, @keys, @dueAt, @expiresAt, @idempotencyKey,
         CASE WHEN EXISTS (SELECT 1 FROM outbound_suppressions s WHERE s.stage = @stage AND s.client_id = @clientID AND s.number = @number)
           THEN 'suppressed' ELSE 'scheduled' END)`,
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
      `SELECT ${CONTACT_COLUMNS} FROM outbound_contacts WHERE stage = ? AND req_id = ? ORDER BY seq`,
    );
    this.cancelRequestStmt = db.prepare(
      'UPDATE outbound_requests SET cancelled_at = coalesce(cancelled_at, ?) WHERE stage = ? AND req_id = ?',
    );
    // In-flight contacts are cancelled too: if their dispatch is confirmed anyway they become
    // 'dispatched' (the call went out); if it fails they stay cancelled and are never retried.
    this.cancelContactsStmt = db.prepare<[Stage, string], EndedRow & { lease_until: number | null }>(
      `UPDATE outbound_contacts SET status = 'cancelled' WHERE stage = ? AND req_id = ? AND status = 'scheduled' ${ENDED}, lease_until`,
    );
    this.suppressedOfStmt = db.prepare<[Stage, string], EndedRow>(
      `SELECT ${ENDED_COLUMNS} FROM outbound_contacts WHERE stage = ? AND req_id = ? AND status = 'suppressed' ORDER BY seq`,
    );
    this.pauseStmt = db.prepare(
      `UPDATE outbound_requests SET paused_at = CASE WHEN @paused = 1 THEN coalesce(paused_at, @now) ELSE NULL END
       WHERE stage = @stage AND req_id = @reqID`,
    );
    const due = `c.status = 'scheduled' AND c.due_at <= @now AND (c.lease_until IS NULL OR c.lease_until <= @now)`;
    // docs/http.md §9.5: a claim reads only the rows it may take, through the index of its scope
    // (every stage: outbound_contacts_due; one stage: outbound_contacts_stage_due; one client:
    // outbound_contacts_client_due), so its cost does not grow with the contacts waiting.
    const scopes = { all: '1 = 1', stage: 'c.stage = @stage', client: 'c.stage = @stage AND c.client_id = @clientID' } as const;
    const candidates = (scope: string, extra = '') =>
      `SELECT c.rowid FROM outbound_contacts c
       JOIN outbound_requests r ON r.stage = c.stage AND r.req_id = c.req_id
       WHERE ${due} AND (c.lease_owner IS NULL OR c.lease_owner <> @owner) AND r.paused_at IS NULL AND ${scope} ${extra}
       ORDER BY c.due_at LIMIT @limit`;
    const onList = (c: string) =>
      `EXISTS (SELECT 1 FROM outbound_suppressions s WHERE s.stage = ${c}.stage AND s.client_id = ${c}.client_id AND s.number = ${c}.number)`;
    const claimStatements = (scope: string) => ({
      // A number suppressed after its request was made is still never dialled: the claim passes it
      // over, and the contacts this claim would have taken first are marked `suppressed`.
      suppress: db.prepare<{ owner: string; now: number; limit: number; stage?: Stage; clientID?: string }, EndedRow>(
        `UPDATE outbound_contacts AS u SET status = 'suppressed' WHERE rowid IN (${candidates(scope)}) AND ${onList('u')} ${ENDED}`,
      ),
      // One statement claims the batch (rowid: SQLite's cheapest row handle). A scheduler never
      // takes over its own leases: those contacts are still in its hands, even if the clock
      // jumped past their lease end. Each claim gets a fresh callback key (docs/http.md §9).
      claim: db.prepare<{ owner: string; now: number; leaseUntil: number; limit: number; stage?: Stage; clientID?: string }, ClaimedRow>(
        `UPDATE outbound_contacts SET lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1,
           callback_key = lower(hex(randomblob(16)))
         WHERE rowid IN (${candidates(scope, `AND NOT ${onList('c')}`)})
         RETURNING stage, req_id AS reqID, seq, number, attempts, due_at AS dueAt, idempotency_key AS idempotencyKey,
           client_id AS clientID, keys, callback_key AS callbackKey`,
      ),
    });
    this.claimStmts = { all: claimStatements(scopes.all), stage: claimStatements(scopes.stage), client: claimStatements(scopes.client) };
    this.inFlightStmt = db.prepare<{ stage: Stage; clientID: string; now: number }, { n: number; max: number | null }>(
      `SELECT ${IN_FLIGHT} AS n, (SELECT max_concurrent FROM outbound_clients WHERE stage = @stage AND client_id = @clientID) AS max`,
    );
    this.expireStmt = db.prepare<{ now: number }, EndedRow>(
      `UPDATE outbound_contacts SET status = 'expired'
       WHERE status = 'scheduled' AND expires_at <= @now AND (lease_until IS NULL OR lease_until <= @now) ${ENDED}`,
    );
    // One row per client of the stage with contacts due: the clients with contacts waiting are
    // found one index seek each (a skip scan of outbound_contacts_client_due), never by reading
    // every contact waiting.
    this.dueClientsStmt = db.prepare<{ now: number; stage: Stage }, ClientRow & { client_id: string; in_flight: number }>(
      `WITH RECURSIVE k(client_id) AS (
         SELECT (SELECT min(client_id) FROM outbound_contacts WHERE stage = @stage AND status = 'scheduled')
         UNION ALL
         SELECT (SELECT min(x.client_id) FROM outbound_contacts x WHERE x.stage = @stage AND x.status = 'scheduled' AND x.client_id > k.client_id)
         FROM k WHERE k.client_id IS NOT NULL)
       SELECT k.client_id, cl.caller_id, cl.max_concurrent, cl.calls_per_second, cl.flow_targets,
         ${IN_FLIGHT.replaceAll('@clientID', 'k.client_id')} AS in_flight
       FROM k LEFT JOIN outbound_clients cl ON cl.stage = @stage AND cl.client_id = k.client_id
       WHERE k.client_id IS NOT NULL AND EXISTS (
         SELECT 1 FROM outbound_contacts c JOIN outbound_requests r ON r.stage = c.stage AND r.req_id = c.req_id
         WHERE c.stage = @stage AND c.client_id = k.client_id AND ${due} AND r.paused_at IS NULL)`,
    );
    const owned = 'WHERE stage = @stage AND req_id = @reqID AND seq = @seq AND lease_owner = @owner AND attempts = @attempts';
    this.dispatchedStmt = db.prepare(
      `UPDATE outbound_contacts SET status = 'dispatched', dispatched_at = @at, lease_owner = NULL, lease_until = NULL,
         call_id = @callId, awaiting = @awaits, awaiting_until = @awaitingUntil, poll_at = @pollAt,
         callback_key = CASE WHEN @awaits IS NULL THEN NULL ELSE callback_key END ${owned} ${ENDED}`,
    );
    this.recordedStmt = db.prepare(
      `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'recorded' END,
         dispatched_at = @at, lease_owner = NULL, lease_until = NULL, callback_key = NULL ${owned} ${ENDED}`,
    );
    this.retryStmt = db.prepare(
      `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'scheduled' END,
         due_at = @dueAt, last_error = @error, lease_owner = NULL, lease_until = NULL, callback_key = NULL,
         attempts = attempts - @uncounted ${owned} ${ENDED}`,
    );
    this.failedStmt = db.prepare(
      `UPDATE outbound_contacts SET status = CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'failed' END,
         last_error = @error, lease_owner = NULL, lease_until = NULL, callback_key = NULL ${owned} ${ENDED}`,
    );
    this.byCallbackKeyStmt = db.prepare<[Stage, string], { rowid: number; req_id: string; number: string; status: ContactStatus; redials: number }>(
      `SELECT rowid, req_id, number, status, redials FROM outbound_contacts
       WHERE stage = ? AND callback_key = ? AND status IN ('scheduled', 'dispatched', 'cancelled')`,
    );
    const spent = 'callback_key = NULL, awaiting = NULL, awaiting_until = NULL, poll_at = NULL, lease_owner = NULL, lease_until = NULL';
    this.redialStmt = db.prepare(
      `UPDATE outbound_contacts SET status = 'scheduled', due_at = @dueAt, redials = redials + 1, outcome = @outcome,
         duration_seconds = @durationSeconds, dispatched_at = coalesce(dispatched_at, @at), ${spent} WHERE rowid = @rowid`,
    );
    // A call that went out is `dispatched` with its outcome, even if its request was cancelled meanwhile.
    this.finalOutcomeStmt = db.prepare<{ rowid: number; outcome: string; durationSeconds: number | null; at: number }, EndedRow>(
      `UPDATE outbound_contacts SET status = 'dispatched', outcome = @outcome, duration_seconds = @durationSeconds,
         dispatched_at = coalesce(dispatched_at, @at), ${spent} WHERE rowid = @rowid ${ENDED}`,
    );
    this.pollsDueStmt = db.prepare<{ now: number; limit: number }, PollDue & { rowid: number }>(
      `SELECT c.rowid, c.stage, c.callback_key AS callbackKey, c.call_id AS callId, r.flow_id AS flowID, c.client_id AS clientID
       FROM outbound_contacts c JOIN outbound_requests r ON r.stage = c.stage AND r.req_id = c.req_id
       WHERE c.awaiting = 'poll' AND c.poll_at <= @now AND c.call_id IS NOT NULL ORDER BY c.poll_at LIMIT @limit`,
    );
    this.pollLaterStmt = db.prepare('UPDATE outbound_contacts SET poll_at = ? WHERE rowid = ?');
    // Open: a contact still to be dialled, or a call placed whose outcome is still awaited.
    this.toCompleteStmt = db.prepare<{ now: number; limit: number }, RequestRow>(
      `UPDATE outbound_requests SET completed_at = @now
       WHERE rowid IN (
         SELECT r.rowid FROM outbound_requests r INDEXED BY outbound_requests_to_complete
         WHERE r.status_callback_url IS NOT NULL AND r.completed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM outbound_contacts c WHERE c.stage = r.stage AND c.req_id = r.req_id
             AND (c.status = 'scheduled' OR (c.awaiting IS NOT NULL AND c.awaiting_until > @now)))
         ORDER BY r.created_at LIMIT @limit)
       RETURNING *`,
    );
    this.suppressStmt = db.prepare(
      'INSERT INTO outbound_suppressions (stage, client_id, number, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.unsuppressStmt = db.prepare('DELETE FROM outbound_suppressions WHERE stage = ? AND client_id = ? AND number = ?');
    this.suppressedAmongStmt = db.prepare<[Stage, string, string], { number: string }>(
      'SELECT number FROM outbound_suppressions WHERE stage = ? AND client_id = ? AND number IN (SELECT value FROM json_each(?))',
    );

    this.putClientTx = db.transaction(
      (args: { stage: Stage; clientID: string; securityIdHash: string; flows: string; now: number } & Record<string, unknown>) => {
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
        const expiresAt = req.expiresAt ?? null;
        this.insertRequest.run({
          stage: req.stage,
          reqID: req.reqID,
          clientID: req.clientID,
          flowID: req.flowID,
          phononUUID: req.phononUUID,
          scheduledAt: req.scheduledAt,
          createdAt: req.createdAt,
          category: req.category ?? 'transactional',
          statusCallbackUrl: req.statusCallbackUrl ?? null,
          expiresAt,
        });
        req.numbers.forEach((number, seq) => {
          this.insertContact.run({
            stage: req.stage,
            reqID: req.reqID,
            seq,
            clientID: req.clientID,
            number,
            keys: JSON.stringify(req.keys?.[seq] ?? {}),
            dueAt: req.scheduledAt,
            expiresAt,
            idempotencyKey: `${req.reqID}-${seq}`,
          });
        });
        // Contacts suppressed from the start end now (docs/http.md §9.6).
        if (req.statusCallbackUrl) this.queueEnds(this.suppressedOfStmt.all(req.stage, req.reqID), req.createdAt);
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
      const cancelled = this.cancelContactsStmt.all(stage, reqID);
      if (cancelled.length > 0 && row.cancelled_at === null) {
        this.cancelRequestStmt.run(now, stage, reqID);
        row.cancelled_at = now;
      }
      // A contact being dialled now ends with its dispatch's outcome (complete), the others here.
      this.queueEnds(cancelled.filter((c) => c.lease_until === null || c.lease_until <= now), now);
      return { request: toRequest(row), contacts: this.contactsStmt.all(stage, reqID).map(toContact) };
    });
    this.pauseTx = db.transaction((stage: Stage, reqID: string, clientID: string, paused: boolean, now: number): RequestState | undefined => {
      const row = this.getRequestStmt.get(stage, reqID);
      if (!row || row.client_id !== clientID) return undefined;
      this.pauseStmt.run({ stage, reqID, paused: paused ? 1 : 0, now });
      return { request: toRequest(this.getRequestStmt.get(stage, reqID)!), contacts: this.contactsStmt.all(stage, reqID).map(toContact) };
    });
    // `claim` takes from every stage or one; `claimForClients` from one client at a time.
    const claimIn = (owner: string, now: number, leaseUntil: number, limit: number, client: (ClaimScope & { clientID?: string }) | undefined): ClaimedContact[] => {
      let n = limit;
      if (client?.clientID !== undefined) {
        const f = this.inFlightStmt.get({ stage: client.stage, clientID: client.clientID, now })!;
        n = Math.min(limit, (f.max ?? DEFAULT_CLIENT_SETTINGS.maxConcurrent) - f.n);
      }
      if (n <= 0) return [];
      const stmts = !client ? this.claimStmts.all : client.clientID === undefined ? this.claimStmts.stage : this.claimStmts.client;
      const args = { now, owner, limit: n, ...(client ? { stage: client.stage } : {}), ...(client?.clientID !== undefined ? { clientID: client.clientID } : {}) };
      this.queueEnds(stmts.suppress.all(args), now);
      return stmts.claim.all({ ...args, leaseUntil }).map(toClaimed);
    };
    this.claimTx = db.transaction(claimIn);
    // One process per file: no other claim can be taking a client's contacts meanwhile.
    this.claimClientsTx = db.transaction((owner: string, now: number, leaseUntil: number, stage: Stage, clientIDs: string[], perClient: number) =>
      clientIDs.flatMap((clientID) => claimIn(owner, now, leaseUntil, perClient, { stage, clientID })),
    );
    this.completeTx = db.transaction((owner: string, done: Completion[]) => {
      for (const c of done) {
        const { stage, reqID, seq, attempts } = c.contact;
        const key = { stage, reqID, seq, attempts, owner };
        // The row as this attempt left it, when the attempt ended the contact (and the claim was still ours).
        let ended: EndedRow | undefined;
        if (c.kind === 'dispatched') {
          const row = this.dispatchedStmt.get({
            ...key,
            at: c.at,
            callId: c.callId ?? null,
            awaits: c.awaits ?? null,
            awaitingUntil: c.awaits ? (c.awaitingUntil ?? null) : null,
            pollAt: c.awaits === 'poll' ? (c.pollAt ?? c.at) : null,
          }) as EndedRow | undefined;
          if (!c.awaits) ended = row;
        } else if (c.kind === 'recorded') ended = this.recordedStmt.get({ ...key, at: c.at }) as EndedRow | undefined;
        else if (c.kind === 'retry') {
          const row = this.retryStmt.get({ ...key, dueAt: c.dueAt, error: c.error, uncounted: c.uncounted ? 1 : 0 }) as EndedRow | undefined;
          // Cancelled while it was being dialled: not retried, it ends here.
          if (row?.status === 'cancelled') this.queueEnds([row], c.at);
        } else ended = this.failedStmt.get({ ...key, error: c.error }) as EndedRow | undefined;
        if (ended) this.queueEnds([ended], c.at);
      }
    });
    this.outcomeTx = db.transaction((stage: Stage, callbackKey: string, report: OutcomeReport): OutcomeResult => {
      const row = this.byCallbackKeyStmt.get(stage, callbackKey);
      if (!row) return { kind: 'unknown' };
      const args = { rowid: row.rowid, outcome: report.outcome, durationSeconds: report.durationSeconds, at: report.at };
      const redial =
        report.redial !== undefined &&
        (report.outcome === 'busy' || report.outcome === 'no-answer') &&
        row.status !== 'cancelled' &&
        row.redials < report.redial.maxRedials;
      if (redial) this.redialStmt.run({ ...args, dueAt: report.redial!.dueAt });
      else this.queueEnds([this.finalOutcomeStmt.get(args)!], report.at);
      return { kind: 'recorded', final: !redial, stage, reqID: row.req_id, number: row.number, outcome: report.outcome, durationSeconds: report.durationSeconds };
    });
    this.expireTx = db.transaction((now: number): number => {
      const expired = this.expireStmt.all({ now });
      this.queueEnds(expired, now);
      return expired.length;
    });
    this.pollsTx = db.transaction((now: number, nextPollAt: number, limit: number): PollDue[] => {
      const rows = this.pollsDueStmt.all({ now, limit });
      for (const r of rows) this.pollLaterStmt.run(nextPollAt, r.rowid);
      return rows.map(({ rowid: _r, ...p }) => p);
    });
    // The completion's delivery is written with the completed_at mark (docs/http.md §9.6).
    this.completeRequestsTx = db.transaction((now: number, limit: number): RequestState[] =>
      this.toCompleteStmt.all({ now, limit }).map((row) => {
        const state = { request: toRequest(row), contacts: this.contactsStmt.all(row.stage, row.req_id).map(toContact) };
        this.queueDelivery(requestCompleted(state, now));
        return state;
      }),
    );
    this.suppressTx = db.transaction((stage: Stage, clientID: string, numbers: string[], now: number): number => {
      let added = 0;
      for (const n of numbers) added += this.suppressStmt.run(stage, clientID, n, now).changes;
      return added;
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

  async putClient(stage: Stage, clientID: string, securityIdHash: string, flows: string[], now: number, settings: ClientSettings = DEFAULT_CLIENT_SETTINGS) {
    return this.putClientTx.immediate({
      stage,
      clientID,
      securityIdHash,
      flows: JSON.stringify(flows),
      now,
      callerId: settings.callerId,
      maxConcurrent: settings.maxConcurrent,
      callsPerSecond: settings.callsPerSecond,
      targets: JSON.stringify(settings.targets),
    });
  }

  async suppress(stage: Stage, clientID: string, numbers: string[], now: number): Promise<number> {
    return this.suppressTx.immediate(stage, clientID, numbers, now);
  }

  async unsuppress(stage: Stage, clientID: string, number: string): Promise<boolean> {
    return this.unsuppressStmt.run(stage, clientID, number).changes === 1;
  }

  async suppressedAmong(stage: Stage, clientID: string, numbers: string[]): Promise<Set<string>> {
    return new Set(this.suppressedAmongStmt.all(stage, clientID, JSON.stringify(numbers)).map((r) => r.number));
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

  async setPaused(stage: Stage, reqID: string, clientID: string, paused: boolean, now: number): Promise<RequestState | undefined> {
    return this.pauseTx.immediate(stage, reqID, clientID, paused, now);
  }

  async claim(owner: string, now: number, leaseUntil: number, limit: number, client?: ClaimScope): Promise<ClaimedContact[]> {
    return this.claimTx.immediate(owner, now, leaseUntil, limit, client);
  }

  async claimForClients(owner: string, now: number, leaseUntil: number, stage: Stage, clientIDs: string[], perClient: number): Promise<ClaimedContact[]> {
    return this.claimClientsTx.immediate(owner, now, leaseUntil, stage, clientIDs, perClient);
  }

  async expire(now: number): Promise<number> {
    return this.expireTx.immediate(now);
  }

  /**
   * Write the statusCallbackUrl delivery of each contact these rows just ended, for the requests
   * that have a URL (docs/http.md §9.6). Only inside one of this store's transactions, so the
   * deliveries commit or roll back with the contacts' final state.
   */
  private queueEnds(rows: EndedRow[], at: number): void {
    const urls = new Map<string, string | null>();
    for (const r of rows) {
      const key = `${r.stage}/${r.req_id}`;
      if (!urls.has(key)) urls.set(key, this.callbackUrlStmt.get(r.stage, r.req_id) ?? null);
      const url = urls.get(key);
      if (url) this.queueDelivery(contactEnded(r.stage, r.req_id, url, toEnd(r), at));
    }
  }

  async dueClients(now: number, stages: Stage[]): Promise<DueClient[]> {
    return stages.flatMap((stage) =>
      this.dueClientsStmt.all({ now, stage }).map((r) => ({ stage, clientID: r.client_id, settings: toSettings(r), inFlight: r.in_flight })),
    );
  }

  async complete(owner: string, done: Completion[]): Promise<void> {
    if (done.length > 0) this.completeTx.immediate(owner, done);
  }

  async recordOutcome(stage: Stage, callbackKey: string, report: OutcomeReport): Promise<OutcomeResult> {
    return this.outcomeTx.immediate(stage, callbackKey, report);
  }

  async claimPolls(now: number, nextPollAt: number, limit: number): Promise<PollDue[]> {
    return this.pollsTx.immediate(now, nextPollAt, limit);
  }

  async completeRequests(now: number, limit: number): Promise<RequestState[]> {
    return this.completeRequestsTx.immediate(now, limit);
  }
}

function toClaimed(r: ClaimedRow): ClaimedContact {
  return { ...r, keys: JSON.parse(r.keys) as Record<string, string> };
}
