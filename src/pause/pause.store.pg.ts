import { randomUUID } from 'node:crypto';
import type { Stage } from '../http/routing.js';
import { BUS_CHANNEL, type BusNotice } from '../events/pgBus.js';
import { withTransaction, type PgClient, type PgPool } from '../db/pg.js';
import type {
  AgentProfile,
  AgentRecord,
  EventQuery,
  PauseChange,
  PauseChangeResult,
  PauseEventRecord,
  PauseOutcome,
  PauseStore,
  PauseTarget,
} from './pause.store.js';
import { checkCallStep, keepCallStep, storedReply } from '../ivr/ivr.steps.store.pg.js';
import { AGENT_COLUMNS, changedEvent, pauseEventColumns, toAgent, toPauseEvent, type AgentRow, type PauseEventRow } from './pause.rows.js';
import { buildWrite, READ_AGENT, READ_AGENT_AND_STEP, type VersionedRow } from './pause.write.pg.js';

const EVENT_COLUMNS = pauseEventColumns();

/**
 * The step was answered by a concurrent transaction that did not hold this agent's lock (the same
 * call id and step from another caller): this change rolls back and that answer is given.
 */
class StepAnsweredMeanwhile extends Error {
  constructor(readonly reply: string) {
    super('the step was answered meanwhile');
  }
}

/**
 * Create or merge in one statement: a profile field left undefined keeps what is stored
 * (`$n::boolean` says whether it was given); xmax = 0 tells an inserted row from an updated one.
 */
const UPSERT = `INSERT INTO agents (stage, cli, name, account_id, language, pause, reason, since, created_at, updated_at)
  VALUES ($1, $2, $3, $5, $7, false, NULL, NULL, $9, $9)
  ON CONFLICT (stage, cli) DO UPDATE SET
    name = CASE WHEN $4::boolean THEN excluded.name ELSE agents.name END,
    account_id = CASE WHEN $6::boolean THEN excluded.account_id ELSE agents.account_id END,
    language = CASE WHEN $8::boolean THEN excluded.language ELSE agents.language END,
    updated_at = excluded.updated_at
  RETURNING ${AGENT_COLUMNS}, (xmax = 0) AS inserted`;

function upsertArgs(stage: Stage, cli: string, p: AgentProfile, now: number): unknown[] {
  return [stage, cli, p.name ?? null, p.name !== undefined, p.accountId ?? null, p.accountId !== undefined, p.language ?? null, p.language !== undefined, now];
}

/** Optimistic attempts of one pause change before it takes the agent's row lock instead. */
const OPTIMISTIC_ATTEMPTS = 4;

/**
 * The pause store on PostgreSQL (docs/http.md §11). Changes for one agent serialise across every
 * instance, in two round trips and no transaction block: the agent (with its row version, `xmin`)
 * and, for an IVR step, the call's record and stored reply are read in one statement; `onlyIf`
 * and `decide` run on that; then ONE statement writes the agent only if its row version is still
 * the one read (compare-and-set), and with it the event, the outbox row, the NOTIFY, the step's
 * reply and the call's record (src/pause/pause.write.pg.ts). A single statement is atomic, so all
 * of it is written or none. With `PauseChange.known` (a record `getAgent` returned, its row
 * version kept here) the first read is skipped: one round trip. When another change committed
 * in between, nothing was written and the change is decided again on the new state; after
 * OPTIMISTIC_ATTEMPTS such losses (one agent changed by many at once) it takes the agent's row
 * lock (`SELECT … FOR UPDATE`) in a transaction and cannot lose again.
 */
export class PgPauseStore implements PauseStore {
  /**
   * `origin`: this instance's id, carried by each bus notification so it skips its own
   * (src/events/pgBus.ts). `optimisticAttempts`: compare-and-set tries before the row lock (tests
   * set 0 to run the locking path).
   */
  constructor(
    private readonly pool: PgPool,
    private readonly origin: string = randomUUID(),
    private readonly optimisticAttempts = OPTIMISTIC_ATTEMPTS,
  ) {}

