import type { QueryConfig } from 'pg';
import type { Stage } from '../http/routing.js';
import { BUS_CHANNEL } from '../events/pgBus.js';
import type { AgentRecord, CallStep, KeptReply, PauseSource } from './pause.store.js';
import { AGENT_COLUMNS, type AgentRow } from './pause.rows.js';

/**
 * The statements of a pause change on PostgreSQL without a transaction block (src/pause/pause.store.pg.ts):
 * the read, with the agent's row version, and the one write that applies only while that version
 * is current. Named (prepared once per connection), so the server parses and plans each once.
 *
 * The row version is `xmin`, the id of the transaction that wrote this version of the row: every
 * UPDATE (a pause change, a profile change) makes a new version with a new id, and a deleted and
 * re-created agent has a new one too, so "xmin is still what I read" means "nothing changed the
 * agent since I read it" (no ABA, unlike comparing the state's values).
 */

/** An agents row with its version (`v`: xmin as text; null when a LEFT JOIN found no agent). */
export type VersionedRow = AgentRow & { v: string | null };

export const READ_AGENT = {
  name: 'pause.agent',
  text: `SELECT ${AGENT_COLUMNS}, xmin::text AS v FROM agents WHERE stage = $1 AND cli = $2`,
};

/** The agent (all null when there is none), the call's first time and the step's stored reply in one row. */
export const READ_AGENT_AND_STEP = {
  name: 'pause.agentAndStep',
  text: `SELECT ${AGENT_COLUMNS.split(', ')
    .map((c) => `a.${c}`)
    .join(', ')}, a.xmin::text AS v,
      (SELECT first_seen FROM ivr_calls WHERE stage = $3 AND call_id = $4) AS first_seen,
      (SELECT reply FROM ivr_steps WHERE stage = $3 AND call_id = $4 AND step = $5) AS reply
    FROM (VALUES (1)) AS one (x) LEFT JOIN agents a ON a.stage = $1 AND a.cli = $2`,
};

export interface WriteBase {
  stage: Stage;
  cli: string;
  /** The row version read (xmin). */
  version: string;
  /** This instance's id on the bus (pause_events.origin and the NOTIFY). */
  origin: string;
  /** Queue the change notification in the outbox. */
  notify: boolean;
}

export interface WriteChange {
  pause: boolean;
  reason: string | null;
  at: number;
  source: PauseSource;
  callId: string | null;
  /** The state the change ends (the event's prev_* fields, the outbox row's name). */
  prev: AgentRecord;
}

export interface WriteKeep {
  step: CallStep;
  kept: KeptReply;
  /** The step's created_at and a new call's first_seen. */
  at: number;
}

/**
 * One statement: `cur` is the agent row when its version is still `version` (updated to the new
 * state when there is a change); from it the event, its outbox row and its NOTIFY (delivered
 * when the statement commits), the step's reply and the call's record. Without `cur` nothing is
 * written (`hit` 0). A step already stored is a unique violation on ivr_steps: the statement
 * fails and writes nothing. A call first seen before the step's `refuseSeenBefore` writes
 * nothing either. Returns `hit` (1 or 0), the event's `id` and `expired` (1 when the call was too old).
 */
export function buildWrite(base: WriteBase, change: WriteChange | null, keep: WriteKeep | undefined): QueryConfig {
  const values: unknown[] = [];
  const p = (v: unknown, type: string): string => {
    values.push(v);
    return `$${values.length}::${type}`;
  };
  const stage = p(base.stage, 'text');
  const cli = p(base.cli, 'text');
  const version = p(base.version, 'xid');
  // docs/http.md §7.1: a call first seen before refuseSeenBefore writes nothing (`expired` 1).
  const k = keep && { stage: p(keep.step.stage, 'text'), call: p(keep.step.callId, 'text'), at: p(keep.at, 'bigint') };
  const refuse = keep?.step.refuseSeenBefore !== undefined ? p(keep.step.refuseSeenBefore, 'bigint') : undefined;
  const tooOld = k && refuse && `SELECT 1 FROM ivr_calls WHERE stage = ${k.stage} AND call_id = ${k.call} AND first_seen < ${refuse}`;
  const current = `stage = ${stage} AND cli = ${cli} AND xmin = ${version}${tooOld ? ` AND NOT EXISTS (${tooOld})` : ''}`;
  const parts: string[] = [];
  if (change) {
    const at = p(change.at, 'bigint');
    const pause = p(change.pause, 'boolean');
    const reason = p(change.reason, 'text');
    const origin = p(base.origin, 'text');
    parts.push(
      `cur AS (UPDATE agents SET pause = ${pause}, reason = ${reason}, since = ${at}, updated_at = ${at} WHERE ${current} RETURNING 1)`,
      `ev AS (INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since, origin)
        SELECT ${stage}, ${at}, ${cli}, ${pause}, ${reason}, ${p(change.source, 'text')}, ${p(change.callId, 'text')},
          ${p(change.prev.pause, 'boolean')}, ${p(change.prev.reason, 'text')}, ${p(change.prev.since, 'bigint')}, ${origin} FROM cur RETURNING id)`,
      `n AS (SELECT pg_notify(${p(BUS_CHANNEL, 'text')}, json_build_object('k', 'pause', 'id', id, 'o', ${origin})::text) FROM ev)`,
    );
    if (base.notify) parts.push(`ob AS (INSERT INTO outbox (type, event_id, name) SELECT 'pause.changed', id, ${p(change.prev.name, 'text')} FROM ev)`);
  } else {
    parts.push(`cur AS (SELECT 1 FROM agents WHERE ${current})`);
  }
  if (keep && k) {
    parts.push(
      `step AS (INSERT INTO ivr_steps (stage, call_id, step, reply, created_at)
        SELECT ${k.stage}, ${k.call}, ${p(keep.step.step, 'text')}, ${p(keep.kept.reply, 'text')}, ${k.at} FROM cur RETURNING 1)`,
      `call AS (INSERT INTO ivr_calls (stage, call_id, first_seen, last_said) SELECT ${k.stage}, ${k.call}, ${k.at}, ${p(keep.kept.said ?? null, 'text')} FROM step
        ON CONFLICT (stage, call_id) DO UPDATE SET last_said = coalesce(excluded.last_said, ivr_calls.last_said))`,
    );
  }
  const tail =
    (change ? ', (SELECT id FROM ev) AS id, (SELECT count(*) FROM n)::int AS notified' : ', NULL::bigint AS id') +
    (tooOld ? `, (SELECT count(*) FROM (${tooOld}) AS old)::int AS expired` : ', 0 AS expired');
  const name = `pause.write.${change ? 'c' : '-'}${change && base.notify ? 'n' : '-'}${keep ? 'k' : '-'}${tooOld ? 'e' : '-'}`;
  return { name, text: `WITH ${parts.join(',\n')}\nSELECT (SELECT count(*) FROM cur)::int AS hit${tail}`, values };
}
