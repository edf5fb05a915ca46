import type { PgClient, PgPool } from '../db/pg.js';
import type { Stage } from '../http/routing.js';
import type { CallStep, KeptReply } from '../pause/pause.store.js';
import type { IvrStepsStore, KeepResult } from './ivr.steps.store.js';

/**
 * A call's step and record on PostgreSQL (tables ivr_steps and ivr_calls), as statements that run
 * on their own (this store's `keep`) or in a caller's transaction (the pause store's change under
 * the agent's row lock, `PauseChange.alsoKeep`). The pause store's usual path writes the step in
 * its own single statement (src/pause/pause.write.pg.ts).
 */

/** A connection in a transaction, or the pool for a statement of its own. */
type Queryable = Pick<PgClient, 'query'> | PgPool;

/**
 * Before anything is written: `expired` (docs/http.md §7.1), the reply already stored under the
 * step, or undefined. One round trip: the call's first time and the step's reply together.
 */
export async function checkCallStep(c: Queryable, k: CallStep): Promise<{ kind: 'expired' } | { kind: 'replayed'; reply: string } | undefined> {
  const r = await c.query<{ first_seen: number | null; reply: string | null }>(
    `SELECT (SELECT first_seen FROM ivr_calls WHERE stage = $1 AND call_id = $2) AS first_seen,
            (SELECT reply FROM ivr_steps WHERE stage = $1 AND call_id = $2 AND step = $3) AS reply`,
    [k.stage, k.callId, k.step],
  );
  const { first_seen: seen, reply } = r.rows[0]!;
  if (k.refuseSeenBefore !== undefined && seen !== null && seen < k.refuseSeenBefore) return { kind: 'expired' };
  return reply === null ? undefined : { kind: 'replayed', reply };
}

/**
 * Store the step's reply and the call's record in one statement. If a concurrent transaction
 * stored a reply for the step first, that reply is returned and nothing is written; otherwise a
 * known call keeps its first time (concurrent first requests on any instance agree) and its last
 * words change when the reply spoke.
 */
export async function keepCallStep(c: Queryable, k: CallStep, kept: KeptReply, now: number): Promise<string | undefined> {
  const r = await c.query<{ inserted: number }>(
    `WITH step AS (
       INSERT INTO ivr_steps (stage, call_id, step, reply, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (stage, call_id, step) DO NOTHING RETURNING 1),
     call AS (
       INSERT INTO ivr_calls (stage, call_id, first_seen, last_said) SELECT $1, $2, $5, $6 WHERE EXISTS (SELECT 1 FROM step)
       ON CONFLICT (stage, call_id) DO UPDATE SET last_said = coalesce(excluded.last_said, ivr_calls.last_said))
     SELECT count(*)::int AS inserted FROM step`,
    [k.stage, k.callId, k.step, kept.reply, now, kept.said ?? null],
  );
  if (r.rows[0]!.inserted === 1) return undefined;
  return storedReply(c, k);
}

/** The reply stored under the step, if any. */
export async function storedReply(c: Queryable, k: CallStep): Promise<string | undefined> {
  const r = await c.query<{ reply: string }>({ name: 'ivr.storedReply', text: 'SELECT reply FROM ivr_steps WHERE stage = $1 AND call_id = $2 AND step = $3', values: [k.stage, k.callId, k.step] });
  return r.rows[0]?.reply;
}

/** IVR step replies and call ids on PostgreSQL (tables ivr_steps and ivr_calls; docs/http.md §11). */
export class PgIvrStepsStore implements IvrStepsStore {
  constructor(private readonly pool: PgPool) {}

  /** Two statements, no transaction block: the check reads, and the one write is atomic on its own. */
  async keep(k: CallStep, kept: KeptReply, now: number): Promise<KeepResult> {
    const found = await checkCallStep(this.pool, k);
    if (found) return found;
    const first = await keepCallStep(this.pool, k, kept, now);
    return first === undefined ? { kind: 'kept', reply: kept.reply } : { kind: 'replayed', reply: first };
  }

  async lastSaid(stage: Stage, callId: string): Promise<string | undefined> {
    const r = await this.pool.query<{ last_said: string | null }>('SELECT last_said FROM ivr_calls WHERE stage = $1 AND call_id = $2', [stage, callId]);
    return r.rows[0]?.last_said ?? undefined;
  }

  async prune(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM ivr_steps WHERE created_at < $1', [before])).rowCount ?? 0;
  }

  async pruneCalls(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM ivr_calls WHERE first_seen < $1', [before])).rowCount ?? 0;
  }
}