  /** The row version (xmin) of each agent record `getAgent` returned, for `PauseChange.known`. */
  private readonly versions = new WeakMap<AgentRecord, string>();

  /**
   * Tell the other instances (docs/http.md §11): NOTIFY inside the change's own transaction, so
   * PostgreSQL delivers it exactly when the change commits and never for a rolled-back one.
   */
  private async notifyPeers(c: PgClient, msg: BusNotice): Promise<void> {
    await c.query('SELECT pg_notify($1, $2)', [BUS_CHANNEL, JSON.stringify({ ...msg, o: this.origin })]);
  }

  /** One pause event with the agent's current name, for a pause change notified by another instance. */
  async changeEvent(id: number): Promise<{ event: PauseEventRecord; name: string | null } | undefined> {
    const r = await this.pool.query<PauseEventRow & { name: string | null }>(
      `SELECT ${pauseEventColumns('e')}, a.name
         FROM pause_events e LEFT JOIN agents a ON a.stage = e.stage AND a.cli = e.cli WHERE e.id = $1`,
      [id],
    );
    const row = r.rows[0];
    return row && { event: toPauseEvent(row), name: row.name };
  }

  /** The newest pause event's id (0 when there is none): where catching up starts. */
  async lastEventId(): Promise<number> {
    const r = await this.pool.query<{ id: string | null }>('SELECT max(id) AS id FROM pause_events');
    return Number(r.rows[0]?.id ?? 0);
  }

  /**
   * Pause events after `afterId` made by other instances (or before origins were recorded), oldest
   * first, with the agent's current name: what a listener missed while its connection was down.
   */
  async othersChangesAfter(afterId: number, limit: number): Promise<{ event: PauseEventRecord; name: string | null }[]> {
    const r = await this.pool.query<PauseEventRow & { name: string | null }>(
      `SELECT ${pauseEventColumns('e')}, a.name
         FROM pause_events e LEFT JOIN agents a ON a.stage = e.stage AND a.cli = e.cli
        WHERE e.id > $1 AND e.origin IS DISTINCT FROM $2 ORDER BY e.id LIMIT $3`,
      [afterId, this.origin, limit],
    );
    return r.rows.map((row) => ({ event: toPauseEvent(row), name: row.name }));
  }

  async getAgent(stage: Stage, cli: string): Promise<AgentRecord | undefined> {
    const r = await this.pool.query<VersionedRow>({ ...READ_AGENT, values: [stage, cli] });
    const row = r.rows[0];
    if (!row) return undefined;
    const agent = toAgent(row);
    this.versions.set(agent, row.v!);
    return agent;
  }

