import { withTransaction, type PgClient, type PgPool } from '../db/pg.js';
import type { Stage } from '../http/routing.js';
import type { CallStep, KeptReply } from '../pause/pause.store.js';
import type { IvrStepsStore, KeepResult } from './ivr.steps.store.js';

/**
 * A call's step and record on PostgreSQL (tables ivr_steps and ivr_calls), as statements run in
 * a caller's transaction: this store's `keep`, and the pause store's change that keeps its reply
 * (`PauseChange.alsoKeep`), so one IVR callback is one transaction.
 */

/** Before anything is written: `expired` (docs/http.md §7.1), the reply already stored under the step, or undefined. */
export async function checkCallStep(c: PgClient, k: CallStep): Promise<{ kind: 'expired' } | { kind: 'replayed'; reply: string } | undefined> {
  if (k.refuseSeenBefore !== undefined) {
    const seen = await c.query<{ first_seen: number }>('SELECT first_seen FROM ivr_calls WHERE stage = $1 AND call_id = $2', [k.stage, k.callId]);
    if (seen.rows[0] && seen.rows[0].first_seen < k.refuseSeenBefore) return { kind: 'expired' };
  }
  const stored = await c.query<{ reply: string }>('SELECT reply FROM ivr_steps WHERE stage = $1 AND call_id = $2 AND step = $3', [k.stage, k.callId, k.step]);
  return stored.rows[0] ? { kind: 'replayed', reply: stored.rows[0].reply } : undefined;
}

/**
 * Store the step's reply (unless a concurrent transaction stored one first: then that reply is
 * returned and nothing else is written) and the call's record: a known call keeps its first time
 * (concurrent first requests on any instance agree), its last words change when the reply spoke.
 */
export async function keepCallStep(c: PgClient, k: CallStep, kept: KeptReply, now: number): Promise<string | undefined> {
  const inserted = await c.query(
    `INSERT INTO ivr_steps (stage, call_id, step, reply, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (stage, call_id, step) DO NOTHING`,
    [k.stage, k.callId, k.step, kept.reply, now],
  );
  if (inserted.rowCount === 0) {
    const first = await c.query<{ reply: string }>('SELECT reply FROM ivr_steps WHERE stage = $1 AND call_id = $2 AND step = $3', [k.stage, k.callId, k.step]);
    return first.rows[0]?.reply;
  }
  await c.query(
    `INSERT INTO ivr_calls (stage, call_id, first_seen, last_said) VALUES ($1, $2, $3, $4)
     ON CONFLICT (stage, call_id) DO UPDATE SET last_said = coalesce(excluded.last_said, ivr_calls.last_said)`,
    [k.stage, k.callId, now, kept.said ?? null],
  );
  return undefined;
}

/** IVR step replies and call ids on PostgreSQL (tables ivr_steps and ivr_calls; docs/http.md §11). */
export class PgIvrStepsStore implements IvrStepsStore {
  constructor(private readonly pool: PgPool) {}

  async keep(k: CallStep, kept: KeptReply, now: number): Promise<KeepResult> {
    return withTransaction(this.pool, async (c) => {
      const found = await checkCallStep(c, k);
      if (found) return found;
      const first = await keepCallStep(c, k, kept, now);
      return first === undefined ? { kind: 'kept', reply: kept.reply } : { kind: 'replayed', reply: first };
    });
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