  async listAgents(stage: Stage): Promise<AgentRecord[]> {
    const r = await this.pool.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE stage = $1 ORDER BY cli`, [stage]);
    return r.rows.map(toAgent);
  }

  async saveAgent(stage: Stage, cli: string, profile: AgentProfile, now: number) {
    return withTransaction(this.pool, async (c) => {
      const r = await c.query<AgentRow & { inserted: boolean }>(UPSERT, upsertArgs(stage, cli, profile, now));
      const row = r.rows[0]!;
      await this.notifyPeers(c, { k: 'agent', stage, cli, change: 'saved' });
      return { agent: toAgent(row), created: row.inserted };
    });
  }

  async importAgents(stage: Stage, rows: { cli: string; profile: AgentProfile }[], now: number) {
    if (rows.length === 0) return { imported: 0, updated: 0 };
    return withTransaction(this.pool, async (c) => {
      let imported = 0;
      let updated = 0;
      for (const row of rows) {
        const r = await c.query<{ inserted: boolean }>(UPSERT, upsertArgs(stage, row.cli, row.profile, now));
        if (r.rows[0]!.inserted) imported++;
        else updated++;
      }
      await this.notifyPeers(c, { k: 'agent', stage, cli: null, change: 'imported' });
      return { imported, updated };
    });
  }

  async deleteAgent(stage: Stage, cli: string): Promise<boolean> {
    return withTransaction(this.pool, async (c) => {
      const r = await c.query('DELETE FROM agents WHERE stage = $1 AND cli = $2', [stage, cli]);
      if (r.rowCount !== 1) return false;
      await this.notifyPeers(c, { k: 'agent', stage, cli, change: 'deleted' });
      return true;
    });
  }

  async applyPauseChange(
    stage: Stage,
    cli: string,
    decide: (agent: AgentRecord) => PauseTarget | null,
    change: PauseChange,
  ): Promise<PauseChangeResult> {
    for (let i = 0; i < this.optimisticAttempts; i++) {
      // The caller's record saves the first read; a retry reads what the winner left.
      const r = await this.tryChange(stage, cli, decide, change, i === 0 ? change.known : undefined);
      if (r) return r;
    }
    try {
      return await withTransaction(this.pool, (c) => this.lockedChange(c, stage, cli, decide, change));
    } catch (e) {
      if (e instanceof StepAnsweredMeanwhile) return { kind: 'replayed', reply: e.reply };
      throw e;
    }
  }

  /**
   * One optimistic attempt: read (unless `known` is a record this store returned, with its row
   * version), decide, then write in one statement if the agent's row version is unchanged.
   * Undefined when another change committed in between (nothing was written).
   */
  private async tryChange(
    stage: Stage,
    cli: string,
    decide: (agent: AgentRecord) => PauseTarget | null,
    change: PauseChange,
    known: AgentRecord | undefined,
  ): Promise<PauseChangeResult | undefined> {
    const keep = change.alsoKeep;
    const knownVersion = known && known.stage === stage && known.cli === cli ? this.versions.get(known) : undefined;
    let cur: AgentRecord;
    let version: string;
    if (knownVersion !== undefined) {
      // The step's stored reply and the call's age are checked by the write itself.
      cur = known!;
      version = knownVersion;
    } else {
      const read = keep
        ? await this.pool.query<VersionedRow & { first_seen: number | null; reply: string | null }>({
            ...READ_AGENT_AND_STEP,
            values: [stage, cli, keep.stage, keep.callId, keep.step],
          })
        : await this.pool.query<VersionedRow>({ ...READ_AGENT, values: [stage, cli] });
      const row = read.rows[0];
      if (keep) {
        const { first_seen: seen, reply } = row as VersionedRow & { first_seen: number | null; reply: string | null };
        if (keep.refuseSeenBefore !== undefined && seen !== null && seen < keep.refuseSeenBefore) return { kind: 'expired' };
        if (reply !== null) return { kind: 'replayed', reply };
      }
      if (!row || row.v === null) return { kind: 'notFound' };
      cur = toAgent(row);
      version = row.v;
    }

    if (change.onlyIf && !change.onlyIf(cur)) return { kind: 'skipped', agent: cur };
    const next = decide(cur);
    // A change never predates the state it ends: an agent's events stay in commit order by (at, id).
    const at = next ? Math.max(change.at, cur.since ?? 0) : change.at;
    const outcome: PauseOutcome = next
      ? { agent: { ...cur, pause: next.pause, reason: next.reason, since: at }, changed: true, event: null }
      : { agent: cur, changed: false, event: null };
    // Nothing to write: the decision stands on the state as read.
    if (!next && !keep) return { kind: 'applied', ...outcome };
    const kept = keep?.reply(outcome);
    const write = buildWrite({ stage, cli, version, origin: this.origin, notify: Boolean(change.notify) }, next && {
      ...next,
      at,
      source: change.source,
      callId: change.callId ?? null,
      prev: cur,
    }, keep && kept ? { step: keep, kept, at: change.at } : undefined);
    let written;
    try {
      written = await this.pool.query<{ hit: number; id: number | null; expired: number }>(write);
    } catch (e) {
      // docs/http.md §7.1: the step was answered meanwhile (a platform retry that overtook this
      // one); the statement wrote nothing and that answer is given.
      if (keep && isStepTaken(e)) {
        const first = await storedReply(this.pool, keep);
        return first === undefined ? undefined : { kind: 'replayed', reply: first };
      }
      throw e;
    }
    const w = written.rows[0]!;
    if (w.hit !== 1) return w.expired ? { kind: 'expired' } : undefined;
    if (next) {
      outcome.event = changedEvent(w.id!, stage, cli, at, next, change.source, change.callId ?? null, cur);
    }
    return kept ? { kind: 'applied', ...outcome, reply: kept.reply } : { kind: 'applied', ...outcome };
  }

  /** The change under the agent's row lock, in the caller's transaction: it cannot lose a race. */
  private async lockedChange(
    c: PgClient,
    stage: Stage,
    cli: string,
    decide: (agent: AgentRecord) => PauseTarget | null,
    change: PauseChange,
  ): Promise<PauseChangeResult> {
    // The row lock first: a concurrent change of this agent (or a retry of the same IVR step,
    // which is the same agent) waits here until the other commits.
    const locked = await c.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE stage = $1 AND cli = $2 FOR UPDATE`, [stage, cli]);
    const keep = change.alsoKeep;
    if (keep) {
      const found = await checkCallStep(c, keep);
      if (found) return found;
    }
    const row = locked.rows[0];
    if (!row) return { kind: 'notFound' };
    const cur = toAgent(row);
    if (change.onlyIf && !change.onlyIf(cur)) return { kind: 'skipped', agent: cur };
    const next = decide(cur);
    let outcome: { agent: AgentRecord; changed: boolean; event: PauseEventRecord | null };
    if (!next) {
      outcome = { agent: cur, changed: false, event: null };
    } else {
      // `at` was read before this change waited for the lock: a change never predates the state
      // it ends, so an agent's events stay in lock order by (at, id) and no break runs backwards.
      const at = Math.max(change.at, cur.since ?? 0);
      await c.query('UPDATE agents SET pause = $3, reason = $4, since = $5, updated_at = $5 WHERE stage = $1 AND cli = $2', [
        stage,
        cli,
        next.pause,
        next.reason,
        at,
      ]);
      const ev = await c.query<PauseEventRow>(
        `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since, origin)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${EVENT_COLUMNS}`,
        [stage, at, cli, next.pause, next.reason, change.source, change.callId ?? null, cur.pause, cur.reason, cur.since, this.origin],
      );
      const event = toPauseEvent(ev.rows[0]!);
      if (change.notify) await c.query("INSERT INTO outbox (type, event_id, name) VALUES ('pause.changed', $1, $2)", [event.id, cur.name]);
      await this.notifyPeers(c, { k: 'pause', id: event.id });
      outcome = { agent: { ...cur, pause: next.pause, reason: next.reason, since: at }, changed: true, event };
    }
    if (!keep) return { kind: 'applied', ...outcome };
    const kept = keep.reply(outcome);
    const first = await keepCallStep(c, keep, kept, change.at);
    if (first !== undefined) throw new StepAnsweredMeanwhile(first);
    return { kind: 'applied', ...outcome, reply: kept.reply };
  }

  async events(q: EventQuery): Promise<PauseEventRecord[]> {
    const r = await this.pool.query<PauseEventRow>(
      `SELECT ${EVENT_COLUMNS} FROM pause_events
        WHERE stage = $1 AND ($2::text IS NULL OR cli = $2) AND at >= $3 AND at < $4
        ORDER BY at, id LIMIT $5`,
      [q.stage, q.cli ?? null, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit],
    );
    return r.rows.map(toPauseEvent);
  }
}

/** The unique violation of an IVR step's reply: another request stored this step's reply first. */
function isStepTaken(e: unknown): boolean {
  const err = e as { code?: string; table?: string };
  return err?.code === '23505' && err.table === 'ivr_steps';
}
